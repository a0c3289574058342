"""The action server answers malformed calls with a 400 and a short reason, never a 500."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import zlib
from typing import Iterator, Tuple

import pytest

from actions.server import webhook_problem
from tests.support.servers import Service, start_action_server

GOOD_TRACKER = {"sender_id": "s1", "events": [], "slots": {}, "latest_message": {}}


@pytest.mark.parametrize(
    "body, reason",
    [
        ([], "JSON object"),
        ("text", "JSON object"),
        ({}, "next_action"),
        ({"next_action": 5}, "next_action"),
        ({"next_action": " "}, "next_action"),
        ({"next_action": "a"}, "tracker must be"),
        ({"next_action": "a", "tracker": []}, "tracker must be"),
        ({"next_action": "a", "tracker": {"events": []}}, "sender_id"),
        ({"next_action": "a", "tracker": {"sender_id": "s", "events": "x"}}, "events"),
        ({"next_action": "a", "tracker": {"sender_id": "s", "events": [{"x": 1}]}}, "events"),
        ({"next_action": "a", "tracker": {**GOOD_TRACKER, "slots": []}}, "slots"),
        ({"next_action": "a", "tracker": GOOD_TRACKER, "domain": "x"}, "domain"),
    ],
)
def test_malformed_calls_are_described(body, reason: str) -> None:
    problem = webhook_problem(body)
    assert problem and reason in problem


def test_a_well_formed_call_passes() -> None:
    assert webhook_problem({"next_action": "action_submit_enquiry", "tracker": GOOD_TRACKER}) is None


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    workdir = tmp_path_factory.mktemp("action-input")
    service = start_action_server(
        workdir,
        env={
            "ENQUIRY_DB_URL": f"sqlite:///{workdir / 'enquiries.db'}",
            "ACTION_SERVER_MAX_BODY_BYTES": "100000",
        },
    )
    yield service
    service.stop()
    assert "Traceback" not in service.log.read_text()


def post(url: str, data: bytes, headers=None) -> Tuple[int, dict]:
    request = urllib.request.Request(
        url + "/webhook", data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as reply:
            return reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"{}")
        except ValueError:
            return error.code, {"raw": body.decode("utf-8", "replace")}


BAD_BODIES = [
    b"{bad",
    b"",
    b"\xff\xfe\x00",
    b"[]",
    b'{"next_action": 5}',
    b'{"next_action": "action_submit_enquiry", "tracker": "x"}',
    b'{"next_action": "action_submit_enquiry"}',
    b'{"next_action": "action_submit_enquiry", "tracker": {"sender_id": 1, "events": []}}',
    json.dumps({"next_action": "action_submit_enquiry", "tracker": {"sender_id": "s", "events": [1, 2]}}).encode(),
]


@pytest.mark.e2e
@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_get_400_with_a_reason(action_server: Service, body: bytes) -> None:
    status, reply = post(action_server.url, body)
    assert status == 400, reply
    assert reply.get("error") and "Traceback" not in reply["error"]
    assert "request_body" not in reply  # never echoes the conversation back


@pytest.mark.e2e
def test_a_huge_body_is_refused(action_server: Service) -> None:
    status, _ = post(action_server.url, b'{"next_action": "' + b"a" * 200_000 + b'"}')
    assert status == 413


@pytest.mark.e2e
def test_a_deflate_bomb_is_refused(action_server: Service) -> None:
    bomb = zlib.compress(b'{"next_action": "' + b"a" * 5_000_000 + b'"}')
    status, reply = post(action_server.url, bomb, {"Content-Encoding": "deflate"})
    assert status == 400 and "JSON" in reply["error"]


@pytest.mark.e2e
def test_unknown_actions_are_404_not_500(action_server: Service) -> None:
    body = {"next_action": "action_does_not_exist", "tracker": GOOD_TRACKER}
    status, _ = post(action_server.url, json.dumps(body).encode())
    assert status == 404


@pytest.mark.e2e
def test_it_listens_on_loopback_only(action_server: Service) -> None:
    assert action_server.url.startswith("http://127.0.0.1:")
    log = action_server.log.read_text()
    assert "listening on http://127.0.0.1:" in log
