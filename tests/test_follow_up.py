"""The "how long does that take?" follow-up: pure helpers, then the real action server."""
from __future__ import annotations

import json
import urllib.request
from typing import Optional

import pytest

from actions.follow_up import ASK_WHICH, how_long_response, previous_faq_key


def user_event(intent: str, key: Optional[str] = None) -> dict:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": []}
    if key:
        parse["response_selector"] = {
            "all_retrieval_intents": [intent],
            "default": {"response": {"intent_response_key": key}},
        }
    return {"event": "user", "text": "...", "parse_data": parse}


@pytest.mark.parametrize(
    "previous, expected",
    [
        ("procedure/steps", "utter_procedure/duration"),
        ("procedure/anaesthesia", "utter_procedure/duration"),
        ("recovery/overview", "utter_not_covered/recovery_time"),
        ("not_covered/aftercare", "utter_not_covered/recovery_time"),
        ("consultants/trivedi", ASK_WHICH),
        (None, ASK_WHICH),
    ],
)
def test_how_long_is_resolved_from_the_previous_answer(previous, expected):
    assert how_long_response(previous) == expected


def test_previous_key_skips_the_current_message_and_non_faq_turns():
    events = [
        user_event("procedure", "procedure/steps"),
        {"event": "bot", "text": "..."},
        user_event("thank"),
        user_event("ask_how_long"),
    ]
    assert previous_faq_key(events) == "procedure/steps"


def test_previous_key_ignores_a_selector_answer_for_another_intent():
    # The selector always predicts something; it only counts when the intent was an FAQ area.
    event = user_event("greet")
    event["parse_data"]["response_selector"] = {
        "default": {"response": {"intent_response_key": "procedure/steps"}}
    }
    assert previous_faq_key([event, user_event("ask_how_long")]) is None


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    from tests.support.servers import start_action_server

    service = start_action_server(tmp_path_factory.mktemp("actions"))
    yield service
    service.stop()


def call_action(url: str, events: list) -> dict:
    payload = {
        "next_action": "action_answer_follow_up",
        "sender_id": "webhook-test",
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": "webhook-test",
            "slots": {},
            "latest_message": events[-1]["parse_data"],
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }
    request = urllib.request.Request(
        url + "/webhook", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_action_server_answers_how_long_after_the_procedure(action_server):
    result = call_action(
        action_server.url, [user_event("procedure", "procedure/steps"), user_event("ask_how_long")]
    )
    assert [r.get("response") for r in result["responses"]] == ["utter_procedure/duration"]


def test_action_server_asks_which_when_there_is_no_context(action_server):
    result = call_action(action_server.url, [user_event("ask_how_long")])
    assert [r.get("response") for r in result["responses"]] == [ASK_WHICH]
