"""EnvTrackerStore: conversations in SQLite by default, in PostgreSQL when
TRACKER_STORE_URL says so, read and written off the event loop."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from infra import failures
from infra.tracker_store import EnvTrackerStore, engine_options
from tests.support.enquiry_helpers import temporary_postgres_database
from tests.support.servers import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(autouse=True)
def _restore_rasa():
    yield
    failures.uninstall()


def conversation(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_listen"),
            UserUttered("can someone call me back", {"name": "request_callback"}),
            ActionExecuted("enquiry_form"),
            SlotSet("requested_slot", "full_name"),
        ],
        slots=DOMAIN.slots,
    )
    return tracker


async def round_trip(store: EnvTrackerStore) -> None:
    tracker = conversation("round-trip")
    await store.save(tracker)
    await store.save(tracker)  # saving again adds nothing
    tracker.update(UserUttered("Sam Jones", {"name": "nlu_fallback"}))
    await store.save(tracker)
    again = await store.retrieve("round-trip")
    assert [e.as_dict()["event"] for e in again.events] == [
        "action",
        "user",
        "action",
        "slot",
        "user",
    ]
    assert again.get_slot("requested_slot") == "full_name"
    assert list(await store.keys()) == ["round-trip"]
    assert await store.retrieve("nobody") is None
    await store.ping()


async def test_sqlite_when_nothing_is_set(tmp_path, monkeypatch):
    db = tmp_path / "nested" / "tracker.db"
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{db}")
    store = EnvTrackerStore(domain=DOMAIN)
    await round_trip(store)
    assert db.exists()


async def test_postgresql_from_tracker_store_url(monkeypatch):
    with temporary_postgres_database() as url:
        monkeypatch.setenv("TRACKER_STORE_URL", url)
        store = EnvTrackerStore(domain=DOMAIN)
        assert store.engine.dialect.name == "postgresql"
        await round_trip(store)
        store.engine.dispose()


def test_postgresql_engines_check_connections_and_stay_small():
    options = engine_options("postgresql://postgres@127.0.0.1:5432/x")
    assert options["pool_pre_ping"] is True
    assert options["pool_size"] + options["max_overflow"] <= 20
    assert options["connect_args"]["connect_timeout"] > 0
    assert engine_options("sqlite:///x.db") == {"pool_pre_ping": True}
