"""Bad input over REST and socketio: each case gets its reply, never a crash or silence.

The corpus is tests/hardening/bad_inputs.yml. Counts by kind go to
results/hardening/bad_inputs.json for `make hardening-report`.
"""
from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List

import aiohttp
import pytest
import yaml

from bench.load import SocketIO
from tests.support.hardening import record

CORPUS = yaml.safe_load((Path(__file__).parent / "bad_inputs.yml").read_text())["cases"]
pytestmark = pytest.mark.e2e


def message_of(case: Dict) -> str:
    text = case["text"]
    if case.get("length"):
        filler = case["repeat_filler"]
        text += filler * ((case["length"] - len(text)) // len(filler) + 1)
        text = text[: case["length"]]
    return text + case.get("suffix", "")


def rest(base_url: str, body: bytes) -> tuple:
    request = urllib.request.Request(
        base_url + "/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


async def socketio_reply(base_url: str, text: str, timeout: float = 60) -> List[str]:
    """One message over Rasa's socketio channel, as the widget sends it."""
    replies: List[str] = []
    session_id = uuid.uuid4().hex
    async with aiohttp.ClientSession() as session:
        client = SocketIO(session, base_url)
        await client.connect()
        try:
            await client.emit("session_request", {"session_id": session_id})
            assert (await client.next_event(10))[0] == "session_confirm"
            await client.emit("user_uttered", {"message": text, "session_id": session_id})
            wait = timeout
            try:
                while True:  # until the rest of a multi-part reply has come
                    event, data = await client.next_event(wait)
                    if event == "bot_uttered":
                        replies.append(data.get("text", ""))
                        wait = 1.0
            except asyncio.TimeoutError:
                pass
        finally:
            await client.close()
    return replies


def check(case: Dict, replies: List[str]) -> None:
    joined = " ".join(replies).lower()
    assert replies, f"{case['kind']}: no reply"
    for phrase in case["expect"]:
        assert phrase.lower() in joined, f"{case['kind']}: {phrase!r} not in {replies!r}"
    assert "<script" not in joined and "traceback" not in joined


@pytest.mark.parametrize("case", CORPUS, ids=[c["kind"] for c in CORPUS])
def test_bad_input_over_rest(stack, case: Dict) -> None:
    body = json.dumps({"sender": f"bad-{uuid.uuid4().hex[:10]}", "message": message_of(case)})
    status, reply = rest(stack.rasa_url, body.encode("utf-8", "surrogatepass"))
    assert status == 200, reply
    check(case, [m.get("text", "") for m in reply])
    record("bad_inputs", f"rest/{case['kind']}")


@pytest.mark.parametrize("case", CORPUS, ids=[c["kind"] for c in CORPUS])
async def test_bad_input_over_socketio(stack, case: Dict) -> None:
    check(case, await socketio_reply(stack.rasa_url, message_of(case)))
    record("bad_inputs", f"socketio/{case['kind']}")


@pytest.mark.parametrize(
    "body",
    [
        b"{bad json",
        b"\xff\xfe\xfa",
        b'{"sender": "x", "message": "\xff\xfe how long"}',
        b"[]",
        b'{"sender": 5, "message": ["x"]}',
        b'{"message": "hello"}',
        b'{"sender": "x"}',
        b'{"sender": "x", "message": 12}',
    ],
)
def test_malformed_rest_requests_get_a_4xx_with_a_reason(stack, body: bytes) -> None:
    status, reply = rest(stack.rasa_url, body)
    assert 400 <= status < 500, (status, reply)
    assert "Traceback" not in str(reply)
    record("bad_inputs", "rest/malformed_request")
