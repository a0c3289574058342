"""Test support for the production configuration: endpoints and credentials files
that use infra/, private PostgreSQL and Redis servers that a test may restart, and
readers for what the tracker store and the enquiries table hold."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from tests.support.servers import ROOT, free_port, http_ok

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SHARED_REDIS_URL = os.environ.get("INFRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Rasa's own words when FailSafeTrackerStore keeps a conversation in memory.
SILENT_FALLBACK = "Falling back to use the 'InMemoryTrackerStore'"


def write_production_endpoints(workdir: Path, name: str = "endpoints.yml") -> Path:
    """The repository's endpoints.yml itself: the stores come from the environment."""
    path = workdir / name
    shutil.copy(ROOT / "endpoints.yml", path)
    return path


def write_production_credentials(workdir: Path) -> Path:
    """The repository's channels, the health channel among them (as deploy/ uses them)."""
    path = workdir / "credentials.yml"
    shutil.copy(ROOT / "credentials.yml", path)
    assert "infra.health.HealthInput:" in path.read_text()
    return path


def rasa_env(
    action_url: str,
    tracker_url: str,
    lock_url: Optional[str],
    prefix: str,
    **extra: str,
) -> Dict[str, str]:
    env = {
        "ACTION_SERVER_URL": f"{action_url}/webhook",
        "TRACKER_STORE_URL": tracker_url,
        "LOCK_STORE_KEY_PREFIX": prefix,
    }
    if lock_url:
        env["LOCK_STORE_URL"] = lock_url
    env.update(extra)
    return env


def wait_ready(base_url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_ok(base_url + "/webhooks/health/ready"):
            return
        time.sleep(0.5)
    pytest.fail(f"{base_url} never reported ready")


# ---------------------------------------------------------------- stored state


def stored_events(db_url: str, sender: str) -> List[dict]:
    """The conversation's events as the tracker store holds them, in id order."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender},
            ).fetchall()
    finally:
        engine.dispose()
    return [json.loads(row[0]) for row in rows]


def enquiries_for(db_url: str, sender: str) -> List[dict]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT reference, full_name, phone_e164 FROM enquiries "
                    "WHERE conversation_id = :s"
                ),
                {"s": sender},
            ).fetchall()
    finally:
        engine.dispose()
    return [dict(row._mapping) for row in rows]


def check_serialised(events: List[dict], sent: List[str]) -> None:
    """Every message stored once, and each turn whole before the next began.

    A turn is the user's message, the bot's actions and replies, and ``action_listen``.
    Two instances processing one conversation at once leave two user messages with no
    ``action_listen`` between them, or store the same events twice.
    """
    users = [e["text"] for e in events if e["event"] == "user"]
    assert sorted(users) == sorted(sent), f"stored {users}, sent {sent}"
    keys = [
        (e["event"], e.get("timestamp"), json.dumps(e, sort_keys=True)) for e in events
    ]
    assert len(keys) == len(set(keys)), "an event was stored twice"
    timestamps = [e["timestamp"] for e in events]
    assert timestamps == sorted(timestamps), "events are out of order"
    last_action = None
    for event in events:
        if event["event"] == "user":
            assert last_action in (None, "action_listen"), (
                "a message was processed while the previous turn was unfinished: "
                f"last action {last_action!r} before {event['text']!r}"
            )
            last_action = "user"
        elif event["event"] == "action":
            last_action = event["name"]
    assert last_action == "action_listen", "the last turn did not finish"


# ---------------------------------------------------------------- private servers


def _as_postgres_user() -> List[str]:
    # initdb refuses to run as root; CI and this machine run tests as root.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of the test's own, in a temporary directory, so that the
    test can stop and start it without touching the shared server on 5432."""

    port: int
    directory: Path

    @classmethod
    def create(cls) -> "PrivatePostgres":
        if not (PG_BIN / "initdb").exists():
            pytest.skip(f"no PostgreSQL binaries in {PG_BIN} (set PG_BIN)")
        directory = Path(tempfile.mkdtemp(prefix="infra-pg-"))
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        server = cls(free_port(), directory)
        subprocess.run(
            [
                *_as_postgres_user(),
                str(PG_BIN / "initdb"),
                "-D",
                str(directory / "data"),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        server.start()
        return server

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [
                *_as_postgres_user(),
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                *args,
            ],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._ctl(
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off",
            "-l",
            str(self.directory / "server.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        # "fast": what a crash or a failover looks like to clients (connections cut).
        self._ctl("-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class PrivateRedis:
    """A Redis server of the test's own (no persistence), stoppable at will."""

    port: int
    process: Optional[subprocess.Popen] = None

    @classmethod
    def create(cls) -> "PrivateRedis":
        if not shutil.which("redis-server"):
            pytest.skip("redis-server is not installed")
        server = cls(free_port())
        server.start()
        return server

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.exceptions.RedisError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"
