"""The failure policy's decision on its own, with the real domain."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from nlp.action_failure_policy import (
    FAILED_RUNS,
    apply_action_timeout,
    failed_custom_action,
    install_failure_marks,
)

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))


def tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "s1", [ActionExecuted("action_listen"), UserUttered("hi", {"name": "request_callback"}), *events]
    )


@pytest.mark.parametrize("action", ["action_answer_follow_up", "action_submit_enquiry", "enquiry_form"])
def test_a_custom_action_whose_run_raised_has_failed(action: str) -> None:
    failed = tracker(ActionExecuted(action))
    FAILED_RUNS.mark("s1", action, len(failed.events) - 1)
    assert failed_custom_action(failed, DOMAIN) == action
    assert failed_custom_action(failed, DOMAIN) is None, "a mark is used once"


def test_an_action_that_set_nothing_without_a_recorded_failure_has_not_failed() -> None:
    # What every custom action looks like in `rasa test core`, which runs none.
    assert failed_custom_action(tracker(ActionExecuted("action_clear_enquiry")), DOMAIN) is None


def test_a_mark_at_another_position_or_for_another_conversation_does_not_count() -> None:
    failed = tracker(ActionExecuted("action_submit_enquiry"))
    FAILED_RUNS.mark("s1", "action_submit_enquiry", 0)
    FAILED_RUNS.mark("s2", "action_submit_enquiry", len(failed.events) - 1)
    assert failed_custom_action(failed, DOMAIN) is None


async def test_a_real_remote_action_with_its_server_down_is_marked() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.utils.endpoints import EndpointConfig

    from tests.support.servers import free_port

    install_failure_marks()
    action = RemoteAction(
        "action_submit_enquiry", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    )
    live = tracker()
    with pytest.raises(Exception):
        await action.run(
            CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(DOMAIN.responses), live, DOMAIN
        )
    live.update(ActionExecuted("action_submit_enquiry"))
    assert failed_custom_action(live, DOMAIN) == "action_submit_enquiry"


@pytest.mark.parametrize(
    "events",
    [
        [ActionExecuted("action_answer_follow_up"), BotUttered("It takes up to an hour.")],
        [ActionExecuted("enquiry_form"), ActiveLoop(None), SlotSet("requested_slot", None)],
        [ActionExecuted("utter_greet"), BotUttered("Hello")],
        [ActionExecuted("utter_greet")],  # a response never needs the action server
        [],
    ],
)
def test_successful_or_non_custom_actions_have_not(events) -> None:
    assert failed_custom_action(tracker(*events), DOMAIN) is None


@pytest.mark.parametrize("raw, seconds", [(None, 10.0), ("4", 4.0), ("0.5", 0.5)])
def test_the_policy_applies_the_one_action_timeout_setting(raw, seconds, monkeypatch) -> None:
    import rasa.core.actions.action as rasa_action
    import rasa.utils.endpoints as rasa_endpoints

    monkeypatch.setattr(rasa_action, "DEFAULT_REQUEST_TIMEOUT", rasa_action.DEFAULT_REQUEST_TIMEOUT)
    monkeypatch.setattr(rasa_endpoints, "DEFAULT_REQUEST_TIMEOUT", rasa_endpoints.DEFAULT_REQUEST_TIMEOUT)
    if raw is None:
        monkeypatch.delenv("ACTION_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("ACTION_TIMEOUT", raw)
    assert apply_action_timeout() == seconds
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == seconds == rasa_endpoints.DEFAULT_REQUEST_TIMEOUT


def test_a_timeout_above_the_lock_lifetime_is_refused(monkeypatch) -> None:
    from infra.settings import SettingsError

    monkeypatch.setenv("ACTION_TIMEOUT", "90")
    with pytest.raises(SettingsError, match="ACTION_TIMEOUT"):
        apply_action_timeout()
