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
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import yaml

HOSPITALS_FILE = Path(__file__).resolve().parent / "data" / "hospitals.yml"
NO_EMAIL = "none"
PHONE_EXAMPLE = "07700 900123"
NAME_EXAMPLE = "Jane Smith"
EMAIL_EXAMPLE = "jane.smith@example.com"

# ---------------------------------------------------------------- name

_NAME_PREFIXES = re.compile(
    r"^\s*(?:my (?:full )?name is|my name's|name is|name:|i am|i'm|im|it's|its|this is|call me)\s+",
    re.IGNORECASE,
)
_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[ '\u2019-][^\W\d_]+)*$", re.UNICODE)
# Words that never make up a person's name but often start a question or a reply
# ("what is kyphoplasty", "tell me about Mr Trivedi", "no thanks"). Without them any
# short sentence of plain letters would pass as a name.
_NOT_NAME_WORDS = frozenset("""
    what how when why where who which whom whose is are was were am be can could do does
    did will would should shall may might must have has had the a an me my mine you your it
    its this that these those about for to of with from and or but if not no yes yeah yep ok
    okay please thanks thank hi hello hey morning afternoon evening stop cancel quit help
    tell want need like know think kyphoplasty procedure operation treatment surgery
    insurance recovery cement fracture fractures vertebra osteoporosis nhs gp consultant
    appointment callback phone email number
    """.split())


def normalise_name(text: str) -> Optional[str]:
    """A tidied full name, or None if it is not a name.

    A name is letters, spaces, hyphens and apostrophes, 2 to 100 characters. "My name
    is ..." and similar openings are dropped; a name typed all in lower or upper case
    is capitalised ("jane o'brien" -> "Jane O'Brien"); a sentence made of question or
    reply words ("what is kyphoplasty", "no thanks") is not a name.
    """
    if not isinstance(text, str):
        return None
    name = unicodedata.normalize("NFC", text).strip().rstrip(".!")
    name = _NAME_PREFIXES.sub("", name)
    name = re.sub(r"\s+", " ", name).strip()
    if not 2 <= len(name) <= 100 or not _NAME_CHARS.match(name):
        return None
    words = re.split(r"[ '\u2019-]", name.lower())
    if any(word in _NOT_NAME_WORDS for word in words):
        return None
    if name.islower() or name.isupper():
        name = name.title()
    return name


# ---------------------------------------------------------------- phone

_PHONE_JUNK = re.compile(r"[\s().\-\u00a0/]")
# A run of digits with the separators people type, optionally after + or (.
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|\()?\d[\d\s().\-\u00a0/]{7,22}\d(?!\w)")


def _national_number(raw: str) -> Optional[str]:
    digits = _PHONE_JUNK.sub("", raw.replace("(0)", ""))
    if digits.startswith("+"):
        if not digits.startswith("+44"):
            return None
        national = digits[3:]
    elif digits.startswith("0044"):
        national = digits[4:]
    elif digits.startswith("00"):
        return None  # another country's international prefix
    elif digits.startswith("44") and len(digits) in (11, 12):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return None
    if national.startswith("0"):
        national = national[
            1:
        ]  # "+44 07700 ...": a trunk 0 kept after the country code
    return national


def normalise_uk_phone(text: str) -> Optional[str]:
    """A UK phone number in E.164 (+447700900123), or None.

    Accepts the common ways people write them: 07700 900123, +44 7700 900123,
    +44 (0)7700 900123, (01223) 266900, 0044 1223 266900, 44 7700 900123, also inside
    a short sentence ("my number is 07700 900123").
    """
    if not isinstance(text, str):
        return None
    raw = text.strip()
    if len(raw) > 80 or raw.startswith("/"):
        return None
    if re.search(r"[A-Za-z]", raw):
        candidates = _PHONE_CANDIDATE.findall(raw)
        if len(candidates) != 1:
            return None
        raw = candidates[0]
    if len(raw) > 40:
        return None
    national = _national_number(raw)
    if national is None or not national.isdigit() or len(national) not in (9, 10):
        return None
    # UK numbers start 1/2 (geographic), 3 (non-geographic), 5, 7 (mobile), 8 (freephone);
    # 9 (premium rate) is not a number to be called back on.
    if national[0] not in "123578":
        return None
    if national[0] == "7" and len(national) != 10:
        return None
    return "+44" + national


def format_uk_phone(e164: str) -> str:
    """How a person reads a UK number back: +447700900123 -> 07700 900123."""
    if not isinstance(e164, str) or not e164.startswith("+44"):
        return e164
    national = "0" + e164[3:]
    if len(national) == 11:
        if national.startswith("02"):
            return f"{national[:3]} {national[3:7]} {national[7:]}"  # 020 7946 0000
        if national.startswith(("03", "05", "08", "09")) or re.match(
            r"01\d1|011", national
        ):
            return f"{national[:4]} {national[4:7]} {national[7:]}"  # 0113 496 0000
        return f"{national[:5]} {national[5:]}"  # 07700 900123, 01223 266900
    if len(national) == 10:
        if national.startswith("08"):
            return f"{national[:4]} {national[4:]}"  # 0800 123456
        return f"{national[:5]} {national[5:]}"  # 01632 96000
    return national


# ---------------------------------------------------------------- email

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$"
)
_EMAIL_PREFIX = re.compile(
    r"^(?:(?:my|the) e-?mail(?: address)? is|e-?mail(?: address)?:?|it's|its|it is|use)\s+",
    re.I,
)
_NO_EMAIL = re.compile(
    r"^\s*(?:no|nope|nah|none|n/?a|skip|skip it|no email|no e-?mail(?: address)?|"
    r"(?:i )?(?:do not|don't|dont) have (?:one|an? e-?mail(?: address)?)|"
    r"(?:i )?haven't got (?:one|an? e-?mail(?: address)?)|(?:i've )?not got (?:one|an? e-?mail(?: address)?)|"
    r"i don't use e-?mail|no thanks|no thank you|rather not|i'd rather not)\s*[.!]?\s*$",
    re.IGNORECASE,
)


