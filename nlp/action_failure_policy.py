"""Dialogue policy: when a custom action fails, the patient hears about it.

If the action server is down, slow or broken, Rasa logs the exception, drops the
action's events and carries on: the patient gets silence. A failed custom action
leaves its ActionExecuted event as the last event of the tracker (a successful one
is always followed by what it said or set), so this policy predicts
`utter_technical_problem` (a plain response, which needs no action server) with the
hospital's phone number, and then listens.

It also bounds how long Rasa waits for the action server. Rasa 3.6 hard-codes five
minutes (rasa.core.constants.DEFAULT_REQUEST_TIMEOUT); ACTION_TIMEOUT (infra.settings,
10 s by default) replaces it when this module is loaded with the model, so a hung
action server costs the patient seconds, not minutes. infra.settings refuses a value
that is not below the lock lifetime (TICKET_LOCK_LIFETIME, 60 s), so a
conversation's lock always outlives the call.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

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


def failed_custom_action(tracker: DialogueStateTracker, domain: Domain) -> Optional[Text]:
    """The custom action or form whose run left no events, if the last event is its own."""
    if not tracker.events:
        return None
    last = tracker.events[-1]
    if not isinstance(last, ActionExecuted) or not last.action_name:
        return None
    custom = {
        name for name in domain.user_actions if not name.startswith("utter_")
    } | set(domain.form_names)
    return last.action_name if last.action_name in custom else None


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

    def next_action(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[Text]:
        if tracker.latest_action_name == TECHNICAL_PROBLEM:
            return ACTION_LISTEN_NAME
        failed = failed_custom_action(tracker, domain)
        if failed:
            logger.error("Custom action %s failed; telling the user to phone", failed)
            return TECHNICAL_PROBLEM
        return None
