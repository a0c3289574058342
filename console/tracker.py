"""Reading Rasa's SQL tracker store: the conversation summaries, the list and its
filters, and transcripts.

``refresh`` brings the console's summary tables up to date with the ``events``
table: every sender with an event newer than the last one seen (less a small
window, because on PostgreSQL a transaction that started earlier can commit a lower
id later) is folded again from its own events, found through Rasa's index on
``sender_id``. Nothing is added to Rasa's table; the console's own tables carry the
indexes the list needs.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import and_, case, delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine

from console.db import (
    conversation_summary,
    events,
    has_table,
    summary_state,
    user_messages,
)
from console.masking import DETAILS_MASK, PERSONAL_SLOTS, mask_value
from console.summary import EventRow, Summary, best_guess, fold_conversation

logger = logging.getLogger(__name__)

WATERMARK = "events_max_id"
# Ids below the watermark looked at again on each refresh (late commits).
LATE_COMMIT_WINDOW = 200
SENDERS_PER_BATCH = 400
_refresh_lock = threading.Lock()


@dataclass(frozen=True)
class RefreshResult:
    senders: int
    seconds: float


def _watermark(connection: Connection) -> int:
    value = connection.execute(
        select(summary_state.c.value).where(summary_state.c.name == WATERMARK)
    ).scalar()
    return int(value or 0)


def _set_watermark(connection: Connection, value: int) -> None:
    changed = connection.execute(
        update(summary_state).where(summary_state.c.name == WATERMARK).values(value=value)
    ).rowcount
    if not changed:
        connection.execute(insert(summary_state).values(name=WATERMARK, value=value))


def _event_rows(tracker: Engine, senders: Sequence[str]) -> Dict[str, List[EventRow]]:
    by_sender: Dict[str, List[EventRow]] = {sender: [] for sender in senders}
    query = (
        select(
            events.c.id,
            events.c.sender_id,
            events.c.type_name,
            events.c.timestamp,
            events.c.intent_name,
            events.c.action_name,
            # Only these events carry what the summary reads from the JSON.
            case(
                (events.c.type_name.in_(("user", "bot", "active_loop")), events.c.data),
                else_=None,
            ).label("data"),
        )
        .where(events.c.sender_id.in_(list(senders)))
        .order_by(events.c.sender_id, events.c.id)
    )
    with tracker.connect() as connection:
        for row in connection.execute(query):
            by_sender[row.sender_id].append(EventRow(*row))
    return by_sender


def refresh(tracker: Engine, console: Engine) -> RefreshResult:
    """Bring the summaries up to date; cheap when nothing changed (one max(id))."""
    started = time.perf_counter()
    if not has_table(tracker, "events"):
        return RefreshResult(0, 0.0)
    with _refresh_lock:
        with tracker.connect() as connection:
            newest = connection.execute(select(func.max(events.c.id))).scalar() or 0
        with console.connect() as connection:
            seen = _watermark(connection)
        if newest <= seen and seen:
            return RefreshResult(0, time.perf_counter() - started)
        since = max(0, seen - LATE_COMMIT_WINDOW) if seen else 0
        with tracker.connect() as connection:
            senders = [
                row[0]
                for row in connection.execute(
                    select(events.c.sender_id).where(events.c.id > since).distinct()
                )
            ]
        for start in range(0, len(senders), SENDERS_PER_BATCH):
            batch = senders[start : start + SENDERS_PER_BATCH]
            folded = [
                summary
                for summary in (
                    fold_conversation(rows) for rows in _event_rows(tracker, batch).values()
                )
                if summary is not None
            ]
            _store(console, batch, folded)
        with console.begin() as connection:
            _set_watermark(connection, newest)
    seconds = time.perf_counter() - started
    logger.info("Summarised %d conversations in %.2fs", len(senders), seconds)
    return RefreshResult(len(senders), seconds)


def _store(console: Engine, senders: Sequence[str], folded: Sequence[Summary]) -> None:
    with console.begin() as connection:
        connection.execute(
            delete(user_messages).where(user_messages.c.sender_id.in_(list(senders)))
        )
        connection.execute(
            delete(conversation_summary).where(
                conversation_summary.c.sender_id.in_(list(senders))
            )
        )
        if folded:
            connection.execute(insert(conversation_summary), [s.as_row() for s in folded])
        messages = [m.as_row() for s in folded for m in s.messages]
        if messages:
            connection.execute(insert(user_messages), messages)


def rewind(tracker: Engine, console: Engine) -> None:
    """After deleting events: SQLite hands the highest ids out again once they are
    gone, so the watermark must come down to the newest id still there."""
    with _refresh_lock:
        with tracker.connect() as connection:
            newest = connection.execute(select(func.max(events.c.id))).scalar() or 0
        with console.begin() as connection:
            if _watermark(connection) > newest:
                _set_watermark(connection, newest)


def forget(console: Engine, senders: Sequence[str]) -> None:
    """Drop the summaries of deleted conversations (purge and erase)."""
    for start in range(0, len(senders), SENDERS_PER_BATCH):
        _store(console, senders[start : start + SENDERS_PER_BATCH], [])


# ---------------------------------------------------------------- the list


@dataclass(frozen=True)
class ConversationFilter:
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    channel: str = ""
    intent: str = ""
    search: str = ""
    fallback: bool = False
    urgent: bool = False
    handover: bool = False
    enquiry: bool = False
    low_confidence: bool = False

    FLAGS = ("fallback", "urgent", "handover", "enquiry", "low_confidence")

    @classmethod
    def from_args(cls, args: Any) -> "ConversationFilter":
        """From a request's query string; bad dates raise ValueError with a clear message."""
        return cls(
            date_from=parse_day(args.get("from", "")),
            date_to=parse_day(args.get("to", "")),
            channel=(args.get("channel") or "").strip()[:64],
            intent=(args.get("intent") or "").strip()[:255],
            search=(args.get("q") or "").strip()[:200],
            **{flag: args.get(flag) in ("1", "on", "true") for flag in cls.FLAGS},
        )

    def query_args(self) -> Dict[str, str]:
        args = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "channel": self.channel,
            "intent": self.intent,
            "q": self.search,
        }
        args.update({flag: "1" for flag in self.FLAGS if getattr(self, flag)})
        return {key: value for key, value in args.items() if value}