def parse_email(text: str) -> Optional[str]:
    """An email with its domain lower-cased, NO_EMAIL when the person has none, or None."""
    if not isinstance(text, str):
        return None
    stripped = text.strip().rstrip(".")
    if _NO_EMAIL.match(stripped):
        return NO_EMAIL
    candidate = _EMAIL_PREFIX.sub("", stripped).strip()
    if len(candidate) > 254 or not _EMAIL.match(candidate):
        return None
    local, _, domain = candidate.partition("@")
    if (
        len(local) > 64
        or ".." in candidate
        or local.startswith(".")
        or local.endswith(".")
    ):
        return None
    return f"{local}@{domain.lower()}"


def find_email(text: str) -> Optional[str]:
    """The one email address inside a sentence ("change it to x@example.com"), or None."""
    if not isinstance(text, str):
        return None
    found = [
        parse_email(token.strip(".,;:!?()<>\"'"))
        for token in text.split()
        if "@" in token
    ]
    found = [email for email in found if email and email != NO_EMAIL]
    return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------- choices


@dataclass(frozen=True)
class Choice:
    """One option of a multiple-choice question.

    ``keywords`` name the option on their own; ``weak`` words only count when no
    option's keyword is present ("early afternoon" is the afternoon, not the morning).
    """

    value: str
    title: str
    keywords: Tuple[str, ...]
    weak: Tuple[str, ...] = ()


