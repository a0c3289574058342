"""The README's front door: scripts/run.sh (`make run`) and scripts/chat.sh (`make chat`).

Both are run as a user would, in their own process group, on free ports and with
every database and log under a temporary folder, so a developer's own `make run`
on this machine is left alone.
"""
from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from tests.support.servers import (
    MODEL,
    ROOT,
    RestClient,
    base_env,
    free_port,
    http_ok,
    start_action_server,
)

pytestmark = pytest.mark.e2e


def script_env(tmp_path: Path, **extra: str) -> Dict[str, str]:
    return base_env(
        LOG_DIR=str(tmp_path / "log"),
        TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
        ENQUIRY_DB_URL=f"sqlite:///{tmp_path / 'enquiries.db'}",
        ENQUIRY_SPOOL_DIR=str(tmp_path / "spool"),
        CONSOLE_DB_URL=f"sqlite:///{tmp_path / 'console.db'}",
        CONSOLE_SECRET_FILE=str(tmp_path / "console.key"),
        ACTION_PORT=str(free_port()),
        **extra,
    )


def read_until(fd: int, wanted: str, timeout: float, seen: str = "") -> str:
    """Output read from ``fd`` until ``wanted`` appears; fails with what was seen."""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"{wanted!r} did not appear within {timeout}s; output:\n{seen[-3000:]}")
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other end closed: the process has ended
                chunk = b""
            if not chunk:
                pytest.fail(f"output ended before {wanted!r}:\n{seen[-3000:]}")
            seen += chunk.decode(errors="replace")
    return seen


def stopped(process: subprocess.Popen, timeout: float) -> bool:
    try:
        process.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return False


def start_chat(env: Dict[str, str]) -> Tuple[subprocess.Popen, int]:
    """scripts/chat.sh on a terminal of its own, as `make chat` runs it; returns the
    process and the terminal's controlling end to type into and read from."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            ["bash", "scripts/chat.sh"], cwd=ROOT, env=env,
            stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
        )
    except OSError:
        os.close(controller)
        raise
    finally:
        os.close(terminal)
    return process, controller


def still_answering(urls: Dict[str, str], timeout: float = 15) -> List[str]:
    """The names whose URL still answers once ``timeout`` has passed (or none do)."""
    deadline = time.monotonic() + timeout
    while any(http_ok(url) for url in urls.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return [name for name, url in urls.items() if http_ok(url)]


@pytest.fixture(scope="module", autouse=True)
def trained_model():
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train`")


def test_run_starts_every_service_answers_and_ctrl_c_stops_them_all(tmp_path):
    ports = {name: free_port() for name in ("RASA_PORT", "WEB_PORT", "CONSOLE_PORT")}
    env = script_env(tmp_path, **{k: str(v) for k, v in ports.items()})
    reader, writer = os.pipe()
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=writer, stderr=writer,
        start_new_session=True,
    )
    os.close(writer)
    urls = {
        "rasa": f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/",
        "actions": f"http://127.0.0.1:{env['ACTION_PORT']}/health",
        "web": f"http://127.0.0.1:{ports['WEB_PORT']}/health",
        "console": f"http://127.0.0.1:{ports['CONSOLE_PORT']}/health",
    }
    try:
        output = read_until(reader, "Press Ctrl-C to stop everything.", 300)
        assert f"http://127.0.0.1:{ports['WEB_PORT']}/" in output
        assert all(http_ok(url) for url in urls.values()), output
        replies = RestClient(f"http://127.0.0.1:{ports['RASA_PORT']}").send("what is kyphoplasty?")
        assert "vertebral compression fractures" in " ".join(r.get("text", "") for r in replies)
        # What a terminal's Ctrl-C does: SIGINT to the whole foreground process group.
        os.killpg(process.pid, signal.SIGINT)
        assert stopped(process, 60), "run.sh did not stop on Ctrl-C"
        output = read_until(reader, "Stopping", 5, output)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(reader)
    assert still_answering(urls) == [], "still answering after Ctrl-C"


def test_chat_talks_in_the_terminal_and_stops_its_own_action_server(tmp_path):
    env = script_env(tmp_path)
    process, controller = start_chat(env)
    action_health = f"http://127.0.0.1:{env['ACTION_PORT']}/health"
    try:
        output = read_until(controller, "Your input ->", 300)
        assert "Starting the action server" in output
        assert http_ok(action_health)
        os.write(controller, b"what is kyphoplasty?\r")
        output = read_until(controller, "vertebral compression fractures", 60, output)
        os.write(controller, b"/stop\r")
        assert stopped(process, 60), "the chat did not end on /stop"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(controller)
    assert still_answering({"action server": action_health}) == [], (
        "the chat's action server outlived the chat"
    )


def test_chat_uses_an_action_server_that_is_already_running(tmp_path):
    env = script_env(tmp_path)
    running = start_action_server(tmp_path, port=int(env["ACTION_PORT"]), env=env)
    process = None
    try:
        process, controller = start_chat(env)
        try:
            output = read_until(controller, "Using the action server already running", 60)
            assert "Starting the action server" not in output
            os.killpg(process.pid, signal.SIGINT)
            assert stopped(process, 60)
        finally:
            os.close(controller)
        # Not started by the chat, so not stopped by it either.
        assert running.process.poll() is None
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        running.stop()
