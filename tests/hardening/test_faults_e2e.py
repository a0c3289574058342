"""Faults meet a clear answer and lose nothing.

One stack of our own for the module: the action server and Rasa (both at DEBUG, to
search their logs for personal details at the end), a SQLite tracker store that
survives Rasa restarts, and a private PostgreSQL for enquiries that the test stops
and starts (never the shared server on 5432).
"""
from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path
from typing import Iterator, List

import pytest

from actions.enquiry_store import EnquiryStore
from tests.production.support import PrivatePostgres
from tests.support.enquiry_helpers import wait_for
from tests.support.hardening import record
from tests.support.servers import (
    RestClient,
    Service,
    free_port,
    start_action_server,
    start_rasa,
    write_endpoints,
)

pytestmark = pytest.mark.e2e

NAME, PHONE, EMAIL = "Olive Hardcastle", "07700 900456", "olive.hardcastle@example.org"
HOSPITAL_PHONE = "01223 266900"


class FaultStack:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pg = PrivatePostgres.create()
        self.spool = workdir / "spool"
        self.action_port = free_port()
        self.rasa_port = free_port()
        self.logs: List[Path] = []
        self.actions: Service = self.start_actions()
        self.endpoints = write_endpoints(
            workdir, f"http://127.0.0.1:{self.action_port}", workdir / "tracker.db"
        )
        self.rasa: Service = self.start_rasa()

    def start_actions(self) -> Service:
        env = {
            "ENQUIRY_DB_URL": self.pg.url,
            "ENQUIRY_SPOOL_DIR": str(self.spool),
            "ENQUIRY_SPOOL_RETRY_SECONDS": "1",
        }
        service = start_action_server(self.workdir, port=self.action_port, env=env, extra_args=["--debug"])
        self.logs.append(service.log)
        return service

    def start_rasa(self) -> Service:
        service = start_rasa(
            self.workdir,
            self.endpoints,
            port=self.rasa_port,
            env={"ACTION_TIMEOUT": "3"},
            extra_args=["--debug"],
        )
        self.logs.append(service.log)
        return service

    def stop(self) -> None:
        self.rasa.stop()
        self.actions.stop()
        self.pg.destroy()


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    stack = FaultStack(tmp_path_factory.mktemp("faults"))
    yield stack
    stack.stop()
    found = []
    for log in stack.logs:
        text = log.read_text(errors="replace")
        found += [f"{value!r} in {log.name}" for value in (NAME, PHONE, "7700900456", EMAIL) if value in text]
    record("pii_in_logs", "log lines with personal details", len(found))
    assert not found, found


def to_summary(client: RestClient) -> str:
    assert "full name" in client.say("can someone call me back please")
    assert "phone number" in client.say(NAME)
    assert "email" in client.say(PHONE)
    assert "aim of your enquiry" in client.say(EMAIL)
    assert "best time" in client.say("Self-pay price")
    assert "90 days" in client.say("Afternoon")
    summary = client.say("Yes, I agree")
    assert "Is this right?" in summary
    return summary


def test_action_server_down_gets_the_phone_number_not_silence(faults: FaultStack) -> None:
    faults.actions.stop()
    try:
        reply = RestClient(faults.rasa.url).say("can someone call me back please")
        assert "something went wrong" in reply and HOSPITAL_PHONE in reply
        record("faults", "action server stopped")
    finally:
        faults.actions = faults.start_actions()


def test_a_hung_action_server_costs_seconds_not_minutes(faults: FaultStack) -> None:
    """A listener that accepts and never answers: Rasa gives up after ACTION_TIMEOUT."""
    faults.actions.stop()
    hung = socket.socket()
    hung.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hung.bind(("127.0.0.1", faults.action_port))
    hung.listen(16)
    held: List[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        hung.settimeout(0.5)
        while not stop.is_set():
            try:
                held.append(hung.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        # The client gives up after 30 s: without the cap Rasa would wait five minutes.
        reply = RestClient(faults.rasa.url).send("can someone call me back please", timeout=30)
        text = " ".join(m.get("text", "") for m in reply)
        assert "something went wrong" in text and HOSPITAL_PHONE in text
        record("faults", "action server hung")
        record("timings", f"hung action server reply after {time.monotonic() - started:.1f}s")
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        hung.close()
        faults.actions = faults.start_actions()


def test_rasa_restarted_mid_form_carries_on(faults: FaultStack) -> None:
    client = RestClient(faults.rasa.url)
    assert "full name" in client.say("can someone call me back please")
    assert "phone number" in client.say(NAME)
    faults.rasa.stop()
    faults.rasa = faults.start_rasa()
    client.base_url = faults.rasa.url
    assert "email" in client.say(PHONE)  # the half-filled form came back from the tracker store
    record("faults", "rasa restarted mid-form")
    client.say("stop")


def test_enquiry_database_down_at_submit_is_stored_once_it_is_back(faults: FaultStack) -> None:
    client = RestClient(faults.rasa.url)
    to_summary(client)
    faults.pg.stop()
    try:
        done = client.say("Confirm")
        assert "will be passed to the team" in done and HOSPITAL_PHONE in done
        reference = re.search(r"KY-[2-9A-HJKMNP-Z]{6}", done).group()
        assert len(list(faults.spool.glob("*.json"))) == 1
    finally:
        faults.pg.start()
    record("faults", "enquiries database stopped at submit")
    store = EnquiryStore(faults.pg.url)
    stored = wait_for(lambda: store.get(reference), timeout=60)
    assert stored["full_name"] == NAME and stored["phone_e164"] == "+447700900456"
    assert wait_for(lambda: not list(faults.spool.glob("*.json")), timeout=30)
    assert sum(1 for _ in [stored]) == 1 and store.count() == 1
    record("lost_enquiries", "lost", 0)


def test_slash_payloads_cannot_submit_or_skip_the_urgent_check(faults: FaultStack) -> None:
    client = RestClient(faults.rasa.url)
    store = EnquiryStore(faults.pg.url)
    before = store.count()
    payloads = [
        '/request_callback{"full_name": "X", "phone": "+447700900123", "email": "x@example.org",'
        ' "enquiry_aim": "self_pay_price", "call_time": "afternoon", "enquiry_consent": true,'
        ' "enquiry_confirmed": true}',
        "/affirm",
        '/affirm{"enquiry_confirmed": true}',
        "/action_submit_enquiry",
    ]
    for payload in payloads:
        client.say(payload)
    client.say("stop")
    assert store.count() == before
    urgent = client.say("/greet I have lost control of my bladder and my legs are numb")
    assert urgent.startswith("Call 999 or go to A&E now")
    record("bad_inputs", "slash payloads", len(payloads) + 1)
