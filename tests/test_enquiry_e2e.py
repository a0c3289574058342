"""The callback enquiry end to end: a real Rasa server (REST channel) and a real action
server, started for this module with their own tracker store and enquiries database;
each enquiry is read back from the database, SQLite and then PostgreSQL.

The model is models/kyphoplasty.tar.gz, or the one ``ENQUIRY_TEST_MODEL`` names.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from actions.enquiry_store import EnquiryStore
from tests.support.enquiry_helpers import (
    WebhookReceiver,
    enquiry_test_model,
    temporary_postgres_database,
    wait_for,
)
from tests.support.servers import (
    RestClient,
    Service,
    free_port,
    start_action_server,
    start_rasa,
    write_endpoints,
)

pytestmark = pytest.mark.e2e

URGENT_START = "Call 999 or go to A&E now"
PERSONAL = (
    "Jane Smith",
    "07700 900123",
    "7700900123",
    "jane.smith@example.com",
    "Tom Baker",
    "01632 960123",
)


class EnquiryStack:
    """Rasa and the action server; the action server can be restarted with another
    database on the same port, so one Rasa server (the slow part) serves every test."""

    def __init__(self, workdir: Path, receiver: WebhookReceiver) -> None:
        self.workdir = workdir
        self.receiver = receiver
        self.action_port = free_port()
        self.db_url = f"sqlite:///{workdir / 'enquiries.db'}"
        self.actions: Optional[Service] = None
        self.logs: List[Path] = []
        self.start_actions(self.db_url)
        endpoints = write_endpoints(workdir, self.actions.url, workdir / "tracker.db")
        self.rasa = start_rasa(workdir, endpoints, model=enquiry_test_model())
        self.logs.append(self.rasa.log)

    def start_actions(self, db_url: str) -> None:
        if self.actions:
            self.actions.stop()
        env: Dict[str, str] = {
            "ENQUIRY_DB_URL": db_url,
            "ENQUIRY_WEBHOOK_URL": self.receiver.url,
            "ENQUIRY_OUTBOX_RETRY_SECONDS": "1",
        }
        self.actions = start_action_server(self.workdir, port=self.action_port, env=env)
        self.db_url = db_url
        self.db = EnquiryStore(db_url)
        self.logs.append(self.actions.log)

    @contextmanager
    def database(self, db_url: str) -> Iterator[None]:
        previous = self.db_url
        self.start_actions(db_url)
        try:
            yield
        finally:
            self.start_actions(previous)

    def client(self) -> RestClient:
        return RestClient(self.rasa.url)

    def stop(self) -> None:
        self.rasa.stop()
        if self.actions:
            self.actions.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    receiver = WebhookReceiver().start()
    stack = EnquiryStack(tmp_path_factory.mktemp("enquiry-e2e"), receiver)
    yield stack
    stack.stop()
    receiver.stop()
    for log in stack.logs:  # no personal detail in any log line, Rasa's or ours
        text = log.read_text()
        for value in PERSONAL:
            assert value not in text, f"{value!r} appears in {log.name}"


@pytest.fixture
def client(stack) -> RestClient:
    return stack.client()


def texts(messages: List[dict]) -> List[str]:
    return [m.get("text", "") for m in messages]


def reference_in(text: str) -> str:
    match = re.search(r"\bKY-[2-9A-HJKMNP-Z]{6}\b", text)
    assert match, text
    return match.group()


def complete_the_form(
    client: RestClient, name="Jane Smith", phone="07700 900123"
) -> str:
    opening = texts(client.send("can someone call me back please"))
    assert any("call you back" in t for t in opening) and "full name" in opening[-1]
    assert "phone number" in client.say(name)
    assert "email" in client.say(phone)
    aim = client.send("jane.smith@example.com")
    assert "aim of your enquiry" in aim[-1]["text"]
    assert [b["payload"] for b in aim[-1]["buttons"]] == [
        b["title"] for b in aim[-1]["buttons"]
    ]
    assert "best time" in client.say("Self-pay price")
    assert "90 days" in client.say("Afternoon")
    summary = client.say("Yes, I agree")
    assert name in summary and phone in summary and "Is this right?" in summary
    return client.say("Confirm")


def test_the_form_over_rest_stores_the_enquiry_in_sqlite(stack, client):
    done = complete_the_form(client)
    assert "The team will call you in the afternoon on 07700 900123" in done
    row = stack.db.get(reference_in(done))
    assert row["full_name"] == "Jane Smith" and row["phone_e164"] == "+447700900123"
    assert row["email"] == "jane.smith@example.com" and row["status"] == "new"
    assert row["channel"] == "rest" and row["conversation_id"] == client.sender
    wait_for(
        lambda: any(
            b["reference"] == row["reference"] for b in stack.receiver.received
        ),
        20,
    )


def test_the_form_over_rest_stores_the_enquiry_in_postgresql(stack):
    with temporary_postgres_database() as url, stack.database(url):
        client = stack.client()
        done = complete_the_form(client, name="Tom Baker", phone="01632 960123")
        reference = reference_in(done)
        row = EnquiryStore(url).get(reference)
        assert row["full_name"] == "Tom Baker" and row["phone_e164"] == "+441632960123"
        assert row["conversation_id"] == client.sender
        assert stack.db.engine.url.get_backend_name() == "postgresql"
        stack.db.engine.dispose()


def test_an_faq_question_mid_form_is_answered_and_the_form_resumes(client):
    client.say("I'd like someone to phone me")
    client.say("Jane Smith")
    reply = texts(client.send("how long does the kyphoplasty operation take?"))
    assert any("one hour" in t for t in reply)
    assert "phone number" in reply[-1]
    assert "email" in client.say("07700 900123")


def test_urgent_symptoms_mid_form_come_first_and_the_form_resumes(client):
    client.say("can someone call me")
    reply = texts(client.send("my legs have gone weak and numb since yesterday"))
    assert reply[0].startswith(URGENT_START)
    assert "full name" in reply[-1]
    assert "phone number" in client.say("Jane Smith")


def test_stop_mid_form_stores_nothing(stack, client):
    before = stack.db.count()
    client.say("please ring me back")
    client.say("Jane Smith")
    reply = client.say("stop")
    assert "I have stopped" in reply and "01223 266900" in reply
    assert stack.db.count() == before
    assert "one hour" in client.say("how long does the kyphoplasty operation take?")


def test_the_callback_is_offered_after_an_answer_the_page_does_not_have(client):
    reply = texts(client.send("how much does the treatment cost"))
    assert any("01223 266929" in t for t in reply)
    assert "call you back" in reply[-1]
    assert "full name" in client.say("Yes")


def test_a_declined_offer_gives_the_numbers_and_carries_on(client):
    client.say("can I get it on the NHS")
    declined = client.say("No")
    assert "01223 266900" in declined and "01223 266990" in declined
    assert "Trivedi" in client.say("who does the procedure at Spire?")


def test_declining_consent_stores_nothing(stack, client):
    before = stack.db.count()
    client.say("can someone call me")
    for answer in ("Jane Smith", "07700 900123", "no", "2", "Morning"):
        client.say(answer)
    reply = client.say("No")
    assert "not stored any of your details" in reply
    assert stack.db.count() == before


HOSTILE = ("<script>alert(1)</script>", "'; DROP TABLE enquiries; --", "<img src=x onerror=alert(1)>")


def test_script_and_sql_in_the_form_slots_are_refused_as_text(stack, client):
    """Each hostile answer is turned down like any invalid one (never stored, never
    run), the form carries on, and only the real answers reach the database."""
    opening = texts(client.send("can someone call me back please"))
    assert "full name" in opening[-1]
    for hostile, valid, next_question in zip(
        HOSTILE,
        ("Jane Smith", "07700 900123", "jane.smith@example.com"),
        ("phone number", "email", "aim of your enquiry"),
    ):
        assert client.send(hostile), f"no reply to {hostile!r}"
        assert next_question in client.say(valid)
    assert "best time" in client.say("Self-pay price")
    assert "90 days" in client.say("Afternoon")
    client.say("Yes, I agree")
    row = stack.db.get(reference_in(client.say("Confirm")))
    assert (row["full_name"], row["phone_e164"], row["email"]) == (
        "Jane Smith", "+447700900123", "jane.smith@example.com")
