"""Conversation locks in Redis: Rasa's get-then-set race, and our atomic lease lock.

Runs against the shared Redis (``INFRA_TEST_REDIS_URL``, default
redis://127.0.0.1:6379/0) under a key prefix of its own; skips when Redis is down.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import urlsplit

import pytest

from infra import failures
from infra.lock_store import EnvLockStore, RedisLeaseLockStore
from infra.settings import load_settings
from tests.support.servers import free_port

import os

REDIS_URL = os.environ.get("INFRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def redis_url() -> str:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    return REDIS_URL


@pytest.fixture
def prefix(redis_url):
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    name = f"test{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)


def lease_store(url: str, prefix: str, lifetime: float = 60, timeout: float = 20):
    settings = load_settings(
        {
            "LOCK_STORE_URL": url,
            "LOCK_STORE_KEY_PREFIX": prefix,
            "TICKET_LOCK_LIFETIME": str(lifetime),
            "ACTION_TIMEOUT": str(timeout),
        }
    )
    return RedisLeaseLockStore(settings)


def test_rasas_redis_lock_store_serves_two_instances_at_once(redis_url, prefix):
    """Issues 9213 and 11256: each instance reads the lock, adds a ticket in Python
    and writes it back. When both read before either writes, both hold ticket 0 and
    both go ahead with the same conversation."""
    from rasa.core.lock_store import RedisLockStore

    parts = urlsplit(redis_url)
    db = int((parts.path or "/0").strip("/") or 0)
    one, two = (
        RedisLockStore(host=parts.hostname, port=parts.port, db=db, key_prefix=prefix)
        for _ in range(2)
    )
    conversation = "race"
    lock_one = one.get_or_create_lock(conversation)  # GET: no lock yet
    lock_two = two.get_or_create_lock(conversation)  # GET: still no lock
    ticket_one = lock_one.issue_ticket(60)
    one.save_lock(lock_one)  # SET
    ticket_two = lock_two.issue_ticket(60)
    two.save_lock(lock_two)  # SET overwrites the first instance's ticket
    assert ticket_one == ticket_two == 0
    assert not one.get_lock(conversation).is_locked(ticket_one)
    assert not two.get_lock(conversation).is_locked(ticket_two)


async def test_only_one_holder_at_a_time_across_instances(redis_url, prefix):
    stores = [lease_store(redis_url, prefix) for _ in range(2)]
    inside = 0
    most_inside = 0
    order = []

    async def turn(store, n):
        nonlocal inside, most_inside
        async with store.lock("busy-conversation"):
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0.005)
            order.append(n)
            inside -= 1

    await asyncio.gather(*(turn(stores[n % 2], n) for n in range(40)))
    assert most_inside == 1
    assert sorted(order) == list(range(40))


async def test_a_lock_is_released_only_by_its_owner(redis_url, prefix):
    """A holder that stalled past its lifetime must not release the next holder's
    lock: the release compares the owner token inside Redis."""
    first, second = lease_store(redis_url, prefix, 0.4, 0.2), lease_store(
        redis_url, prefix, 0.4, 0.2
    )
    key = first.key("stalled")
    await first._take(key, "first-owner", "stalled")  # never renewed: a stalled owner
    started = time.monotonic()
    async with second.lock("stalled") as token:
        assert time.monotonic() - started >= 0.2  # waited for the lease to expire
        assert await first._release(keys=[key], args=["first-owner"]) == 0
        assert (await second.redis.get(key)).decode() == token
    assert await second.redis.get(key) is None  # released by its owner


async def test_a_lock_held_longer_than_its_lifetime_is_renewed(redis_url, prefix):
    holder, other = lease_store(redis_url, prefix, 0.6, 0.3), lease_store(
        redis_url, prefix, 0.6, 0.3
    )
    key = holder.key("slow-turn")
    async with holder.lock("slow-turn") as token:
        await asyncio.sleep(1.5)  # more than twice the lifetime
        assert not await other.redis.set(key, "intruder", nx=True, px=600)
        assert (await other.redis.get(key)).decode() == token
    assert await other.redis.get(key) is None


async def test_a_waiter_gives_up_with_a_lock_error(redis_url, prefix):
    from rasa.core.lock_store import LockError

    holder, waiter = lease_store(redis_url, prefix, 0.5, 0.2), lease_store(
        redis_url, prefix, 0.5, 0.2
    )
    async with holder.lock("stuck"):
        with pytest.raises(LockError, match="within 0.7 s"):
            async with waiter.lock("stuck"):
                pass


async def test_redis_down_is_reported_not_ignored():
    store = lease_store(f"redis://127.0.0.1:{free_port()}/0", "down")
    started = time.monotonic()
    with pytest.raises(failures.LockStoreUnavailable):
        async with store.lock("anyone"):
            pytest.fail("processed a message without a lock")
    assert time.monotonic() - started < 15
    assert not failures.health.is_ok("lock store")


def test_the_lock_store_follows_lock_store_url(monkeypatch, redis_url):
    from rasa.core.lock_store import InMemoryLockStore

    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    monkeypatch.delenv("SANIC_WORKERS", raising=False)
    try:
        assert isinstance(EnvLockStore(endpoint_config=None), InMemoryLockStore)
        monkeypatch.setenv("LOCK_STORE_URL", redis_url)
        assert isinstance(EnvLockStore(endpoint_config=None), RedisLeaseLockStore)
    finally:
        failures.uninstall()


def test_several_workers_without_redis_are_refused(monkeypatch):
    from infra.settings import SettingsError

    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    monkeypatch.setenv("SANIC_WORKERS", "4")
    try:
        with pytest.raises(SettingsError, match="needs LOCK_STORE_URL"):
            EnvLockStore(endpoint_config=None)
    finally:
        failures.uninstall()
