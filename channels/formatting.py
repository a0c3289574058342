"""Pure text helpers for the messaging channels: splitting long replies at a
platform's length limit, buttons as numbered options, and reading a numbered reply.

Nothing here talks to a platform or a tracker store, so every rule is unit-tested
on its own (tests/test_channel_formatting.py).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

# Characters per message each platform accepts. Twilio refuses bodies over 1,600
# characters (SMS and WhatsApp alike); Telegram's sendMessage takes 4,096 and
# Messenger's Send API 2,000.
SMS_LIMIT = 1600
WHATSAPP_LIMIT = 1600
TELEGRAM_LIMIT = 4096
MESSENGER_LIMIT = 2000

# Where a long text may be cut, best first: between paragraphs, between lines,
# after a sentence, after a clause, between words.
_BREAKS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?])[\"')\]]*\s+"),
    re.compile(r"(?<=[,;:])\s+"),
    re.compile(r"\s+"),
)


def split_message(text: str, limit: int) -> List[str]:
    """``text`` in parts of at most ``limit`` characters, cut at the most natural
    boundary that fits (paragraph, line, sentence, clause, word), in order.

    Short texts come back whole, so a reply is split only when the platform would
    refuse it. A single word longer than the limit (a long link) is cut hard.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    text = (text or "").strip()
    if not text:
        return []
    parts: List[str] = []
    while len(text) > limit:
        cut = _best_cut(text, limit)
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            parts.append(head)
    if text:
        parts.append(text)
    return parts


def _best_cut(text: str, limit: int) -> int:
    """Where to end the first part: after the last boundary of the best kind that
    leaves a part of at most ``limit`` characters."""
    window = text[: limit + 1]
    for pattern in _BREAKS:
        ends = [m.start() for m in pattern.finditer(window) if 0 < m.start() <= limit]
        if ends:
            return ends[-1]
    return limit


# ---------------------------------------------------------------- buttons as numbers

# A few short options read well on one line ("Reply 1 for Yes, 2 for No."); more,
# longer or comma-containing ones are listed one per line.
_INLINE_OPTIONS = 3
_INLINE_TITLE = 25


def numbered_options(buttons: Sequence[Mapping[str, Any]]) -> str:
    """The buttons as options answered with a number, for a channel without buttons."""
    titles = [button_title(b) for b in buttons]
    if not titles:
        return ""
    # A comma inside a title would blur where one option ends ("1 for Yes, I agree").
    inline = len(titles) <= _INLINE_OPTIONS and all(
        len(t) <= _INLINE_TITLE and "," not in t for t in titles
    )
    if inline:
        options = [f"{number} for {title}" for number, title in enumerate(titles, 1)]
        return "Reply " + ", ".join(options) + "."
    lines = [f"{number}. {title}" for number, title in enumerate(titles, 1)]
    return "Reply with a number:\n" + "\n".join(lines)


def with_numbered_options(text: str, buttons: Sequence[Mapping[str, Any]]) -> str:
    """The message text followed by its buttons as numbered options."""
    options = numbered_options(buttons)
    text = (text or "").strip()
    if not options:
        return text
    return f"{text}\n\n{options}" if text else options


def button_title(button: Mapping[str, Any]) -> str:
    return str(button.get("title") or button.get("payload") or "").strip()


def button_payload(button: Mapping[str, Any]) -> str:
    return str(button.get("payload") or button.get("title") or "").strip()


# A bare option number as people type it: "2", "2.", "2)", "#2", "option 2", " 2 ".
_OPTION_REPLY = re.compile(
    r"^\s*(?:option|number|no\.?|choice)?\s*#?(\d{1,2})\s*[.)]?\s*$", re.I
)


def option_index(text: Optional[str], count: int) -> Optional[int]:
    """The 0-based option a bare number picks among ``count`` options, or None."""
    if not isinstance(text, str) or count < 1:
        return None
    match = _OPTION_REPLY.match(text)
    if not match:
        return None
    number = int(match.group(1))
    return number - 1 if 1 <= number <= count else None


def payload_for_reply(
    text: Optional[str], buttons: Sequence[Mapping[str, Any]]
) -> Optional[str]:
    """The payload of the button a bare number picks ("2" -> the second button's
    payload), or None when the text is not such a number."""
    index = option_index(text, len(buttons))
    if index is None:
        return None
    return button_payload(buttons[index]) or None


def latest_buttons(events: Iterable[Any]) -> List[Dict[str, Any]]:
    """The buttons of the bot's latest turn: those of its last message with buttons
    since the user's latest message, or none.

    ``events`` are Rasa events (``BotUttered`` / ``UserUttered`` objects) or their
    dict form, oldest first, as a tracker store keeps them. Reading them from the
    tracker, not from memory, means any Rasa instance sharing the tracker store
    reads a numbered reply the same way.
    """
    found: List[Dict[str, Any]] = []
    for event in events:
        kind = _event_kind(event)
        if kind == "user":
            found = []
        elif kind == "bot":
            buttons = _event_buttons(event)
            if buttons:
                found = buttons
    return found


def _event_kind(event: Any) -> Optional[str]:
    if isinstance(event, Mapping):
        return event.get("event")
    return getattr(event, "type_name", None)


def _event_buttons(event: Any) -> List[Dict[str, Any]]:
    data = (
        event.get("data")
        if isinstance(event, Mapping)
        else getattr(event, "data", None)
    )
    buttons = (data or {}).get("buttons") or []
    return [dict(b) for b in buttons if isinstance(b, Mapping)]


# ---------------------------------------------------------------- SMS


# Typographic characters outside the GSM 7-bit alphabet. One of them turns a whole
# SMS into UCS-2, which fits 70 characters a segment instead of 160.
_GSM_SUBSTITUTES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2022": "-",
}
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def sms_text(text: str) -> str:
    """``text`` with typographic quotes, dashes and ellipses in their plain forms,
    so that an SMS stays in the GSM alphabet and its segments stay long."""
    return "".join(_GSM_SUBSTITUTES.get(char, char) for char in text)


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` takes: 160 GSM characters (153 when split) or
    70 UCS-2 characters (67 when split) a segment."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
        single, multi = 70, 67
    if units <= single:
        return 1 if units else 0
    return -(-units // multi)
