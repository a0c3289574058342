"""Answers follow-up questions such as "how long does that take?" from context.

Rules cannot name a single FAQ answer (`utter_procedure/duration`) directly, and
the meaning of "that" depends on the previous answer, so a small action resolves it.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

# What "how long does that take?" means after an answer from each area or answer.
HOW_LONG_BY_TOPIC = {
    "procedure": "utter_procedure/duration",
    "recovery": "utter_not_covered/recovery_time",
    "not_covered/recovery_time": "utter_not_covered/recovery_time",
    "not_covered/aftercare": "utter_not_covered/recovery_time",
}
ASK_WHICH = "utter_ask_how_long_what"


def retrieval_key(parse_data: Dict[Text, Any]) -> Optional[Text]:
    """The full FAQ key (``procedure/duration``) a user message was answered with."""
    selector = parse_data.get("response_selector") or {}
    for name, prediction in selector.items():
        if name == "all_retrieval_intents" or not isinstance(prediction, dict):
            continue
        key = (prediction.get("response") or {}).get("intent_response_key")
        if key:
            return key
    return None


def previous_faq_key(events: Iterable[Dict[Text, Any]]) -> Optional[Text]:
    """The FAQ key of the most recent user message before the current one."""
    user_events = [event for event in events if event.get("event") == "user"]
    for event in reversed(user_events[:-1]):
        parse_data = event.get("parse_data") or {}
        key = retrieval_key(parse_data)
        intent = (parse_data.get("intent") or {}).get("name")
        if key and intent and key.startswith(f"{intent}/"):
            return key
    return None


def how_long_response(faq_key: Optional[Text]) -> Text:
    """Which response answers "how long?" after the given FAQ answer."""
    if not faq_key:
        return ASK_WHICH
    area = faq_key.split("/", 1)[0]
    return HOW_LONG_BY_TOPIC.get(faq_key) or HOW_LONG_BY_TOPIC.get(area) or ASK_WHICH


class ActionAnswerFollowUp(Action):
    def name(self) -> Text:
        return "action_answer_follow_up"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(
            response=how_long_response(previous_faq_key(tracker.events))
        )
        return []
