"""Folding Rasa events into conversation summaries and inbox rows (pure functions)."""

import json

from console.summary import EventRow, best_guess, fold_conversation, text_key


def _user(i, text, intent, confidence, ranking=(), selector=None, channel="rest"):
    parse = {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": [],
    }
    if selector:
        parse["response_selector"] = selector
    data = {"event": "user", "text": text, "parse_data": parse, "input_channel": channel}
    return EventRow(i, "s1", "user", 1000.0 + i, intent, None, json.dumps(data))


def _action(i, name):
    return EventRow(i, "s1", "action", 1000.0 + i, None, name, json.dumps({"name": name}))


def _bot(i, text):
    return EventRow(i, "s1", "bot", 1000.0 + i, None, None, json.dumps({"text": text}))


def _loop(i, name):
    return EventRow(i, "s1", "active_loop", 1000.0 + i, None, name, json.dumps({"name": name}))


SELECTOR = {
    "all_retrieval_intents": ["procedure", "recovery"],
    "default": {
        "response": {"intent_response_key": "procedure/duration", "confidence": 0.9},
        "ranking": [
            {"intent_response_key": "procedure/duration"},
            {"intent_response_key": "recovery/overview"},
        ],
    },
}


def test_retrieval_intent_is_labelled_with_the_selector_sub_intent():
    parse = {"intent": {"name": "procedure", "confidence": 0.97}, "response_selector": SELECTOR}
    assert best_guess(parse) == ("procedure", "procedure/duration", 0.97)


def test_a_fallback_guesses_the_next_ranked_intent_and_its_sub_intent():
    parse = {
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": "recovery", "confidence": 0.2},
        ],
        "response_selector": SELECTOR,
    }
    assert best_guess(parse) == ("nlu_fallback", "recovery/overview", 0.3)


def test_fold_sets_flags_counts_and_form_membership():
    rows = [
        _action(1, "action_session_start"),
        _user(2, "how long does it take", "procedure", 0.95, selector=SELECTOR),
        _action(3, "utter_procedure"),
        _user(4, "blorp", "nlu_fallback", 0.3, ranking=[("nlu_fallback", 0.3), ("greet", 0.2)]),
        _action(5, "utter_please_rephrase"),
        _user(6, "call me back", "request_callback", 0.99),
        _action(7, "enquiry_form"),
        _loop(8, "enquiry_form"),
        _user(9, "Jane Smith", "procedure", 0.41),
        _loop(10, None),
        _action(11, "action_submit_enquiry"),
        _bot(12, "Thank you. Your reference is KY-7F3K2Q."),
        _user(13, "my legs are numb", "urgent_symptom", 1.0, channel="socketio"),
        _action(14, "utter_urgent_care"),
    ]
    summary = fold_conversation(rows)
    assert summary.user_messages == 5
    assert (summary.fallback, summary.handover, summary.enquiry, summary.urgent) == (
        True, True, True, True,
    )
    assert summary.min_confidence == 0.3
    assert summary.channel == "rest"
    assert summary.started_at == 1001.0 and summary.last_event_id == 14
    in_form = {m.text: m.in_form for m in summary.messages}
    assert in_form == {
        "how long does it take": False, "blorp": False, "call me back": False,
        "Jane Smith": True, "my legs are numb": False,
    }
    assert summary.messages[0].full_intent == "procedure/duration"
    assert summary.messages[1].full_intent == "greet"


def test_a_plain_conversation_raises_no_flags():
    summary = fold_conversation([_user(1, "hi", "greet", 0.99), _action(2, "utter_greet")])
    assert not (summary.fallback or summary.handover or summary.enquiry or summary.urgent)


def test_text_key_groups_the_same_words():
    assert text_key("Hi, how LONG does it take?!") == text_key("how long does it take please")
    assert text_key("call 07700 900123") == text_key("call 01632 960512") == "call phone"
    assert text_key("how long does it take") != text_key("how long is recovery")
