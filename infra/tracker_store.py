"""Rasa's SQL tracker store on the database that ``TRACKER_STORE_URL`` names.

endpoints.yml says ``tracker_store: type: infra.tracker_store.EnvTrackerStore``, so
one file serves a laptop (SQLite under var/, the default) and a hospital's cluster
(PostgreSQL, shared by every Rasa instance). Compared with Rasa's ``SQLTrackerStore``:

- The database work runs in a worker thread, so a slow query or a database that is
  restarting never stops the event loop (other conversations, the health check).
- Connections are checked before use (``pool_pre_ping``), so the first message after
  a PostgreSQL restart reconnects instead of failing on a dead pooled connection; a
  failed read or write is retried once.
- The pool is small (Rasa's is 50 + 100 overflow per instance, more than PostgreSQL's
  default 100 connections allows for two instances).
- A failure that remains is raised, and ``infra.failures`` makes sure Rasa answers it
  with a clear message instead of keeping the conversation in memory.

Saving stays Rasa's own logic: it stores the events past those already in the
database, so a retried save after a lost acknowledgement adds nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Text, TypeVar

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from infra import failures
from infra.settings import load_settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_PAUSE_SECONDS = 0.3
STORE = "tracker store"
# Per instance: enough for the worker threads that run the queries.
POOL_SIZE = 5
MAX_OVERFLOW = 10
CONNECT_TIMEOUT_SECONDS = 5


def engine_options(url: str) -> dict:
    options = dict(create_engine_kwargs(url))
    options["pool_pre_ping"] = True
    if options.get("pool_size") is not None:  # PostgreSQL
        options["pool_size"] = POOL_SIZE
        options["max_overflow"] = MAX_OVERFLOW
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        options["connect_args"] = connect_args
    return options


def shown_url(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


class EnvTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` on ``TRACKER_STORE_URL`` (default SQLite, var/tracker.db)."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        failures.install()
        settings = load_settings()
        url = settings.tracker_store_url
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        logger.info("Tracker store: %s", shown_url(url))
        # A full URL in `host` is used as it is by SQLTrackerStore.get_db_url; it
        # waits (retrying every 5 s) until the database answers, then creates tables.
        super().__init__(domain=domain, host=url, event_broker=event_broker)
        self.engine.dispose()
        self.engine = sa.create_engine(url, **engine_options(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    # -- the four operations Rasa calls, each off the event loop

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._in_thread(self._retrieve_now, sender_id, False)

    async def retrieve_full_tracker(
        self, conversation_id: Text
    ) -> Optional[DialogueStateTracker]:
        return await self._in_thread(self._retrieve_now, conversation_id, True)

    async def keys(self) -> Iterable[Text]:
        return await self._in_thread(self._keys_now)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        await self._in_thread(self._save_now, tracker)

    async def ping(self) -> None:
        """Raises if the database does not answer; for the readiness check."""
        await asyncio.to_thread(self._ping_now)

    def _ping_now(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    # -- helpers

    async def _in_thread(self, work: Callable[..., T], *args: Any) -> T:
        try:
            result = await asyncio.to_thread(self._with_one_retry, work, *args)
        except Exception as error:
            failures.health.failed(STORE, error)
            raise
        failures.health.ok(STORE)
        return result

    @staticmethod
    def _with_one_retry(work: Callable[..., T], *args: Any) -> T:
        try:
            return work(*args)
        except sa.exc.DBAPIError as error:
            logger.warning(
                "Tracker store operation failed (%s); retrying once.",
                failures.describe(error),
            )
            time.sleep(RETRY_PAUSE_SECONDS)
            return work(*args)

    # The bodies below are SQLTrackerStore's own (Rasa 3.6), made synchronous so that
    # they can run in a worker thread.

    def _retrieve_now(
        self, sender_id: Text, all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=all_sessions
            ).all()
            events = [json.loads(row.data) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _keys_now(self) -> Iterable[Text]:
        with self.session_scope() as session:
            rows = session.query(self.SQLEvent.sender_id).distinct().all()
            return [sender_id for (sender_id,) in rows]

    def _save_now(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {})
                        .get("intent", {})
                        .get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
