"""Time the staff console's pages on 10,000 conversations / 200,000 events.

    python bench/console_bench.py [--repeat 20] [--keep]

Seeds a fresh SQLite tracker store under var/bench/ (bench/console_seed.py), starts
the real console server (`python -m console serve`) on it, logs in, and times each
page over HTTP: the first request (which builds the summary tables) once, then every
page ``--repeat`` times. Prints p50/p95 per page and writes docs/console-benchmark.md
with the machine it ran on. Numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.console_seed import seed  # noqa: E402
from bench.machine import describe_machine  # noqa: E402
from tests.console.support import PASSWORD, ConsoleServer, add_user, console_env  # noqa: E402

PAGES = [
    ("list, page 1", "/conversations"),
    ("list, page 100", "/conversations?page=100"),
    ("filter: channel", "/conversations?channel=socketio"),
    ("filter: intent", "/conversations?intent=procedure/duration"),
    ("filter: fallback + urgent", "/conversations?fallback=1&urgent=1"),
    ("filter: text search", "/conversations?q=cement"),
    ("filter: date range", "/conversations?from={from_day}&to={to_day}"),
    ("transcript", "/conversations/view?id=bench-000123"),
    ("NLU inbox", "/inbox"),
    ("overview (30 days)", "/overview"),
    ("JSON list", "/api/conversations?handover=1"),
]


def percentile(values, share):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=10000)
    parser.add_argument("--events", type=int, default=200000)
    parser.add_argument("--out", default=str(ROOT / "docs" / "console-benchmark.md"))
    args = parser.parse_args()

    workdir = ROOT / "var" / "bench" / "console"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    tracker_url = f"sqlite:///{workdir / 'tracker.db'}"
    started = time.perf_counter()
    written = seed(tracker_url, args.conversations, args.events)
    seed_seconds = time.perf_counter() - started
    print(f"Seeded {args.conversations} conversations / {written} events in {seed_seconds:.1f}s")

    env = console_env(workdir, tracker_url, f"sqlite:///{workdir / 'enquiries.db'}")
    add_user(env, "bench", "reviewer")
    server = ConsoleServer(env, workdir / "console.log").start()
    results = []
    try:
        session = server.session()
        session.get("/login")
        session.post("/login", {"name": "bench", "password": PASSWORD})
        started = time.perf_counter()
        first = session.get("/conversations")
        cold = time.perf_counter() - started
        assert first.status == 200, first.text[:300]
        today = time.strftime("%Y-%m-%d", time.gmtime())
        month_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 30 * 86400))
        for name, path in PAGES:
            path = path.format(from_day=month_ago, to_day=today)
            timings = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = session.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status == 200, (path, response.status)
            results.append((name, path, statistics.median(timings), percentile(timings, 0.95),
                            len(response.body)))
    finally:
        server.stop()

    header = f"{'page':<28}{'p50 ms':>9}{'p95 ms':>9}{'KiB':>7}"
    lines = [header, "-" * len(header)]
    lines += [f"{n:<28}{p50:>9.1f}{p95:>9.1f}{size / 1024:>7.0f}" for n, _, p50, p95, size in results]
    print(f"First request (builds the summaries of every conversation): {cold:.2f}s")
    print("\n".join(lines))

    table = ["| page | request | p50 (ms) | p95 (ms) | size (KiB) |", "| --- | --- | ---: | ---: | ---: |"]
    table += [f"| {n} | `{p}` | {p50:.1f} | {p95:.1f} | {size / 1024:.0f} |"
              for n, p, p50, p95, size in results]
    Path(args.out).write_text(
        "# Staff console benchmark\n\n"
        "Written by `make console-bench` (`bench/console_bench.py`); numbers are measured, "
        "never asserted by a test.\n\n"
        f"- Data: {args.conversations:,} conversations, {written:,} events in a SQLite tracker "
        "store (`bench/console_seed.py`: Rasa 3.6's `events` table and event JSON, 90 days, "
        "with fallbacks, urgent advice, handovers and enquiries mixed in); "
        f"seeded in {seed_seconds:.1f} s with bulk inserts.\n"
        f"- Machine: {describe_machine()}, SQLite {sqlite3.sqlite_version}. Shared with other jobs while it ran, so treat the "
        "numbers as an upper bound.\n"
        f"- Measured: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{args.repeat} requests per page over HTTP to `python -m console serve`, logged in, "
        "whole response read (server-side rendering included).\n\n"
        f"The first request after start-up built the summary tables for every conversation "
        f"in **{cold:.2f} s** (one pass over the events; afterwards only senders with new "
        "events are folded again, and an unchanged store costs one `max(id)`).\n\n"
        + "\n".join(table) + "\n"
    )
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
