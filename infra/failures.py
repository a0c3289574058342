"""Store failures are loud: an error in the log, a health flag, and a clear message to
the user, never a silent fallback.

Rasa wraps every tracker store in ``FailSafeTrackerStore``. When the database fails,
that wrapper logs one line and carries on: ``retrieve`` returns no tracker (the bot
starts the conversation again, losing a half-filled callback form) and ``save`` keeps
the conversation in process memory, which another instance never sees and a restart
loses. A hospital's patient must instead be told that something is wrong and given
the phone number.

``install()`` changes three things in Rasa, once per process:

1. ``FailSafeTrackerStore``'s two error handlers raise ``TrackerStoreUnavailable``
   instead of falling back, so nothing is kept in memory.
2. ``Agent.handle_message`` catches that, ``LockStoreUnavailable`` and Rasa's
   ``LockError`` and answers with ``technical_problem_message()`` on the user's own
   channel (the REST reply replaces whatever the failed turn had collected).
3. The action server timeout, hard-coded to 300 s in Rasa 3.6, becomes
   ``ACTION_TIMEOUT``, which ``infra.settings`` keeps below the lock lifetime.

The stores in this package call ``install()`` when Rasa creates them, so endpoints.yml
naming them is enough.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from rasa.shared.exceptions import RasaException

from infra.settings import load_settings

logger = logging.getLogger(__name__)


class StoreUnavailable(RasaException):
    """A store that every message needs cannot be used right now."""


class TrackerStoreUnavailable(StoreUnavailable):
    """The conversation database failed; nothing was kept in memory instead."""


class LockStoreUnavailable(StoreUnavailable):
    """The lock store (Redis) failed, so the message was not processed."""


def technical_problem_message(phone: Optional[str] = None) -> str:
    phone = phone or load_settings().help_phone
    return (
        "Sorry, I'm having a technical problem and can't carry on with this "
        "conversation just now. Please try again in a few minutes, or call the "
        f"hospital on {phone}."
    )


def describe(error: BaseException) -> str:
    """The error's kind without its text: SQLAlchemy's message carries the statement's
    parameters, which hold what the patient typed."""
    original = getattr(error, "orig", None)
    if original is not None:
        return f"{type(error).__name__} ({type(original).__name__})"
    return type(error).__name__


@dataclass
class StoreHealth:
    """Whether each store's last use worked, for the readiness check and the logs."""

    _state: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, store: str) -> None:
        with self._lock:
            previous = self._state.get(store)
            self._state[store] = {"ok": True, "since": time.time()}
        if previous is not None and not previous["ok"]:
            logger.warning("The %s works again.", store)

    def failed(self, store: str, error: BaseException) -> None:
        with self._lock:
            previous = self._state.get(store)
            if previous is None or previous["ok"]:
                self._state[store] = {
                    "ok": False,
                    "since": time.time(),
                    "error": describe(error),
                }

    def is_ok(self, store: str) -> bool:
        with self._lock:
            return self._state.get(store, {"ok": True})["ok"]

    def snapshot(self) -> Dict[str, Dict[str, Any]]:
        with self._lock:
            return {name: dict(state) for name, state in self._state.items()}


health = StoreHealth()

_installed = False
_install_lock = threading.Lock()
# What install() replaced, so that uninstall() can put it back (tests only).
_originals: Dict[str, Any] = {}


def install() -> None:
    """Applies the three changes described above; safe to call more than once."""
    global _installed
    with _install_lock:
        if _installed:
            return
        settings = load_settings()
        _remember_originals()
        _make_failsafe_loud()
        _answer_store_failures(settings.help_phone)
        limit_action_timeout(settings.action_timeout_seconds)
        _installed = True
    logger.info(
        "Store failures are reported to the user; action timeout %g s, lock lifetime "
        "%g s.",
        settings.action_timeout_seconds,
        settings.lock_lifetime_seconds,
    )


def _remember_originals() -> None:
    import rasa.core.actions.action
    import rasa.utils.endpoints
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore

    _originals.update(
        store_error=FailSafeTrackerStore.on_tracker_store_error,
        retrieve_error=FailSafeTrackerStore.on_tracker_store_retrieve_error,
        handle_message=Agent.handle_message,
        action_timeout=rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT,
        endpoint_timeout=rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT,
    )


def uninstall() -> None:
    """Puts Rasa back as it was before ``install()``; for tests in a shared process."""
    global _installed
    import rasa.core.actions.action
    import rasa.utils.endpoints
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore

    with _install_lock:
        if not _installed:
            return
        FailSafeTrackerStore.on_tracker_store_error = _originals["store_error"]
        FailSafeTrackerStore.on_tracker_store_retrieve_error = _originals[
            "retrieve_error"
        ]
        Agent.handle_message = _originals["handle_message"]
        rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT = _originals["action_timeout"]
        rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT = _originals["endpoint_timeout"]
        _installed = False


def _make_failsafe_loud() -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore

    def raise_instead_of_falling_back(self: Any, error: Exception) -> None:
        health.failed("tracker store", error)
        logger.error(
            "The tracker store %s failed (%s): this message is answered with the "
            "technical-problem message and nothing is kept in memory instead.",
            type(self._tracker_store).__name__,
            describe(error),
        )
        raise TrackerStoreUnavailable("the tracker store failed") from error

    FailSafeTrackerStore.on_tracker_store_error = raise_instead_of_falling_back
    FailSafeTrackerStore.on_tracker_store_retrieve_error = raise_instead_of_falling_back


def _answer_store_failures(phone: str) -> None:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.lock_store import LockError

    original = Agent.handle_message

    @functools.wraps(original)
    async def handle_message(self: Agent, message: Any) -> Any:
        try:
            return await original(self, message)
        except Exception as error:
            # A store or lock failure, or anything else that broke this turn (an NLU
            # component failing on odd input): the patient is told, never left in
            # silence. Rasa saves a turn only at its end, so nothing half-done is kept.
            if isinstance(error, LockError) and not isinstance(error, StoreUnavailable):
                health.failed("lock store", error)
            # The user id, never the text: the text may hold personal details.
            logger.error(
                "Message for conversation %s not processed: %s.",
                message.sender_id,
                describe(error),
            )
            output = message.output_channel
            if isinstance(output, CollectingOutputChannel):
                # The turn was not stored, so its half-made reply would mislead.
                del output.messages[:]
            await output.send_text_message(
                message.sender_id, technical_problem_message(phone)
            )
            return None

    Agent.handle_message = handle_message


def limit_action_timeout(seconds: float) -> None:
    # RemoteAction.run passes this module-level name on every call, and the endpoint's
    # aiohttp session uses the other one as its total timeout.
    import rasa.core.actions.action
    import rasa.utils.endpoints

    rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT = seconds
    rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT = seconds


def action_timeout_in_force() -> float:
    """The timeout RemoteAction uses now (300 s until ``install()``)."""
    import rasa.core.actions.action

    return float(rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT)
