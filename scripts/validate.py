"""`make validate`: `rasa data validate --fail-on-warnings`, and every other warning
Rasa prints while loading the data counts as a failure too.

One warning is Rasa's own and cannot be avoided with retrieval intents: the
rule reader needs the FAQ areas (procedure, recovery, ...) listed in domain.yml,
and Rasa then merges the same intents again from the NLU data and reports them as
"duplicated intents ... across multiple domain files". That message, for exactly
those retrieval intents, is the only one allowed.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARNING = re.compile(r"(UserWarning|FutureWarning|rasa\.validator .*WARNING|WARNING)\b:?\s*(.*)")
DUPLICATE_RETRIEVAL = re.compile(r"duplicated intents have been found across multiple domain files: (.+)$")


def retrieval_intents() -> set:
    areas = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        areas.update(re.findall(r"^- intent: ([a-z_]+)/", path.read_text(), flags=re.M))
    return areas


def unexpected_warnings(output: str, allowed_duplicates: set) -> list:
    found = []
    for line in output.splitlines():
        if "DeprecationWarning" in line or "MovedIn20Warning" in line:
            continue  # library deprecations, not about our data
        match = WARNING.search(line)
        if not match:
            continue
        duplicate = DUPLICATE_RETRIEVAL.search(line)
        if duplicate and {name.strip() for name in duplicate.group(1).split(",")} <= allowed_duplicates:
            continue
        found.append(line.strip())
    return found


def main() -> int:
    command = [str(ROOT / ".venv" / "bin" / "rasa"), "data", "validate", "--fail-on-warnings"]
    print("==> rasa data validate --fail-on-warnings", flush=True)
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
    )
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    problems = unexpected_warnings(output, retrieval_intents())
    if result.returncode != 0 or problems:
        print(output[-6000:])
        print(f"FAIL: rasa data validate exited {result.returncode}; {len(problems)} warning(s):")
        for problem in problems:
            print("  " + problem)
        return 1
    print("PASS: the data, domain and config are consistent (no warnings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