ENQUIRY_AIMS: Tuple[Choice, ...] = (
    Choice(
        "self_pay",
        "Self-pay price",
        (
            "self-pay",
            "self pay",
            "selfpay",
            "self-funding",
            "self funding",
            "self fund",
            "self-fund",
            "pay myself",
            "paying myself",
            "pay for it myself",
            "privately",
        ),
        (
            "price",
            "prices",
            "cost",
            "costs",
            "how much",
            "fee",
            "fees",
            "pay",
            "paying",
        ),
    ),
    Choice(
        "insurance",
        "Using medical insurance",
        (
            "insurance",
            "insured",
            "insurer",
            "bupa",
            "axa",
            "aviva",
            "vitality",
            "cigna",
            "wpa",
            "simplyhealth",
            "health cover",
            "private medical",
            "medical cover",
        ),
        ("policy", "claim"),
    ),
    Choice(
        "nhs_referral",
        "NHS or GP referral",
        ("nhs", "gp", "referral", "refer", "referred", "doctor's letter"),
    ),
    Choice(
        "outpatient",
        "An outpatient appointment with a consultant",
        (
            "outpatient",
            "out patient",
            "out-patient",
            "appointment",
            "consultant",
            "consultation",
            "see a specialist",
            "see the surgeon",
            "see a surgeon",
            "see a doctor",
            "see the consultant",
        ),
    ),
    Choice(
        "question",
        "A question for the team",
        ("question", "questions", "query", "queries", "ask the team", "a question"),
        ("ask", "information", "info", "advice", "enquiry"),
    ),
    Choice(
        "other",
        "Other",
        ("other", "something else", "none of these", "none of those", "else"),
    ),
)

CALL_TIMES: Tuple[Choice, ...] = (
    # "am" and "pm" count only as a whole reply or after a number ("10am"): "I am free"
    # says nothing about the morning.
    Choice(
        "morning",
        "Morning",
        ("morning", "mornings", "before lunch", "before noon", "before midday"),
        ("early",),
    ),
    Choice(
        "afternoon",
        "Afternoon",
        ("afternoon", "afternoons", "after lunch", "lunchtime", "midday", "noon"),
        (),
    ),
    Choice(
        "evening",
        "Evening",
        (
            "evening",
            "evenings",
            "night",
            "tonight",
            "after work",
            "teatime",
            "after tea",
        ),
        ("late",),
    ),
)

_OPTION_NUMBER = re.compile(r"^(?:option|number|no\.?|choice)?\s*#?(\d{1,2})\s*[.)]?$")
_CLOCK = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.?|p\.m\.?)(?!\w)")


def option_number(text: str, count: int) -> Optional[int]:
    """The 0-based index of a numbered option ("2", "option 2", "2."), or None."""
    if not isinstance(text, str):
        return None
    match = _OPTION_NUMBER.match(text.strip().lower())
    if not match:
        return None
    number = int(match.group(1))
    return number - 1 if 1 <= number <= count else None


def _words(text: str) -> str:
    """Lower-case words with single spaces around each, apostrophes dropped ("gp's" -> "gps")."""
    text = text.lower().replace("\u2019", "").replace("'", "")
    return f" {re.sub(r'[^a-z0-9.]+', ' ', text).strip()} "


def _mentions(words: str, phrase: str) -> bool:
    return _words(phrase) in words


def _clock_time(said: str) -> Optional[str]:
    """ "10am" -> morning, "2 pm" -> afternoon, "6pm" -> evening."""
    found = {
        (
            "morning"
            if match.group(3).startswith("a")
            else "afternoon" if int(match.group(1)) % 12 < 5 else "evening"
        )
        for match in _CLOCK.finditer(said)
    }
    return found.pop() if len(found) == 1 else None


