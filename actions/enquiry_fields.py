"""Pure checks and normalisers for the callback enquiry form's fields.

Shared by the form's validation action and by anything else that handles the same
fields (channels offering the sender's number, the staff console). No Rasa imports,
so every rule here is tested on its own in tests/test_enquiry_fields.py.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

HOSPITALS_FILE = Path(__file__).resolve().parent / "data" / "hospitals.yml"
NO_EMAIL = "none"
PHONE_EXAMPLE = "07700 900123"

# ---------------------------------------------------------------- name

_NAME_PREFIXES = re.compile(
    r"^\s*(?:my name is|my name's|name is|i am|i'm|im|it's|its|this is|call me)\s+",
    re.IGNORECASE,
)
_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[ '\u2019-][^\W\d_]+)*$", re.UNICODE)


def normalise_name(text: str) -> Optional[str]:
    """A tidied full name, or None if it is not letters, spaces, hyphens and apostrophes (2-100)."""
    if not isinstance(text, str):
        return None
    name = unicodedata.normalize("NFC", text).strip().rstrip(".!")
    name = _NAME_PREFIXES.sub("", name)
    name = re.sub(r"\s+", " ", name).strip()
    if not 2 <= len(name) <= 100 or not _NAME_CHARS.match(name):
        return None
    return name


# ---------------------------------------------------------------- phone

_PHONE_JUNK = re.compile(r"[\s().\-\u00a0]")


def normalise_uk_phone(text: str) -> Optional[str]:
    """A UK phone number in E.164 (+447700900123), or None.

    Accepts the common ways people write them: 07700 900123, +44 7700 900123,
    +44 (0)7700 900123, (01223) 266900, 0044 1223 266900, 44 7700 900123.
    """
    if not isinstance(text, str):
        return None
    raw = text.strip()
    if len(raw) > 40:
        return None
    raw = raw.replace("(0)", "")
    digits = _PHONE_JUNK.sub("", raw)
    if digits.startswith("+"):
        if not digits.startswith("+44"):
            return None
        national = digits[3:]
    elif digits.startswith("0044"):
        national = digits[4:]
    elif digits.startswith("44") and len(digits) in (11, 12):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return None
    national = national.lstrip("0") if national.startswith("0") else national
    if not national.isdigit() or len(national) not in (9, 10):
        return None
    # UK numbers start 1/2 (geographic), 3 (non-geographic), 5, 7 (mobile), 8 (freephone)
    if national[0] not in "123578":
        return None
    return "+44" + national


def format_uk_phone(e164: str) -> str:
    """How a person would read an E.164 UK number back: +447700900123 -> 07700 900123."""
    national = "0" + e164[3:] if e164.startswith("+44") else e164
    if national.startswith(("011", "01", "02")) and national[2] == "0" and len(national) == 11:
        return f"{national[:3]} {national[3:7]} {national[7:]}"  # 020 7946 0000
    if len(national) == 11:
        return f"{national[:5]} {national[5:]}"
    return national


# ---------------------------------------------------------------- email

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_NO_EMAIL = re.compile(
    r"^\s*(?:no|nope|none|n/?a|skip|no email|no e-?mail(?: address)?|i (?:do not|don't|dont) have (?:one|an? e-?mail(?: address)?)|"
    r"haven't got one|i haven't got one|not got one|i don't use email|no thanks)\s*[.!]?\s*$",
    re.IGNORECASE,
)


def parse_email(text: str) -> Optional[str]:
    """A lower-cased email, NO_EMAIL when the person says they have none, or None."""
    if not isinstance(text, str):
        return None
    stripped = text.strip().rstrip(".")
    if _NO_EMAIL.match(stripped):
        return NO_EMAIL
    candidate = re.sub(r"^(?:my e-?mail(?: address)? is|it's|its|email:?)\s+", "", stripped, flags=re.I)
    if len(candidate) > 254 or not _EMAIL.match(candidate):
        return None
    local, _, domain = candidate.partition("@")
    if len(local) > 64 or ".." in candidate:
        return None
    return f"{local}@{domain.lower()}"


# ---------------------------------------------------------------- choices


@dataclass(frozen=True)
class Choice:
    value: str
    title: str
    keywords: Tuple[str, ...]


ENQUIRY_AIMS: Tuple[Choice, ...] = (
    Choice("self_pay", "Self-pay price", ("self-pay", "self pay", "selfpay", "price", "cost", "pay myself", "paying", "how much", "fund")),
    Choice("insurance", "Using medical insurance", ("insurance", "insured", "insurer", "bupa", "axa", "aviva", "vitality", "cigna", "policy")),
    Choice("nhs_referral", "NHS or GP referral", ("nhs", "gp", "referral", "refer", "doctor's letter")),
    Choice("outpatient", "An outpatient appointment with a consultant", ("outpatient", "out patient", "appointment", "consultant", "see a specialist", "see the surgeon", "consultation")),
    Choice("question", "A question for the team", ("question", "ask", "query", "enquiry about", "information")),
    Choice("other", "Other", ("other", "something else", "none of these", "else")),
)

CALL_TIMES: Tuple[Choice, ...] = (
    Choice("morning", "Morning", ("morning", "am", "a.m", "before lunch", "before noon", "early")),
    Choice("afternoon", "Afternoon", ("afternoon", "pm", "p.m", "after lunch", "lunchtime", "midday")),
    Choice("evening", "Evening", ("evening", "night", "after work", "after 5", "after five", "teatime", "late")),
)


def match_choice(text: str, choices: Tuple[Choice, ...]) -> Optional[str]:
    """The value of the choice a reply names: its title, a keyword, its value or its number (1, 2, ...)."""
    if not isinstance(text, str):
        return None
    said = re.sub(r"\s+", " ", text.strip().lower()).strip(" .!")
    if not said:
        return None
    if said.isdigit() and 1 <= int(said) <= len(choices):
        return choices[int(said) - 1].value
    for choice in choices:
        if said in (choice.value, choice.title.lower()):
            return choice.value
    words = f" {re.sub(r'[^a-z0-9/.-]+', ' ', said)} "
    for choice in choices:
        if any(f" {keyword} " in words or (" " in keyword and keyword in said) for keyword in choice.keywords):
            return choice.value
    return None


def choice_title(value: str, choices: Tuple[Choice, ...]) -> str:
    return next((choice.title for choice in choices if choice.value == value), value)


# ---------------------------------------------------------------- hospitals


@lru_cache(maxsize=1)
def hospitals() -> List[Dict[str, str]]:
    with HOSPITALS_FILE.open() as handle:
        return list(yaml.safe_load(handle)["hospitals"])


def default_hospital() -> Dict[str, str]:
    return hospitals()[0]


def match_hospital(text: str) -> Optional[str]:
    """The name of the hospital a reply names (by number, name or a distinctive word)."""
    if not isinstance(text, str):
        return None
    said = text.strip().lower().strip(" .!")
    options = hospitals()
    if said.isdigit() and 1 <= int(said) <= len(options):
        return options[int(said) - 1]["name"]
    if said in ("default", "yes", "that one", "the default") and options:
        return options[0]["name"]
    for hospital in options:
        name = hospital["name"].lower()
        distinctive = [w for w in name.split() if w not in ("spire", "hospital", "the")]
        if said == name or said in name and len(said) > 3 or any(w in said for w in distinctive):
            return hospital["name"]
    return None


# ---------------------------------------------------------------- yes / no, confirmation

_YES = re.compile(r"^\s*(?:y|yes|yeah|yep|yup|ok|okay|sure|i agree|agree|i do|i consent|that's fine|fine|go ahead|please do|yes please|correct|that's right|right|confirm|confirmed)\b", re.I)
_NO = re.compile(r"^\s*(?:n|no|nope|nah|i don't|i do not|don't|do not|disagree|i disagree|no thanks|no thank you|not really)\b", re.I)


def parse_yes_no(text: str, intent: Optional[str] = None) -> Optional[bool]:
    """True for yes, False for no, None when the reply is neither."""
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    if not isinstance(text, str):
        return None
    if _NO.match(text):
        return False
    if _YES.match(text):
        return True
    return None


FIELD_ALIASES: Dict[str, Tuple[str, ...]] = {
    "full_name": ("name", "full name", "surname", "first name"),
    "phone": ("phone", "number", "telephone", "mobile", "tel"),
    "email": ("email", "e-mail", "mail address"),
    "hospital": ("hospital", "site"),
    "enquiry_aim": ("aim", "reason", "enquiry", "purpose", "about"),
    "call_time": ("time", "when", "morning", "afternoon", "evening"),
}


def field_to_change(text: str) -> Optional[str]:
    """Which form field a correction names ("change my phone number" -> "phone")."""
    if not isinstance(text, str):
        return None
    said = f" {re.sub(r'[^a-z -]+', ' ', text.lower())} "
    for field_name, aliases in FIELD_ALIASES.items():
        if any(f" {alias} " in said for alias in aliases):
            return field_name
    return None
