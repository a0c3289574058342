"""infra.settings: defaults, production values, and the action-timeout rule."""

from __future__ import annotations

import pytest

from infra.settings import (
    DEFAULT_TRACKER_STORE_URL,
    SettingsError,
    load_settings,
)


def test_defaults_are_sqlite_and_in_memory_locks():
    settings = load_settings({})
    assert settings.tracker_store_url == DEFAULT_TRACKER_STORE_URL
    assert settings.tracker_store_url.endswith("/var/tracker.db")
    assert settings.lock_store_url is None and not settings.uses_redis_locks


def test_production_values_are_read():
    settings = load_settings(
        {
            "TRACKER_STORE_URL": "postgres://rasa:secret@db:5432/kypho",
            "LOCK_STORE_URL": "redis://redis:6379/1",
            "TICKET_LOCK_LIFETIME": "90",
            "ACTION_TIMEOUT": "30",
        }
    )
    # SQLAlchemy 1.4 refuses postgres://, which many operators hand out.
    assert settings.tracker_store_url == "postgresql://rasa:secret@db:5432/kypho"
    assert settings.uses_redis_locks
    assert (settings.lock_lifetime_seconds, settings.action_timeout_seconds) == (90, 30)


def test_the_default_action_timeout_is_below_rasas_lock_lifetime():
    settings = load_settings({})
    assert settings.action_timeout_seconds < settings.lock_lifetime_seconds == 60


@pytest.mark.parametrize(
    "env",
    [
        {"ACTION_TIMEOUT": "60"},  # equal to the default lifetime
        {"TICKET_LOCK_LIFETIME": "10"},  # below the default timeout
        {"ACTION_TIMEOUT": "120", "TICKET_LOCK_LIFETIME": "60"},
    ],
)
def test_an_action_timeout_at_or_above_the_lock_lifetime_is_refused(env):
    with pytest.raises(SettingsError, match="must be below the lock lifetime"):
        load_settings(env)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"ACTION_TIMEOUT": "soon"}, "not a number"),
        ({"TICKET_LOCK_LIFETIME": "-5"}, "more than 0"),
        ({"LOCK_STORE_URL": "http://redis:6379"}, "redis://"),
        ({"LOCK_STORE_KEY_PREFIX": "a:b"}, "letters and digits"),
    ],
)
def test_bad_values_get_a_clear_message(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env)
