"""The NLU report scripts' pure parts: how a parse is labelled, what the reports say."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.support.servers import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

import compare_pipelines  # noqa: E402
import evaluate  # noqa: E402
from nlu_eval import MIN_MACRO_F1, Score, label_of  # noqa: E402


def faq_parse(intent: str, key: str) -> dict:
    return {
        "intent": {"name": intent, "confidence": 0.9},
        "response_selector": {
            "all_retrieval_intents": ["procedure", "recovery"],
            "default": {"response": {"intent_response_key": key}},
        },
    }


def test_an_faq_area_is_labelled_by_the_answer_the_bot_would_give():
    assert label_of(faq_parse("procedure", "procedure/duration")) == "procedure/duration"


def test_a_plain_intent_is_its_own_label_even_when_a_selector_answered():
    assert label_of(faq_parse("greet", "procedure/duration")) == "greet"
    assert label_of({"intent": {"name": "nlu_fallback"}}) == "nlu_fallback"
    assert label_of({}) == ""


def score(f1: float, seconds: float) -> Score:
    result = Score([], [], [], seconds)
    result.macro_f1 = f1
    return result


def test_the_comparison_verdict_follows_the_numbers():
    rows = [("ours", score(0.95, 0.080), 300.0), ("default", score(0.89, 0.010), 600.0)]
    (text,) = compare_pipelines.verdict(rows)
    assert "0.060 higher" in text and "8.0 times as long" in text
    assert f"Ours passes the {MIN_MACRO_F1}" in text
    assert f"Rasa's default fails the {MIN_MACRO_F1}" in text
    rows = [("ours", score(0.90, 0.080), 300.0), ("default", score(0.93, 0.010), 600.0)]
    (text,) = compare_pipelines.verdict(rows)
    assert "0.030 lower" in text and "Ours fails" in text and "default passes" in text


def write_report(folder: Path, rows: dict, accuracy: float, selector: float = None) -> Path:
    folder.mkdir(parents=True)
    report = {name: {"precision": 1, "recall": 1, "f1-score": f1, "support": 10,
                     "confused_with": confused}
              for name, (f1, confused) in rows.items()}
    report.update({
        "accuracy": accuracy,
        "macro avg": {"f1-score": 0.8, "support": 10 * len(rows)},
        "weighted avg": {"f1-score": 0.85, "support": 10 * len(rows)},
    })
    (folder / "intent_report.json").write_text(json.dumps(report))
    if selector is not None:
        (folder / "response_selection_report.json").write_text(json.dumps({"accuracy": selector}))
    return folder


def test_the_evaluation_report_lists_the_weakest_intents_first_with_their_confusions(tmp_path):
    heldout = write_report(
        tmp_path / "heldout",
        {
            "greet": (0.99, {}),
            "out_of_scope": (0.55, {"procedure": 3, "recovery": 1}),
            "deny": (0.80, {"affirm": 2}),
        },
        accuracy=0.9,
        selector=0.97,
    )
    text = evaluate.markdown_report([("held-out", heldout), ("cv", tmp_path / "missing")])
    assert "| held-out | 30 | 0.900 | 0.800 | 0.850 | 0.970 |" in text
    assert "| cv | - | - | - | - | - |" in text
    table = text.split("## Weakest intents: held-out", 1)[1]
    assert table.index("out_of_scope") < table.index("deny") < table.index("greet")
    assert "| out_of_scope | 0.550 | 10 | procedure (3), recovery (1) |" in table
    assert "| greet | 0.990 | 10 | - |" in table
    assert "macro avg" not in table
