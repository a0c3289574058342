"""Tests of the deterministic urgent-symptom layer (nlp/urgent_symptoms.py).

- Recall on tests/urgent/urgent_messages.yml must be 100%: a missed emergency is the
  worst failure the assistant can have. Every missed message is listed on failure.
- False alarms on tests/urgent/near_misses.yml (hypothetical questions, side effects,
  past or negated symptoms, FAQ questions, chit-chat) are reported and must stay < 10%.
"""
from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from nlp.urgent_symptoms import (  # noqa: E402
    CATEGORIES,
    CATEGORY_LEVELS,
    DEFAULT_MODEL_PATH,
    EMERGENCY,
    MODEL_ENV_VAR,
    URGENT,
    UrgentFinding,
    UrgentSymptomDetector,
    load_detector,
    normalise_text,
)

URGENT_FILE = REPO / "tests" / "urgent" / "urgent_messages.yml"
NEAR_MISS_FILE = REPO / "tests" / "urgent" / "near_misses.yml"
MAX_FALSE_ALARM_RATE = 0.10
MIN_MESSAGES_PER_CATEGORY = 6


def _messages(path: Path) -> List[Dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["messages"]


@pytest.fixture(scope="module")
def detector() -> UrgentSymptomDetector:
    return load_detector()


@pytest.fixture(scope="module")
def urgent_messages() -> List[Dict[str, str]]:
    return _messages(URGENT_FILE)


@pytest.fixture(scope="module")
def near_misses() -> List[Dict[str, str]]:
    return _messages(NEAR_MISS_FILE)


# --------------------------------------------------------------------------------------
# Test data
# --------------------------------------------------------------------------------------
def test_test_sets_are_big_enough(urgent_messages, near_misses):
    assert len(urgent_messages) >= 70
    assert len(near_misses) >= 70
    assert all(set(m) == {"text", "category"} for m in urgent_messages)
    assert all(set(m) == {"text"} for m in near_misses)
    urgent_texts = [m["text"].strip().lower() for m in urgent_messages]
    near_texts = [m["text"].strip().lower() for m in near_misses]
    assert len(set(urgent_texts)) == len(urgent_texts), "duplicate urgent messages"
    assert len(set(near_texts)) == len(near_texts), "duplicate near-misses"
    assert not set(urgent_texts) & set(near_texts), "a message is in both sets"


def test_every_category_has_enough_messages(urgent_messages):
    counts = Counter(m["category"] for m in urgent_messages)
    unknown = set(counts) - set(CATEGORIES)
    assert not unknown, f"unknown categories in {URGENT_FILE.name}: {sorted(unknown)}"
    thin = {c: counts.get(c, 0) for c in CATEGORIES if counts.get(c, 0) < MIN_MESSAGES_PER_CATEGORY}
    assert not thin, f"categories with fewer than {MIN_MESSAGES_PER_CATEGORY} test messages: {thin}"


# --------------------------------------------------------------------------------------
# Recall and false alarms
# --------------------------------------------------------------------------------------
def test_recall_is_100_percent(detector, urgent_messages):
    missed = [m for m in urgent_messages if not detector.detect_text(m["text"])]
    recall = 1 - len(missed) / len(urgent_messages)
    print(f"\nurgent recall: {len(urgent_messages) - len(missed)}/{len(urgent_messages)} = {recall:.1%}")
    assert not missed, "missed urgent messages:\n" + "\n".join(
        f"  [{m['category']}] {m['text']!r} (normalised: {detector.normalise(m['text'])!r})"
        for m in missed
    )


def test_expected_category_is_found(detector, urgent_messages):
    wrong = []
    for message in urgent_messages:
        found = [f.category for f in detector.detect_text(message["text"])]
        if message["category"] not in found:
            wrong.append(f"  [{message['category']}] {message['text']!r} -> {found}")
    assert not wrong, "expected category not found:\n" + "\n".join(wrong)


def test_false_alarm_rate_on_near_misses(detector, near_misses):
    alarms = []
    for message in near_misses:
        findings = detector.detect_text(message["text"])
        if findings:
            alarms.append(f"  {message['text']!r} -> {[(f.category, f.matched) for f in findings]}")
    rate = len(alarms) / len(near_misses)
    print(f"\nnear-miss false alarms: {len(alarms)}/{len(near_misses)} = {rate:.1%}")
    for line in alarms:
        print(line)
    assert rate < MAX_FALSE_ALARM_RATE, "too many false alarms:\n" + "\n".join(alarms)


# --------------------------------------------------------------------------------------
# Findings and levels
# --------------------------------------------------------------------------------------
def test_levels(detector):
    assert set(CATEGORY_LEVELS.values()) == {EMERGENCY, URGENT}
    assert {c for c, level in CATEGORY_LEVELS.items() if level == URGENT} == {
        "fever_back_pain",
        "uncontrolled_pain",
    }
    findings = detector.detect_text("I've got a high temperature and my back is agony")
    assert {f.category: f.level for f in findings}["fever_back_pain"] == URGENT
    findings = detector.detect_text("I can't feel my legs")
    assert findings == [UrgentFinding("leg_weakness_numbness", EMERGENCY, "can't feel my legs")]


def test_finding_is_frozen():
    finding = UrgentFinding("stroke", EMERGENCY, "face is drooping")
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.level = URGENT  # type: ignore[misc]


def test_emergencies_are_listed_first_one_per_category(detector):
    findings = detector.detect_text(
        "the painkillers aren't working and now my chest is tight and I can't breathe"
    )
    assert [f.category for f in findings] == ["chest_breathing", "uncontrolled_pain"]
    assert [f.level for f in findings] == [EMERGENCY, URGENT]


@pytest.mark.parametrize(
    "text",
    [
        "will my legs feel numb after the anaesthetic?",
        "I don't have any numbness",
        "no fever, no chest pain",
        "my mum had chest pain last year but it was fine",
        "I've had weak legs for years",
        "what if I can't pee after the operation?",
    ],
)
def test_not_reports_are_quiet(detector, text):
    assert detector.detect_text(text) == []


@pytest.mark.parametrize(
    "text, category",
    [
        ("is it normal that my legs have gone numb?", "leg_weakness_numbness"),
        ("I can't wee since this morning, is that normal?", "bladder_bowel"),
        ("no fever, but I can't feel my legs", "leg_weakness_numbness"),
        ("Will the numbness in my legs go away? It started yesterday.", "leg_weakness_numbness"),
        ("is my husband having a stroke?", "stroke"),
        ("thanks for the info, also since yesterday I can't feel my legs", "leg_weakness_numbness"),
    ],
)
def test_reports_inside_questions_still_fire(detector, text, category):
    assert category in [f.category for f in detector.detect_text(text)]


# --------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("I CANT FEEL MY LEGS", "i can't feel my legs"),
        ("numbess in my legs", "numbness in my legs"),
        ("lost control of my blader", "lost control of my bladder"),
        ("my bowl movements", "my bowel movements"),
        ("i cant breath", "i can't breathe"),
        ("struggling to breath", "struggling to breathe"),
        ("short of breath", "short of breath"),  # the noun stays
        ("pins n needles", "pins and needles"),
        ("pins & needles", "pins and needles"),
        ("a high temprature", "a high temperature"),
        ("havent been weeing", "haven't been weeing"),
        ("the pain killers", "the painkillers"),
        ("my mum\u2019s legs", "my mum's legs"),
        ("chest\u200b pa\u200cin\u2060", "chest pain"),
        ("\ufeffhelp", "help"),
        ("ＣＨＥＳＴ ＰＡＩＮ", "chest pain"),
        ("line one\nline two", "line one. line two"),
        ("  lots   of   spaces  ", "lots of spaces"),
    ],
)
def test_normalise_text(raw, expected):
    assert normalise_text(raw) == expected


