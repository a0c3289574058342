"""The urgent-symptom set through the real Rasa server over REST: every message,
sent as the first message of a new conversation and again after a normal
question, must get the urgent-care reply first."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.servers import RestClient

pytestmark = pytest.mark.e2e

URGENT_START = "Call 999 or go to A&E now"
URGENT_SET = yaml.safe_load((Path(__file__).parent / "urgent" / "urgent_messages.yml").read_text())["messages"]
NEAR_MISSES = yaml.safe_load((Path(__file__).parent / "urgent" / "near_misses.yml").read_text())["messages"]


def test_every_urgent_message_gets_urgent_care_first_over_rest(stack):
    missed = []
    for case in URGENT_SET:
        client = RestClient(stack.rasa_url)
        if not client.say(case["text"]).startswith(URGENT_START):
            missed.append(case["text"])
    print(f"\nurgent over REST: {len(URGENT_SET) - len(missed)}/{len(URGENT_SET)} got urgent care first")
    assert not missed, "urgent messages missed over REST:\n" + "\n".join(missed)


def test_urgent_messages_after_a_normal_question(stack):
    missed = []
    for case in URGENT_SET[::4]:
        client = RestClient(stack.rasa_url)
        client.say("what is balloon kyphoplasty?")
        if not client.say(case["text"]).startswith(URGENT_START):
            missed.append(case["text"])
    assert not missed, "missed mid-conversation:\n" + "\n".join(missed)


def test_false_alarm_rate_over_rest_is_reported_and_below_ten_percent(stack):
    alarms = [
        case["text"]
        for case in NEAR_MISSES
        if RestClient(stack.rasa_url).say(case["text"]).startswith(URGENT_START)
    ]
    rate = len(alarms) / len(NEAR_MISSES)
    print(f"\nfalse alarms over REST: {len(alarms)}/{len(NEAR_MISSES)} ({rate:.1%})")
    assert rate < 0.10, "false alarms:\n" + "\n".join(alarms)
