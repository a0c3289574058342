"""Enquiries the database could not take yet, kept on the action server's disk.

When the enquiries database is down at the moment a patient confirms, the enquiry is
written here (one JSON file each, readable only by the server's user) and the patient
is told it will be passed on, with its reference. A background loop stores spooled
enquiries as soon as the database answers again; the idempotency key makes a repeat
harmless, so an enquiry is stored exactly once however often the loop runs.

In a container the spool directory must be a persistent volume (docs/deployment.md).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from actions.enquiry_store import EnquiryStore, NewEnquiry, store_for

logger = logging.getLogger(__name__)


class EnquirySpool:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def put(self, enquiry: NewEnquiry, reference: str) -> Path:
        """Write one enquiry atomically (a crash leaves the old state or the new one)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        record = asdict(enquiry)
        record["consent_at"] = enquiry.consent_at.isoformat()
        body = json.dumps({"reference": reference, "enquiry": record})
        target = self.directory / f"{enquiry.idempotency_key}.json"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        logger.warning("Enquiry %s spooled: the enquiries database is unavailable", reference)
        return target

    def pending(self) -> List[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("[!.]*.json"))

    @staticmethod
    def load(path: Path) -> Tuple[NewEnquiry, str]:
        data = json.loads(path.read_text(encoding="utf-8"))
        record: Dict = dict(data["enquiry"])
        record["consent_at"] = datetime.fromisoformat(record["consent_at"])
        return NewEnquiry(**record), data["reference"]

    def drain(self, store: EnquiryStore, notifiers: Sequence[str]) -> int:
        """Store every spooled enquiry; stops at the first database error (raised)."""
        stored = 0
        for path in self.pending():
            try:
                enquiry, reference = self.load(path)
            except (ValueError, KeyError, TypeError) as exc:
                # Never delete what we cannot read: set it aside for a person to look at.
                path.rename(path.with_suffix(".unreadable"))
                logger.error("Spooled enquiry file set aside, unreadable: %s", type(exc).__name__)
                continue
            result = store.submit(enquiry, notifiers, reference=reference)
            path.unlink()
            stored += 1
            logger.info("Spooled enquiry %s stored", result.reference)
        return stored


class SpoolRetry:
    """Drains the spool in the background, every ``interval`` seconds, once per process."""

    def __init__(self, spool: EnquirySpool, db_url: str, interval: float) -> None:
        self.spool = spool
        self.db_url = db_url
        self.interval = interval
        self._task: Optional["asyncio.Task[None]"] = None

    def ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._task
        if task is not None and not task.done() and task.get_loop() is loop:
            return
        self._task = loop.create_task(self._run())

    async def drain_once(self, notifiers: Sequence[str]) -> int:
        if not self.spool.pending():
            return 0
        store = await asyncio.to_thread(store_for, self.db_url)
        return await asyncio.to_thread(self.spool.drain, store, notifiers)

    async def _run(self) -> None:
        from actions.notifier import outbox_worker  # the notifier imports settings late too
        from actions.settings import settings

        while self.spool.pending():
            config = settings()
            try:
                if await self.drain_once(config.notifiers) and config.notifiers:
                    (await outbox_worker(config)).deliver_soon()
            except Exception as exc:  # the database is still down: try again later
                logger.warning("Enquiry spool: database still unavailable (%s)", type(exc).__name__)
            await asyncio.sleep(self.interval)


_retries: Dict[str, SpoolRetry] = {}


def spool_retry(directory: Path, db_url: str, interval: float) -> SpoolRetry:
    key = f"{directory}|{db_url}"
    if key not in _retries:
        _retries[key] = SpoolRetry(EnquirySpool(directory), db_url, interval)
    return _retries[key]
