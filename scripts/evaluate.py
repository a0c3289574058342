"""`make evaluate`: Rasa's own NLU evaluation, with its reports and plots.

1. The trained model on the held-out set (tests/nlu/): intent report, confusion
   matrix and confidence histogram under results/heldout/.
2. Cross-validation on the training data (data/): the same under results/cv/.
Then a summary table of both. Slow (it trains once per fold); not part of `make test`.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = str(ROOT / ".venv" / "bin" / "rasa")


def run(args: list) -> None:
    print("==> " + " ".join(args[1:]), flush=True)
    subprocess.run(args, cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def summary(name: str, out: Path) -> str:
    report_path = out / "intent_report.json"
    if not report_path.exists():
        return f"{name:28} (no intent_report.json in {out})"
    report = json.loads(report_path.read_text())
    macro = report.get("macro avg", {})
    weighted = report.get("weighted avg", {})
    rows = [f"{name:28} accuracy {report.get('accuracy', 0):.3f}  "
            f"macro-F1 {macro.get('f1-score', 0):.3f}  weighted-F1 {weighted.get('f1-score', 0):.3f}"]
    selector = out / "response_selection_report.json"
    if selector.exists():
        sel = json.loads(selector.read_text())
        rows.append(f"{'  response selection':28} accuracy {sel.get('accuracy', 0):.3f}  "
                    f"macro-F1 {sel.get('macro avg', {}).get('f1-score', 0):.3f}")
    plots = ", ".join(sorted(p.name for p in out.glob("*.png")))
    rows.append(f"{'  plots':28} {plots or '-'}")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--model", default=str(ROOT / "models" / "kyphoplasty.tar.gz"))
    parser.add_argument("--skip-cv", action="store_true", help="only the held-out evaluation")
    args = parser.parse_args()
    heldout, cv = ROOT / "results" / "heldout", ROOT / "results" / "cv"
    run([RASA, "test", "nlu", "--model", args.model, "--nlu", "tests/nlu", "--out", str(heldout)])
    if not args.skip_cv:
        run([RASA, "test", "nlu", "--nlu", "data", "--config", "config.yml",
             "--cross-validation", "--folds", str(args.folds), "--out", str(cv)])
    print("\nSummary")
    print(summary("held-out (tests/nlu)", heldout))
    if not args.skip_cv:
        print(summary(f"{args.folds}-fold cross-validation", cv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