def test_normalise_collapses_repeated_letters():
    # Without a word list, three or more repeats become two (never a real spelling).
    assert normalise_text("helppp") == "helpp"
    assert normalise_text("feeeel") == "feel"
    known = {"numb", "help", "still", "feel", "please"}.__contains__
    assert normalise_text("numbbbb", known) == "numb"
    assert normalise_text("helppp", known) == "help"
    assert normalise_text("stilll", known) == "still"
    assert normalise_text("feeeel", known) == "feel"
    assert normalise_text("pleeeease", known) == "please"
    # Doubled letters in real words are never touched.
    assert normalise_text("bladder still sore", known) == "bladder still sore"


def test_detector_normalises_repeated_letters(detector):
    assert detector.normalise("NUMBBBB LEGSSS") == "numb legs"
    assert detector.detect_text("chesttttt painnnn!!!")


# --------------------------------------------------------------------------------------
# Robustness: zero-width characters, upper case, Docs
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, category",
    [
        ("I CAN'T FEEL MY LEGS", "leg_weakness_numbness"),
        ("MY HUSBAND'S FACE IS DROOPING", "stroke"),
        ("I can\u200bt fe\u200bel my le\u200dgs", "leg_weakness_numbness"),
        ("\ufeffchest\u200b pain\u2060", "chest_breathing"),
        ("LOST CONTROL OF MY BLA\u200bDDER", "bladder_bowel"),
        ("I CAN\u2019T BREATHE", "chest_breathing"),
    ],
)
def test_zero_width_and_upper_case(detector, text, category):
    assert category in [f.category for f in detector.detect_text(text)]


def test_detect_on_a_raw_doc_matches_detect_text(detector):
    text = "Thanks!! also my LEGS have gone numb"
    assert detector.detect(detector.nlp(text)) == detector.detect_text(text)


@pytest.mark.parametrize("text", ["", "   ", "?", "\u200b", "ok"])
def test_empty_and_trivial_messages(detector, text):
    assert detector.detect_text(text) == []


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------
def test_load_detector_is_cached(detector, monkeypatch):
    assert load_detector() is detector
    assert load_detector(str(DEFAULT_MODEL_PATH)) is detector
    monkeypatch.setenv(MODEL_ENV_VAR, str(DEFAULT_MODEL_PATH))
    assert load_detector() is detector


def test_default_model_path_is_in_the_repo():
    assert DEFAULT_MODEL_PATH == REPO / "build" / "spacy" / "en_kyphoplasty"
