"""channels/public.py's socketio guards: the origin allow-list and the session ids a
widget may resume. The whole channel runs against a real Rasa server in
tests/browser/test_widget_e2e.py."""

from __future__ import annotations

import logging

import pytest

from channels.public import (
    DEFAULT_ALLOWED_ORIGINS,
    OriginPolicy,
    PublicSocketIOInput,
    allowed_origins_from_env,
    session_id_to_use,
)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_the_demo_page_origins_are_allowed_by_default(value):
    assert allowed_origins_from_env(value) == frozenset(DEFAULT_ALLOWED_ORIGINS)


def test_origins_come_from_a_comma_separated_list_without_trailing_slashes():
    allowed = allowed_origins_from_env(
        " https://www.example.org/, http://127.0.0.1:9000 ,"
    )
    assert allowed == {"https://www.example.org", "http://127.0.0.1:9000"}


@pytest.mark.parametrize(
    "origin, allowed",
    [
        ("https://www.example.org", True),
        (None, True),  # same-origin polling and non-browser clients send none
        ("", True),
        ("https://www.example.org.evil.example", False),
        ("http://www.example.org", False),  # scheme matters
        ("https://www.example.org:444", False),  # port matters
        ("https://WWW.example.org", False),  # browsers send it lower-case
        ("null", False),  # sandboxed iframes and file: pages
    ],
)
def test_only_exact_origins_pass(origin, allowed):
    assert OriginPolicy({"https://www.example.org"})(origin, {}) is allowed


def test_a_refusal_is_logged_once_a_minute_per_origin(caplog, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("channels.public.time.monotonic", lambda: clock[0])
    policy = OriginPolicy({"https://www.example.org"})
    with caplog.at_level(logging.WARNING, logger="channels.public"):
        for _ in range(5):
            assert policy("https://evil.example") is False
        clock[0] += 61
        policy("https://evil.example")
    refusals = [r.getMessage() for r in caplog.records]
    assert len(refusals) == 2
    assert (
        "'https://evil.example'" in refusals[0]
        and "WIDGET_ALLOWED_ORIGINS" in refusals[0]
    )


def test_the_channel_reads_the_allow_list_from_the_environment(monkeypatch):
    monkeypatch.setenv("WIDGET_ALLOWED_ORIGINS", "https://a.example,https://b.example")
    channel = PublicSocketIOInput.from_credentials(
        {"session_persistence": True, "user_message_evt": "user_uttered"}
    )
    assert channel.origin_policy.allowed == {"https://a.example", "https://b.example"}
    assert channel.name() == "socketio" and channel.session_persistence is True


def test_a_good_session_id_is_resumed():
    session = "0123456789abcdef0123456789abcdef"
    assert session_id_to_use({"session_id": session}) == session


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"session_id": None},
        {"session_id": 12345678901234567890},
        {"session_id": "short"},
        {"session_id": "../../etc/passwd-0123456789"},
        {"session_id": "x" * 65},
        "not a dict",
    ],
)
def test_anything_else_gets_a_new_session_id(data):
    session = session_id_to_use(data)
    assert len(session) == 32 and int(session, 16) >= 0
    assert session != session_id_to_use(data)
