"""Puts a rule-based intent over the classifier's guess, keeping the guess for review.

The urgent-symptom patterns and the language check both know better than DIET when
they fire; the staff console and the evaluation still want to see what DIET thought.
"""
from __future__ import annotations

from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

CLASSIFIER_INTENT_KEY = "classifier_intent"


def override_intent(message: Message, intent_name: str) -> None:
    """Sets ``intent_name`` with full confidence at the top of the ranking."""
    previous = message.get(INTENT) or {}
    ranking = [
        entry
        for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) != intent_name
    ]
    intent = {INTENT_NAME_KEY: intent_name, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent] + ranking, add_to_output=True)
    message.set(CLASSIFIER_INTENT_KEY, previous, add_to_output=True)
