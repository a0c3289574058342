"""The callback form's code and its dialogue data agree (domain.yml, data/rules/)."""

from __future__ import annotations

from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

from actions import enquiry_form
from actions.enquiry_form import FAQ_INTENTS, FORM_NAME, FORM_SLOTS, HELPER_SLOTS

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
RULES = yaml.safe_load((ROOT / "data" / "rules" / "enquiry.yml").read_text())["rules"]


def test_the_form_asks_for_the_slots_the_code_validates():
    assert DOMAIN["forms"][FORM_NAME]["required_slots"] == list(FORM_SLOTS)
    for slot in FORM_SLOTS:
        assert hasattr(enquiry_form.ValidateEnquiryForm, f"extract_{slot}")
        assert hasattr(enquiry_form.ValidateEnquiryForm, f"validate_{slot}")
        mapping = DOMAIN["slots"][slot]["mappings"]
        assert mapping == [
            {
                "type": "custom",
                "conditions": [{"active_loop": FORM_NAME, "requested_slot": slot}],
            }
        ]
    for slot in FORM_SLOTS + HELPER_SLOTS:
        assert DOMAIN["slots"][slot]["influence_conversation"] is False


def test_every_custom_action_of_the_flow_is_in_the_domain():
    # Registered the way the action server does it, so a class it would skip or a
    # name it would register twice shows up here.
    executor = ActionExecutor()
    executor.register_package("actions")
    names = set(executor.actions)
    asked = {f"action_ask_{slot}" for slot in FORM_SLOTS}
    assert asked <= names
    assert {
        "action_clear_enquiry",
        "action_stop_enquiry",
        "action_submit_enquiry",
    } <= names
    assert names <= set(DOMAIN["actions"])


def test_every_interruption_the_form_lets_through_has_a_rule_that_returns_to_it():
    returns = {}
    for rule in RULES:
        condition = rule.get("condition") or []
        steps = rule["steps"]
        if {"active_loop": FORM_NAME} in condition and steps[-1] == {
            "active_loop": FORM_NAME
        }:
            returns[steps[0]["intent"]] = steps[1]["action"]
    assert set(returns) == set(FAQ_INTENTS)
    assert returns["procedure"] == "utter_procedure"
    assert returns["ask_how_long"] == "action_answer_follow_up"


def test_stop_and_the_end_of_the_form_each_have_a_rule():
    by_first_step = {str(rule["steps"][0]): rule["steps"] for rule in RULES}
    assert by_first_step[str({"intent": "stop"})][-1] == {
        "action": "action_stop_enquiry"
    }
    assert by_first_step[str({"action": FORM_NAME})][-1] == {
        "action": "action_submit_enquiry"
    }


def test_a_reply_is_fresh_until_something_answers_it_or_rejects_the_form():
    from actions.enquiry_form import is_fresh_reply

    user = {"event": "user", "text": "Jane Smith"}
    asked = [{"event": "action", "name": FORM_NAME}, {"event": "bot"}, user]
    assert is_fresh_reply(asked + [{"event": "user_featurization"}, {"event": "slot"}])
    assert is_fresh_reply(asked + [{"event": "action", "name": FORM_NAME}])
    assert not is_fresh_reply(asked + [{"event": "action_execution_rejected"}])
    assert not is_fresh_reply(
        asked + [{"event": "action", "name": "utter_procedure"}, {"event": "bot"}]
    )
    assert not is_fresh_reply([{"event": "action", "name": "action_listen"}])
