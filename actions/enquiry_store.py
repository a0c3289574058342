"""The enquiries database: callback enquiries and the outbox of staff notifications.

SQLAlchemy Core with a synchronous engine (SQLite by default, PostgreSQL when
``ENQUIRY_DB_URL`` names one). Actions call the ``a``-prefixed coroutines, which run
the blocking database work in a worker thread (``asyncio.to_thread``) so that the
action server's event loop never waits on the database.

Writing is idempotent: each submission carries a key derived from the conversation
and the confirming message, and a retried action finds the row it already wrote.
An enquiry and its outbox rows are written in one transaction, so a notification is
never lost even if sending it fails or the process stops.

Nothing here logs a personal detail: log lines name enquiries by id and reference.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError

logger = logging.getLogger(__name__)

STATUS_NEW = "new"
OUTBOX_PENDING = "pending"
OUTBOX_SENT = "sent"
REFERENCE_PREFIX = "KY-"
# No 0/O, 1/I/L: a reference is read out over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 6

metadata = MetaData()

enquiries = Table(
    "enquiries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("channel", String(64)),
    Column("conversation_id", String(255)),
    Column("full_name", String(100), nullable=False),
    Column("phone_e164", String(16), nullable=False),
    Column("email", String(254)),
    Column("hospital", String(200), nullable=False),
    Column("enquiry_aim", String(32), nullable=False),
    Column("call_time", String(16), nullable=False),
    Column("status", String(16), nullable=False, default=STATUS_NEW),
    Column("consent_at", DateTime(timezone=True), nullable=False),
)

outbox = Table(
    "enquiry_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "enquiry_id",
        Integer,
        ForeignKey("enquiries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("notifier", String(16), nullable=False),
    Column("status", String(16), nullable=False, default=OUTBOX_PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    # An exception class or HTTP status, never a message that could quote the enquiry.
    Column("last_error", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, index=True),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint(
        "enquiry_id", "notifier", name="uq_enquiry_outbox_enquiry_notifier"
    ),
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: Optional[datetime]) -> Optional[datetime]:
    """SQLite hands back naive datetimes; everything here is stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def new_reference() -> str:
    """A short reference a person can read out: KY-7F3K2Q."""
    return REFERENCE_PREFIX + "".join(
        secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH)
    )


def idempotency_key(conversation_id: str, confirmed_at: Any) -> str:
    """One key per confirmed submission: the conversation plus the confirming message's time."""
    return hashlib.sha256(
        f"{conversation_id}|{confirmed_at}".encode("utf-8")
    ).hexdigest()


@dataclass(frozen=True)
class NewEnquiry:
    idempotency_key: str
    channel: Optional[str]
    conversation_id: Optional[str]
    full_name: str
    phone_e164: str
    email: Optional[str]
    hospital: str
    enquiry_aim: str
    call_time: str
    consent_at: datetime


@dataclass(frozen=True)
class Submitted:
    id: int
    reference: str
    created: bool  # False when the key had been seen before (a retried action)


@dataclass(frozen=True)
class PendingNotification:
    outbox_id: int
    notifier: str
    attempts: int
    enquiry: Dict[str, Any]


