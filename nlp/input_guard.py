"""Cleans what patients type before the NLU pipeline reads it, and says when it cut.

Text from the public channels can hold control characters, zero-width characters,
full-width or styled letters, or run to tens of thousands of characters (a pasted
letter). The pipeline reads a normalised copy: control and zero-width characters
removed, Unicode NFKC, runs of whitespace collapsed, and at most MAX_MESSAGE_CHARS
characters, cut at a word boundary. The tracker keeps what the patient wrote.

When a message was cut, `message_cut` is added to the parse data, and
MessageCutPolicy adds `utter_message_cut` after the first reply, so the patient
knows that only the start was read.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

MAX_MESSAGE_CHARS = 1000
CUT_KEY = "message_cut"
CUT_RESPONSE = "utter_message_cut"
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"\s+")


def normalise_text(text: Optional[str], max_chars: int = MAX_MESSAGE_CHARS) -> Tuple[str, bool]:
    """(the text the pipeline should read, whether it was cut)."""
    if not text:
        return "", False
    text = text.translate(_ZERO_WIDTH)
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") else ch for ch in text
    )
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars // 2 else cut).rstrip(), True


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class InputNormaliser(GraphComponent):
    """First in the pipeline: every later component reads the normalised text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_chars": MAX_MESSAGE_CHARS}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.max_chars = int(config.get("max_chars") or MAX_MESSAGE_CHARS)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "InputNormaliser":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # our own examples are clean and short

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text, cut = normalise_text(message.get(TEXT), self.max_chars)
            message.set(TEXT, text)
            if cut:
                message.set(CUT_KEY, True, add_to_output=True)
        return messages


def needs_cut_note(tracker: DialogueStateTracker) -> bool:
    """The latest user message was cut, the bot has replied, and not yet with the note."""
    replied = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return replied and bool((event.parse_data or {}).get(CUT_KEY))
        if isinstance(event, ActionExecuted) and event.action_name == CUT_RESPONSE:
            return False
        if isinstance(event, BotUttered):
            replied = True
    return False


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class MessageCutPolicy(Policy):
    """Adds `utter_message_cut` after the first reply to a message that was cut."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 4}

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if tracker.latest_action_name == CUT_RESPONSE:
            action: Optional[str] = tracker.active_loop_name or ACTION_LISTEN_NAME
        elif tracker.latest_action_name != ACTION_LISTEN_NAME and needs_cut_note(tracker):
            action = CUT_RESPONSE
        else:
            return self._prediction(probabilities)
        if action not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, is_no_user_prediction=True)
