"""Two Rasa instances, one action server, one PostgreSQL and one Redis: nothing is
lost, duplicated or reordered, whichever instance each message reaches.

Uses the shared PostgreSQL (a scratch database, dropped afterwards) and the shared
Redis (a key prefix of its own), as production shares one of each between instances.
Rasa runs with the repository's endpoints.yml; the stores come from the environment
(TRACKER_STORE_URL, LOCK_STORE_URL), as in deploy/.
"""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, List

import pytest

from tests.production.conversations import FAQ_QUESTIONS, FORM_STEPS, reference_in
from tests.production.support import (
    SHARED_REDIS_URL,
    SILENT_FALLBACK,
    check_serialised,
    enquiries_for,
    rasa_env,
    stored_events,
    unique_prefix,
    wait_ready,
    write_production_credentials,
    write_production_endpoints,
)
from tests.support.enquiry_helpers import temporary_postgres_database
from tests.support.hardening import record
from tests.support.servers import RestClient, Service, start_action_server, start_rasa

pytestmark = pytest.mark.e2e


class Cluster:
    def __init__(self, db_url: str, rasas: List[Service], prefix: str) -> None:
        self.db_url = db_url
        self.rasas = rasas
        self.prefix = prefix

    @property
    def urls(self) -> List[str]:
        return [rasa.url for rasa in self.rasas]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(SHARED_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as error:
        pytest.skip(f"Redis is not reachable at {SHARED_REDIS_URL}: {error}")
    workdir: Path = tmp_path_factory.mktemp("multi-instance")
    prefix = unique_prefix()
    with temporary_postgres_database() as db_url:
        actions = start_action_server(workdir, env={"ENQUIRY_DB_URL": db_url})
        endpoints = write_production_endpoints(workdir)
        credentials = write_production_credentials(workdir)
        env = rasa_env(actions.url, db_url, SHARED_REDIS_URL, prefix)
        rasas: List[Service] = []
        try:
            # Both load at once: the model load dominates and overlaps well.
            with ThreadPoolExecutor(2) as pool:
                starting = [
                    pool.submit(
                        start_rasa, workdir, endpoints, env=env, credentials=credentials
                    )
                    for _ in range(2)
                ]
                for future in starting:
                    rasas.append(future.result())
            for rasa in rasas:
                wait_ready(rasa.url)
            yield Cluster(db_url, rasas, prefix)
        finally:
            for rasa in rasas:
                rasa.stop()
            actions.stop()
            client = redis.Redis.from_url(SHARED_REDIS_URL)
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)
    for rasa in rasas:
        log = rasa.log.read_text()
        assert SILENT_FALLBACK not in log, f"silent in-memory fallback in {rasa.log}"
        assert "Jane Smith" not in log and "07700 900123" not in log


def test_alternating_instances_keep_one_conversation(cluster):
    sender = f"alternate-{unique_prefix()}"
    clients = [RestClient(url, sender=sender) for url in cluster.urls]
    sent = []
    steps = [(FAQ_QUESTIONS[0], "kyphoplasty")] + FORM_STEPS
    for n, (text, expected) in enumerate(steps):
        reply = clients[n % 2].say(text)  # A, B, A, B, ...
        sent.append(text)
        assert expected.lower() in reply.lower(), f"{text!r} -> {reply!r}"
    reference = reference_in(reply)
    check_serialised(stored_events(cluster.db_url, sender), sent)
    stored = enquiries_for(cluster.db_url, sender)
    assert [row["reference"] for row in stored] == [reference]
    assert stored[0]["full_name"] == "Jane Smith"
    assert stored[0]["phone_e164"] == "+447700900123"


def test_simultaneous_messages_are_processed_one_at_a_time(cluster):
    sender = f"together-{unique_prefix()}"
    clients = [RestClient(url, sender=sender) for url in cluster.urls]
    with ThreadPoolExecutor(len(FAQ_QUESTIONS)) as pool:
        replies = list(
            pool.map(
                lambda n: clients[n % 2].say(FAQ_QUESTIONS[n]),
                range(len(FAQ_QUESTIONS)),
            )
        )
    assert all(replies), replies  # every message got an answer
    check_serialised(stored_events(cluster.db_url, sender), FAQ_QUESTIONS)


def test_a_double_submitted_confirmation_stores_one_enquiry(cluster):
    """The last answer of the form reaches both instances at the same moment (a
    double tap, or a retry through the load balancer)."""
    sender = f"double-{unique_prefix()}"
    clients = [RestClient(url, sender=sender) for url in cluster.urls]
    sent = []
    for n, (text, expected) in enumerate(FORM_STEPS[:-1]):
        assert expected in clients[n % 2].say(text)
        sent.append(text)
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda client: client.say("Confirm"), clients))
    sent += ["Confirm", "Confirm"]
    references = {reference_in(r) for r in replies if "KY-" in r}
    stored = enquiries_for(cluster.db_url, sender)
    assert len(stored) == 1, stored
    assert references == {stored[0]["reference"]}
    check_serialised(stored_events(cluster.db_url, sender), sent)


def test_killing_an_instance_mid_form_loses_nothing(cluster):
    """Runs last: it kills the first instance (SIGKILL, as when a node fails)."""
    sender = f"killed-{unique_prefix()}"
    first, second = (RestClient(url, sender=sender) for url in cluster.urls)
    sent = []
    for text, expected in FORM_STEPS[:3]:  # the name and phone, given to the first
        assert expected in first.say(text)
        sent.append(text)
    cluster.rasas[0].process.send_signal(signal.SIGKILL)
    record("faults", "rasa instance killed mid-form (SIGKILL)")
    cluster.rasas[0].process.wait(timeout=10)
    for text, expected in FORM_STEPS[3:]:  # the rest, to the second
        reply = second.say(text)
        assert expected in reply, f"{text!r} -> {reply!r}"
        sent.append(text)
    stored = enquiries_for(cluster.db_url, sender)
    assert [row["reference"] for row in stored] == [reference_in(reply)]
    assert stored[0]["full_name"] == "Jane Smith"  # given to the instance that died
    check_serialised(stored_events(cluster.db_url, sender), sent)