def match_choice(text: str, choices: Sequence[Choice]) -> Optional[str]:
    """The value of the one choice a reply names: its number, title, value or keywords.

    Returns None when the reply names no choice or more than one ("morning or evening").
    """
    if not isinstance(text, str):
        return None
    said = re.sub(r"\s+", " ", text.strip().lower()).strip(" .!?")
    if not said or said.startswith("/"):
        return None
    index = option_number(said, len(choices))
    if index is not None:
        return choices[index].value
    for choice in choices:
        if said in (choice.value.replace("_", " "), choice.value, choice.title.lower()):
            return choice.value
    words = _words(said)
    strong = [c.value for c in choices if any(_mentions(words, k) for k in c.keywords)]
    if len(strong) == 1:
        return strong[0]
    if strong:
        return None
    if choices is CALL_TIMES:
        if said in ("am", "a.m", "a.m."):
            return "morning"
        if said in ("pm", "p.m", "p.m."):
            return "afternoon"
        clock = _clock_time(said)
        if clock:
            return clock
    weak = [c.value for c in choices if any(_mentions(words, k) for k in c.weak)]
    return weak[0] if len(weak) == 1 else None


def choice_title(value: Optional[str], choices: Sequence[Choice]) -> str:
    return next(
        (choice.title for choice in choices if choice.value == value), value or ""
    )


# ---------------------------------------------------------------- hospitals


@lru_cache(maxsize=8)
def _load_hospitals(path: str) -> Tuple[Dict[str, str], ...]:
    with open(path, encoding="utf-8") as handle:
        entries = yaml.safe_load(handle)["hospitals"]
    if not entries:
        raise ValueError(f"{path} lists no hospitals")
    return tuple(dict(entry) for entry in entries)


def hospitals(path: Union[str, Path, None] = None) -> List[Dict[str, str]]:
    """The hospitals a callback can be for, from one data file; the first is the default."""
    return list(_load_hospitals(str(path or HOSPITALS_FILE)))


def default_hospital(path: Union[str, Path, None] = None) -> Dict[str, str]:
    return hospitals(path)[0]


def hospital_by_name(
    name: Optional[str], path: Union[str, Path, None] = None
) -> Dict[str, str]:
    """The hospital entry with this name, or the default one."""
    return next(
        (h for h in hospitals(path) if h["name"] == name), default_hospital(path)
    )


_HOSPITAL_COMMON_WORDS = {"spire", "hospital", "the", "clinic", "centre"}


def match_hospital(text: str, path: Union[str, Path, None] = None) -> Optional[str]:
    """The name of the one hospital a reply names (by number, name or a distinctive word)."""
    if not isinstance(text, str):
        return None
    options = hospitals(path)
    said = re.sub(r"\s+", " ", text.strip().lower()).strip(" .!?")
    if not said or said.startswith("/"):
        return None
    index = option_number(said, len(options))
    if index is not None:
        return options[index]["name"]
    if said in ("default", "the default", "the first one", "first one"):
        return options[0]["name"]
    exact = [
        h["name"]
        for h in options
        if said in (h["name"].lower(), str(h.get("id", "")).lower())
    ]
    if exact:
        return exact[0]
    words = set(re.findall(r"[a-z']+", said))
    matches = [
        h["name"]
        for h in options
        if words
        & (
            {w for w in re.findall(r"[a-z']+", h["name"].lower())}
            - _HOSPITAL_COMMON_WORDS
        )
    ]
    return matches[0] if len(matches) == 1 else None


# ---------------------------------------------------------------- yes / no, confirmation

_YES = re.compile(
    r"^\s*(?:y|yes|yeah|yea|yep|yup|aye|ok|okay|sure|certainly|of course|absolutely|"
    r"definitely|i agree|agreed|agree|i do|i consent|consent|that's fine|that is fine|fine|go ahead|"
    r"please do|correct|that's right|that is right|that's correct|all correct|right|confirm|confirmed|"
    r"looks good|perfect|happy with that)\b",
    re.I,
)
_NO = re.compile(
    r"^\s*(?:n|no|nope|nah|not really|no thanks|no thank you|i don't agree|i do not agree|i disagree|"
    r"disagree|i don't consent|i do not consent|i don't want|i do not want|i'd rather not|"
    r"i would rather not|rather not|that's wrong|that is wrong|wrong|incorrect|never)\b",
    re.I,
)


