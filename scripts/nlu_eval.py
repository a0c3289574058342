"""Scores a trained model on the held-out NLU set in tests/nlu/.

The label of a held-out example is its full FAQ key (``procedure/duration``) or
its plain intent (``greet``); a prediction is read the same way, from the
response selector for FAQ areas. Used by the quality gate (``make nlu-gate``) and
by the pipeline comparison (``make compare``).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT_DIR = ROOT / "tests" / "nlu"
# The quality gate of `make test`: intent macro-F1 on the held-out set.
MIN_MACRO_F1 = 0.92


@dataclass
class Score:
    labels: List[str]
    predictions: List[str]
    texts: List[str]
    seconds_per_message: float
    per_label: Dict[str, Dict[str, float]] = field(default_factory=dict)
    macro_f1: float = 0.0
    accuracy: float = 0.0


def load_held_out(directory: Path = HELD_OUT_DIR) -> List[Tuple[str, str]]:
    """(text, label) pairs from every YAML file in the held-out folder."""
    from rasa.shared.nlu.training_data.loading import load_data

    pairs: List[Tuple[str, str]] = []
    for path in sorted(directory.glob("*.yml")):
        data = load_data(str(path))
        for example in data.intent_examples:
            label = example.get("intent_response_key") or example.get("intent")
            pairs.append((example.get("text"), label))
    return pairs


def label_of(parse: dict) -> str:
    """The label a parse result stands for, read the way the bot answers.

    For an FAQ area, Rasa's retrieval action utters the response selector's top
    answer (the "default" selector covers every area), so that key is the label.
    """
    intent = (parse.get("intent") or {}).get("name") or ""
    selector = parse.get("response_selector") or {}
    if intent in (selector.get("all_retrieval_intents") or []):
        prediction = selector.get(intent) or selector.get("default") or {}
        key = (prediction.get("response") or {}).get("intent_response_key")
        if key:
            return key
    return intent


async def _parse_all(model_path: str, texts: Sequence[str]) -> Tuple[List[dict], float]:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    await agent.parse_message("warm up")
    start = time.perf_counter()
    results = [await agent.parse_message(text) for text in texts]
    elapsed = time.perf_counter() - start
    return results, elapsed / max(len(texts), 1)


def score(model_path: str, pairs: Sequence[Tuple[str, str]]) -> Score:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    from rasa.utils.log_utils import configure_structlog

    # Rasa's structured logger prints every parse (with its text) unless configured;
    # the report is the output that matters here.
    configure_structlog(logging.ERROR)
    texts = [text for text, _ in pairs]
    labels = [label for _, label in pairs]
    parses, per_message = asyncio.run(_parse_all(model_path, texts))
    predictions = [label_of(parse) for parse in parses]
    names = sorted(set(labels))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predictions, labels=names, zero_division=0
    )
    result = Score(labels, predictions, texts, per_message)
    result.per_label = {
        name: {"precision": p, "recall": r, "f1": f, "support": int(s)}
        for name, p, r, f, s in zip(names, precision, recall, f1, support)
    }
    result.macro_f1 = float(sum(f1) / len(f1)) if len(f1) else 0.0
    result.accuracy = float(accuracy_score(labels, predictions))
    return result


def print_report(result: Score, worst: int = 15) -> None:
    print(f"{'label':40} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}")
    for name, row in sorted(result.per_label.items(), key=lambda item: item[1]["f1"]):
        print(
            f"{name:40} {row['precision']:6.3f} {row['recall']:6.3f} "
            f"{row['f1']:6.3f} {row['support']:4d}"
        )
    errors = [
        (text, label, prediction)
        for text, label, prediction in zip(result.texts, result.labels, result.predictions)
        if label != prediction
    ]
    if errors:
        print(f"\n{len(errors)} misclassified (first {worst}):")
        for text, label, prediction in errors[:worst]:
            print(f"  {label:32} -> {prediction:32} {text!r}")
    print(
        f"\nheld-out examples: {len(result.labels)}  labels: {len(result.per_label)}  "
        f"accuracy: {result.accuracy:.3f}  macro-F1: {result.macro_f1:.3f}  "
        f"time per message: {result.seconds_per_message * 1000:.1f} ms"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "kyphoplasty.tar.gz"))
    parser.add_argument("--min-f1", type=float, default=MIN_MACRO_F1)
    parser.add_argument("--out", default=str(ROOT / "results" / "nlu_gate.json"))
    args = parser.parse_args(argv)
    if not Path(args.model).exists():
        print(f"No trained model at {args.model}; run `make train` first.", file=sys.stderr)
        return 2
    pairs = load_held_out()
    print(f"==> Scoring {args.model} on {len(pairs)} held-out messages from tests/nlu/")
    result = score(args.model, pairs)
    print_report(result)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "macro_f1": result.macro_f1,
                "accuracy": result.accuracy,
                "ms_per_message": result.seconds_per_message * 1000,
                "per_label": result.per_label,
            },
            indent=2,
        )
    )
    if result.macro_f1 < args.min_f1:
        print(f"FAIL: intent macro-F1 {result.macro_f1:.3f} is below {args.min_f1}")
        return 1
    print(f"PASS: intent macro-F1 {result.macro_f1:.3f} >= {args.min_f1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