def make_engine(url: str) -> Engine:
    """An engine whose SQLite connections may move between worker threads (the store
    and the staff console both run their queries in threads)."""
    parsed = make_url(url)
    kwargs: Dict[str, Any] = {"future": True, "pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 10}
    return create_engine(url, **kwargs)


class EnquiryStore:
    """Blocking database access; use the ``a``-prefixed coroutines from async code."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url)
        metadata.create_all(self.engine)

    # ------------------------------------------------------------ enquiries

    def submit(
        self,
        enquiry: NewEnquiry,
        notifiers: Sequence[str] = (),
        now: Optional[datetime] = None,
        reference: Optional[str] = None,
    ) -> Submitted:
        """Store an enquiry and one outbox row per notifier, exactly once per key.

        ``reference`` keeps the one already given to the patient (a spooled enquiry);
        another is drawn only if it is taken.
        """
        now = now or utcnow()
        existing = self._by_key(enquiry.idempotency_key)
        if existing:
            logger.info(
                "Enquiry %s was already stored (id %s); not storing it again",
                existing.reference,
                existing.id,
            )
            return existing
        for attempt in range(5):
            reference = reference if (reference and attempt == 0) else new_reference()
            try:
                with self.engine.begin() as connection:
                    enquiry_id = connection.execute(
                        insert(enquiries).values(
                            reference=reference,
                            created_at=now,
                            status=STATUS_NEW,
                            **asdict(enquiry),
                        )
                    ).inserted_primary_key[0]
                    for notifier in notifiers:
                        connection.execute(
                            insert(outbox).values(
                                enquiry_id=enquiry_id,
                                notifier=notifier,
                                status=OUTBOX_PENDING,
                                attempts=0,
                                created_at=now,
                                next_attempt_at=now,
                            )
                        )
            except IntegrityError:
                existing = self._by_key(enquiry.idempotency_key)
                if existing:  # the same submission, written by a concurrent retry
                    return existing
                continue  # the reference was taken: draw another
            logger.info("Stored enquiry %s (id %s)", reference, enquiry_id)
            return Submitted(enquiry_id, reference, True)
        raise RuntimeError("could not draw an unused enquiry reference")

    def _by_key(self, key: str) -> Optional[Submitted]:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(enquiries.c.id, enquiries.c.reference).where(
                    enquiries.c.idempotency_key == key
                )
            ).first()
        return Submitted(row.id, row.reference, False) if row else None

    def get(self, reference: str) -> Optional[Dict[str, Any]]:
        """One enquiry as a dict, by its reference."""
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(enquiries).where(enquiries.c.reference == reference)
                )
                .mappings()
                .first()
            )
        return self._enquiry_dict(row) if row else None

    def count(self) -> int:
        with self.engine.connect() as connection:
            return len(connection.execute(select(enquiries.c.id)).all())

    @staticmethod
    def _enquiry_dict(row: Any) -> Dict[str, Any]:
        data = dict(row)
        for key in ("created_at", "consent_at"):
            data[key] = _aware(data.get(key))
        return data

    def purge_expired(self, retention_days: int, now: Optional[datetime] = None) -> int:
        """Delete enquiries (and their outbox rows) older than the retention period."""
        cutoff = (now or utcnow()) - timedelta(days=retention_days)
        with self.engine.begin() as connection:
            old_ids = [
                row.id
                for row in connection.execute(
                    select(enquiries.c.id).where(enquiries.c.created_at < cutoff)
                )
            ]
            if not old_ids:
                return 0
            connection.execute(delete(outbox).where(outbox.c.enquiry_id.in_(old_ids)))
            connection.execute(delete(enquiries).where(enquiries.c.id.in_(old_ids)))
        logger.info(
            "Deleted %d enquiries older than %d days", len(old_ids), retention_days
        )
        return len(old_ids)

    # ------------------------------------------------------------ outbox

    def due_notifications(
        self, now: Optional[datetime] = None, limit: int = 50
    ) -> List[PendingNotification]:
        """Outbox rows waiting to be sent whose next attempt is due, oldest first."""
        now = now or utcnow()
        query = (
            select(outbox.c.id, outbox.c.notifier, outbox.c.attempts, enquiries)
            .join(enquiries, enquiries.c.id == outbox.c.enquiry_id)
            .where(outbox.c.status == OUTBOX_PENDING, outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        result = []
        for row in rows:
            enquiry = self._enquiry_dict(
                {column.name: row[column] for column in enquiries.c}
            )
            result.append(
                PendingNotification(
                    row[outbox.c.id],
                    row[outbox.c.notifier],
                    row[outbox.c.attempts],
                    enquiry,
                )
            )
        return result

    def outbox_rows(self, enquiry_id: Optional[int] = None) -> List[Dict[str, Any]]:
        query = select(outbox).order_by(outbox.c.id)
        if enquiry_id is not None:
            query = query.where(outbox.c.enquiry_id == enquiry_id)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def mark_sent(self, outbox_id: int, now: Optional[datetime] = None) -> None:
        now = now or utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(
                    status=OUTBOX_SENT,
                    sent_at=now,
                    attempts=outbox.c.attempts + 1,
                    last_error=None,
                )
            )

    def mark_failed(
        self, outbox_id: int, error: str, next_attempt_at: datetime
    ) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(
                    attempts=outbox.c.attempts + 1,
                    last_error=error[:200],
                    next_attempt_at=next_attempt_at,
                )
            )

    # ------------------------------------------------------------ async wrappers

    async def asubmit(
        self,
        enquiry: NewEnquiry,
        notifiers: Sequence[str] = (),
        reference: Optional[str] = None,
    ) -> Submitted:
        return await asyncio.to_thread(self.submit, enquiry, notifiers, None, reference)

    async def adue_notifications(self, limit: int = 50) -> List[PendingNotification]:
        return await asyncio.to_thread(self.due_notifications, None, limit)

    async def amark_sent(self, outbox_id: int) -> None:
        await asyncio.to_thread(self.mark_sent, outbox_id)

    async def amark_failed(
        self, outbox_id: int, error: str, next_attempt_at: datetime
    ) -> None:
        await asyncio.to_thread(self.mark_failed, outbox_id, error, next_attempt_at)

    async def apurge_expired(self, retention_days: int) -> int:
        return await asyncio.to_thread(self.purge_expired, retention_days)


def database_exists(url: str) -> bool:
    """False only for a SQLite file that has not been created yet (no enquiry so far)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (
        None,
        "",
        ":memory:",
    ):
        return True
    return Path(parsed.database).exists()


@lru_cache(maxsize=4)
def store_for(url: str) -> EnquiryStore:
    """One store (and connection pool) per database URL in this process."""
    return EnquiryStore(url)