def parse_yes_no(text: str, intent: Optional[str] = None) -> Optional[bool]:
    """True for yes, False for no, None when the reply is neither.

    ``intent`` (affirm / deny) is only a fallback for wordings the patterns miss; a
    ``/affirm`` payload typed by the user is not a yes.
    """
    if isinstance(text, str) and text.strip().startswith("/"):
        return None
    if isinstance(text, str):
        said = text.strip().replace("\u2019", "'")
        if "?" in said or len(said.split()) > 8:
            return None  # a question or a long sentence is not a plain yes or no
        if re.match(r"^(?:no problem|no worries)\b", said, re.I):
            return True
        negated = re.search(r"\b(?:not|never)\b|n't\b", said, re.I)
        if _YES.match(said) and not _NO.match(said) and not negated:
            return True
        if _NO.match(said):
            return False
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return None


FIELD_ALIASES: Dict[str, Tuple[str, ...]] = {
    "full_name": ("name", "full name", "surname", "first name", "last name"),
    "phone": ("phone", "number", "telephone", "mobile", "tel", "phone number"),
    "email": ("email", "e-mail", "mail", "email address"),
    "hospital": ("hospital", "site"),
    "enquiry_aim": (
        "aim",
        "reason",
        "purpose",
        "enquiry",
        "topic",
        "reason for the call",
    ),
    "call_time": (
        "time",
        "morning",
        "afternoon",
        "evening",
        "best time",
        "time to call",
    ),
}
FIELD_LABELS: Dict[str, str] = {
    "full_name": "name",
    "phone": "phone number",
    "email": "email",
    "hospital": "hospital",
    "enquiry_aim": "reason for the call",
    "call_time": "best time to call",
}
_CHANGE_WORDS = re.compile(
    r"\b(?:change|changes|edit|update|fix|correct|wrong|not right|incorrect|mistake|typo|amend|different|"
    r"should be|instead|actually)\b",
    re.I,
)


def field_to_change(text: str, fields: Optional[Sequence[str]] = None) -> Optional[str]:
    """Which form field a reply names ("change my phone number" -> "phone"), or None."""
    if not isinstance(text, str):
        return None
    said = f" {re.sub(r'[^a-z -]+', ' ', text.lower())} "
    said = re.sub(r"\s+", " ", said)
    allowed = fields or list(FIELD_ALIASES)
    named = [
        f
        for f in allowed
        if any(f" {alias} " in said for alias in FIELD_ALIASES.get(f, ()))
    ]
    return named[0] if len(named) == 1 else None


def wants_change(text: str) -> bool:
    """Whether a reply asks to change something ("the number is wrong", "edit")."""
    return isinstance(text, str) and bool(_CHANGE_WORDS.search(text))


_NEW_VALUE = re.compile(r"\b(?:to|is|should be|=)\s+(.+)$", re.I)

# How to read a new value for a field out of a correction ("change my phone to ...").
FIELD_PARSERS: Dict[str, Callable[[str], Optional[str]]] = {
    "full_name": normalise_name,
    "phone": normalise_uk_phone,
    "email": lambda text: find_email(text) or parse_email(text),
    "enquiry_aim": lambda text: match_choice(text, ENQUIRY_AIMS),
    "call_time": lambda text: match_choice(text, CALL_TIMES),
}


def new_value_in_correction(field_name: str, text: str) -> Optional[str]:
    """The corrected value given with a change request, if there is one.

    "change my phone to 07700 900456" -> "+447700900456"; "change my name" -> None.
    """
    if not isinstance(text, str) or field_name not in FIELD_PARSERS:
        return None
    parse = FIELD_PARSERS[field_name]
    tail = _NEW_VALUE.search(text)
    if field_name == "full_name":
        return parse(tail.group(1)) if tail else None
    if field_name in ("phone", "email"):
        value = parse(text)
        return value if value and value != NO_EMAIL else None
    return parse(tail.group(1)) if tail else None
