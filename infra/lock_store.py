"""Conversation locks: in memory for one process, in Redis for several instances.

endpoints.yml says ``lock_store: type: infra.lock_store.EnvLockStore``. Without
``LOCK_STORE_URL`` that is Rasa's ``InMemoryLockStore``; with
``LOCK_STORE_URL=redis://...`` it is ``RedisLeaseLockStore`` below.

Why not Rasa's ``RedisLockStore``: it reads the lock, adds a ticket in Python and
writes the lock back (GET, then SET). Two instances that read before either writes
both hand out the same ticket and process one conversation at the same time, which
stores events twice or out of order (RasaHQ/rasa issues 9213 and 11256;
tests/test_infra_lock_store.py shows it happen). Its waiters also poll once a second.

``RedisLeaseLockStore`` uses only atomic Redis operations:

- take: ``SET key token NX PX lifetime``: exactly one caller wins; the token is a
  random value only the winner knows. Waiters retry every few milliseconds.
- keep: while the conversation is processed, a background task extends the lease
  every third of its lifetime, by a script that checks the token first. If Redis was
  restarted and the key is gone, the same script takes it again.
- release: a script deletes the key only if it still holds this owner's token, so a
  late owner whose lease expired can never release someone else's lock.

A holder that dies stops renewing, so its lock frees itself within one lifetime.
A waiter gives up after one lifetime plus the action timeout, and the user gets the
technical-problem message (``infra.failures``), never a reply computed without a lock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional, Text

from rasa.core.lock_store import InMemoryLockStore, LockError, LockStore

from infra import failures
from infra.settings import InfraSettings, SettingsError, load_settings

logger = logging.getLogger(__name__)

STORE = "lock store"
POLL_SECONDS = 0.01
POLL_MAX_SECONDS = 0.05

# KEYS[1] lock key, ARGV[1] owner token. Deletes only the owner's own lock.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS[1] lock key, ARGV[1] owner token, ARGV[2] lifetime in ms. Extends the owner's
# lease; takes the key again if it vanished (a Redis restart without persistence).
RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if not holder then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 2
end
return 0
"""


class EnvLockStore(LockStore):
    """Picks the lock store from ``LOCK_STORE_URL``; Rasa calls it with the endpoint."""

    # A factory: returns another class's instance, so __init__ is never called here.
    def __new__(  # type: ignore[misc]
        cls, endpoint_config: Any = None, **kwargs: Any
    ) -> LockStore:
        failures.install()
        settings = load_settings()
        if not settings.uses_redis_locks:
            workers = os.environ.get("SANIC_WORKERS", "1").strip() or "1"
            if workers != "1":
                raise SettingsError(
                    f"SANIC_WORKERS={workers} needs LOCK_STORE_URL: in-memory locks "
                    "are not shared between worker processes"
                )
            logger.info("Lock store: in memory (one Rasa process only).")
            return InMemoryLockStore()
        return RedisLeaseLockStore(settings)


class RedisLeaseLockStore(LockStore):
    """A lease per conversation: SET NX PX with an owner token, renewed while held."""

    def __init__(self, settings: Optional[InfraSettings] = None) -> None:
        from redis.asyncio import Redis
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError, TimeoutError
        from redis.retry import Retry

        self.settings = settings or load_settings()
        url = self.settings.lock_store_url
        if not url:
            raise ValueError("RedisLeaseLockStore needs LOCK_STORE_URL")
        self.key_prefix = f"{self.settings.lock_key_prefix}:lock:"
        self.lifetime_ms = int(self.settings.lock_lifetime_seconds * 1000)
        # A waiter may wait for a holder that is waiting for the action server.
        self.max_wait_seconds = (
            self.settings.lock_lifetime_seconds + self.settings.action_timeout_seconds
        )
        # Reconnects quietly after a dropped connection (a Redis restart); a Redis
        # that stays down fails within a few seconds, not after minutes.
        self.redis = Redis.from_url(
            url,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
            retry_on_error=[ConnectionError, TimeoutError],
        )
        self._release = self.redis.register_script(RELEASE)
        self._renew = self.redis.register_script(RENEW)
        logger.info(
            "Lock store: Redis leases at %s, lifetime %g s.",
            _shown(url),
            self.settings.lock_lifetime_seconds,
        )
        super().__init__()

    def key(self, conversation_id: Text) -> str:
        return self.key_prefix + conversation_id

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = 0,
        wait_time_in_seconds: float = 0,
    ) -> AsyncGenerator[str, None]:
        """Holds the conversation's lock for the body of the ``async with``.

        Rasa's lifetime and wait-time arguments are ignored: this store's lifetime
        comes from the settings, and waiters poll far more often than once a second.
        """
        key = self.key(conversation_id)
        token = uuid.uuid4().hex
        await self._take(key, token, conversation_id)
        keeper = asyncio.create_task(self._keep(key, token, conversation_id))
        try:
            yield token
        finally:
            keeper.cancel()
            try:
                await self._release(keys=[key], args=[token])
            except Exception as error:  # the lease expires by itself
                failures.health.failed(STORE, error)
                logger.warning(
                    "Could not release the lock of conversation %s (%s); it expires "
                    "within %g s.",
                    conversation_id,
                    failures.describe(error),
                    self.settings.lock_lifetime_seconds,
                )

    async def _take(self, key: str, token: str, conversation_id: Text) -> None:
        deadline = time.monotonic() + self.max_wait_seconds
        pause = POLL_SECONDS
        while True:
            try:
                if await self.redis.set(key, token, nx=True, px=self.lifetime_ms):
                    failures.health.ok(STORE)
                    return
                # A retried SET whose first reply was lost finds its own token.
                if await self.redis.get(key) == token.encode():
                    failures.health.ok(STORE)
                    return
            except Exception as error:
                failures.health.failed(STORE, error)
                raise failures.LockStoreUnavailable("the lock store failed") from error
            if time.monotonic() >= deadline:
                raise LockError(
                    f"Could not acquire lock for conversation_id '{conversation_id}' "
                    f"within {self.max_wait_seconds:g} s."
                )
            await asyncio.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 1.5, POLL_MAX_SECONDS)

    async def _keep(self, key: str, token: str, conversation_id: Text) -> None:
        interval = self.lifetime_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                kept = await self._renew(keys=[key], args=[token, self.lifetime_ms])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures.health.failed(STORE, error)
                logger.error(
                    "Could not renew the lock of conversation %s (%s).",
                    conversation_id,
                    failures.describe(error),
                )
                continue
            if not kept:
                logger.error(
                    "The lock of conversation %s expired while it was being processed "
                    "and another instance holds it now.",
                    conversation_id,
                )
                return

    async def ping(self) -> None:
        """Raises if Redis does not answer; for the readiness check."""
        await self.redis.ping()

    # Rasa's ticket-lock interface, unused because ``lock`` is replaced whole.
    def get_lock(self, conversation_id: Text) -> None:
        return None

    def delete_lock(self, conversation_id: Text) -> None:
        return None

    def save_lock(self, lock: Any) -> None:
        return None


def _shown(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
