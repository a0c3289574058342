"""Starts the real Rasa server and action server for tests, on free local ports."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "kyphoplasty.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        SANIC_HOST="127.0.0.1",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        # Tests and the benchmark send many messages from 127.0.0.1;
        # tests/test_channel_guards.py turns the limits on where they are the subject.
        RATE_LIMIT_SENDER_PER_MINUTE="0",
        RATE_LIMIT_ADDRESS_PER_MINUTE="0",
    )
    env.update(extra)
    return env


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps http.server's access lines out of the test output."""

    def log_message(self, *args: object) -> None:
        pass


class LocalHttpServer:
    """A fake of an outside HTTP service, served from a thread on a free local port.

    Subclasses say how to answer in ``handler()``; ``start()`` and ``stop()`` are shared.
    """

    def __init__(self, port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self._server: Optional[ThreadingHTTPServer] = None

    def handler(self) -> type:
        raise NotImplementedError

    def start(self):
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    url: str
    log: Path

    def wait_ready(self, health_path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n"
                    + self.log.read_text()[-3000:]
                )
            if http_ok(self.url + health_path):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n" + self.log.read_text()[-3000:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_action_server(
    workdir: Path,
    port: Optional[int] = None,
    env: Optional[Dict[str, str]] = None,
    extra_args: Optional[List[str]] = None,
) -> Service:
    """The action server as `make run` starts it (actions/server.py)."""
    port = port or free_port()
    log = workdir / f"actions-{port}.log"
    process = subprocess.Popen(
        [str(VENV_BIN / "python"), "-m", "actions.server", "--port", str(port), *(extra_args or [])],
        cwd=ROOT,
        env=base_env(**(env or {})),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    service = Service("action server", process, f"http://127.0.0.1:{port}", log)
    service.wait_ready("/health", 60)
    return service


def write_endpoints(workdir: Path, action_url: str, tracker_db: Path, name: str = "endpoints.yml") -> Path:
    path = workdir / name
    path.write_text(
        "action_endpoint:\n"
        f"  url: \"{action_url}/webhook\"\n"
        "tracker_store:\n"
        "  type: SQL\n"
        "  dialect: sqlite\n"
        f"  db: \"{tracker_db}\"\n"
        "lock_store:\n"
        "  type: in_memory\n"
    )
    return path


def start_rasa(
    workdir: Path,
    endpoints: Path,
    port: Optional[int] = None,
    env: Optional[Dict[str, str]] = None,
    extra_args: Optional[List[str]] = None,
    model: Path = MODEL,
    credentials: Path = ROOT / "credentials.yml",
) -> Service:
    if not Path(model).exists():
        raise RuntimeError(f"no trained model at {model}: run `make train`")
    port = port or free_port()
    log = workdir / f"rasa-{port}.log"
    process = subprocess.Popen(
        [
            str(VENV_BIN / "rasa"), "run",
            "--model", str(model),
            "--endpoints", str(endpoints),
            "--credentials", str(credentials),
            "--interface", "127.0.0.1",
            "--port", str(port),
            *(extra_args or []),
        ],
        cwd=ROOT,
        env=base_env(**(env or {})),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    service = Service("rasa server", process, f"http://127.0.0.1:{port}", log)
    service.wait_ready("/webhooks/rest/", 240)
    return service


@dataclass
class RestClient:
    """Talks to Rasa's REST channel as one user."""

    base_url: str
    sender: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:12]}")

    def send(self, text: str, timeout: float = 30) -> List[dict]:
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(
            self.base_url + "/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def say(self, text: str) -> str:
        """All bot texts of one reply, joined, for simple assertions."""
        return "\n".join(message.get("text", "") for message in self.send(text))
