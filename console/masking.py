"""Hiding personal details (phone numbers, emails, known names) in what staff see.

One pure helper, ``mask_text``, is applied to user messages, bot replies, slot
values and entities; ``strip_personal`` removes the same details from text that
leaves the console as training data. Hospital numbers published on the patient
page are not personal and stay visible.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Optional, Sequence

PHONE_MASK = "[phone]"
EMAIL_MASK = "[email]"
NAME_MASK = "[name]"
DETAILS_MASK = "[personal details]"

EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
# A run of digits with the separators people type, optionally after + or "(".
PHONE_RE = re.compile(r"(?<![\w+])(?:\+|\()?\d[\d \t().\-\u00a0/]{6,22}\d(?!\w)")
# Fewer digits than any UK number (10, or 9 for a few areas) is not a phone number.
MIN_PHONE_DIGITS = 9
# Slots whose values are personal details (actions/enquiry_form.py fills them).
PERSONAL_SLOTS = ("full_name", "phone", "email")


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _national(number_digits: str) -> str:
    """Digits without the UK country code or trunk 0, so +44 and 0 forms compare equal."""
    if number_digits.startswith("0044"):
        number_digits = number_digits[4:]
    elif number_digits.startswith("44") and len(number_digits) >= 11:
        number_digits = number_digits[2:]
    return number_digits.lstrip("0")


def _replace_phones(text: str, public: frozenset, replacement: str) -> str:
    def swap(match: "re.Match[str]") -> str:
        found = digits(match.group(0))
        if len(found) < MIN_PHONE_DIGITS or _national(found) in public:
            return match.group(0)
        return replacement

    return PHONE_RE.sub(swap, text)


def public_numbers(numbers: Iterable[str]) -> frozenset:
    """The published numbers that may stay visible, in comparable form."""
    return frozenset(_national(digits(number)) for number in numbers if digits(number))


def mask_text(
    text: Optional[str],
    known: Sequence[str] = (),
    public: frozenset = frozenset(),
) -> str:
    """``text`` with emails, phone numbers and the ``known`` values (the names,
    phones and emails this conversation gave) replaced by placeholders."""
    if not text:
        return text or ""
    masked = EMAIL_RE.sub(EMAIL_MASK, text)
    for value in sorted({v for v in known if v and len(v.strip()) >= 2}, key=len, reverse=True):
        if EMAIL_RE.fullmatch(value) or len(digits(value)) >= MIN_PHONE_DIGITS:
            continue  # the patterns already catch these, in every spelling
        masked = re.sub(
            r"(?<!\w)" + re.escape(value.strip()) + r"(?!\w)",
            NAME_MASK,
            masked,
            flags=re.IGNORECASE,
        )
    return _replace_phones(masked, public, PHONE_MASK)


def mask_value(value: Any, known: Sequence[str] = (), public: frozenset = frozenset()) -> Any:
    """``mask_text`` applied to every string inside a slot value or entity."""
    if isinstance(value, str):
        return mask_text(value, known, public)
    if isinstance(value, list):
        return [mask_value(item, known, public) for item in value]
    if isinstance(value, dict):
        return {key: mask_value(item, known, public) for key, item in value.items()}
    return value


def has_personal_details(text: str, public: frozenset = frozenset()) -> bool:
    return mask_text(text, (), public) != text


def strip_personal(text: str, public: frozenset = frozenset()) -> str:
    """``text`` without emails or phone numbers at all, for training data."""
    stripped = EMAIL_RE.sub(" ", text or "")
    stripped = _replace_phones(stripped, public, " ")
    for placeholder in (PHONE_MASK, EMAIL_MASK, NAME_MASK, DETAILS_MASK):
        stripped = stripped.replace(placeholder, " ")
    return re.sub(r"\s+", " ", stripped).strip()
