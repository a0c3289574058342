"""Seed a Rasa SQL tracker store with synthetic conversations for the console benchmark.

    python bench/console_seed.py --url sqlite:///var/bench/tracker.db \
        --conversations 10000 --events 200000

Events have the shape Rasa 3.6's SQLTrackerStore writes (same table and columns,
same JSON per event type), spread over the last 90 days, with fallbacks, urgent
advice, handovers and submitted enquiries mixed in. Rows go in with bulk inserts.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.db import engine_for, events, rasa_metadata  # noqa: E402

QUESTIONS = [
    ("procedure", "procedure/duration", "how long does the procedure take"),
    ("procedure", "procedure/what_is", "what is balloon kyphoplasty"),
    ("recovery", "recovery/overview", "how soon can I walk after it"),
    ("risks", "risks/cement_leakage", "can the cement leak"),
    ("candidacy", "candidacy/who_benefits", "who is it for"),
    ("contact", "contact/phone_numbers", "what number do I ring"),
    ("not_covered", "not_covered/cost", "how much does it cost"),
    ("greet", None, "hello"),
    ("thank", None, "thanks that helps"),
]
CHANNELS = ["rest"] * 6 + ["socketio"] * 3 + ["twilio"]
META = {"model_id": "bench", "assistant_id": "kyphoplasty-patient-assistant"}


def _row(sender: str, kind: str, ts: float, data: Dict[str, Any],
         intent: Optional[str] = None, action: Optional[str] = None) -> Dict[str, Any]:
    data = {"event": kind, "timestamp": ts, "metadata": META, **data}
    return {"sender_id": sender, "type_name": kind, "timestamp": ts,
            "intent_name": intent, "action_name": action, "data": json.dumps(data)}


def _action(sender: str, ts: float, name: str) -> Dict[str, Any]:
    return _row(sender, "action", ts, {"name": name, "policy": "RulePolicy", "confidence": 1.0},
                action=name)


def _user(sender: str, ts: float, text: str, intent: str, full: Optional[str],
          confidence: float, channel: str) -> Dict[str, Any]:
    parse = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "text": text,
        "intent_ranking": [{"name": intent, "confidence": confidence},
                           {"name": "procedure", "confidence": 0.1}],
    }
    if full:
        parse["response_selector"] = {
            "all_retrieval_intents": sorted({q[0] for q in QUESTIONS if q[1]}),
            "default": {"response": {"intent_response_key": full, "confidence": confidence},
                        "ranking": [{"intent_response_key": full, "confidence": confidence}]},
        }
    return _row(sender, "user", ts, {"text": text, "parse_data": parse, "input_channel": channel,
                                     "message_id": uuid.uuid4().hex}, intent=intent)


def _bot(sender: str, ts: float, text: str, utter: str) -> Dict[str, Any]:
    return _row(sender, "bot", ts, {"text": text, "data": {}, "metadata": {"utter_action": utter}})


def conversation(sender: str, start: float, length: int, rng: random.Random) -> List[Dict[str, Any]]:
    """``length`` events: a session start, then turns of user, action, bot, listen."""
    channel = rng.choice(CHANNELS)
    ts = start
    rows = [_action(sender, ts, "action_session_start"),
            _row(sender, "session_started", ts, {}),
            _action(sender, ts, "action_listen")]
    turn = 0
    while len(rows) < length:
        ts += rng.uniform(3, 40)
        roll = rng.random()
        if roll < 0.08:
            rows.append(_user(sender, ts, f"blorp {rng.randint(1, 400)} wibble", "nlu_fallback",
                              None, 0.3, channel))
            rows += [_action(sender, ts, "utter_please_rephrase"),
                     _bot(sender, ts, "Sorry, I did not understand that.", "utter_please_rephrase")]
        elif roll < 0.10:
            rows.append(_user(sender, ts, "my legs went numb", "urgent_symptom", None, 1.0, channel))
            rows += [_action(sender, ts, "utter_urgent_care"),
                     _bot(sender, ts, "Call 999 or go to A&E now.", "utter_urgent_care")]
        elif roll < 0.13:
            rows.append(_user(sender, ts, "can someone call me back", "request_callback", None,
                              0.99, channel))
            rows += [_action(sender, ts, "utter_handover"),
                     _bot(sender, ts, "Your reference is KY-7F3K2Q.", "utter_handover")]
        else:
            intent, full, text = rng.choice(QUESTIONS)
            confidence = rng.betavariate(8, 1.5)
            rows.append(_user(sender, ts, f"{text} {turn}", intent, full, confidence, channel))
            utter = f"utter_{full or intent}"
            rows += [_action(sender, ts, f"utter_{intent}"),
                     _bot(sender, ts, f"An answer from the page ({full or intent}).", utter)]
        rows.append(_action(sender, ts, "action_listen"))
        turn += 1
    return rows[:length]


def seed(url: str, conversations: int, total_events: int, days: int = 90,
         seed_value: int = 42, now: Optional[float] = None, prefix: str = "bench") -> int:
    rng = random.Random(seed_value)
    engine = engine_for(url)
    rasa_metadata.create_all(engine)
    now = now or time.time()
    per = total_events // conversations
    extra = total_events - per * conversations
    written = 0
    batch: List[Dict[str, Any]] = []
    with engine.begin() as connection:
        for index in range(conversations):
            start = now - rng.uniform(0, days * 86400)
            length = per + (1 if index < extra else 0)
            batch += conversation(f"{prefix}-{index:06d}", start, length, rng)
            if len(batch) >= 20000:
                connection.execute(events.insert(), batch)
                written += len(batch)
                batch = []
        if batch:
            connection.execute(events.insert(), batch)
            written += len(batch)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite:///var/bench/tracker.db")
    parser.add_argument("--conversations", type=int, default=10000)
    parser.add_argument("--events", type=int, default=200000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    started = time.perf_counter()
    written = seed(args.url, args.conversations, args.events, args.days)
    print(f"Seeded {args.conversations} conversations, {written} events into {args.url} "
          f"in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
