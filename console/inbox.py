"""The NLU inbox: messages the bot was unsure of, reviewed into training data.

A message lands here when NLU fell back or its confidence was below the threshold,
unless it answered one of the callback form's questions (those are names, numbers
and choices, not questions to learn). Messages are grouped by ``text_key`` (same
words after normalising case, punctuation, filler words and personal details); a
reviewer confirms the guess, corrects it to one of the intents the model knows, or
marks it out of scope, and the reviewed groups export as Rasa NLU YAML.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml
from sqlalchemy import and_, func, insert, or_, select, true, update
from sqlalchemy.engine import Engine

from console.db import nlu_reviews, user_messages
from console.masking import strip_personal
from console.summary import FALLBACK_INTENT
from console.summary import text_key as make_key

DECISIONS = ("confirmed", "corrected", "out_of_scope", "ignored")
OUT_OF_SCOPE_INTENT = "out_of_scope"
# Markdown-style entity annotations ([text](entity)) mean something in Rasa's YAML.
_ANNOTATION_CHARS = re.compile(r"[\[\]{}]")


class ReviewError(ValueError):
    """A review that cannot be stored; the message says why."""


@dataclass(frozen=True)
class Intents:
    """The intents a reviewer may choose from, as training data labels them."""

    labels: Tuple[str, ...]
    retrieval_areas: Tuple[str, ...]


@lru_cache(maxsize=4)
def known_intents(project_dir: Path) -> Intents:
    """Domain intents, with each FAQ area replaced by its sub-intents from data/nlu
    (procedure/duration ...), because the response selector learns from those."""
    domain = yaml.safe_load((project_dir / "domain.yml").read_text()) or {}
    domain_intents = [
        next(iter(item)) if isinstance(item, dict) else str(item)
        for item in domain.get("intents") or []
    ]
    sub_intents: Dict[str, List[str]] = {}
    for path in sorted((project_dir / "data" / "nlu").glob("*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        for item in data.get("nlu") or []:
            name = item.get("intent") if isinstance(item, dict) else None
            if name and "/" in name:
                area, _ = name.split("/", 1)
                sub_intents.setdefault(area, []).append(name)
    labels: List[str] = []
    for intent in domain_intents:
        labels.extend(sorted(set(sub_intents.get(intent, [intent]))))
    return Intents(tuple(labels), tuple(sorted(sub_intents)))


@lru_cache(maxsize=4)
def training_texts(project_dir: Path) -> frozenset:
    """Every example already in data/nlu, normalised, so the export adds only new ones."""
    texts = set()
    for path in (project_dir / "data" / "nlu").glob("*.yml"):
        data = yaml.safe_load(path.read_text()) or {}
        for item in data.get("nlu") or []:
            examples = item.get("examples") if isinstance(item, dict) else None
            for line in (examples or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.add(_normal(line[2:]))
    return frozenset(texts)


def _normal(text: str) -> str:
    """Case, punctuation and spacing do not make an example new."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _inbox_condition(threshold: float) -> Any:
    m = user_messages.c
    return and_(
        m.in_form.is_(False),
        m.text_key != "",
        or_(m.intent == FALLBACK_INTENT, m.confidence < threshold),
    )


