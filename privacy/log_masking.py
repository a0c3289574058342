"""Masks personal details in every log record a process writes.

Patients type their name, phone number and email into the callback form, and Rasa's
DEBUG logs quote user messages, slot values and tracker contents. Filters on handlers
miss handlers that libraries add later, so this wraps the log record factory instead:
every record, from every logger, is masked when it is created, before any handler or
formatter sees it. `install()` is called from the packages each process imports at
start-up (`actions`, `channels`, `console`), so it covers the action server, the Rasa
server and the staff console whatever logging configuration they use.
"""
from __future__ import annotations

import logging
import re
import traceback
from typing import Any, Callable

MASK = "[personal details masked]"

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits, possibly split by spaces, dots, dashes or brackets, optionally
# after +: every phone number shape, and also long ids, which are harmless to mask.
_PHONE = re.compile(r"(?<![\w])\+?(?:\(?\d[\s().\-\u00a0/]{0,3}){7,}\d?(?![\w])")
# What a user typed, wherever Rasa or rasa-sdk quote it: "user message 'text'",
# "'text': '...'" in dict reprs, "text: ..." in event reprs, and slot values of the
# personal slots in any of those shapes (also Rasa's "\tfull_name: ..." slot dump, where
# a JSON-escaped tab stands before the key). An unquoted value runs to the next
# comma or bracket: masking too much is safe, too little is not.
_QUOTED_TEXT = re.compile(
    r"""(?P<key>(?:user\s+message|"""
    r"""['"]?(?:\b|(?<=\\[tn]))(?:text|user_text|user_message|parse_data_text|response_text|"""
    r"""full_name|phone|email)['"]?\s*[:=]|"""
    r"""(?:key|['"]name['"])\s*:\s*['"]?(?:full_name|phone|email)['"]?,\s*['"]?value['"]?\s*:))\s*(?P<quote>['"]?)(?P<value>.*?)(?P=quote)(?=[,)}\]\n]|\s+with\s|$)""",
    re.IGNORECASE,
)


# The callback form's summary ("Name: Jane Smith\nPhone: ..."), which Rasa logs at
# DEBUG with every bot message; capitalised, so JSON's "name" keys (intent and
# action names) stay readable.
_SUMMARY_NAME = re.compile(r"(?:(?<![A-Za-z])|(?<=\\n))Name: [^\\\n,'\"]+")


def mask_personal_details(text: str) -> str:
    """`text` with emails, phone numbers and quoted user text replaced by MASK."""
    if not text:
        return text
    text = _QUOTED_TEXT.sub(
        lambda m: f"{m.group('key')} {m.group('quote')}{MASK if m.group('value').strip() else ''}"
        f"{m.group('quote')}",
        text,
    )
    text = _SUMMARY_NAME.sub(f"Name: {MASK}", text)
    text = _EMAIL.sub(MASK, text)
    return _PHONE.sub(MASK, text)


def _masked_record_factory(original: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = original(*args, **kwargs)
        try:
            record.msg = mask_personal_details(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = mask_personal_details(
                    "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
                )
        except Exception:  # noqa: BLE001 - a log line must never crash the server
            record.msg, record.args = "[log message withheld: it could not be masked]", None
        return record

    factory._masks_personal_details = True  # type: ignore[attr-defined]
    return factory


def install() -> None:
    """Masks personal details in all later log records of this process (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "_masks_personal_details", False):
        logging.setLogRecordFactory(_masked_record_factory(current))
