"""`make hardening-report`: runs the hardening tests and prints what they tried.

Bad inputs by kind (REST, socketio, malformed requests, slash payloads), fuzz cases,
faults injected, and the three numbers that must be zero: lost enquiries, 500
responses and personal details found in the logs. Exits non-zero if any test failed.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "hardening"
TESTS = [
    "tests/hardening",
    "tests/channels",
    "tests/production",
    "tests/test_channel_signatures.py",
    "tests/test_channel_guards.py",
    "tests/console/test_console_security.py",
    "tests/test_enquiry_e2e.py",
]


def collect() -> dict:
    sections: dict = {}
    for path in sorted(RESULTS.glob("*.json")):
        section = path.stem.rsplit("-", 1)[0]
        sections.setdefault(section, Counter()).update(json.loads(path.read_text()))
    return sections


def main() -> int:
    for old in RESULTS.glob("*.json"):
        old.unlink()
    print("==> pytest " + " ".join(TESTS), flush=True)
    junit = RESULTS / "junit.xml"
    RESULTS.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:warnings",
         f"--junitxml={junit}", *TESTS],
        cwd=ROOT,
    )
    sections = collect()
    bad = sections.get("bad_inputs", Counter())
    by_kind = Counter()
    for key, count in bad.items():
        by_kind[key.split("/")[-1]] += count
    print("\nBad inputs tried, by kind")
    for kind, count in sorted(by_kind.items()):
        print(f"  {kind:28} {count}")
    print(f"  {'total':28} {sum(by_kind.values())}")
    fuzz = sections.get("fuzz_cases", Counter())
    print(f"\nFuzz cases tried: {sum(fuzz.values())} ({', '.join(f'{k} {v}' for k, v in sorted(fuzz.items()))})")
    faults = sections.get("faults", Counter())
    print("\nFaults injected")
    for kind, count in sorted(faults.items()):
        print(f"  {kind:40} {count}")
    failures = 0
    if junit.exists():
        text = junit.read_text()
        failures = text.count("<failure") + text.count("<error")
    lost = sections.get("lost_enquiries", Counter()).get("lost", "not measured")
    pii = sections.get("pii_in_logs", Counter()).get("log lines with personal details", "not measured")
    print("\nMust be zero")
    print(f"  lost enquiries                  {lost}")
    print(f"  500 responses                   {0 if run.returncode == 0 else 'see failing tests'}")
    print(f"  personal details in logs        {pii}")
    print(f"  failing tests                   {failures}")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
