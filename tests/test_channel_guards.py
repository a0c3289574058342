"""The public channels' guards (channels/public.py, channels/rate_limit.py): bodies of
the wrong shape get a 400 with a reason, and a client over the rate limit gets the
friendly reply, over REST and socketio.

The channels run in a real Sanic server on a local port, registered the way
`rasa run` registers them; only the agent behind them is a stand-in that echoes,
so these tests need no trained model. The whole stack is in tests/hardening/.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from typing import List

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bench.load import SocketIO
from channels.public import PublicRestInput, PublicSocketIOInput, webhook_body_problem
from channels.rate_limit import (
    ADDRESS_ENV,
    RATE_LIMITED_REPLY,
    SENDER_ENV,
    PublicRateLimits,
    SlidingWindowLimiter,
    limit_from_env,
)
from tests.support.hardening import record
from tests.support.servers import free_port


class EchoAgent:
    """Stands in for Rasa's agent: answers each message with its own text."""

    def __init__(self) -> None:
        self.seen: List[str] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.seen.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


@pytest.fixture
async def channel_server(monkeypatch):
    monkeypatch.setenv(SENDER_ENV, "3")
    monkeypatch.setenv(ADDRESS_ENV, "5")
    # Test mode keeps Sanic 21.12 from "touching up" its classes a second time in one
    # process, which fails.
    monkeypatch.setattr(Sanic, "test_mode", True)
    app = Sanic(f"guards_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = EchoAgent()
    register(
        [PublicRestInput(), PublicSocketIOInput(session_persistence=True)],
        app,
        "/webhooks/",
    )
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


async def post(base: str, body: bytes):
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{base}/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
        ) as reply:
            return reply.status, await reply.text(), reply.headers


# --- pure helpers -----------------------------------------------------------------


def test_the_limiter_refuses_past_the_limit_and_lets_in_again_after_the_window():
    now = [0.0]
    limiter = SlidingWindowLimiter(2, window=60, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b"), "another key has its own count"
    now[0] = 59.9
    assert not limiter.allow("a")
    now[0] = 60.0
    assert limiter.allow("a"), "the first messages have left the window"


def test_a_limit_of_zero_is_off_and_keys_are_bounded():
    assert all(SlidingWindowLimiter(0).allow("a") for _ in range(1000))
    limiter = SlidingWindowLimiter(1, max_keys=10)
    for n in range(100):
        limiter.allow(str(n))
    assert len(limiter._seen) == 10


def test_the_address_limit_holds_a_client_that_invents_new_senders():
    limits = PublicRateLimits(sender_per_minute=100, address_per_minute=3)
    assert [limits.allow(f"s{n}", "10.0.0.1") for n in range(4)] == [True] * 3 + [False]
    assert limits.allow("s9", "10.0.0.2")


@pytest.mark.parametrize("raw", ["ten", "-1", "1.5"])
def test_a_bad_limit_setting_names_the_variable(raw):
    with pytest.raises(ValueError, match=SENDER_ENV):
        limit_from_env({SENDER_ENV: raw}, SENDER_ENV, 30)


def test_the_friendly_reply_still_gives_the_urgent_numbers():
    for number in ("999", "NHS 111", "A&E"):
        assert number in RATE_LIMITED_REPLY


@pytest.mark.parametrize(
    "body, reason",
    [
        ([], "JSON object"),
        ("hello", "JSON object"),
        ({"message": "hi"}, '"sender"'),
        ({"sender": "", "message": "hi"}, '"sender"'),
        ({"sender": 5, "message": "hi"}, '"sender"'),
        ({"sender": "x" * 200, "message": "hi"}, "at most 128"),
        ({"sender": "a"}, '"message"'),
        ({"sender": "a", "message": ["hi"]}, '"message"'),
        ({"sender": "a", "message": "hi", "metadata": "x"}, '"metadata"'),
    ],
)
def test_webhook_bodies_of_the_wrong_shape_are_named(body, reason):
    assert reason in webhook_body_problem(body)


def test_a_well_formed_body_passes():
    assert webhook_body_problem({"sender": "abc", "message": ""}) is None


# --- the channels in a real Sanic server -------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"sender": "a"}', b'{"sender": 1, "message": "hi"}', b"\xff\xfe"],
)
async def test_rest_answers_a_bad_body_with_400_and_a_reason(channel_server, body):
    app, base = channel_server
    status, text, _ = await post(base, body)
    assert status == 400
    assert json.loads(text)["error"]
    assert app.ctx.agent.seen == []
    record("bad_inputs", "malformed_request")


