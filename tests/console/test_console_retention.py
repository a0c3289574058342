"""`python -m console purge` on a tracker store seeded with old and new conversations."""

import sqlite3
import time

from bench.console_seed import seed
from tests.console.support import cli, console_env


def test_purge_deletes_only_conversations_past_the_period(tmp_path):
    tracker = tmp_path / "tracker.db"
    now = time.time()
    seed(f"sqlite:///{tracker}", 30, 600, days=1, seed_value=1, now=now - 400 * 86400,
         prefix="old")
    seed(f"sqlite:///{tracker}", 20, 400, days=1, seed_value=2, now=now, prefix="new")
    env = console_env(tmp_path, f"sqlite:///{tracker}", f"sqlite:///{tmp_path / 'enq.db'}",
                      CONSOLE_RETENTION_DAYS="365")
    assert "Summarised" in cli(env, "refresh").stdout
    result = cli(env, "purge")  # the default period from CONSOLE_RETENTION_DAYS
    assert result.returncode == 0, result.stderr
    assert "no activity for 365 days: 30 conversations, 600 events" in result.stdout
    with sqlite3.connect(tracker) as db:
        assert db.execute("select count(distinct sender_id) from events").fetchone()[0] == 20
    with sqlite3.connect(tmp_path / "console.db") as db:
        assert db.execute("select count(*) from console_conversations").fetchone()[0] == 20
        action, detail = db.execute(
            "select action, detail from console_audit_log order by id desc limit 1").fetchone()
    assert action == "purge" and '"events": 600' in detail
    assert "0 conversations" in cli(env, "purge", "--older-than", "365").stdout
    bad = cli(env, "purge", "--older-than", "0")
    assert bad.returncode == 2 and "at least 1 day" in bad.stderr
