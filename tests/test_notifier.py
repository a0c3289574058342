"""Staff notifications (actions/notifier.py) against a real local SMTP server (aiosmtpd)
and a local HTTP receiver, including a receiver that is down: the enquiry is still
stored, the notification waits in the outbox, and is delivered once the receiver is up,
both on a later submission and by the action server's periodic retry."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from actions.enquiry_store import EnquiryStore, NewEnquiry
from actions.notifier import OutboxWorker, backoff, email_message, notification_payload
from actions.settings import Settings
from tests.support.enquiry_helpers import (
    FormDriver,
    SmtpInbox,
    WebhookReceiver,
    wait_for,
)
from tests.support.servers import free_port, start_action_server

PERSONAL = ("Jane Smith", "+447700900123", "07700 900123", "jane.smith@example.com")


def enquiry(key: str) -> NewEnquiry:
    return NewEnquiry(
        idempotency_key=key,
        channel="rest",
        conversation_id="conversation-1",
        full_name="Jane Smith",
        phone_e164="+447700900123",
        email="jane.smith@example.com",
        hospital="Spire Cambridge Lea Hospital",
        enquiry_aim="insurance",
        call_time="morning",
        consent_at=datetime(2024, 5, 1, tzinfo=timezone.utc),
    )


@pytest.fixture
def inbox():
    server = SmtpInbox().start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def store(tmp_path):
    return EnquiryStore(f"sqlite:///{tmp_path / 'enquiries.db'}")


def settings_for(inbox=None, webhook_url="", **more) -> Settings:
    values = dict(outbox_retry_seconds=0.1, notify_timeout_seconds=3)
    if inbox:
        values.update(
            smtp_host="127.0.0.1",
            smtp_port=inbox.port,
            smtp_from="assistant@example.org",
            smtp_to=("callbacks@example.org",),
        )
    if webhook_url:
        values.update(webhook_url=webhook_url, webhook_token="s3cret")
    values.update(more)
    return Settings(**values)


def assert_no_personal_details(text: str) -> None:
    for value in PERSONAL:
        assert value not in text, f"{value!r} leaked"


# ---------------------------------------------------------------- what is sent


def test_notifications_carry_no_contact_details_unless_configured():
    row = {
        "reference": "KY-ABCDEF",
        "created_at": datetime(2024, 5, 1, tzinfo=timezone.utc),
        "status": "new",
        "hospital": "Spire Cambridge Lea Hospital",
        "enquiry_aim": "insurance",
        "call_time": "morning",
        "channel": "rest",
        "full_name": "Jane Smith",
        "phone_e164": "+447700900123",
        "email": "jane.smith@example.com",
        "conversation_id": "c1",
    }
    minimal = notification_payload(row, include_contact=False)
    assert (
        minimal["reference"] == "KY-ABCDEF"
        and minimal["enquiry_aim_label"] == "Using medical insurance"
    )
    assert "contact" not in minimal
    assert_no_personal_details(str(minimal))
    assert_no_personal_details(email_message(minimal, "a@x", ("b@x",)).as_string())
    full = notification_payload(row, include_contact=True)
    assert (
        full["contact"]["phone"] == "07700 900123"
        and full["contact"]["full_name"] == "Jane Smith"
    )
    assert "Phone: 07700 900123" in email_message(full, "a@x", ("b@x",)).as_string()


def test_backoff_grows_and_is_capped():
    assert [backoff(n, 60) for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff(30, 60) == 3600


# ---------------------------------------------------------------- delivery


async def test_email_and_webhook_are_delivered(store, inbox, receiver):
    worker = OutboxWorker(store, settings_for(inbox, receiver.url))
    stored = await store.asubmit(enquiry("k1"), ("email", "webhook"))
    assert await worker.deliver_due() == (2, 0)

    [mail] = inbox.messages
    assert mail["Subject"] == f"New callback enquiry {stored.reference}"
    assert inbox.recipients == [["callbacks@example.org"]]
    assert "Using medical insurance" in mail.get_payload()
    [body] = receiver.received
    assert body["reference"] == stored.reference and body["event"] == "enquiry.created"
    assert receiver.headers[0]["Authorization"] == "Bearer s3cret"
    assert {r["status"] for r in store.outbox_rows()} == {"sent"}
    assert await worker.deliver_due() == (0, 0)  # nothing is sent twice


async def test_receiver_down_keeps_the_notification_and_a_later_submission_delivers_it(
    store, inbox, caplog
):
    port = free_port()  # nothing listens here yet
    worker = OutboxWorker(
        store, settings_for(inbox, f"http://127.0.0.1:{port}/enquiries")
    )
    caplog.set_level(logging.INFO)

    first = await store.asubmit(enquiry("k1"), ("email", "webhook"))
    assert await worker.deliver_due() == (1, 1)  # the email goes, the webhook waits
    assert store.get(first.reference)["status"] == "new"
    webhook_row = next(
        r for r in store.outbox_rows(first.id) if r["notifier"] == "webhook"
    )
    assert (webhook_row["status"], webhook_row["attempts"]) == ("pending", 1)
    assert webhook_row["last_error"] == "ClientConnectorError"
    assert (
        f"Could not notify staff of enquiry {first.reference} by webhook (attempt 1)"
        in caplog.text
    )

    receiver = WebhookReceiver(port=port).start()
    try:
        await asyncio.sleep(backoff(1, 0.1) + 0.1)  # the failed row is due again
        second = await store.asubmit(enquiry("k2"), ("email", "webhook"))
        assert await worker.deliver_due() == (
            3,
            0,
        )  # the old webhook, the new email and webhook
        assert sorted(b["reference"] for b in receiver.received) == sorted(
            [first.reference, second.reference]
        )
    finally:
        receiver.stop()
    assert {r["status"] for r in store.outbox_rows()} == {"sent"}
    assert_no_personal_details(caplog.text)


async def test_an_error_status_is_a_failure_to_retry(store):
    refusing = WebhookReceiver(status=503).start()
    try:
        worker = OutboxWorker(store, settings_for(webhook_url=refusing.url))
        stored = await store.asubmit(enquiry("k1"), ("webhook",))
        assert await worker.deliver_due() == (0, 1)
    finally:
        refusing.stop()
    row = store.outbox_rows(stored.id)[0]
    assert row["status"] == "pending" and row["last_error"] == "HTTP 503"


async def test_smtp_server_down_keeps_the_email_in_the_outbox(store, caplog):
    caplog.set_level(logging.INFO)
    config = replace(
        settings_for(),
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_from="a@example.org",
        smtp_to=("b@example.org",),
    )
    worker = OutboxWorker(store, config)
    stored = await store.asubmit(enquiry("k1"), ("email",))
    assert await worker.deliver_due() == (0, 1)
    assert store.outbox_rows(stored.id)[0]["last_error"] == "ConnectionRefusedError"
    assert_no_personal_details(caplog.text)


async def test_the_retry_loop_delivers_without_another_submission(store, inbox):
    port = free_port()
    worker = OutboxWorker(
        store, settings_for(inbox, f"http://127.0.0.1:{port}/enquiries")
    )
    stored = await store.asubmit(enquiry("k1"), ("webhook",))
    worker.ensure_retry_loop()
    worker.ensure_retry_loop()  # idempotent: one loop per event loop
    await asyncio.sleep(0.5)
    assert store.outbox_rows(stored.id)[0]["status"] == "pending"
    receiver = WebhookReceiver(port=port).start()
    try:
        for _ in range(100):
            if receiver.received:
                break
            await asyncio.sleep(0.1)
        assert [b["reference"] for b in receiver.received] == [stored.reference]
    finally:
        receiver.stop()
        worker._loop_task.cancel()


# ---------------------------------------------------------------- through the action server


def test_action_server_stores_the_enquiry_while_the_receiver_is_down_and_delivers_it_later(
    tmp_path, inbox
):
    port = free_port()
    db_url = f"sqlite:///{tmp_path / 'enquiries.db'}"
    service = start_action_server(
        tmp_path,
        env={
            "ENQUIRY_DB_URL": db_url,
            "ENQUIRY_WEBHOOK_URL": f"http://127.0.0.1:{port}/enquiries",
            "ENQUIRY_SMTP_HOST": "127.0.0.1",
            "ENQUIRY_SMTP_PORT": str(inbox.port),
            "ENQUIRY_SMTP_FROM": "assistant@example.org",
            "ENQUIRY_SMTP_TO": "callbacks@example.org",
            "ENQUIRY_OUTBOX_RETRY_SECONDS": "1",
        },
    )
    store = EnquiryStore(db_url)
    receiver = WebhookReceiver(port=port)
    try:

        async def conversation() -> str:
            driver = FormDriver(service.url)
            await driver.start()
            for answer in (
                "Jane Smith",
                "07700 900123",
                "jane.smith@example.com",
                "2",
                "Morning",
            ):
                await driver.say(answer)
            await driver.say("yes", "affirm")
            return (await driver.say("confirm", "affirm")).text

        reply = asyncio.run(conversation())
        assert "Your reference is KY-" in reply
        reference = reply.split("Your reference is ")[1][:9]
        row = store.get(reference)
        assert row and row["status"] == "new"  # stored although the receiver is down

        wait_for(lambda: inbox.messages, 15)
        assert inbox.messages[0]["Subject"] == f"New callback enquiry {reference}"
        wait_for(
            lambda: next(
                r for r in store.outbox_rows(row["id"]) if r["notifier"] == "webhook"
            )["attempts"]
            >= 1
        )
        assert (
            next(r for r in store.outbox_rows(row["id"]) if r["notifier"] == "webhook")[
                "status"
            ]
            == "pending"
        )

        receiver.start()
        wait_for(lambda: receiver.received, 30)
        assert receiver.received[0]["reference"] == reference
        wait_for(
            lambda: {r["status"] for r in store.outbox_rows(row["id"])} == {"sent"}, 10
        )
    finally:
        receiver.stop()
        service.stop()
    log = service.log.read_text()
    assert f"Could not notify staff of enquiry {reference} by webhook" in log
    assert f"Notified staff of enquiry {reference} by webhook" in log
    assert_no_personal_details(log)


async def test_opening_the_form_does_not_create_an_empty_database(tmp_path):
    from actions.notifier import start_retry_in_background

    path = tmp_path / "var" / "enquiries.db"
    start_retry_in_background(settings_for(db_url=f"sqlite:///{path}"))
    await asyncio.sleep(0.2)
    assert not path.exists()
