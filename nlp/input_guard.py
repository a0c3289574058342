"""Cleans what patients type before the NLU pipeline reads it, and says when it cut.

Text from the public channels can hold control characters, zero-width characters,
full-width or styled letters, or run to tens of thousands of characters (a pasted
letter). The pipeline reads a normalised copy: HTML tags, control and zero-width
characters removed, Unicode NFKC, runs of whitespace collapsed, and at most
MAX_MESSAGE_CHARS characters, cut at a word boundary; of a long message, only its
question (text_to_read). The tracker keeps what the patient wrote.

When only part of a message was read, `message_cut` is added to the parse data, and
MessageCutPolicy adds `utter_message_cut` after the first reply, so the patient
knows.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlp.certain_policy import CertainPolicy

MAX_MESSAGE_CHARS = 1000
# Past this, a message is a letter or a story rather than a question (see text_to_read).
LONG_MESSAGE_CHARS = 500
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
CUT_KEY = "message_cut"
CUT_RESPONSE = "utter_message_cut"
# Zero-width characters, and U+FFFD (what unreadable bytes became): the MiniLM
# tokenizer drops it, and a token it drops breaks DIET's feature alignment.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\ufffd"), None)
_SPACES = re.compile(r"\s+")
# Markup pasted from a web page or typed to probe the bot: NLU reads the words
# around it. The tracker, the widget and the console keep and show it as text.
_TAGS = re.compile(r"</?[A-Za-z][^<>]{0,200}>")


def clean_text(text: Optional[str]) -> str:
    """Tags, control, zero-width and unassigned characters out; NFKC; single spaces."""
    if not text:
        return ""
    text = _TAGS.sub(" ", text.translate(_ZERO_WIDTH))
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") else ch for ch in text
    )
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def cut_text(text: str, max_chars: int = MAX_MESSAGE_CHARS) -> Tuple[str, bool]:
    """(clean text cut to max_chars at a word boundary if it can be, whether it was cut)."""
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars // 2 else cut).rstrip(), True


def normalise_text(text: Optional[str], max_chars: int = MAX_MESSAGE_CHARS) -> Tuple[str, bool]:
    """(the text the pipeline should read, whether it was cut)."""
    return cut_text(clean_text(text), max_chars)


def text_to_read(text: Optional[str], max_chars: int = MAX_MESSAGE_CHARS) -> Tuple[str, bool]:
    """(what NLU reads, whether that is only part of the message).

    A long message buries its question in context ("My mother is 78 ... how long
    does it take?"), and DIET weighs every word, so the context wins. When a long
    message asks a question, NLU reads that question alone (the first one, wherever
    it is); otherwise the start of the message. Either way the patient is told that
    only part was read. The urgent-symptom layer still reads the whole message.
    """
    full = clean_text(text)  # once: this runs on every message
    if len(full) > LONG_MESSAGE_CHARS:
        for sentence in _SENTENCE_BREAK.split(full):
            if sentence.endswith("?") and len(sentence.split()) >= 3:
                return cut_text(sentence, max_chars)[0], True
    return cut_text(full, max_chars)


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
            text, cut = text_to_read(message.get(TEXT), self.max_chars)
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
class MessageCutPolicy(CertainPolicy):
    """Adds `utter_message_cut` after the first reply to a message that was cut."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 4}

    def next_action(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[Text]:
        if tracker.latest_action_name == CUT_RESPONSE:
            return tracker.active_loop_name or ACTION_LISTEN_NAME
        if tracker.latest_action_name != ACTION_LISTEN_NAME and needs_cut_note(tracker):
            return CUT_RESPONSE
        return None
