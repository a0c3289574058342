"""Callback enquiries as staff see them, with the console's status and notes.

The enquiries table belongs to ``actions/enquiry_store.py`` and is only read here.
Status (new -> contacted -> closed), notes and their history live in the console's
own tables, keyed by enquiry id; an enquiry without a status row is new.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from actions.enquiry_store import enquiries
from console.db import enquiry_history, enquiry_status, has_table
from console.masking import EMAIL_MASK, NAME_MASK, PHONE_MASK
from console.tracker import day_start, parse_day

STATUSES = ("new", "contacted", "closed")
MAX_NOTES = 4000


class EnquiryError(ValueError):
    """A status change that cannot be made; the message says why."""


@dataclass(frozen=True)
class EnquiryFilter:
    status: str = ""
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    reference: str = ""
    conversation_id: str = ""

    @classmethod
    def from_args(cls, args: Any) -> "EnquiryFilter":
        status = (args.get("status") or "").strip()
        if status and status not in STATUSES:
            raise ValueError(f"status must be one of: {', '.join(STATUSES)}")
        return cls(
            status=status,
            date_from=parse_day(args.get("from", "")),
            date_to=parse_day(args.get("to", "")),
            reference=(args.get("reference") or "").strip().upper()[:16],
        )

    def query_args(self) -> Dict[str, str]:
        args = {
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "reference": self.reference,
        }
        return {key: value for key, value in args.items() if value}


def _aware_ts(value: Any) -> Optional[float]:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def _read(enquiry_db: Engine, filters: EnquiryFilter, ids: Sequence[int] = ()) -> List[Dict[str, Any]]:
    if not has_table(enquiry_db, "enquiries"):
        return []
    c = enquiries.c
    query = select(enquiries).order_by(c.created_at.desc(), c.id.desc())
    if filters.date_from:
        query = query.where(c.created_at >= _utc(filters.date_from))
    if filters.date_to:
        query = query.where(c.created_at < _utc(filters.date_to + timedelta(days=1)))
    if filters.reference:
        query = query.where(c.reference.like(f"%{filters.reference}%"))
    if filters.conversation_id:
        query = query.where(c.conversation_id == filters.conversation_id)
    if ids:
        query = query.where(c.id.in_(list(ids)))
    with enquiry_db.connect() as connection:
        rows = [dict(row) for row in connection.execute(query).mappings()]
    for row in rows:
        row["created_ts"] = _aware_ts(row["created_at"])
    return rows


def _utc(day: date) -> datetime:
    return datetime.fromtimestamp(day_start(day), tz=timezone.utc)


def _statuses(console: Engine, ids: Sequence[int]) -> Dict[int, Dict[str, Any]]:
    result: Dict[int, Dict[str, Any]] = {}
    with console.connect() as connection:
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            for row in connection.execute(
                select(enquiry_status).where(enquiry_status.c.enquiry_id.in_(chunk))
            ).mappings():
                result[row["enquiry_id"]] = dict(row)
    return result


def list_enquiries(
    enquiry_db: Engine, console: Engine, filters: EnquiryFilter
) -> List[Dict[str, Any]]:
    """Every enquiry matching the filters, newest first, with status and notes.

    Enquiries are kept for 90 days, so the whole filtered list fits in memory; the
    status lives in another database and is joined here.
    """
    rows = _read(enquiry_db, filters)
    statuses = _statuses(console, [row["id"] for row in rows])
    result = []
    for row in rows:
        state = statuses.get(row["id"])
        row["status"] = state["status"] if state else "new"
        row["notes"] = state["notes"] if state else ""
        row["updated_by"] = state["updated_by"] if state else None
        row["updated_at"] = state["updated_at"] if state else None
        if not filters.status or row["status"] == filters.status:
            result.append(row)
    return result


def get_enquiry(enquiry_db: Engine, console: Engine, enquiry_id: int) -> Optional[Dict[str, Any]]:
    rows = _read(enquiry_db, EnquiryFilter(), ids=[enquiry_id])
    if not rows:
        return None
    row = rows[0]
    state = _statuses(console, [enquiry_id]).get(enquiry_id)
    row["status"] = state["status"] if state else "new"
    row["notes"] = state["notes"] if state else ""
    return row


def history(console: Engine, enquiry_id: int) -> List[Dict[str, Any]]:
    with console.connect() as connection:
        return [
            dict(row)
            for row in connection.execute(
                select(enquiry_history)
                .where(enquiry_history.c.enquiry_id == enquiry_id)
                .order_by(enquiry_history.c.id)
            ).mappings()
        ]


def change_status(
    console: Engine, enquiry_id: int, status: str, notes: Optional[str], staff_name: str
) -> bool:
    """Set status (and notes, when given); returns False when nothing changed."""
    if status not in STATUSES:
        raise EnquiryError(f"status must be one of: {', '.join(STATUSES)}")
    if notes is not None and len(notes) > MAX_NOTES:
        raise EnquiryError(f"notes are limited to {MAX_NOTES} characters")
    now = time.time()
    with console.begin() as connection:
        current = connection.execute(
            select(enquiry_status).where(enquiry_status.c.enquiry_id == enquiry_id)
        ).mappings().first()
        old_status = current["status"] if current else "new"
        old_notes = current["notes"] if current else ""
        new_notes = old_notes if notes is None else notes.strip()
        if old_status == status and old_notes == new_notes:
            return False
        values = dict(status=status, notes=new_notes, updated_by=staff_name, updated_at=now)
        if current:
            connection.execute(
                update(enquiry_status).where(enquiry_status.c.enquiry_id == enquiry_id).values(**values)
            )
        else:
            connection.execute(insert(enquiry_status).values(enquiry_id=enquiry_id, **values))
        connection.execute(
            insert(enquiry_history).values(
                enquiry_id=enquiry_id, old_status=old_status if current else None,
                new_status=status, notes_changed=old_notes != new_notes,
                changed_by=staff_name, changed_at=now,
            )
        )
    return True


def masked(row: Dict[str, Any]) -> Dict[str, Any]:
    shown = dict(row)
    shown["full_name"] = NAME_MASK
    shown["phone_e164"] = PHONE_MASK
    shown["email"] = EMAIL_MASK if row.get("email") else ""
    return shown


CSV_COLUMNS = (
    "reference", "created_at", "status", "full_name", "phone_e164", "email", "hospital",
    "enquiry_aim", "call_time", "channel", "conversation_id", "notes",
)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: never run it.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def to_csv(rows: Sequence[Dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()


def counts_by_day(enquiry_db: Engine, since: float) -> Dict[str, int]:
    if not has_table(enquiry_db, "enquiries"):
        return {}
    result: Dict[str, int] = {}
    with enquiry_db.connect() as connection:
        for (created,) in connection.execute(
            select(enquiries.c.created_at).where(
                enquiries.c.created_at >= datetime.fromtimestamp(since, tz=timezone.utc)
            )
        ):
            ts = _aware_ts(created)
            day = time.strftime("%Y-%m-%d", time.gmtime(ts))
            result[day] = result.get(day, 0) + 1
    return result


