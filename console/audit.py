"""The audit log: who revealed personal details, exported, purged or erased what.

Append-only in three ways: no route or command changes a row, the database refuses
UPDATE and DELETE on the table (triggers made in ``console.db``), and each row stores
the hash of the one before, so ``verify`` finds any row changed or removed by
someone who got round both. No personal detail is written here: a phone number or
email becomes a keyed fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from console.db import audit_log

GENESIS = "0" * 64


def row_hash(prev_hash: str, at: str, actor: str, action: str, target: str, detail: str) -> str:
    payload = json.dumps([prev_hash, at, actor, action, target, detail], ensure_ascii=True)
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def record(
    engine: Engine,
    actor: str,
    action: str,
    target: str = "",
    detail: Optional[Dict[str, Any]] = None,
) -> int:
    """Append one entry; retried when another writer extended the chain first."""
    detail_text = json.dumps(detail or {}, sort_keys=True, ensure_ascii=True)
    for attempt in range(20):
        at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        with engine.connect() as connection:
            last = connection.execute(
                select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
            ).scalar()
        prev = last or GENESIS
        try:
            with engine.begin() as connection:
                return connection.execute(
                    insert(audit_log).values(
                        at=at, actor=actor[:100], action=action[:40], target=target[:255],
                        detail=detail_text, prev_hash=prev,
                        hash=row_hash(prev, at, actor[:100], action[:40], target[:255], detail_text),
                    )
                ).inserted_primary_key[0]
        except IntegrityError:
            time.sleep(0.01 * (attempt + 1))  # the unique prev_hash: someone else won
    raise RuntimeError("could not append to the audit log")


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int
    first_bad_id: Optional[int] = None
    problem: str = ""


def verify(engine: Engine) -> Verification:
    """Walk the chain from the first row; the first break is reported."""
    prev = GENESIS
    count = 0
    with engine.connect() as connection:
        for row in connection.execute(select(audit_log).order_by(audit_log.c.id)).mappings():
            count += 1
            if row["prev_hash"] != prev:
                return Verification(False, count, row["id"], "a row before it is missing or changed")
            expected = row_hash(
                row["prev_hash"], row["at"], row["actor"], row["action"], row["target"], row["detail"]
            )
            if expected != row["hash"]:
                return Verification(False, count, row["id"], "its contents were changed")
            prev = row["hash"]
    return Verification(True, count)


def recent(engine: Engine, limit: int = 200, offset: int = 0) -> List[Dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(audit_log).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
        ).mappings()
        result = []
        for row in rows:
            item = dict(row)
            item["detail"] = json.loads(item["detail"] or "{}")
            result.append(item)
        return result


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(audit_log)).scalar() or 0)