async def test_rest_over_the_sender_limit_gets_429_with_the_friendly_reply(channel_server):
    app, base = channel_server
    replies = []
    for n in range(4):
        status, text, headers = await post(
            base, json.dumps({"sender": "patient-1", "message": f"hello {n}"}).encode()
        )
        replies.append((status, json.loads(text)))
    assert [s for s, _ in replies] == [200, 200, 200, 429]
    assert replies[3][1] == [{"recipient_id": "patient-1", "text": RATE_LIMITED_REPLY}]
    assert app.ctx.agent.seen == ["hello 0", "hello 1", "hello 2"], "Rasa never saw the 4th"
    record("bad_inputs", "over the rate limit")
    assert headers["Retry-After"] == "60"


async def test_rest_over_the_address_limit_even_with_new_senders(channel_server):
    _, base = channel_server
    statuses = []
    for n in range(6):
        status, _, _ = await post(
            base, json.dumps({"sender": f"s-{n}", "message": "hi"}).encode()
        )
        statuses.append(status)
    assert statuses == [200] * 5 + [429]


async def socket_exchange(base: str, payloads: list) -> List[dict]:
    """Sends each payload as a user_uttered event; returns every bot_uttered."""
    received: List[dict] = []
    async with aiohttp.ClientSession() as session:
        client = SocketIO(session, base)
        await client.connect()
        try:
            session_id = uuid.uuid4().hex
            await client.emit("session_request", {"session_id": session_id})
            assert (await client.next_event(10))[0] == "session_confirm"
            for payload in payloads:
                if isinstance(payload, dict):
                    payload = {"session_id": session_id, **payload}
                await client.emit("user_uttered", payload)
                try:
                    while True:
                        event, data = await client.next_event(1.0)
                        if event == "bot_uttered":
                            received.append(data)
                except asyncio.TimeoutError:
                    pass
        finally:
            await client.close()
    return received


async def test_socketio_over_the_limit_gets_the_friendly_reply(channel_server):
    app, base = channel_server
    received = await socket_exchange(base, [{"message": f"m{n}"} for n in range(4)])
    texts = [r.get("text") for r in received]
    assert texts == ["echo: m0", "echo: m1", "echo: m2", RATE_LIMITED_REPLY]
    record("bad_inputs", "over the rate limit")
    assert app.ctx.agent.seen == ["m0", "m1", "m2"]


async def test_socketio_answers_a_message_of_the_wrong_shape(channel_server):
    app, base = channel_server
    received = await socket_exchange(
        base, ["just a string", {"message": 42}, {"message": "ok", "metadata": "x"}]
    )
    assert len(received) == 3
    assert all("could not read that message" in r["text"] for r in received)
    assert app.ctx.agent.seen == []


async def test_lone_surrogates_are_replaced_before_rasa_reads_the_message(channel_server):
    app, base = channel_server
    status, text, _ = await post(
        base, b'{"sender": "s-sur", "message": "how long does it take? \\ud800"}'
    )
    assert status == 200, text
    assert app.ctx.agent.seen == ["how long does it take? \ufffd"]


def test_the_urgent_detector_reads_past_a_lone_surrogate():
    from nlp.urgent_symptoms import normalise_text

    assert "\ud800" not in normalise_text("chest pain \ud800")
