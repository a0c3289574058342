"""Every setting of the production plumbing, read from the environment in one place.

Each variable is documented, with its default, in docs/deployment.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from actions.env_values import EnvValueError, env_number, sqlalchemy_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TRACKER_STORE_URL = f"sqlite:///{ROOT / 'var' / 'tracker.db'}"
# Rasa's own default lock lifetime (rasa.core.constants.DEFAULT_LOCK_LIFETIME).
DEFAULT_LOCK_LIFETIME_SECONDS = 60.0
# Rasa waits up to 5 minutes for an action; a patient should hear "please phone"
# within seconds instead (nlp/action_failure_policy.py), and a form action that has
# not answered in 10 seconds will not answer.
DEFAULT_ACTION_TIMEOUT_SECONDS = 10.0
DEFAULT_LOCK_KEY_PREFIX = "kypho"
DEFAULT_HELP_PHONE = "01223 266900"


class SettingsError(EnvValueError):
    """A setting has a value this deployment cannot run with."""


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return env_number(env, name, default, above_minimum=True, unit="seconds")
    except EnvValueError as exc:
        raise SettingsError(str(exc)) from None


@dataclass(frozen=True)
class InfraSettings:
    tracker_store_url: str = DEFAULT_TRACKER_STORE_URL
    # None: in-memory locks (one Rasa process). redis://host:port/db: shared locks.
    lock_store_url: Optional[str] = None
    lock_key_prefix: str = DEFAULT_LOCK_KEY_PREFIX
    lock_lifetime_seconds: float = DEFAULT_LOCK_LIFETIME_SECONDS
    action_timeout_seconds: float = DEFAULT_ACTION_TIMEOUT_SECONDS
    # Quoted to the user when a store fails: the hospital's main number on the page.
    help_phone: str = DEFAULT_HELP_PHONE

    @property
    def uses_redis_locks(self) -> bool:
        return bool(self.lock_store_url)

    def check(self) -> "InfraSettings":
        """Refuses settings under which two instances could handle one conversation at
        once: a lock that expires while its holder still waits for an action."""
        if self.action_timeout_seconds >= self.lock_lifetime_seconds:
            raise SettingsError(
                f"ACTION_TIMEOUT ({self.action_timeout_seconds:g} s) must be below the "
                "lock lifetime TICKET_LOCK_LIFETIME "
                f"({self.lock_lifetime_seconds:g} s): "
                "otherwise a lock can expire while its holder still waits for the "
                "action server, and another instance handles the same conversation"
            )
        if self.lock_store_url and not self.lock_store_url.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise SettingsError(
                "LOCK_STORE_URL must be a redis://, rediss:// or unix:// URL "
                "(or unset for in-memory locks)"
            )
        if not self.lock_key_prefix.isalnum():
            raise SettingsError("LOCK_STORE_KEY_PREFIX must be letters and digits only")
        return self


def load_settings(env: Optional[Mapping[str, str]] = None) -> InfraSettings:
    """Settings from ``env`` (the process environment by default), checked."""
    env = os.environ if env is None else env
    return InfraSettings(
        tracker_store_url=sqlalchemy_url(
            env.get("TRACKER_STORE_URL", ""), DEFAULT_TRACKER_STORE_URL
        ),
        lock_store_url=env.get("LOCK_STORE_URL", "").strip() or None,
        lock_key_prefix=env.get("LOCK_STORE_KEY_PREFIX", "").strip()
        or DEFAULT_LOCK_KEY_PREFIX,
        # Rasa's own variable name, so that Rasa's ticket locks (used by the
        # HTTP API's other routes) and ours agree on the lifetime.
        lock_lifetime_seconds=_seconds(
            env, "TICKET_LOCK_LIFETIME", DEFAULT_LOCK_LIFETIME_SECONDS
        ),
        action_timeout_seconds=_seconds(
            env, "ACTION_TIMEOUT", DEFAULT_ACTION_TIMEOUT_SECONDS
        ),
        help_phone=env.get("HELP_PHONE", "").strip() or DEFAULT_HELP_PHONE,
    ).check()
