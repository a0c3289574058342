"""Counts for `make hardening-report`: what the hardening tests tried, by kind."""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "results" / "hardening"


def record(section: str, kind: str, count: int = 1) -> None:
    """Adds `count` to results/hardening/<section>.json[kind] (one file per process)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{section}-{os.getpid()}.json"
    counts = Counter(json.loads(path.read_text())) if path.exists() else Counter()
    counts[kind] += count
    path.write_text(json.dumps(counts, indent=1, sort_keys=True))
