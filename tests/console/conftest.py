"""The console against the real stack: conversations driven through the real Rasa
server (the session's `stack`, SQLite tracker), then a real console server on the
same tracker and enquiry databases. Started once per test session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Dict, Iterator

import pytest

from tests.console.support import ConsoleServer, add_user, console_env
from tests.support.servers import RestClient, free_port

# Ofcom's numbers for drama (01632 960xxx): never a real person's.
PHONE_MAIN = "01632 960514"
PHONE_ERASE = "01632 960782"
MISS_ONE = "asdkjh qwe"
MISS_TWO = "qqq www eee"


def complete_callback(client: RestClient, name: str, phone: str, email: str) -> str:
    """The callback form from start to stored enquiry; returns the last reply."""
    assert "call you back" in client.say("can someone call me back")
    for answer in (name, phone, email, "1", "morning", "yes"):
        client.say(answer)
    reply = client.say("yes")
    assert "Your reference is KY-" in reply, reply
    return reply


@dataclass
class Driven:
    token: str
    senders: Dict[str, str]


def drive_conversations(rasa_url: str) -> Driven:
    token = uuid.uuid4().hex[:8]
    senders = {}

    faq = RestClient(rasa_url)
    faq.say("hello")
    assert "one hour" in faq.say("how long does the procedure take?")
    senders["faq"] = faq.sender

    # Gibberish the model reliably falls back on (a random token in it would not be).
    miss = RestClient(rasa_url)
    miss.say(f"hello {token}")
    assert "did not understand" in miss.say(MISS_ONE)
    assert "01223 266900" in miss.say(MISS_TWO)  # a second miss: the handover
    complete_callback(miss, "Jane Testperson", PHONE_MAIN, f"jane.{token}@example.com")
    senders["miss"] = miss.sender

    xss = RestClient(rasa_url)
    xss.say("<script>alert(1)</script>")
    xss.say(f"what is kyphoplasty {token}")
    senders["xss"] = xss.sender

    urgent = RestClient(rasa_url)
    assert "999" in urgent.say("my legs went numb and I can't control my bladder")
    senders["urgent"] = urgent.sender

    erase = RestClient(rasa_url)
    erase.say(f"hello {token}")
    complete_callback(erase, "Sam Erasable", PHONE_ERASE, "no")
    senders["erase"] = erase.sender
    return Driven(token, senders)


@dataclass
class ConsoleStack:
    server: ConsoleServer
    env: Dict[str, str]
    driven: Driven
    tracker_db: str
    enquiry_db: str


@pytest.fixture(scope="session")
def console_stack(stack, tmp_path_factory) -> Iterator[ConsoleStack]:
    workdir = tmp_path_factory.mktemp("console")
    enquiry_db = stack.tracker_db.parent / "enquiries.db"
    # The real instance, and one that is down, for the health panel.
    ready_urls = f"{stack.rasa_url}/webhooks/health/ready,http://127.0.0.1:{free_port()}/webhooks/health/ready"
    env = console_env(workdir, f"sqlite:///{stack.tracker_db}", f"sqlite:///{enquiry_db}",
                      CONSOLE_RASA_READY_URLS=ready_urls)
    driven = drive_conversations(stack.rasa_url)
    add_user(env, "alice", "coordinator")
    add_user(env, "bob", "reviewer")
    server = ConsoleServer(env, workdir / "console.log").start()
    yield ConsoleStack(server, env, driven, str(stack.tracker_db), str(enquiry_db))
    server.stop()
