"""NLU graph component: the deterministic urgent-symptom layer inside the pipeline.

DIET may be unsure about an urgent message worded in an unusual way; a missed
emergency is the worst failure this assistant can have. This component runs the
spaCy Matcher patterns from ``nlp.urgent_symptoms`` on every message and, when
they fire, sets the intent to ``urgent_symptom`` with full confidence and adds an
``urgent_symptom`` entity naming the category, so that either the classifier or
the patterns is enough.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlp.intent_override import CLASSIFIER_INTENT_KEY, override_intent
from nlp.urgent_symptoms import UrgentFinding, load_detector

URGENT_INTENT = "urgent_symptom"
URGENT_ENTITY = "urgent_symptom"


def urgent_entities(findings: List[UrgentFinding]) -> List[Dict[Text, Any]]:
    """One entity per category found, in the shape Rasa stores in the tracker."""
    seen: Dict[str, UrgentFinding] = {}
    for finding in findings:
        seen.setdefault(finding.category, finding)
    return [
        {
            "entity": URGENT_ENTITY,
            "value": finding.category,
            "role": finding.level,
            "extractor": "UrgentSymptomDetectorComponent",
            "confidence_entity": 1.0,
        }
        for finding in seen.values()
    ]


def mark_urgent(message: Message, findings: List[UrgentFinding]) -> None:
    """Overrides the predicted intent and records the categories as entities."""
    override_intent(message, URGENT_INTENT)
    entities = [
        entity
        for entity in message.get(ENTITIES) or []
        if entity.get("entity") != URGENT_ENTITY
    ]
    message.set(ENTITIES, entities + urgent_entities(findings), add_to_output=True)


def demote_unsure_urgent(message: Message, min_confidence: float) -> None:
    """An urgent guess by the classifier alone, below min_confidence, gives way to
    the next intent in its ranking (the patterns did not fire for it)."""
    intent = message.get(INTENT) or {}
    if intent.get(INTENT_NAME_KEY) != URGENT_INTENT:
        return
    if (intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= min_confidence:
        return
    ranking = [
        entry
        for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) != URGENT_INTENT
    ]
    if not ranking:
        return
    message.set(INTENT, ranking[0], add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking + [intent], add_to_output=True)
    message.set(CLASSIFIER_INTENT_KEY, intent, add_to_output=True)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class UrgentSymptomDetectorComponent(GraphComponent, IntentClassifier):
    """Runs the urgent-symptom patterns and overrides the intent when they fire."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # spacy_model None: the detector's own default (the repo's assembled pipeline).
        # ml_min_confidence: the classifier alone raises the alarm only when this sure;
        # its less confident urgent guesses were mostly questions *about* symptoms.
        return {"spacy_model": None, "ml_min_confidence": 0.9}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.component_config = config
        self._detector = load_detector(config.get("spacy_model"))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "UrgentSymptomDetectorComponent":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text: Optional[str] = message.get(TEXT)
            if not text:
                continue
            findings = self._detector.detect_text(text)
            if findings:
                mark_urgent(message, findings)
            else:
                demote_unsure_urgent(message, self.component_config["ml_min_confidence"])
        return messages
