"""PostgreSQL and Redis restarted mid-conversation: the user is told plainly while a
store is down, the conversation carries on where it was once it is back, and the
conversation is never kept in memory instead (Rasa's FailSafeTrackerStore would do
that silently; the logs are checked for its words).

PostgreSQL and Redis here are private servers on free ports, started and restarted
by this module, never the shared ones other tests use.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Iterator, Tuple

import pytest

from console.health import instance_health
from infra.failures import technical_problem_message
from tests.production.conversations import FORM_STEPS
from tests.production.support import (
    SILENT_FALLBACK,
    PrivatePostgres,
    PrivateRedis,
    check_serialised,
    enquiries_for,
    rasa_env,
    stored_events,
    unique_prefix,
    wait_ready,
    write_production_credentials,
    write_production_endpoints,
)
from tests.support.hardening import record
from tests.support.servers import RestClient, Service, start_action_server, start_rasa

pytestmark = pytest.mark.e2e

TECHNICAL_PROBLEM = technical_problem_message()


class Stack:
    def __init__(self, postgres, redis, rasa: Service, actions: Service) -> None:
        self.postgres = postgres
        self.redis = redis
        self.rasa = rasa
        self.actions = actions


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("store-restarts")
    postgres = PrivatePostgres.create()
    redis = PrivateRedis.create()
    actions = rasa = None
    try:
        actions = start_action_server(workdir, env={"ENQUIRY_DB_URL": postgres.url})
        rasa = start_rasa(
            workdir,
            write_production_endpoints(workdir),
            env=rasa_env(actions.url, postgres.url, redis.url, unique_prefix()),
            credentials=write_production_credentials(workdir),
        )
        wait_ready(rasa.url)
        yield Stack(postgres, redis, rasa, actions)
    finally:
        for service in (rasa, actions):
            if service:
                service.stop()
        redis.stop()
        postgres.destroy()
    log = rasa.log.read_text()
    assert SILENT_FALLBACK not in log, "Rasa kept a conversation in memory"
    assert "The tracker store EnvTrackerStore failed" in log
    assert "Jane Smith" not in log and "07700 900123" not in log


def readiness(stack: Stack) -> Tuple[int, dict]:
    try:
        with urllib.request.urlopen(
            stack.rasa.url + "/webhooks/health/ready", timeout=10
        ) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_form_survives_a_postgresql_and_a_redis_restart(stack):
    client = RestClient(stack.rasa.url, sender=f"restarts-{unique_prefix()}")
    steps = iter(FORM_STEPS)
    sent = []

    def answer_next() -> str:
        text, expected = next(steps)
        reply = client.say(text)
        assert expected in reply, f"{text!r} -> {reply!r}"
        sent.append(text)
        return text

    answer_next()  # the callback request
    answer_next()  # the name
    assert readiness(stack)[0] == 200

    stack.postgres.stop()
    record("faults", "tracker store (PostgreSQL) stopped mid-form")
    phone, _ = FORM_STEPS[2]
    assert client.say(phone) == TECHNICAL_PROBLEM
    status, body = readiness(stack)
    assert status == 503 and body["checks"]["tracker_store"] is False, body
    # What the staff console's health panel shows meanwhile.
    [panel] = asyncio.run(instance_health([stack.rasa.url + "/webhooks/health/ready"]))
    assert panel["state"] == "not ready", panel
    assert any("tracker store" in problem for problem in panel["problems"]), panel
    stack.postgres.start()
    assert answer_next() == phone  # asked for the email: the name was kept

    stack.redis.stop()
    record("faults", "lock store (Redis) stopped mid-form")
    email, _ = FORM_STEPS[3]
    assert client.say(email) == TECHNICAL_PROBLEM
    status, body = readiness(stack)
    assert status == 503 and body["checks"]["lock_store"] is False, body
    stack.redis.start()
    assert answer_next() == email

    for _ in FORM_STEPS[4:]:
        answer_next()
    assert readiness(stack)[0] == 200
    stored = enquiries_for(stack.postgres.url, client.sender)
    assert len(stored) == 1 and stored[0]["full_name"] == "Jane Smith"
    # Only the turns that were answered normally are stored, each once, in order.
    check_serialised(stored_events(stack.postgres.url, client.sender), sent)
