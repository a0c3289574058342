"""Folding a conversation's events into what the console lists and searches.

Pure functions over rows of Rasa's ``events`` table: ``fold_conversation`` turns
one sender's events into a summary row and one row per user message. The refresh
in ``tracker.py`` feeds it; tests call it directly.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from console.masking import EMAIL_RE, PHONE_RE, mask_text

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_default_fallback", "utter_please_rephrase"})
URGENT_ACTIONS = frozenset({"utter_urgent_care"})
# Handing over to a person: the phone numbers after misses, or the callback form.
HANDOVER_ACTIONS = frozenset({"utter_handover", "enquiry_form"})
FORM_NAME = "enquiry_form"
REFERENCE_RE = re.compile(r"\bKY-[2-9A-Z]{6}\b")
# Words that change nothing about what a message asks, left out of the group key.
FILLER_WORDS = frozenset(
    "please pls plz hi hello hey thanks thank you um er erm ok okay so just".split()
)
_PUNCTUATION = str.maketrans({ch: " " for ch in string.punctuation + "\u2019\u2018"})
TEXT_KEY_LENGTH = 255


@dataclass
class EventRow:
    id: int
    sender_id: str
    type_name: str
    timestamp: Optional[float]
    intent_name: Optional[str]
    action_name: Optional[str]
    data: Optional[str]


@dataclass
class UserMessage:
    event_id: int
    sender_id: str
    timestamp: float
    text: str
    text_key: str
    intent: Optional[str]
    full_intent: Optional[str]
    confidence: Optional[float]
    in_form: bool

    def as_row(self) -> Dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Summary:
    sender_id: str
    started_at: float
    last_at: float
    channel: Optional[str] = None
    user_messages: int = 0
    fallback: bool = False
    urgent: bool = False
    handover: bool = False
    enquiry: bool = False
    min_confidence: Optional[float] = None
    last_event_id: int = 0
    messages: List[UserMessage] = field(default_factory=list)

    def as_row(self) -> Dict[str, Any]:
        row = dict(self.__dict__)
        row.pop("messages")
        return row


def text_key(text: str) -> str:
    """What groups similar messages in the NLU inbox: lower case, no punctuation,
    no filler words, personal details replaced, single spaces."""
    lowered = EMAIL_RE.sub(" email ", (text or "").lower())
    lowered = PHONE_RE.sub(" phone ", lowered)
    words = [w for w in lowered.translate(_PUNCTUATION).split() if w not in FILLER_WORDS]
    return " ".join(words)[:TEXT_KEY_LENGTH] or (text or "").strip().lower()[:TEXT_KEY_LENGTH]


def best_guess(parse_data: Dict[str, Any]) -> Tuple[Optional[str], Optional[str], Optional[float]]:
    """(intent, full intent, confidence) of one parsed message.

    The full intent is the retrieval sub-intent the response selector chose
    (procedure/duration) for an FAQ area; for a fallback it is the intent the
    classifier ranked first after ``nlu_fallback``, which is what a reviewer confirms.
    """
    intent = (parse_data.get("intent") or {}).get("name")
    confidence = (parse_data.get("intent") or {}).get("confidence")
    guess = intent
    if intent == FALLBACK_INTENT:
        ranking = [r.get("name") for r in parse_data.get("intent_ranking") or []]
        guess = next((name for name in ranking if name and name != FALLBACK_INTENT), None)
    selector = parse_data.get("response_selector") or {}
    retrieval = set(selector.get("all_retrieval_intents") or [])
    if guess in retrieval:
        guess = _retrieval_key(selector, guess) or guess
    return intent, guess, confidence


def _retrieval_key(selector: Dict[str, Any], area: str) -> Optional[str]:
    for name, prediction in selector.items():
        if name == "all_retrieval_intents" or not isinstance(prediction, dict):
            continue
        response = prediction.get("response") or {}
        key = response.get("intent_response_key") or ""
        if key.startswith(area + "/"):
            return key
        for ranked in prediction.get("ranking") or []:
            key = ranked.get("intent_response_key") or ""
            if key.startswith(area + "/"):
                return key
    return None


def _load(row: EventRow) -> Dict[str, Any]:
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def fold_conversation(rows: Iterable[EventRow]) -> Optional[Summary]:
    """One sender's events (ordered by id) as a summary with its user messages."""
    summary: Optional[Summary] = None
    form_active = False
    for row in rows:
        timestamp = row.timestamp or 0.0
        if summary is None:
            summary = Summary(row.sender_id, timestamp, timestamp)
        summary.started_at = min(summary.started_at, timestamp)
        summary.last_at = max(summary.last_at, timestamp)
        summary.last_event_id = max(summary.last_event_id, row.id)
        kind = row.type_name
        if kind == "action":
            name = row.action_name or ""
            summary.fallback |= name in FALLBACK_ACTIONS
            summary.urgent |= name in URGENT_ACTIONS
            summary.handover |= name in HANDOVER_ACTIONS
        elif kind == "active_loop":
            form_active = _load(row).get("name") == FORM_NAME
        elif kind == "bot":
            if REFERENCE_RE.search(_load(row).get("text") or ""):
                summary.enquiry = True
        elif kind == "user":
            data = _load(row)
            text = data.get("text") or ""
            intent, guess, confidence = best_guess(data.get("parse_data") or {})
            summary.user_messages += 1
            if summary.channel is None and data.get("input_channel"):
                summary.channel = str(data["input_channel"])[:64]
            summary.fallback |= intent == FALLBACK_INTENT
            if isinstance(confidence, (int, float)):
                summary.min_confidence = (
                    confidence
                    if summary.min_confidence is None
                    else min(summary.min_confidence, confidence)
                )
            summary.messages.append(
                UserMessage(
                    event_id=row.id,
                    sender_id=row.sender_id,
                    timestamp=timestamp,
                    # Stored with phones and emails masked: the search and the
                    # inbox never need them, and this copy outlives nothing.
                    text=mask_text(text),
                    text_key=text_key(text),
                    intent=intent,
                    full_intent=guess,
                    confidence=confidence if isinstance(confidence, (int, float)) else None,
                    in_form=form_active,
                )
            )
    return summary
