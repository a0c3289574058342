"""Whole conversations through the running Rasa server's REST channel."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

URGENT_START = "Call 999 or go to A&E now"


@pytest.mark.parametrize(
    "question, must_contain",
    [
        ("how long does the kyphoplasty operation take?", "one hour"),
        ("will I be put to sleep for it", "sedation"),
        ("can I go home the same day", "overnight"),
        ("who does the procedure at Spire?", "Trivedi"),
        ("is it approved by NICE", "2008"),
        ("how much does the treatment cost", "01223 266929"),
        ("what number is the physio place", "01223 200580"),
        ("how many patients have had it done", "500,000"),
    ],
)
def test_faq_questions_get_answers_from_the_page(client, question, must_contain):
    assert must_contain in client.say(question)


def test_not_covered_question_is_answered_honestly_with_a_number(client):
    reply = client.say("when will I be able to drive again after it")
    assert "01223" in reply
    assert "not" in reply.lower()


def test_follow_up_how_long_after_a_procedure_answer(client):
    client.say("what happens during the procedure?")
    assert "one hour" in client.say("how long does that take?")


def test_follow_up_how_long_after_a_recovery_answer_does_not_invent_a_time(client):
    client.say("what is the recovery like afterwards?")
    reply = client.say("how long does that take?")
    # The page gives no recovery time: the bot says so and gives a number.
    assert "do not have information about how long recovery takes" in reply
    assert "01223" in reply


def test_urgent_symptoms_before_any_greeting(client):
    assert client.say("I've suddenly lost control of my bladder").startswith(URGENT_START)


def test_urgent_symptoms_mid_conversation_come_first(client):
    client.say("hello")
    client.say("what is kyphoplasty")
    assert client.say("my legs have gone weak and numb since yesterday").startswith(URGENT_START)


@pytest.mark.parametrize(
    "payload",
    [
        "/greet I have had chest pain and can't breathe",
        '/thank{"note": "I cannot control my bowels"}',
    ],
)
def test_urgent_check_cannot_be_skipped_with_an_intent_payload(client, payload):
    assert client.say(payload).startswith(URGENT_START)


def test_two_misses_in_a_row_hand_over_with_phone_numbers(client):
    first = client.say("what's the best recipe for lasagne")
    assert "01223 266900" not in first
    second = client.say("who won the football last night")
    assert "01223 266900" in second


def test_says_it_is_an_automated_assistant(client):
    assert "automated assistant" in client.say("are you a real person?")


def test_greeting_gives_the_information_not_advice_note(client):
    assert "not medical advice" in client.say("hi")
