"""Dialogue policy: when a custom action fails, the patient hears about it.

If the action server is down, slow or broken, Rasa logs the exception, drops the
action's events and carries on: the patient gets silence. Each failed run is
recorded where Rasa runs it (install_failure_marks), and when the tracker's last
event is that run, this policy predicts `utter_technical_problem` (a plain response,
which needs no action server) with the hospital's phone number, and then listens.

It also bounds how long Rasa waits for the action server. Rasa 3.6 hard-codes five
minutes (rasa.core.constants.DEFAULT_REQUEST_TIMEOUT); ACTION_TIMEOUT (infra.settings,
10 s by default) replaces it when this module is loaded with the model, so a hung
action server costs the patient seconds, not minutes. infra.settings refuses a value
that is not below the lock lifetime (TICKET_LOCK_LIFETIME, 60 s), so a
conversation's lock always outlives the call.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Dict, Optional, Set, Text, Tuple

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from nlp.certain_policy import CertainPolicy

logger = logging.getLogger(__name__)

TECHNICAL_PROBLEM = "utter_technical_problem"


def apply_action_timeout() -> float:
    """Makes Rasa wait at most ACTION_TIMEOUT seconds for the action server.

    The one setting lives in infra.settings (10 s by default, refused unless below
    the lock lifetime), so the policy and the stores can never disagree about it.
    """
    from infra.failures import limit_action_timeout
    from infra.settings import load_settings

    seconds = load_settings().action_timeout_seconds
    limit_action_timeout(seconds)
    return seconds


class FailedRuns:
    """Which custom action or form runs raised, by conversation and tracker position.

    In the tracker a failed run looks like a success that set nothing (Rasa logs the
    exception and records the action with no events), and so does every custom action
    in `rasa test core`, which runs none. So failures are recorded where Rasa runs the
    action (install_failure_marks), and the policy acts only on a recorded one.
    """

    def __init__(self, max_conversations: int = 10_000) -> None:
        self.max_conversations = max_conversations
        self._runs: "OrderedDict[str, Set[Tuple[str, int]]]" = OrderedDict()

    def mark(self, sender_id: str, action_name: str, position: int) -> None:
        self._runs.setdefault(sender_id, set()).add((action_name, position))
        self._runs.move_to_end(sender_id)
        while len(self._runs) > self.max_conversations:
            self._runs.popitem(last=False)

    def take(self, sender_id: str, action_name: str, position: int) -> bool:
        """Whether that run failed; the conversation's marks are cleared either way."""
        return (action_name, position) in self._runs.pop(sender_id, set())


FAILED_RUNS = FailedRuns()


def install_failure_marks() -> None:
    """Records in FAILED_RUNS each custom action or form run that raises (idempotent).

    A rejection (ActionExecutionRejection) is a form's normal "not this slot" answer,
    not a failure, and is left alone.
    """
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.core.actions.loops import LoopAction

    for cls in (RemoteAction, LoopAction):
        original = cls.run
        if getattr(original, "_marks_failures", False):
            continue

        def wrap(original: Any) -> Any:
            async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
                try:
                    return await original(self, output_channel, nlg, tracker, domain)
                except ActionExecutionRejection:
                    raise
                except Exception:
                    # Rasa records the action next, at this position.
                    FAILED_RUNS.mark(tracker.sender_id, self.name(), len(tracker.events))
                    raise

            run._marks_failures = True  # type: ignore[attr-defined]
            return run

        cls.run = wrap(original)


def failed_custom_action(tracker: DialogueStateTracker, domain: Domain) -> Optional[Text]:
    """The custom action or form that has just failed, if the last event is its own."""
    if not tracker.events:
        return None
    last = tracker.events[-1]
    if not isinstance(last, ActionExecuted) or not last.action_name:
        return None
    custom = {
        name for name in domain.user_actions if not name.startswith("utter_")
    } | set(domain.form_names)
    if last.action_name not in custom:
        return None
    position = len(tracker.events) - 1
    return last.action_name if FAILED_RUNS.take(tracker.sender_id, last.action_name, position) else None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class ActionFailurePolicy(CertainPolicy):
    """Predicts the technical-problem reply after a custom action failed."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 5}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Optional[Any] = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        apply_action_timeout()
        install_failure_marks()

    def next_action(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[Text]:
        if tracker.latest_action_name == TECHNICAL_PROBLEM:
            return ACTION_LISTEN_NAME
        failed = failed_custom_action(tracker, domain)
        if failed:
            logger.error("Custom action %s failed; telling the user to phone", failed)
            return TECHNICAL_PROBLEM
        return None
