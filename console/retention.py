"""Deleting conversations: past the retention period (purge), or one person's (erase).

Both delete Rasa's events, the console's summaries of them, and (erase) the
person's enquiries with their outbox rows and console status; both write one audit
entry that counts what went, with fingerprints in place of phone numbers or emails.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from actions.enquiry_fields import normalise_uk_phone, parse_email
from actions.enquiry_store import enquiries, outbox
from console import audit
from console.db import enquiry_history, enquiry_status, events, has_table, nlu_reviews, user_messages
from console.masking import EMAIL_RE, PHONE_RE, digits
from console.security import fingerprint
from console.tracker import forget, rewind

BATCH = 500


class EraseError(ValueError):
    """An erase request that cannot be carried out as given; the message says why."""


@dataclass
class Removed:
    conversations: List[str] = field(default_factory=list)
    events: int = 0
    enquiries: int = 0

    def as_dict(self) -> Dict[str, int]:
        return {
            "conversations": len(self.conversations),
            "events": self.events,
            "enquiries": self.enquiries,
        }


def _delete_events(tracker: Engine, senders: Sequence[str]) -> int:
    removed = 0
    if not senders or not has_table(tracker, "events"):
        return 0
    with tracker.begin() as connection:
        for start in range(0, len(senders), BATCH):
            chunk = list(senders[start : start + BATCH])
            removed += connection.execute(
                delete(events).where(events.c.sender_id.in_(chunk))
            ).rowcount
    return removed


def _delete_enquiries(enquiry_db: Engine, console: Engine, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    with enquiry_db.begin() as connection:
        connection.execute(delete(outbox).where(outbox.c.enquiry_id.in_(list(ids))))
        removed = connection.execute(delete(enquiries).where(enquiries.c.id.in_(list(ids)))).rowcount
    with console.begin() as connection:
        connection.execute(delete(enquiry_status).where(enquiry_status.c.enquiry_id.in_(list(ids))))
        connection.execute(delete(enquiry_history).where(enquiry_history.c.enquiry_id.in_(list(ids))))
    return removed


def _forget_reviews(console: Engine, senders: Sequence[str]) -> None:
    """Reviewed examples that came only from these conversations go too."""
    with console.connect() as connection:
        keys = {
            row[0]
            for start in range(0, len(senders), BATCH)
            for row in connection.execute(
                select(user_messages.c.text_key).where(
                    user_messages.c.sender_id.in_(list(senders[start : start + BATCH]))
                )
            )
        }
    if not keys:
        return
    forget(console, list(senders))
    with console.connect() as connection:
        still_used = {
            row[0]
            for row in connection.execute(
                select(user_messages.c.text_key).where(user_messages.c.text_key.in_(list(keys)))
            )
        }
    gone = list(keys - still_used)
    if gone:
        with console.begin() as connection:
            connection.execute(delete(nlu_reviews).where(nlu_reviews.c.text_key.in_(gone)))


def purge(
    tracker: Engine, console: Engine, older_than_days: int, actor: str, now: Optional[float] = None
) -> Removed:
    """Delete every conversation whose last event is older than the period."""
    if older_than_days < 1:
        raise EraseError("--older-than must be at least 1 day")
    cutoff = (now or time.time()) - older_than_days * 86400
    result = Removed()
    if has_table(tracker, "events"):
        with tracker.connect() as connection:
            result.conversations = [
                row[0]
                for row in connection.execute(
                    select(events.c.sender_id)
                    .group_by(events.c.sender_id)
                    .having(func.max(events.c.timestamp) < cutoff)
                )
            ]
    result.events = _delete_events(tracker, result.conversations)
    _forget_reviews(console, result.conversations)
    forget(console, result.conversations)
    if result.events:
        rewind(tracker, console)
    audit.record(
        console, actor, "purge", f"older than {older_than_days} days",
        {"older_than_days": older_than_days, **result.as_dict()},
    )
    return result


def _senders_mentioning(tracker: Engine, phone: Optional[str], email: Optional[str]) -> Set[str]:
    """Conversations whose events hold the phone (in any spelling) or the email."""
    if not has_table(tracker, "events"):
        return set()
    found: Set[str] = set()
    if phone:
        national = phone[3:]  # +44 7700900123 -> 7700900123
        # A cheap prefilter on the last digits (people group the rest in many
        # ways), then an exact check of every number in each matching event.
        tail = national[-3:]
        query = select(events.c.sender_id, events.c.data).where(events.c.data.like(f"%{tail}%"))
    else:
        query = select(events.c.sender_id, events.c.data).where(
            events.c.data.ilike(f"%{email}%")
        )
    with tracker.connect() as connection:
        for sender_id, data in connection.execute(query):
            if sender_id in found:
                continue
            text = _strings(data)
            if phone and any(
                normalise_uk_phone(candidate) == phone or digits(candidate).endswith(national)
                for candidate in PHONE_RE.findall(text)
                if len(digits(candidate)) >= 9
            ):
                found.add(sender_id)
            elif email and any(m.lower() == email.lower() for m in EMAIL_RE.findall(text)):
                found.add(sender_id)
    return found


def _strings(data: Optional[str]) -> str:
    try:
        parsed = json.loads(data or "{}")
    except ValueError:
        return data or ""
    out: List[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(parsed)
    return "\n".join(out)


def erase(
    tracker: Engine,
    enquiry_db: Engine,
    console: Engine,
    secret: str,
    actor: str,
    conversation: Optional[str] = None,
    phone: Optional[str] = None,
    email: Optional[str] = None,
) -> Removed:
    """Remove every event and enquiry of one conversation, phone number or email."""
    given = [value for value in (conversation, phone, email) if value]
    if len(given) != 1:
        raise EraseError("give exactly one of --conversation, --phone or --email")
    senders: Set[str] = set()
    enquiry_ids: Set[int] = set()
    if phone:
        phone = normalise_uk_phone(phone)
        if not phone:
            raise EraseError("that is not a UK phone number (for example 07700 900123)")
        kind, target = "phone", phone
    elif email:
        parsed = parse_email(email)
        if not parsed or parsed == "none":
            raise EraseError("that is not an email address")
        email = parsed
        kind, target = "email", email
    else:
        kind, target = "conversation", conversation.strip()
        senders.add(target)
    if has_table(enquiry_db, "enquiries"):
        c = enquiries.c
        condition = (
            c.phone_e164 == phone if phone
            else (c.email == email) if email
            else c.conversation_id == target
        )
        with enquiry_db.connect() as connection:
            for enquiry_id, conversation_id in connection.execute(
                select(c.id, c.conversation_id).where(condition)
            ):
                enquiry_ids.add(enquiry_id)
                if conversation_id:
                    senders.add(conversation_id)
    if phone or email:
        senders |= _senders_mentioning(tracker, phone, email)
    result = Removed(conversations=sorted(senders))
    result.events = _delete_events(tracker, result.conversations)
    result.enquiries = _delete_enquiries(enquiry_db, console, sorted(enquiry_ids))
    _forget_reviews(console, result.conversations)
    forget(console, result.conversations)
    if result.events:
        rewind(tracker, console)
    audit.record(
        console, actor, "erase", f"{kind}:{fingerprint(secret, target)}",
        {"by": kind, **result.as_dict()},
    )
    return result


