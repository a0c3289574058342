"""`make bench`: our assistant against stock Rasa, on this machine, in one run.

Set-ups, each started, measured and stopped in turn (so they never compete):

- ``ours x1``: one Rasa instance with config.yml's model and endpoints.yml
  (PostgreSQL tracker store, Redis lease locks, the health channel's warm-up).
- ``ours x2``: two instances behind bench/proxy.py (round robin), sharing them.
- ``stock x1``: Rasa's default pipeline and policies (bench/stock/config.yml, empty
  ``pipeline:`` and ``policies:``) trained on the same domain and data, served by
  stock Rasa: its own SQL tracker store on the same PostgreSQL and its own Redis
  lock store.

All use one action server and a scratch PostgreSQL database (dropped afterwards) on
the shared server, and the shared Redis under a key prefix of their own.

For each set-up and channel (REST, socket.io) it runs 1, 10, 20 and 50 simulated
patients with a think time between messages (latency as patients feel it), then 50
with no think time (capacity: messages per second when every user sends as fast as
replies come). It also records each instance's time from start to its first answer
and its peak memory (VmHWM). Results go to docs/benchmarks.md and
bench/results/last.json.

    python -m bench.run [--quick] [--users 1,10,20,50] [--seconds 20] [--think 1-3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bench.load import first_answer, run_load
from bench.machine import describe_machine, load_average, machine_facts
from bench.proxy import RoundRobinProxy, backend
# The same process environment and ports as the test servers (rate limits off: the
# load comes from one address on purpose, and the limits would measure themselves).
from tests.support.servers import base_env as env
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
RASA = str(ROOT / ".venv" / "bin" / "rasa")
RESULTS = ROOT / "bench" / "results"
STOCK_MODEL = ROOT / "bench" / "models" / "stock.tar.gz"
OUR_MODEL = ROOT / "models" / "kyphoplasty.tar.gz"
REPORT = ROOT / "docs" / "benchmarks.md"
PG_ADMIN_URL = os.environ.get(
    "BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TARGET_P95_MS = 250.0
TARGET_RATIO = 2.0


# ---------------------------------------------------------------- the machine


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---------------------------------------------------------------- shared services


class ScratchDatabase:
    def __init__(self) -> None:
        import psycopg2
        from sqlalchemy.engine import make_url

        self.admin = make_url(PG_ADMIN_URL)
        self.name = f"bench_{uuid.uuid4().hex[:10]}"
        self.connection = psycopg2.connect(
            host=self.admin.host,
            port=self.admin.port or 5432,
            user=self.admin.username,
            dbname=self.admin.database,
        )
        self.connection.autocommit = True
        with self.connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{self.name}"')
        self.url = self.admin.set(database=self.name).render_as_string(
            hide_password=False
        )

    def drop(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.connection.close()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    url: str
    log: Path
    started: float

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def wait_http(url: str, timeout: float, process: Process) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited; see {process.log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{process.name} not ready at {url}; see {process.log}")


def start_actions(db_url: str) -> Process:
    port = free_port()
    log = RESULTS / f"actions-{port}.log"
    popen = subprocess.Popen(
        [sys.executable, "-m", "actions.server", "--port", str(port)],
        cwd=ROOT,
        env=env(ENQUIRY_DB_URL=db_url),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    process = Process(
        "action server", popen, f"http://127.0.0.1:{port}", log, time.monotonic()
    )
    wait_http(process.url + "/health", 90, process)
    return process


def start_rasa(
    name: str,
    model: Path,
    endpoints: Path,
    credentials: Path,
    extra_env: Dict[str, str],
) -> Process:
    port = free_port()
    log = RESULTS / f"{name.replace(' ', '-')}-{port}.log"
    started = time.monotonic()
    popen = subprocess.Popen(
        [
            RASA,
            "run",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(credentials),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env(**extra_env),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return Process(name, popen, f"http://127.0.0.1:{port}", log, started)


def write_files(db_url: str, action_url: str, prefix: str) -> Dict[str, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    ours_credentials = RESULTS / "credentials-ours.yml"
    # The repository's channels, the health routes among them (readiness waits for
    # the warm-up message).
    shutil.copy(ROOT / "credentials.yml", ours_credentials)
    stock_credentials = RESULTS / "credentials-stock.yml"
    shutil.copy(ROOT / "credentials.yml", stock_credentials)
    from urllib.parse import urlsplit

    redis = urlsplit(REDIS_URL)
    stock_endpoints = RESULTS / "endpoints-stock.yml"
    # Stock Rasa's own stores on the same servers: SQLTrackerStore, RedisLockStore.
    stock_endpoints.write_text(
        f'action_endpoint:\n  url: "{action_url}/webhook"\n'
        f'tracker_store:\n  type: SQL\n  url: "{db_url}"\n'
        f"lock_store:\n  type: redis\n  url: {redis.hostname}\n"
        f"  port: {redis.port or 6379}\n  db: {(redis.path or '/0').strip('/') or 0}\n"
        f"  key_prefix: {prefix}stock\n"
    )
    return {
        "ours_endpoints": ROOT / "endpoints.yml",
        "ours_credentials": ours_credentials,
        "stock_endpoints": stock_endpoints,
        "stock_credentials": stock_credentials,
    }


def ensure_stock_model() -> None:
    if STOCK_MODEL.exists():
        return
    print(
        "==> Training the stock-Rasa reference model once (bench/models/, reused)",
        flush=True,
    )
    subprocess.run(
        [
            "nice",
            "-n",
            "10",
            RASA,
            "train",
            "--config",
            "bench/stock/config.yml",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            "bench/models",
            "--fixed-model-name",
            "stock",
        ],
        cwd=ROOT,
        env=env(),
        check=True,
    )


# ---------------------------------------------------------------- one set-up


async def measure_setup(
    label: str,
    model: Path,
    endpoints: Path,
    credentials: Path,
    rasa_env: Dict[str, str],
    instances: int,
    levels: List[int],
    capacity_users: int,
    seconds: float,
    think: Tuple[float, float],
    channels: List[str],
) -> Dict:
    processes = [
        start_rasa(f"{label} {n + 1}", model, endpoints, credentials, rasa_env)
        for n in range(instances)
    ]
    proxy: Optional[RoundRobinProxy] = None
    try:
        startup = []
        for process in processes:
            answered = await first_answer(process.url, 600)
            if answered is None:
                raise RuntimeError(f"{process.name} never answered; see {process.log}")
            startup.append(answered - process.started)
        for process in processes:  # let any warm-up finish before measuring
            if "health" in credentials.read_text():
                wait_http(process.url + "/webhooks/health/ready", 120, process)
        rss_at_start = [peak_rss_mb(p.popen.pid) for p in processes]
        url = processes[0].url
        if instances > 1:
            proxy = RoundRobinProxy([backend(p.url) for p in processes])
            port = free_port()
            await proxy.start("127.0.0.1", port)
            url = f"http://127.0.0.1:{port}"
        runs = []
        for channel in channels:
            plan = [(users, think) for users in levels]
            if capacity_users:
                plan.append((capacity_users, (0.0, 0.0)))
            for users, pause in plan:
                print(
                    f"    {label} {channel:8} {users:3} users "
                    f"think {pause[0]:g}-{pause[1]:g} s ...",
                    end="",
                    flush=True,
                )
                result = await run_load(url, channel, users, seconds, pause)
                summary = result.summary()
                summary.update(
                    setup=label,
                    channel=channel,
                    users=users,
                    think=f"{pause[0]:g}-{pause[1]:g}",
                    error_kinds=result.error_kinds,
                    load=load_average(),
                )
                runs.append(summary)
                print(
                    f" {summary['per_second']:.1f} msg/s, p95 {summary['p95_ms']:.0f} ms, "
                    f"{summary['errors']} errors",
                    flush=True,
                )
        return {
            "setup": label,
            "instances": instances,
            "startup_seconds": startup,
            "rss_at_start_mb": rss_at_start,
            "peak_rss_mb": [peak_rss_mb(p.popen.pid) for p in processes],
            "runs": runs,
        }
    finally:
        if proxy:
            await proxy.stop()
        for process in processes:
            process.stop()


# ---------------------------------------------------------------- the report


def find(
    results: List[Dict], setup: str, channel: str, users: int, think: str
) -> Optional[Dict]:
    for entry in results:
        for run in entry["runs"]:
            if (run["setup"], run["channel"], run["users"], run["think"]) == (
                setup,
                channel,
                users,
                think,
            ):
                return run
    return None


# What the numbers come from; it holds for every run on CPUs like these.
WHY = (
    "Each of our messages costs about 75 ms of CPU in the all-MiniLM-L6-v2 dense features "
    "alone (`make nlu-gate` prints the whole NLU pipeline's time per message), on top of "
    "what stock Rasa does. Stock Rasa uses sparse features only. Those features score an "
    "intent macro-F1 of 0.85-0.87 on our held-out set, below the 0.92 quality gate; the "
    "dense features lift it above. A Rasa instance handles one message at a time, so at "
    "20 or more users the latency is mostly queueing, and the p95 grows with the queue. "
    "Capacity grows with the cores given to Rasa: two instances on these two cores "
    "roughly double it (the `ours x2` rows). The cost was accepted for correctness: a "
    "wrong answer to a patient is worse than a slower one. The ways to buy speed back "
    "are more cores and instances (docs/deployment.md), or a smaller dense model if a "
    "measured one still passes the gate."
)


def busy(info: Dict) -> bool:
    try:
        return float(str(info.get("load_start", "0")).split()[0]) > 1.0
    except ValueError:
        return False


def verdicts(results: List[Dict], think: str, capacity_users: int) -> List[str]:
    lines = []
    ours20 = find(results, "ours x1", "rest", 20, think)
    if ours20:
        p95 = ours20["p95_ms"]
        if p95 < TARGET_P95_MS:
            lines.append(
                f"- p95 at 20 users, one instance, REST: {p95:.0f} ms, below the {TARGET_P95_MS:.0f} ms target."
            )
        else:
            lines.append(
                f"- p95 at 20 users, one instance, REST: {p95:.0f} ms, **above the {TARGET_P95_MS:.0f} ms "
                f"target by {p95 - TARGET_P95_MS:.0f} ms** ({p95 / TARGET_P95_MS:.1f}x)."
            )
    for channel in ("rest", "socketio"):
        ours = find(results, "ours x1", channel, capacity_users, "0-0")
        stock = find(results, "stock x1", channel, capacity_users, "0-0")
        if ours and stock and stock["per_second"] > 0:
            ratio = ours["per_second"] / stock["per_second"]
            verdict = (
                "meets"
                if ratio >= TARGET_RATIO
                else f"**misses by {TARGET_RATIO - ratio:.2f}x**"
            )
            lines.append(
                f"- Capacity at {capacity_users} users, {channel}: ours {ours['per_second']:.1f} msg/s, stock "
                f"{stock['per_second']:.1f} msg/s, ratio **{ratio:.2f}x** ({verdict} the {TARGET_RATIO:g}x target)."
            )
    return lines


def write_report(
    results: List[Dict],
    args: argparse.Namespace,
    info: Dict,
    think: str,
    capacity_users: int,
) -> None:
    lines = [
        "# Load benchmark: our assistant and stock Rasa",
        "",
        "Generated by `make bench` (bench/run.py)"
        + (" with `--quick`: short runs, indicative only." if args.quick else "."),
        "",
        f"Machine: {describe_machine(info)}. Load average at start {info['load_start']}, at end "
        f"{info['load_end']}"
        + (
            ": other work was running on the same cores, so absolute numbers are pessimistic."
            if busy(info)
            else ": nothing else was running."
        )
        + " The set-ups ran one after another in the same run, so the comparison between "
        "them is fair.",
        "",
        f"Each level ran {args.seconds:g} s. Think time between a reply and the next message: "
        f"{think.replace('-', ' to ')} s, uniform (latency rows); 0 s in the capacity rows. "
        "Scripts: six FAQ turns, then the whole callback form (eight turns, storing an enquiry), "
        "each with a new conversation id. REST: one connection per request. socket.io: one "
        "websocket per conversation; a reply is complete when no further message comes for "
        "0.3 s, and latency is measured to its last message. Errors: HTTP errors, timeouts, "
        "empty replies and technical-problem replies.",
        "",
        "## Results",
        "",
        "| set-up | channel | users | think (s) | messages | msg/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for entry in results:
        for run in entry["runs"]:
            lines.append(
                f"| {run['setup']} | {run['channel']} | {run['users']} | {run['think']} | "
                f"{run['messages']} | {run['per_second']:.1f} | {run['p50_ms']:.0f} | "
                f"{run['p95_ms']:.0f} | {run['p99_ms']:.0f} | {run['errors']} |"
            )
    lines += [
        "",
        "## Start-up and memory per instance",
        "",
        "Start to first answer: from starting `rasa run` to the first REST reply. Memory: "
        "resident set after start-up, and peak (VmHWM) after all the load.",
        "",
        "| set-up | instance | start to first answer | RSS after start | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for entry in results:
        for n, seconds in enumerate(entry["startup_seconds"]):
            lines.append(
                f"| {entry['setup']} | {n + 1} | {seconds:.1f} s | "
                f"{entry['rss_at_start_mb'][n]:.0f} MB | {entry['peak_rss_mb'][n]:.0f} MB |"
            )
    lines += ["", "## Targets", ""] + (
        verdicts(results, think, capacity_users) or ["- not measured in this run"]
    )
    lines += ["", "## Why", "", WHY, ""]
    lines += ["", "See docs/deployment.md for what the numbers mean for sizing.", ""]
    REPORT.write_text("\n".join(lines))


# ---------------------------------------------------------------- main


async def main_async(args: argparse.Namespace) -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    levels = [int(n) for n in args.users.split(",")]
    low, _, high = args.think.partition("-")
    think = (float(low), float(high or low))
    think_label = f"{think[0]:g}-{think[1]:g}"
    channels = args.channels.split(",")
    info = machine_facts()
    info["load_start"] = load_average()
    setups = [s for s in args.setups.split(",") if s]
    if "stock" in setups:
        ensure_stock_model()
    database = ScratchDatabase()
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    actions = None
    results: List[Dict] = []
    try:
        actions = start_actions(database.url)
        files = write_files(database.url, actions.url, prefix)
        ours_env = {
            "ACTION_SERVER_URL": f"{actions.url}/webhook",
            "TRACKER_STORE_URL": database.url,
            "LOCK_STORE_URL": REDIS_URL,
            "LOCK_STORE_KEY_PREFIX": prefix,
        }
        plan = {
            "ours1": (
                "ours x1",
                OUR_MODEL,
                files["ours_endpoints"],
                files["ours_credentials"],
                ours_env,
                1,
            ),
            "ours2": (
                "ours x2",
                OUR_MODEL,
                files["ours_endpoints"],
                files["ours_credentials"],
                ours_env,
                2,
            ),
            "stock": (
                "stock x1",
                STOCK_MODEL,
                files["stock_endpoints"],
                files["stock_credentials"],
                {},
                1,
            ),
        }
        for key in setups:
            label, model, endpoints, credentials, extra, instances = plan[key]
            print(f"==> {label}", flush=True)
            results.append(
                await measure_setup(
                    label,
                    model,
                    endpoints,
                    credentials,
                    extra,
                    instances,
                    levels,
                    args.capacity_users,
                    args.seconds,
                    think,
                    channels,
                )
            )
    finally:
        if actions:
            actions.stop()
        database.drop()
        try:
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(f"{prefix}*"):
                client.delete(key)
        except Exception:
            pass
    info["load_end"] = load_average()
    (RESULTS / "last.json").write_text(
        json.dumps({"machine": info, "results": results}, indent=2)
    )
    write_report(results, args, info, think_label, args.capacity_users)
    print()
    print("\n".join(verdicts(results, think_label, args.capacity_users)))
    print(f"Report: {REPORT.relative_to(ROOT)}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Load benchmark against stock Rasa")
    parser.add_argument("--quick", action="store_true", help="1 and 10 users, 5 s each")
    parser.add_argument("--users", default="1,10,20,50")
    parser.add_argument("--capacity-users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--think", default="1-3", help="seconds between messages, low-high"
    )
    parser.add_argument("--channels", default="rest,socketio")
    parser.add_argument("--setups", default="ours1,ours2,stock")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.seconds, args.capacity_users = "1,10", 5.0, 10
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
