"""Dialogue policy that puts urgent-care advice before anything else, in every state.

Why a policy as well as the NLU component: messages that start with ``/`` (button
payloads, or a user typing ``/greet``) have their intent set by Rasa's
RegexMessageHandler *after* the NLU pipeline, and inside a form RulePolicy's loop
prediction would otherwise win. This policy re-checks the raw text of the latest
user message with the same deterministic patterns and predicts ``utter_urgent_care``
with full confidence as a "no user" prediction, which Rasa's ensemble ranks above
all others; its priority breaks the tie with RulePolicy.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from nlp.certain_policy import CertainPolicy
from nlp.urgent_symptoms import load_detector

logger = logging.getLogger(__name__)

URGENT_INTENT = "urgent_symptom"
URGENT_RESPONSE = "utter_urgent_care"


def latest_user_text(tracker: DialogueStateTracker) -> str:
    """The latest user text plus any entity values given in a ``/intent{...}`` payload."""
    message = tracker.latest_message
    if message is None:
        return ""
    parts = [message.text or ""]
    for entity in message.entities or []:
        value = entity.get("value")
        if isinstance(value, str):
            parts.append(value)
        elif value is not None:
            parts.append(json.dumps(value))
    return " ".join(parts)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class UrgentSymptomPolicy(CertainPolicy):
    """Predicts urgent-care advice whenever the latest user message is urgent."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7, "spacy_model": None}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Optional[Any] = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self._detector = load_detector(config.get("spacy_model"))

    def is_urgent(self, tracker: DialogueStateTracker) -> bool:
        message = tracker.latest_message
        if message is None:
            return False
        if (message.intent or {}).get("name") == URGENT_INTENT:
            return True
        return bool(self._detector.detect_text(latest_user_text(tracker)))

    def next_action(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[Text]:
        latest = tracker.latest_action_name
        if latest == ACTION_LISTEN_NAME and self.is_urgent(tracker):
            return URGENT_RESPONSE
        if latest == URGENT_RESPONSE:
            # Back to where the user was: a form asks its question again; otherwise wait.
            return tracker.active_loop_name or ACTION_LISTEN_NAME
        return None
