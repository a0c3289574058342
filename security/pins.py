"""The set the audit checks: what the venv has, and what the pin files promise.

The audited set is ``pip freeze --all`` of .venv (what really runs) plus any pin of
requirements.txt, requirements-dev.txt or constraints.txt that is not installed (so
a pin added before ``make setup`` is still checked). Differences between the two are
reported as notes: a venv that drifted from its pins is worth knowing about.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from security.advisories import normalize_name

PIN_FILES = ("requirements.txt", "requirements-dev.txt", "constraints.txt")


def parse_pins(text: str) -> Dict[str, Tuple[str, str]]:
    """{normalized name: (name as written, version)} for every ``name==version`` line."""
    pins: Dict[str, Tuple[str, str]] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line or line.startswith("-") or "==" not in line or "@" in line:
            continue
        name, version = line.split("==", 1)
        name = name.split("[", 1)[0].strip()
        pins[normalize_name(name)] = (name, version.strip())
    return pins


def read_pin_files(root: Path, names: Iterable[str] = PIN_FILES) -> Dict[str, Tuple[str, str]]:
    pins: Dict[str, Tuple[str, str]] = {}
    for name in names:
        path = root / name
        if path.exists():
            pins.update(parse_pins(path.read_text("utf-8")))
    return pins


def pip_freeze(python: str = sys.executable) -> str:
    result = subprocess.run(
        [python, "-m", "pip", "freeze", "--all", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@dataclass
class PinnedSet:
    packages: Dict[str, str] = field(default_factory=dict)  # name -> version
    notes: List[str] = field(default_factory=list)


def audited_set(freeze_text: Optional[str], pins: Dict[str, Tuple[str, str]]) -> PinnedSet:
    """Installed versions first; pins not installed are added; drift becomes notes."""
    result = PinnedSet()
    installed = parse_pins(freeze_text or "")
    unpinned = []
    for key, (name, version) in sorted(installed.items()):
        result.packages[name] = version
        if key not in pins:
            unpinned.append(f"{name}=={version}")
        elif pins[key][1] != version:
            result.notes.append(
                f"{name}: installed {version} but pinned {pins[key][1]}; the installed "
                "version was audited (run `make setup` to match the pins)"
            )
    if freeze_text is not None:
        missing = [pins[key] for key in sorted(pins) if key not in installed]
        for name, version in missing:
            result.packages[name] = version
        if missing:
            result.notes.append(
                "pinned but not installed (audited from the pin): "
                + ", ".join(f"{n}=={v}" for n, v in missing)
            )
    else:
        for key, (name, version) in sorted(pins.items()):
            result.packages[name] = version
    if unpinned:
        result.notes.append(
            "installed but in no pin file (audited as installed): " + ", ".join(unpinned)
        )
    return result
