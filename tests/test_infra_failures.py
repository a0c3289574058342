"""Store failures are loud: Rasa's silent in-memory fallback is detected here, and
infra.failures replaces it with an error and a clear message to the user."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy.exc
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from infra import failures


class BrokenDatabase(TrackerStore):
    """A tracker store whose database has gone away (the error SQLAlchemy raises)."""

    def __init__(self) -> None:
        super().__init__(None)

    @staticmethod
    def _fail():
        raise sqlalchemy.exc.OperationalError(
            "INSERT INTO events ... 'my name is Jane Smith'",
            {},
            ConnectionRefusedError("connection refused"),
        )

    async def retrieve(self, sender_id):
        self._fail()

    async def save(self, tracker):
        self._fail()

    async def keys(self):
        self._fail()

    async def retrieve_full_tracker(self, conversation_id):
        self._fail()


@pytest.fixture
def installed():
    failures.install()
    yield
    failures.uninstall()


async def test_rasa_alone_falls_back_to_memory_silently():
    """What infra.failures exists for: without it, a failed save is kept in memory
    and a failed read looks like a new conversation."""
    failures.uninstall()
    store = FailSafeTrackerStore(BrokenDatabase())
    tracker = DialogueStateTracker("someone", [])
    await store.save(tracker)
    assert await store.fallback_tracker_store.retrieve("someone") is not None
    assert await store.retrieve("someone") is None


async def test_with_infra_a_failed_save_raises_and_keeps_nothing(installed, caplog):
    store = FailSafeTrackerStore(BrokenDatabase())
    with (
        caplog.at_level(logging.ERROR),
        pytest.raises(failures.TrackerStoreUnavailable),
    ):
        await store.save(DialogueStateTracker("someone", []))
    assert store._fallback_tracker_store is None  # no in-memory store was made
    assert "BrokenDatabase failed (OperationalError" in caplog.text
    assert "Jane Smith" not in caplog.text  # the statement's values stay out of logs
    assert not failures.health.is_ok("tracker store")


async def test_with_infra_a_failed_read_raises(installed):
    store = FailSafeTrackerStore(BrokenDatabase())
    with pytest.raises(failures.TrackerStoreUnavailable):
        await store.retrieve("someone")


class FailingProcessor:
    """Stands in for Rasa's MessageProcessor at the point where the tracker store
    fails: after the turn has produced a reply that will not be stored."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def handle_message(self, message: UserMessage):
        await message.output_channel.send_text_message(
            message.sender_id, "What is your phone number?"
        )
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        failures.TrackerStoreUnavailable("down"),
        failures.LockStoreUnavailable("down"),
        # Anything else that breaks a turn (an NLU component failing on odd input).
        ValueError("Jane Smith"),
    ],
)
async def test_the_user_is_told_and_given_the_phone_number(installed, error, caplog):
    agent = Agent(lock_store=InMemoryLockStore())
    agent.processor = FailingProcessor(error)
    output = CollectingOutputChannel()
    with caplog.at_level(logging.ERROR):
        await agent.handle_message(
            UserMessage("my name is Jane Smith", output, "patient-1")
        )
    texts = [m["text"] for m in output.messages]
    assert texts == [failures.technical_problem_message()]
    assert "technical problem" in texts[0] and "01223 266900" in texts[0]
    assert "patient-1" in caplog.text and "Jane Smith" not in caplog.text


def test_install_keeps_the_action_timeout_below_the_lock_lifetime(installed):
    from infra.settings import load_settings

    assert failures.action_timeout_in_force() == load_settings().action_timeout_seconds
    assert failures.action_timeout_in_force() < load_settings().lock_lifetime_seconds


def test_uninstall_restores_rasa():
    failures.install()
    failures.uninstall()
    assert failures.action_timeout_in_force() == 300  # Rasa 3.6's hard-coded value
