"""Database engines and the console's own tables.

SQLAlchemy Core only, so that every query runs on SQLite and PostgreSQL alike.
Rasa's ``events`` table and the enquiries table belong to others: they are described
here for reading (and, for purge and erase, deleting rows) but never created or
altered. The console's tables live in the console database.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy import (
    Boolean,
    Column,
    DDL,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.engine import Engine

from actions.enquiry_store import make_engine

logger = logging.getLogger(__name__)


@lru_cache(maxsize=16)
def engine_for(url: str) -> Engine:
    """One engine (and pool) per URL in this process."""
    return make_engine(url)


def has_table(engine: Engine, name: str) -> bool:
    return inspect(engine).has_table(name)


# ---------------------------------------------------------------- Rasa's tables (read)

# Exactly the columns of rasa.core.tracker_store.SQLTrackerStore.SQLEvent.
rasa_metadata = MetaData()
events = Table(
    "events",
    rasa_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

# ---------------------------------------------------------------- the console's tables

metadata = MetaData()

staff_users = Table(
    "console_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

staff_sessions = Table(
    "console_sessions",
    metadata,
    # sha256 of the cookie's token: a leaked table does not log anyone in.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

login_failures = Table(
    "console_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),  # "account" or "address"
    Column("key", String(255), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_console_login_failures_kind_key_at", "kind", "key", "at"),
)

audit_log = Table(
    "console_audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(255), nullable=False, default=""),
    Column("detail", Text, nullable=False, default="{}"),
    # Each row carries the previous row's hash; the unique constraint means two
    # writers can never both extend the chain from the same row.
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("prev_hash", name="uq_console_audit_log_prev_hash"),
)

enquiry_status = Table(
    "console_enquiry_status",
    metadata,
    # The id of a row in the enquiries table (another database, so no foreign key).
    Column("enquiry_id", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("notes", Text, nullable=False, default=""),
    Column("updated_by", String(100), nullable=False),
    Column("updated_at", Float, nullable=False),
)

enquiry_history = Table(
    "console_enquiry_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enquiry_id", Integer, nullable=False, index=True),
    Column("old_status", String(16)),
    Column("new_status", String(16), nullable=False),
    Column("notes_changed", Boolean, nullable=False, default=False),
    Column("changed_by", String(100), nullable=False),
    Column("changed_at", Float, nullable=False),
)

nlu_reviews = Table(
    "console_nlu_reviews",
    metadata,
    Column("text_key", String(255), primary_key=True),
    # The example as it is exported: personal details already stripped.
    Column("example", Text, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("label", String(255)),
    Column("predicted", String(255)),
    Column("reviewed_by", String(100), nullable=False),
    Column("reviewed_at", Float, nullable=False),
)

# A summary per conversation (sender), rebuilt from the tracker for every sender
# that has new events, so that the list is one indexed query however long the
# conversations are.
conversation_summary = Table(
    "console_conversations",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("started_at", Float, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("channel", String(64)),
    Column("user_messages", Integer, nullable=False, default=0),
    Column("fallback", Boolean, nullable=False, default=False),
    Column("urgent", Boolean, nullable=False, default=False),
    Column("handover", Boolean, nullable=False, default=False),
    Column("enquiry", Boolean, nullable=False, default=False),
    Column("min_confidence", Float),
    Column("last_event_id", Integer, nullable=False),
    Index("ix_console_conversations_started", "started_at", "sender_id"),
    Index("ix_console_conversations_channel", "channel", "started_at"),
)

# One row per user message: the overview's counts, the intent filter, the text
# search and the NLU inbox all read this instead of parsing event JSON.
user_messages = Table(
    "console_user_messages",
    metadata,
    Column("event_id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("timestamp", Float, nullable=False, index=True),
    Column("text", Text, nullable=False, default=""),
    Column("text_key", String(255), nullable=False, index=True),
    Column("intent", String(255), index=True),
    # The retrieval sub-intent (procedure/duration) when the response selector gave
    # one; for a fallback, the intent the classifier ranked first after it.
    Column("full_intent", String(255), index=True),
    Column("confidence", Float),
    Column("in_form", Boolean, nullable=False, default=False),
)

summary_state = Table(
    "console_summary_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

# The audit log refuses UPDATE and DELETE in the database itself, not only in code.
_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS console_audit_no_update BEFORE UPDATE ON "
        "console_audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS console_audit_no_delete BEFORE DELETE ON "
        "console_audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION console_audit_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS console_audit_append_only ON console_audit_log",
        "CREATE TRIGGER console_audit_append_only BEFORE UPDATE OR DELETE ON "
        "console_audit_log FOR EACH ROW EXECUTE FUNCTION console_audit_append_only()",
    ],
}


def create_console_tables(engine: Engine) -> None:
    """Create the console's tables and the audit log's append-only triggers."""
    metadata.create_all(engine)
    statements = _APPEND_ONLY.get(engine.dialect.name, [])
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(DDL(statement))


@lru_cache(maxsize=16)
def console_engine(url: str) -> Engine:
    """The console database's engine, with its tables created once per process."""
    engine = engine_for(url)
    create_console_tables(engine)
    return engine

