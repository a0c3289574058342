"""pip-audit against the live OSV service, when this machine can reach it.

pip-audit lives in a venv of its own under build/tools/audit: it needs
CacheControl>=0.13 and rich versions that Rasa 3.6's pins (CacheControl 0.12.14)
exclude, and it is a check tool, not part of the product. The venv is made only
when the service answers, so an offline run never installs anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import List, Mapping, Optional, Tuple

from security.advisories import Finding

PIP_AUDIT_PIN = "pip-audit==2.10.1"
OSV_QUERY_URL = "https://api.osv.dev/v1/query"
TOOL_VENV = Path("build/tools/audit")


def osv_reachable(timeout: float = 4.0, url: str = OSV_QUERY_URL) -> Tuple[bool, str]:
    """Whether OSV answers a real query within ``timeout``; the reason when it does not."""
    body = json.dumps({"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "23.0"})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            json.loads(answer.read())
            return True, f"{url} answered"
    except Exception as error:  # any failure means: use the shipped database
        return False, f"{url} did not answer ({type(error).__name__})"


def ensure_pip_audit(root: Path, python: str = sys.executable) -> Path:
    venv = root / TOOL_VENV
    tool = venv / "bin" / "pip-audit"
    if not tool.exists():
        print(f"==> Installing {PIP_AUDIT_PIN} into {TOOL_VENV} (a venv of its own)")
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", PIP_AUDIT_PIN], check=True
        )
    return tool


def frozen_requirements(installed: Mapping[str, str]) -> str:
    return "".join(f"{name}=={version}\n" for name, version in sorted(installed.items()))


def pip_audit_command(tool: Path, requirements: Path, timeout: int = 15) -> List[str]:
    # --no-deps --disable-pip: audit exactly these pins, resolve nothing.
    return [
        str(tool),
        "--requirement", str(requirements),
        "--no-deps",
        "--disable-pip",
        "--vulnerability-service", "osv",
        "--format", "json",
        "--desc", "on",
        "--aliases", "on",
        "--progress-spinner", "off",
        "--timeout", str(timeout),
    ]


def findings_from_pip_audit(report: Mapping) -> Tuple[List[Finding], List[str]]:
    """Findings from pip-audit's JSON, and the packages it skipped (with why)."""
    findings, skipped = [], []
    for dependency in report.get("dependencies") or ():
        name, version = dependency.get("name", ""), dependency.get("version", "")
        if dependency.get("skip_reason"):
            skipped.append(f"{name}: {dependency['skip_reason']}")
            continue
        for vuln in dependency.get("vulns") or ():
            fixes = vuln.get("fix_versions") or []
            summary = " ".join(str(vuln.get("description") or "").split())[:200]
            findings.append(
                Finding(
                    package=name,
                    version=version,
                    advisory_id=str(vuln.get("id", "")),
                    fixed_in=", ".join(fixes) if fixes else "no fix",
                    summary=summary,
                    source="OSV live (pip-audit)",
                    aliases=tuple(vuln.get("aliases") or ()),
                )
            )
    return findings, skipped


def run_pip_audit(
    root: Path, installed: Mapping[str, str], workdir: Path
) -> Tuple[Optional[List[Finding]], List[str], str]:
    """(findings, skipped, note); findings is None when pip-audit could not answer."""
    tool = ensure_pip_audit(root)
    workdir.mkdir(parents=True, exist_ok=True)
    requirements = workdir / "pinned-requirements.txt"
    requirements.write_text(frozen_requirements(installed))
    result = subprocess.run(
        pip_audit_command(tool, requirements), capture_output=True, text=True
    )
    # pip-audit exits 1 when it found something; its JSON is on stdout either way.
    try:
        report = json.loads(result.stdout)
    except ValueError:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return None, [], f"pip-audit failed (exit {result.returncode}): {last[:200]}"
    findings, skipped = findings_from_pip_audit(report)
    return findings, skipped, "pip-audit answered"
