"""Tells staff about new callback enquiries: email over SMTP and/or a JSON webhook.

The enquiry store writes one outbox row per configured notifier in the same
transaction as the enquiry, so a notification cannot be lost. This module sends what
is due in the outbox: straight after a submission (in the background, so the patient's
reply never waits on a mail server), again on every later submission, and from a
periodic retry loop in the action server. A failure only reschedules the row with a
growing delay; it is logged by enquiry id, notifier and error class, never with the
enquiry's contents.

Delivery is at least once: a receiver may see a notification twice (for example if
the process stops between sending and recording it) and can use ``reference`` to
drop duplicates.

Run ``python -m actions.notifier`` to send whatever is due once (e.g. from cron).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any, Dict, Optional, Set, Tuple

import aiohttp

from actions.enquiry_fields import (
    CALL_TIMES,
    ENQUIRY_AIMS,
    NO_EMAIL,
    choice_title,
    format_uk_phone,
)
from actions.enquiry_store import (
    EnquiryStore,
    PendingNotification,
    database_exists,
    store_for,
)
from actions.settings import Settings, settings

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600.0
PURGE_EVERY_SECONDS = 3600.0


class NotificationError(Exception):
    """A notifier could not deliver; the message says why without personal details."""


def _iso(value: Optional[datetime]) -> Optional[str]:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def notification_payload(
    enquiry: Dict[str, Any], include_contact: bool
) -> Dict[str, Any]:
    """What staff are told. Contact details only when the settings allow it."""
    payload: Dict[str, Any] = {
        "event": "enquiry.created",
        "reference": enquiry["reference"],
        "created_at": _iso(enquiry.get("created_at")),
        "status": enquiry.get("status"),
        "hospital": enquiry.get("hospital"),
        "enquiry_aim": enquiry.get("enquiry_aim"),
        "enquiry_aim_label": choice_title(enquiry.get("enquiry_aim"), ENQUIRY_AIMS),
        "call_time": enquiry.get("call_time"),
        "channel": enquiry.get("channel"),
    }
    if include_contact:
        email = enquiry.get("email")
        payload["contact"] = {
            "full_name": enquiry.get("full_name"),
            "phone": format_uk_phone(enquiry.get("phone_e164") or ""),
            "phone_e164": enquiry.get("phone_e164"),
            "email": None if email in (None, NO_EMAIL) else email,
            "conversation_id": enquiry.get("conversation_id"),
        }
    return payload


def email_message(
    payload: Dict[str, Any], sender: str, recipients: Tuple[str, ...]
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"New callback enquiry {payload['reference']}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    lines = [
        f"A new callback enquiry has been made through the assistant: {payload['reference']}.",
        "",
        f"Hospital: {payload['hospital']}",
        f"Reason for the call: {payload['enquiry_aim_label']}",
        f"Best time to call: {choice_title(payload['call_time'], CALL_TIMES)}",
        f"Received: {payload['created_at']}",
    ]
    contact = payload.get("contact")
    if contact:
        lines += [
            "",
            f"Name: {contact['full_name']}",
            f"Phone: {contact['phone']}",
            f"Email: {contact['email'] or 'none given'}",
        ]
    else:
        lines += [
            "",
            "The caller's details are in the enquiries database under this reference.",
        ]
    message.set_content("\n".join(lines) + "\n")
    return message


def _send_email_blocking(config: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(
        config.smtp_host, config.smtp_port, timeout=config.notify_timeout_seconds
    ) as smtp:
        if config.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if config.smtp_user:
            smtp.login(config.smtp_user, config.smtp_password)
        smtp.send_message(message)


async def send_email(config: Settings, payload: Dict[str, Any]) -> None:
    message = email_message(payload, config.smtp_from, config.smtp_to)
    try:
        await asyncio.to_thread(_send_email_blocking, config, message)
    except (smtplib.SMTPException, OSError) as exc:
        raise NotificationError(type(exc).__name__) from None


async def send_webhook(config: Settings, payload: Dict[str, Any]) -> None:
    headers = {"Content-Type": "application/json"}
    if config.webhook_token:
        headers["Authorization"] = f"Bearer {config.webhook_token}"
    timeout = aiohttp.ClientTimeout(total=config.notify_timeout_seconds)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(
                config.webhook_url, json=payload, headers=headers
            ) as response:
                if not 200 <= response.status < 300:
                    raise NotificationError(f"HTTP {response.status}")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise NotificationError(type(exc).__name__) from None


SENDERS = {"email": send_email, "webhook": send_webhook}


def backoff(attempts: int, base_seconds: float) -> float:
    """Seconds to wait before the next try after ``attempts`` failed ones."""
    return min(max(base_seconds, 1.0) * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


class OutboxWorker:
    """Sends due outbox rows; one per database and process."""

    def __init__(self, store: EnquiryStore, config: Settings) -> None:
        self.store = store
        self.config = config
        self._lock: Optional[asyncio.Lock] = None
        self._loop_task: Optional["asyncio.Task[None]"] = None
        self._tasks: Set["asyncio.Task[Any]"] = set()
        self._last_purge: Optional[datetime] = None

    async def deliver_due(self) -> Tuple[int, int]:
        """Try every due notification once. Returns (sent, failed)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one delivery round at a time, so nothing is sent twice
            sent = failed = 0
            for item in await self.store.adue_notifications():
                if await self._deliver(item):
                    sent += 1
                else:
                    failed += 1
            return sent, failed

    async def _deliver(self, item: PendingNotification) -> bool:
        sender = SENDERS.get(item.notifier)
        reference = item.enquiry["reference"]
        try:
            if sender is None:
                raise NotificationError(f"unknown notifier {item.notifier!r}")
            payload = notification_payload(
                item.enquiry, self.config.notify_contact_details
            )
            await sender(self.config, payload)
        except Exception as exc:  # any failure keeps the row for the next round
            reason = (
                str(exc) if isinstance(exc, NotificationError) else type(exc).__name__
            )
            attempts = item.attempts + 1
            next_at = datetime.now(timezone.utc) + timedelta(
                seconds=backoff(attempts, self.config.outbox_retry_seconds)
            )
            logger.warning(
                "Could not notify staff of enquiry %s by %s (attempt %d): %s; kept in the outbox",
                reference,
                item.notifier,
                attempts,
                reason,
            )
            await self.store.amark_failed(item.outbox_id, reason, next_at)
            return False
        await self.store.amark_sent(item.outbox_id)
        logger.info("Notified staff of enquiry %s by %s", reference, item.notifier)
        return True

    def deliver_soon(self) -> None:
        """Send what is due in the background, without making the caller wait."""
        task = asyncio.get_running_loop().create_task(self._deliver_logged())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_logged(self) -> None:
        try:
            await self.deliver_due()
        except Exception as exc:
            logger.error("Sending staff notifications failed: %s", type(exc).__name__)

    def ensure_retry_loop(self) -> None:
        """Start the periodic retry (and expiry) loop on the running event loop, once."""
        loop = asyncio.get_running_loop()
        task = self._loop_task
        if task is not None and not task.done() and task.get_loop() is loop:
            return
        self._loop_task = loop.create_task(self._retry_forever())

    async def _retry_forever(self) -> None:
        while True:
            await self._deliver_logged()
            await self._purge_if_due()
            await asyncio.sleep(self.config.outbox_retry_seconds)

    async def _purge_if_due(self) -> None:
        now = datetime.now(timezone.utc)
        if (
            self._last_purge
            and (now - self._last_purge).total_seconds() < PURGE_EVERY_SECONDS
        ):
            return
        self._last_purge = now
        try:
            await self.store.apurge_expired(self.config.retention_days)
        except Exception as exc:
            logger.error("Deleting expired enquiries failed: %s", type(exc).__name__)


