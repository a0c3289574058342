"""The enquiries database (actions/enquiry_store.py) on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import datetime, timedelta, timezone

import pytest

from actions.enquiry_store import (
    OUTBOX_PENDING,
    EnquiryStore,
    NewEnquiry,
    idempotency_key,
    new_reference,
)
from actions.settings import DEFAULT_DB_URL, load_settings
from tests.support.enquiry_helpers import temporary_postgres_database


@pytest.fixture(scope="module")
def postgres_url():
    with temporary_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return EnquiryStore(f"sqlite:///{tmp_path / 'var' / 'enquiries.db'}")
    url = request.getfixturevalue("postgres_url")
    store = EnquiryStore(url)
    with store.engine.begin() as connection:  # each test starts from empty tables
        connection.exec_driver_sql("DELETE FROM enquiry_outbox")
        connection.exec_driver_sql("DELETE FROM enquiries")
    return store


def enquiry(key: str = "key-1", **changes) -> NewEnquiry:
    values = dict(
        idempotency_key=key,
        channel="rest",
        conversation_id="conversation-1",
        full_name="Jane Smith",
        phone_e164="+447700900123",
        email=None,
        hospital="Spire Cambridge Lea Hospital",
        enquiry_aim="self_pay",
        call_time="afternoon",
        consent_at=datetime(2024, 5, 1, 14, 0, tzinfo=timezone.utc),
    )
    values.update(changes)
    return NewEnquiry(**values)


def test_references_are_short_and_readable():
    references = {new_reference() for _ in range(200)}
    assert len(references) == 200
    assert all(re.fullmatch(r"KY-[2-9A-HJKMNP-Z]{6}", r) for r in references)


def test_the_idempotency_key_depends_on_the_conversation_and_the_confirming_message():
    assert idempotency_key("a", 1.5) == idempotency_key("a", 1.5)
    assert (
        idempotency_key("a", 1.5)
        != idempotency_key("a", 2.5)
        != idempotency_key("b", 2.5)
    )


def test_an_enquiry_is_stored_with_its_outbox_rows(store):
    stored = store.submit(enquiry(), ["email", "webhook"])
    assert stored.created
    row = store.get(stored.reference)
    assert (
        row["status"] == "new"
        and row["full_name"] == "Jane Smith"
        and row["email"] is None
    )
    assert row["consent_at"] == datetime(2024, 5, 1, 14, 0, tzinfo=timezone.utc)
    assert row["created_at"].tzinfo is not None
    outbox = store.outbox_rows(stored.id)
    assert [(r["notifier"], r["status"], r["attempts"]) for r in outbox] == [
        ("email", OUTBOX_PENDING, 0),
        ("webhook", OUTBOX_PENDING, 0),
    ]


def test_the_same_submission_is_stored_once(store):
    first = store.submit(enquiry("same"), ["webhook"])
    again = store.submit(enquiry("same"), ["webhook"])
    assert (again.id, again.reference, again.created) == (
        first.id,
        first.reference,
        False,
    )
    assert store.count() == 1 and len(store.outbox_rows()) == 1


def test_concurrent_retries_store_once(store):
    results = []

    def submit():
        results.append(store.submit(enquiry("race"), ["webhook"]))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r.reference for r in results}) == 1
    assert store.count() == 1


async def test_async_submission_runs_off_the_event_loop(store):
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    stored = await store.asubmit(enquiry("async"), ["email"])
    task.cancel()
    assert stored.created and ticks > 0


def test_due_notifications_and_marking(store):
    stored = store.submit(enquiry(), ["webhook"])
    [due] = store.due_notifications()
    assert due.enquiry["reference"] == stored.reference and due.notifier == "webhook"
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    store.mark_failed(due.outbox_id, "ClientConnectorError", later)
    assert store.due_notifications() == []
    assert store.due_notifications(now=later + timedelta(seconds=1))[0].attempts == 1
    store.mark_sent(due.outbox_id)
    row = store.outbox_rows(stored.id)[0]
    assert (
        row["status"] == "sent" and row["attempts"] == 2 and row["last_error"] is None
    )


def test_expired_enquiries_are_deleted_with_their_outbox_rows(store):
    now = datetime.now(timezone.utc)
    old = store.submit(enquiry("old"), ["webhook"], now=now - timedelta(days=91))
    recent = store.submit(enquiry("recent"), ["webhook"], now=now - timedelta(days=89))
    assert store.purge_expired(90, now=now) == 1
    assert store.get(old.reference) is None and store.get(recent.reference)
    assert [r["enquiry_id"] for r in store.outbox_rows()] == [recent.id]


def test_settings_default_to_sqlite_under_var_and_read_postgres_urls():
    assert DEFAULT_DB_URL.startswith("sqlite:///") and DEFAULT_DB_URL.endswith(
        "/var/enquiries.db"
    )
    assert load_settings({}).db_url == DEFAULT_DB_URL
    assert load_settings({}).retention_days == 90
    assert (
        load_settings({"ENQUIRY_DB_URL": "postgres://u@h/db"}).db_url
        == "postgresql://u@h/db"
    )
    configured = load_settings(
        {
            "ENQUIRY_SMTP_HOST": "mail",
            "ENQUIRY_SMTP_FROM": "bot@x",
            "ENQUIRY_SMTP_TO": "a@x, b@x",
            "ENQUIRY_WEBHOOK_URL": "http://h/x",
            "ENQUIRY_RETENTION_DAYS": "30",
        }
    )
    assert configured.notifiers == ("email", "webhook") and configured.smtp_to == (
        "a@x",
        "b@x",
    )
    assert configured.retention_days == 30
    assert load_settings({"ENQUIRY_SMTP_HOST": "mail"}).notifiers == ()
    with pytest.raises(ValueError):
        load_settings({"ENQUIRY_RETENTION_DAYS": "0"})


def test_database_exists_only_once_sqlite_has_a_file(tmp_path):
    from actions.enquiry_store import database_exists

    url = f"sqlite:///{tmp_path / 'var' / 'enquiries.db'}"
    assert not database_exists(url)
    EnquiryStore(url)
    assert database_exists(url)
    assert database_exists("postgresql://postgres@127.0.0.1:5432/anything")