def parse_day(value: str) -> Optional[date]:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def day_start(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(filters: ConversationFilter, low_confidence: float) -> List[Any]:
    c = conversation_summary.c
    conditions: List[Any] = []
    if filters.date_from:
        conditions.append(c.started_at >= day_start(filters.date_from))
    if filters.date_to:
        conditions.append(c.started_at < day_start(filters.date_to + timedelta(days=1)))
    if filters.channel:
        conditions.append(c.channel == filters.channel)
    for flag in ("fallback", "urgent", "handover", "enquiry"):
        if getattr(filters, flag):
            conditions.append(getattr(c, flag).is_(True))
    if filters.low_confidence:
        conditions.append(c.min_confidence < low_confidence)
    m = user_messages.c
    if filters.intent:
        conditions.append(
            exists().where(
                and_(
                    m.sender_id == c.sender_id,
                    or_(m.intent == filters.intent, m.full_intent == filters.intent),
                )
            )
        )
    if filters.search:
        conditions.append(
            exists().where(
                and_(
                    m.sender_id == c.sender_id,
                    # Answers to the form's questions (names) are not searchable.
                    m.in_form.is_(False),
                    func.lower(m.text).like(_like_pattern(filters.search), escape="\\"),
                )
            )
        )
    return conditions


def list_conversations(
    console: Engine,
    filters: ConversationFilter,
    page: int,
    page_size: int,
    low_confidence: float,
) -> Tuple[List[Dict[str, Any]], int]:
    """One page of conversations, newest first, and how many match in all."""
    conditions = _conditions(filters, low_confidence)
    query = (
        select(conversation_summary)
        .where(*conditions)
        .order_by(conversation_summary.c.started_at.desc(), conversation_summary.c.sender_id)
        .limit(page_size)
        .offset(max(0, page - 1) * page_size)
    )
    count = select(func.count()).select_from(conversation_summary).where(*conditions)
    with console.connect() as connection:
        rows = [dict(row) for row in connection.execute(query).mappings()]
        total = connection.execute(count).scalar() or 0
    return rows, int(total)


def channels(console: Engine) -> List[str]:
    with console.connect() as connection:
        return [
            row[0]
            for row in connection.execute(
                select(conversation_summary.c.channel)
                .where(conversation_summary.c.channel.isnot(None))
                .distinct()
                .order_by(conversation_summary.c.channel)
            )
        ]


def summary_of(console: Engine, sender_id: str) -> Optional[Dict[str, Any]]:
    with console.connect() as connection:
        row = (
            connection.execute(
                select(conversation_summary).where(
                    conversation_summary.c.sender_id == sender_id
                )
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


# ---------------------------------------------------------------- transcripts


def load_events(tracker: Engine, sender_id: str) -> List[Dict[str, Any]]:
    if not has_table(tracker, "events"):
        return []
    query = (
        select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data)
        .where(events.c.sender_id == sender_id)
        .order_by(events.c.id)
    )
    result = []
    with tracker.connect() as connection:
        for row in connection.execute(query):
            try:
                data = json.loads(row.data or "{}")
            except ValueError:
                data = {}
            result.append(
                {"id": row.id, "type": row.type_name, "timestamp": row.timestamp, "data": data}
            )
    return result


def personal_values(raw_events: Iterable[Dict[str, Any]]) -> List[str]:
    """The names, phones and emails this conversation put in the form's slots."""
    values = []
    for item in raw_events:
        data = item["data"]
        if item["type"] == "slot" and data.get("name") in PERSONAL_SLOTS:
            value = data.get("value")
            if isinstance(value, str) and value.strip() and value != "none":
                values.append(value.strip())
    return values


def transcript(
    raw_events: Sequence[Dict[str, Any]],
    reveal: bool,
    known: Sequence[str] = (),
    public: frozenset = frozenset(),
) -> List[Dict[str, Any]]:
    """The conversation as chat items; masked unless ``reveal``.

    A user message that answered the form's question for a name, phone or email is
    hidden whole when masked, since a name has no pattern to find it by.
    """
    known = list(known) + personal_values(raw_events)

    def show(text: Any) -> Any:
        return text if reveal else mask_value(text, known, public)

    items: List[Dict[str, Any]] = []
    requested: Optional[str] = None
    form_active = False
    for item in raw_events:
        data, kind = item["data"], item["type"]
        when = item["timestamp"]
        if kind == "user":
            parse = data.get("parse_data") or {}
            intent, guess, confidence = best_guess(parse)
            text = data.get("text") or ""
            answered_personal = form_active and requested in PERSONAL_SLOTS
            items.append(
                {
                    "kind": "user",
                    "at": when,
                    "text": text if reveal else (DETAILS_MASK if answered_personal else show(text)),
                    "intent": intent,
                    "full_intent": guess if guess != intent else None,
                    "confidence": confidence,
                    "entities": [
                        {
                            "entity": e.get("entity"),
                            "role": e.get("role"),
                            "value": show(e.get("value")),
                            "extractor": e.get("extractor"),
                        }
                        for e in parse.get("entities") or []
                    ],
                    "channel": data.get("input_channel"),
                }
            )
        elif kind == "bot":
            buttons = (data.get("data") or {}).get("buttons") or []
            items.append(
                {
                    "kind": "bot",
                    "at": when,
                    "text": show(data.get("text") or ""),
                    "buttons": [show(b.get("title") or "") for b in buttons],
                    "response": (data.get("metadata") or {}).get("utter_action"),
                }
            )
        elif kind == "action":
            name = data.get("name")
            if name == "action_listen":
                continue
            items.append(
                {
                    "kind": "action",
                    "at": when,
                    "name": name,
                    "policy": data.get("policy"),
                    "confidence": data.get("confidence"),
                }
            )
        elif kind == "slot":
            name = data.get("name")
            value = data.get("value")
            if name == "requested_slot":
                requested = value
                continue
            if value is None:
                continue  # the form clearing its slots is noise in a transcript
            items.append({"kind": "slot", "at": when, "name": name, "value": show(value)})
        elif kind == "active_loop":
            form_active = bool(data.get("name"))
            items.append({"kind": "form", "at": when, "name": data.get("name")})
        elif kind == "session_started":
            items.append({"kind": "session", "at": when})
    return items
