"""The shape our hand-written dialogue policies share.

The urgent-care, failed-action and message-cut policies need no training and, when
they act, predict one action with certainty; otherwise they leave the turn to the
other policies. Each says only which action, in ``next_action``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


class CertainPolicy(Policy):
    """A policy that predicts ``next_action`` with probability 1, or abstains."""

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        return self._resource

    def next_action(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[Text]:
        """The action to take now, or None to abstain."""
        raise NotImplementedError

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.next_action(tracker, domain)
        if action is None or action not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        # Not a reaction to the user's words alone, so other policies' "no user"
        # predictions cannot override it.
        return self._prediction(probabilities, is_no_user_prediction=True)
