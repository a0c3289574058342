"""Per-sender and per-address rate limits for the public channels.

One person typing fast never gets near the limits; a script hammering the bot does,
and without them it could fill the tracker store and starve real patients of the
two CPU cores. A message over the limit is not passed to Rasa: the channel answers
it at once with ``RATE_LIMITED_REPLY``, which still gives the urgent-care numbers,
because the message we did not read may have been about chest pain.

The counts live in this process's memory: with several Rasa instances behind a load
balancer each instance counts on its own, so the effective limit is the limit times
the number of instances. That is a coarse guard, not a quota; docs/deployment.md
says to add one at the proxy as well.

Settings (messages per minute; 0 turns a limit off):
  RATE_LIMIT_SENDER_PER_MINUTE   one conversation id / phone number / chat (default 30)
  RATE_LIMIT_ADDRESS_PER_MINUTE  one client IP address, REST and socketio (default 120)
Behind a reverse proxy, set SANIC_PROXIES_COUNT=1 (Sanic reads it) so that the
address is the client's from X-Forwarded-For, not the proxy's.
"""
from __future__ import annotations

import os
import time
from collections import OrderedDict, deque
from typing import Callable, Deque, Mapping, Optional

from actions.env_values import env_number

SENDER_ENV = "RATE_LIMIT_SENDER_PER_MINUTE"
ADDRESS_ENV = "RATE_LIMIT_ADDRESS_PER_MINUTE"
DEFAULT_SENDER_PER_MINUTE = 30
DEFAULT_ADDRESS_PER_MINUTE = 120
WINDOW_SECONDS = 60.0

RATE_LIMITED_REPLY = (
    "You are sending messages faster than I can answer. "
    "Please wait a minute, then try again. "
    "If you need medical help urgently, call 999 or NHS 111, or go to A&E."
)


class SlidingWindowLimiter:
    """At most ``limit`` events per key in any ``window`` seconds.

    Memory is bounded: past ``max_keys`` keys, the least recently seen are dropped
    (they lose their history, which only ever errs towards letting a message in).
    """

    def __init__(
        self,
        limit: int,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        if limit < 0:
            raise ValueError("limit must be 0 (off) or more")
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._seen: "OrderedDict[str, Deque[float]]" = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def allow(self, key: str) -> bool:
        """Counts this event for ``key``; False when it is over the limit.

        A refused event is not counted, so someone who waits is let in again as soon
        as their older messages leave the window.
        """
        if not self.enabled:
            return True
        now = self.clock()
        stamps = self._seen.get(key)
        if stamps is None:
            stamps = self._seen[key] = deque()
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(key)
        while stamps and now - stamps[0] >= self.window:
            stamps.popleft()
        if len(stamps) >= self.limit:
            return False
        stamps.append(now)
        return True


def limit_from_env(env: Mapping[str, str], name: str, default: int) -> int:
    """A per-minute limit from the environment (0: no limit); a bad value is an
    error that names the variable, not a silent default."""
    return env_number(env, name, default, whole=True, unit="messages per minute")


class PublicRateLimits:
    """The two limits a public channel applies to each incoming message."""

    def __init__(
        self,
        sender_per_minute: int = DEFAULT_SENDER_PER_MINUTE,
        address_per_minute: int = DEFAULT_ADDRESS_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.by_sender = SlidingWindowLimiter(sender_per_minute, clock=clock)
        self.by_address = SlidingWindowLimiter(address_per_minute, clock=clock)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "PublicRateLimits":
        env = os.environ if env is None else env
        return cls(
            limit_from_env(env, SENDER_ENV, DEFAULT_SENDER_PER_MINUTE),
            limit_from_env(env, ADDRESS_ENV, DEFAULT_ADDRESS_PER_MINUTE),
        )

    def allow(self, sender: Optional[str], address: Optional[str]) -> bool:
        """True when the message may go to Rasa. The address is checked first, so
        a script that invents a new sender id for every message is still held."""
        if address and not self.by_address.allow(address):
            return False
        if sender and not self.by_sender.allow(sender):
            return False
        return True