_workers: Dict[str, OutboxWorker] = {}


async def outbox_worker(config: Optional[Settings] = None) -> OutboxWorker:
    """The worker for the configured database, creating the store off the event loop."""
    config = config or settings()
    worker = _workers.get(config.db_url)
    if worker is None:
        store = await asyncio.to_thread(store_for, config.db_url)
        worker = _workers.setdefault(config.db_url, OutboxWorker(store, config))
    return worker


_starting: Dict[str, "asyncio.Task[None]"] = {}


def start_retry_in_background(config: Optional[Settings] = None) -> None:
    """Make sure the periodic retry runs, without waiting for the database.

    Called by the enquiry actions; the first call in a process opens the store in the
    background, so a slow or unreachable database never holds up a reply.
    """
    config = config or settings()
    worker = _workers.get(config.db_url)
    if worker is not None:
        worker.ensure_retry_loop()
        return
    if not database_exists(config.db_url):
        return  # nothing stored yet, so nothing to retry or expire; the first submit creates it
    pending = _starting.get(config.db_url)
    if pending is not None and not pending.done():
        return

    async def start() -> None:
        try:
            (await outbox_worker(config)).ensure_retry_loop()
        except Exception as exc:  # the next action call tries again
            logger.error(
                "Could not open the enquiries database: %s", type(exc).__name__
            )

    _starting[config.db_url] = asyncio.get_running_loop().create_task(start())


async def _main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    worker = await outbox_worker()
    sent, failed = await worker.deliver_due()
    print(f"sent {sent}, failed {failed}")


if __name__ == "__main__":
    asyncio.run(_main())
