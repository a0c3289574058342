"""The numbers behind the overview page, from the console's summary tables."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Dict, List

from sqlalchemy import select
from sqlalchemy.engine import Engine

from console.db import conversation_summary, user_messages
from console.enquiries import counts_by_day

PERIODS = (7, 30, 90, 365)
CONFIDENCE_BINS = 10


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def days_between(since: float, now: float) -> List[str]:
    days, ts = [], since
    while ts <= now:
        days.append(_day(ts))
        ts += 86400
    if _day(now) not in days:
        days.append(_day(now))
    return days


def overview(console: Engine, enquiry_db: Engine, days: int, now: float = 0.0) -> Dict[str, Any]:
    now = now or time.time()
    # Whole days: from the start of the first day in the period.
    since = (int(now // 86400) - days + 1) * 86400.0
    labels = days_between(since, now)
    conversations = Counter()
    messages = Counter()
    total = fallback = handover = urgent = with_enquiry = 0
    with console.connect() as connection:
        for started, fb, ho, ur, enq in connection.execute(
            select(
                conversation_summary.c.started_at, conversation_summary.c.fallback,
                conversation_summary.c.handover, conversation_summary.c.urgent,
                conversation_summary.c.enquiry,
            ).where(conversation_summary.c.started_at >= since)
        ):
            conversations[_day(started)] += 1
            total += 1
            fallback += bool(fb)
            handover += bool(ho)
            urgent += bool(ur)
            with_enquiry += bool(enq)
        intents: Counter = Counter()
        confidence = [0] * CONFIDENCE_BINS
        for ts, intent, full_intent, conf in connection.execute(
            select(
                user_messages.c.timestamp, user_messages.c.intent,
                user_messages.c.full_intent, user_messages.c.confidence,
            ).where(user_messages.c.timestamp >= since)
        ):
            messages[_day(ts)] += 1
            intents[intent if intent == "nlu_fallback" else (full_intent or intent or "?")] += 1
            if conf is not None:
                confidence[min(CONFIDENCE_BINS - 1, max(0, int(conf * CONFIDENCE_BINS)))] += 1
    enquiries = counts_by_day(enquiry_db, since)
    rate = lambda part: part / total if total else 0.0  # noqa: E731
    return {
        "days": days,
        "conversations_total": total,
        "messages_total": sum(messages.values()),
        "enquiries_total": sum(enquiries.values()),
        "fallback_rate": rate(fallback),
        "handover_rate": rate(handover),
        "urgent_rate": rate(urgent),
        "enquiry_rate": rate(with_enquiry),
        "conversations_per_day": [(day, conversations.get(day, 0)) for day in labels],
        "messages_per_day": [(day, messages.get(day, 0)) for day in labels],
        "enquiries_per_day": [(day, enquiries.get(day, 0)) for day in labels],
        "top_intents": intents.most_common(12),
        "confidence": [
            (f"{i / CONFIDENCE_BINS:.1f}", count) for i, count in enumerate(confidence)
        ],
        "rates": [
            ("fallback", rate(fallback)),
            ("handover", rate(handover)),
            ("urgent advice", rate(urgent)),
            ("enquiry made", rate(with_enquiry)),
        ],
    }


