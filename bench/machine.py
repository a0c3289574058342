"""What machine a measurement ran on, for every report that prints numbers.

Numbers from a 2-core CI box and a laptop are not comparable; each report names
its machine so that a reader can tell which they are looking at.
"""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Dict, Optional


def machine_facts() -> Dict[str, str]:
    cpu, ram = "unknown CPU", "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        ram = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass  # not Linux: the report still runs, with less detail
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def describe_machine(facts: Optional[Dict[str, str]] = None) -> str:
    """One line for a report; ``facts`` when the caller already has them."""
    facts = facts or machine_facts()
    return (
        f"{facts['cpu']}, {facts['cores']} cores, {facts['ram']} RAM; {facts['os']}; "
        f"Python {facts['python']}"
    )


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def code_version() -> str:
    """The commit measured, and whether the working tree differed from it."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
            text=True, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} with uncommitted changes" if dirty else commit
