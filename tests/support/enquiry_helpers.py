"""Test support for the callback enquiry: local servers, a PostgreSQL scratch database,
and a driver that runs Rasa's own form logic against the real action server.

Everything here starts its own local parts and cleans up after itself.
"""

from __future__ import annotations

import email
import json
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from tests.support.servers import MODEL, ROOT, LocalHttpServer, QuietHandler, free_port

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def enquiry_test_model() -> Path:
    """The model the enquiry end-to-end tests load: ``ENQUIRY_TEST_MODEL`` or the project's."""
    return Path(os.environ.get("ENQUIRY_TEST_MODEL") or MODEL)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll until ``predicate()`` is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")


# ---------------------------------------------------------------- PostgreSQL


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test module; dropped afterwards.

    Uses ``ENQUIRY_TEST_PG_URL`` (default: the local server as user postgres) to create
    it, and skips the test with the reason when that server cannot be reached.
    """
    psycopg2 = pytest.importorskip("psycopg2", reason="psycopg2 is not installed")
    from sqlalchemy.engine import make_url

    admin_url = make_url(os.environ.get("ENQUIRY_TEST_PG_URL") or DEFAULT_PG_URL)
    shown = admin_url.render_as_string(hide_password=True)
    try:
        connection = psycopg2.connect(
            host=admin_url.host,
            port=admin_url.port or 5432,
            user=admin_url.username,
            password=admin_url.password,
            dbname=admin_url.database or "postgres",
            connect_timeout=3,
        )
    except psycopg2.OperationalError as exc:
        pytest.skip(
            f"PostgreSQL is not reachable at {shown} (set ENQUIRY_TEST_PG_URL): {str(exc).strip()}"
        )
    connection.autocommit = True
    name = f"enquiry_test_{uuid.uuid4().hex[:12]}"
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    except psycopg2.Error as exc:
        connection.close()
        pytest.skip(f"cannot create a scratch database on {shown}: {str(exc).strip()}")
    try:
        yield admin_url.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


# ---------------------------------------------------------------- staff-side receivers


class WebhookReceiver(LocalHttpServer):
    """A local HTTP server that records the JSON bodies POSTed to it."""

    def __init__(self, port: Optional[int] = None, status: int = 200) -> None:
        super().__init__(port)
        self.status = status
        self.received: List[Dict[str, Any]] = []
        self.headers: List[Dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/enquiries"

    def handler(self) -> type:
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(json.loads(body))
                receiver.headers.append(dict(self.headers))
                self.send_response(receiver.status)
                self.end_headers()

        return Handler


@dataclass
class SmtpInbox:
    """A real local SMTP server (aiosmtpd) that keeps every message it receives."""

    port: int = field(default_factory=free_port)
    messages: List[Message] = field(default_factory=list)
    recipients: List[List[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from aiosmtpd.controller import Controller

        inbox = self

        class Handler:
            async def handle_DATA(
                self, server: Any, session: Any, envelope: Any
            ) -> str:  # noqa: N802
                inbox.messages.append(email.message_from_bytes(envelope.content))
                inbox.recipients.append(list(envelope.rcpt_tos))
                return "250 Message accepted for delivery"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpInbox":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


# ---------------------------------------------------------------- Rasa's form against the action server


@dataclass
class Turn:
    texts: List[str]
    buttons: List[List[Dict[str, Any]]]
    rejected: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


class FormDriver:
    """Runs Rasa's own ``FormAction`` and ``RemoteAction`` code against the real action
    server, the way Rasa's processor does, without a trained model: each user message
    is given with the intent NLU would have predicted. Every call to the action server
    is therefore a real ``/webhook`` request with the tracker payload Rasa sends."""

    def __init__(
        self, action_url: str, sender: Optional[str] = None, channel: str = "rest"
    ) -> None:
        from rasa.core.actions.forms import FormAction
        from rasa.core.channels.channel import CollectingOutputChannel
        from rasa.core.nlg import TemplatedNaturalLanguageGenerator
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.events import ActionExecuted, SessionStarted
        from rasa.shared.core.trackers import DialogueStateTracker
        from rasa.utils.endpoints import EndpointConfig

        self.domain = Domain.load(str(ROOT / "domain.yml"))
        self.endpoint = EndpointConfig(url=action_url + "/webhook")
        self.nlg = TemplatedNaturalLanguageGenerator(self.domain.responses)
        self.output = CollectingOutputChannel()
        self.channel = channel
        self.form = FormAction("enquiry_form", self.endpoint)
        self.tracker = DialogueStateTracker.from_events(
            sender or f"driver-{uuid.uuid4().hex[:10]}",
            [
                ActionExecuted("action_session_start"),
                SessionStarted(),
                ActionExecuted("action_listen"),
            ],
            slots=self.domain.slots,
        )

    # -- building blocks

    def user(self, text: str, intent: str, confidence: float = 0.99) -> None:
        from rasa.shared.core.events import (
            ActionExecuted,
            DefinePrevUserUtteredFeaturization,
            UserUttered,
        )

        if self.tracker.latest_action_name != "action_listen":
            self.tracker.update(ActionExecuted("action_listen"))
        parse = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
            "entities": [],
        }
        self.tracker.update(
            UserUttered(
                text, parse["intent"], [], parse_data=parse, input_channel=self.channel
            )
        )
        # What Rasa's processor logs once a policy has looked at the message.
        self.tracker.update(DefinePrevUserUtteredFeaturization(False))

    def bot(self, action_name: str, text: str) -> None:
        """A response the rules would send (an FAQ answer, the urgent-care advice)."""
        from rasa.shared.core.events import ActionExecuted, BotUttered

        self.tracker.update(ActionExecuted(action_name))
        self.tracker.update(BotUttered(text))

    async def action(self, name: str) -> Turn:
        """Run one custom action through the action server and log it as Rasa does."""
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.core.events import ActionExecuted

        events = await RemoteAction(name, self.endpoint).run(
            self.output, self.nlg, self.tracker, self.domain
        )
        self.tracker.update(ActionExecuted(name))
        self.tracker.update_with_events(events, self.domain)
        return self._turn(events)

    async def run_form(self, submit: bool = True) -> Turn:
        """Run the form once; when it finishes, run the submit rule's action."""
        from rasa.core.actions.action import ActionExecutionRejection
        from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected

        try:
            events = await self.form.run(
                self.output, self.nlg, self.tracker, self.domain
            )
        except ActionExecutionRejection:
            self.tracker.update(ActionExecutionRejected("enquiry_form"))
            return Turn([], [], rejected=True)
        self.tracker.update(ActionExecuted("enquiry_form"))
        self.tracker.update_with_events(events, self.domain)
        turn = self._turn(events)
        if self.tracker.active_loop_name is None and submit:
            end = await self.action("action_submit_enquiry")
            turn = Turn(turn.texts + end.texts, turn.buttons + end.buttons)
        return turn

    @staticmethod
    def _turn(events: List[Any]) -> Turn:
        from rasa.shared.core.events import BotUttered

        said = [e for e in events if isinstance(e, BotUttered)]
        return Turn(
            [e.text or "" for e in said],
            [list((e.data or {}).get("buttons") or []) for e in said],
        )

    # -- conversations

    async def start(
        self, text: str = "can someone call me back", intent: str = "request_callback"
    ) -> Turn:
        """The request-a-callback rule: intro, clear the slots, start the form."""
        self.user(text, intent)
        self.bot(
            "utter_request_callback",
            "I can ask the team at the hospital to call you back.",
        )
        await self.action("action_clear_enquiry")
        return await self.run_form()

    async def say(
        self, text: str, intent: str = "nlu_fallback", confidence: float = 0.99
    ) -> Turn:
        """A reply inside the form."""
        self.user(text, intent, confidence)
        return await self.run_form()

    async def interrupt(
        self, text: str, intent: str, answer_action: str, confidence: float = 0.99
    ) -> Turn:
        """An FAQ question inside the form: the form must reject it, a rule answers, the
        form asks its question again."""
        self.user(text, intent, confidence)
        rejected = await self.run_form()
        assert rejected.rejected, f"the form took {text!r} as an answer"
        self.bot(answer_action, f"(answer from {answer_action})")
        return await self.run_form()

    async def urgent(self, text: str) -> Turn:
        """What nlp/urgent_policy.py does: the advice first, then the form again."""
        self.user(text, "urgent_symptom", 1.0)
        self.bot("utter_urgent_care", "Call 999 or go to A&E now")
        return await self.run_form()

    async def stop(self, text: str = "stop") -> Turn:
        """The stop rule: the form rejects "stop", is deactivated, and says so."""
        from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet

        self.user(text, "stop")
        rejected = await self.run_form()
        assert rejected.rejected, f"the form took {text!r} as an answer"
        self.tracker.update(ActionExecuted("action_deactivate_loop"))
        self.tracker.update_with_events(
            [ActiveLoop(None), SlotSet("requested_slot", None)], self.domain
        )
        return await self.action("action_stop_enquiry")

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    @property
    def requested_slot(self) -> Optional[str]:
        return self.tracker.get_slot("requested_slot")

    @property
    def form_active(self) -> bool:
        return self.tracker.active_loop_name == "enquiry_form"