def groups(
    console: Engine,
    threshold: float,
    show: str = "open",
    page: int = 1,
    page_size: int = 50,
    search: str = "",
) -> Tuple[List[Dict[str, Any]], int]:
    """Groups of similar unsure messages, most frequent first.

    ``show`` is "open" (not reviewed yet), "reviewed" or "all".
    """
    m = user_messages.c
    grouped = (
        select(
            m.text_key,
            func.count().label("count"),
            func.max(m.event_id).label("latest_id"),
            func.min(m.confidence).label("min_confidence"),
            func.max(m.timestamp).label("last_at"),
        )
        .where(_inbox_condition(threshold))
        .where(
            m.text_key.like(f"%{_escape_like(make_key(search))}%", escape="\\")
            if search
            else true()
        )
        .group_by(m.text_key)
        .subquery()
    )
    query = select(grouped, nlu_reviews.c.decision, nlu_reviews.c.label,
                   nlu_reviews.c.reviewed_by).select_from(
        grouped.outerjoin(nlu_reviews, nlu_reviews.c.text_key == grouped.c.text_key)
    )
    if show == "open":
        query = query.where(nlu_reviews.c.decision.is_(None))
    elif show == "reviewed":
        query = query.where(nlu_reviews.c.decision.isnot(None))
    total_query = select(func.count()).select_from(query.subquery())
    query = (
        query.order_by(grouped.c.count.desc(), grouped.c.last_at.desc())
        .limit(page_size)
        .offset(max(0, page - 1) * page_size)
    )
    with console.connect() as connection:
        rows = [dict(row) for row in connection.execute(query).mappings()]
        total = int(connection.execute(total_query).scalar() or 0)
        latest = {
            row["event_id"]: row
            for row in connection.execute(
                select(m.event_id, m.sender_id, m.text, m.intent, m.full_intent, m.confidence)
                .where(m.event_id.in_([r["latest_id"] for r in rows]))
            ).mappings()
        }
    for row in rows:
        example = latest.get(row["latest_id"]) or {}
        row["text"] = example.get("text", "")
        row["sender_id"] = example.get("sender_id")
        row["intent"] = example.get("intent")
        row["guess"] = example.get("full_intent")
        row["confidence"] = example.get("confidence")
    return rows, total


def review(
    console: Engine,
    intents: Intents,
    key: str,
    decision: str,
    label: Optional[str],
    staff_name: str,
    threshold: float,
    public: frozenset = frozenset(),
) -> Dict[str, Any]:
    """Store a reviewer's decision for one group (a later one replaces it)."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of: {', '.join(DECISIONS)}")
    m = user_messages.c
    with console.connect() as connection:
        example = connection.execute(
            select(m.text, m.full_intent)
            .where(and_(m.text_key == key, _inbox_condition(threshold)))
            .order_by(m.event_id.desc())
            .limit(1)
        ).mappings().first()
    if example is None:
        raise ReviewError("that message is not in the inbox (it may have been erased)")
    predicted = example["full_intent"]
    if decision == "confirmed":
        label = predicted
    elif decision == "out_of_scope":
        label = OUT_OF_SCOPE_INTENT
    elif decision == "ignored":
        label = None
    if decision != "ignored" and label not in intents.labels:
        raise ReviewError(
            f"{label!r} is not an intent the model knows; choose one from the list"
            if label
            else "choose an intent"
        )
    text = _ANNOTATION_CHARS.sub(" ", strip_personal(example["text"], public))
    text = re.sub(r"\s+", " ", text).strip()
    values = dict(
        example=text, decision=decision, label=label, predicted=predicted,
        reviewed_by=staff_name, reviewed_at=time.time(),
    )
    with console.begin() as connection:
        changed = connection.execute(
            update(nlu_reviews).where(nlu_reviews.c.text_key == key).values(**values)
        ).rowcount
        if not changed:
            connection.execute(insert(nlu_reviews).values(text_key=key, **values))
    return values


def export_yaml(console: Engine, project_dir: Path) -> Tuple[str, int]:
    """The reviewed examples as a Rasa NLU file, and how many examples it holds.

    Examples already in data/nlu, empty after stripping personal details, or seen
    under another label first are left out, so the file never contradicts the data.
    """
    known = training_texts(project_dir)
    labels = set(known_intents(project_dir).labels)
    by_label: Dict[str, List[str]] = {}
    seen = set()
    with console.connect() as connection:
        rows = connection.execute(
            select(nlu_reviews.c.example, nlu_reviews.c.label)
            .where(nlu_reviews.c.label.isnot(None))
            .order_by(nlu_reviews.c.label, nlu_reviews.c.reviewed_at)
        ).all()
    for example, label in rows:
        normal = _normal(example)
        if not normal or normal in known or normal in seen or label not in labels:
            continue
        seen.add(normal)
        by_label.setdefault(label, []).append(re.sub(r"\s+", " ", example).strip())
    lines = [
        "# Reviewed in the staff console (python -m console); personal details removed.",
        'version: "3.1"',
        "nlu:",
    ]
    for label in sorted(by_label):
        lines.append(f"- intent: {label}")
        lines.append("  examples: |")
        lines.extend(f"    - {example}" for example in by_label[label])
    if not by_label:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n", sum(len(v) for v in by_label.values())


def reviewed_count(console: Engine) -> int:
    with console.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(nlu_reviews)).scalar() or 0)


