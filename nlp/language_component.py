"""NLU graph component: a message in another language gets the `other_language` intent.

Runs after the urgent-symptom component and never overrides it: an emergency the
patterns recognise is answered as an emergency whatever else the message holds.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlp.language import is_other_language
from nlp.intent_override import override_intent
from nlp.urgent_component import URGENT_INTENT

OTHER_LANGUAGE_INTENT = "other_language"


def mark_other_language(message: Message) -> None:
    override_intent(message, OTHER_LANGUAGE_INTENT)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class OtherLanguageComponent(GraphComponent, IntentClassifier):
    """Overrides the intent with `other_language` when the message is not English."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "OtherLanguageComponent":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if intent == URGENT_INTENT:
                continue
            if is_other_language(message.get(TEXT) or ""):
                mark_other_language(message)
        return messages
