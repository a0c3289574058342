"""The audit's findings as a terminal table and as docs/audit.md."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import List, Sequence

from security.advisories import SourceInfo
from security.allowlist import Decision, Entry

COLUMNS = ("package", "installed", "advisory", "fixed in", "decision")


@dataclass
class AuditResult:
    mode: str  # "live (pip-audit, OSV)" or "offline (shipped databases)"
    mode_note: str
    sources: List[SourceInfo]
    audited: int
    decisions: List[Decision]
    unused: List[Entry] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    today: dt.date = field(default_factory=dt.date.today)

    @property
    def open(self) -> List[Decision]:
        return [d for d in self.decisions if not d.allowed]

    @property
    def passed(self) -> bool:
        return not self.open


def data_age_days(source: SourceInfo, today: dt.date) -> str:
    try:
        return str((today - dt.date.fromisoformat(source.data_date[:10])).days)
    except ValueError:
        return "?"


def _rows(decisions: Sequence[Decision]) -> List[List[str]]:
    ordered = sorted(decisions, key=lambda d: (d.allowed, d.finding.package.lower(),
                                               d.finding.advisory_id))
    return [
        [d.finding.package, d.finding.version, d.finding.advisory_id,
         d.finding.fixed_in, d.text()]
        for d in ordered
    ]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def text_table(result: AuditResult, decision_width: int = 70) -> str:
    lines = [f"Dependency audit, {result.mode}: {result.mode_note}"]
    for source in result.sources:
        lines.append(
            f"  database: {source.describe()} ({data_age_days(source, result.today)} days old)"
        )
    rows = [[_clip(cell, 34) for cell in row[:4]] + [_clip(row[4], decision_width)]
            for row in _rows(result.decisions)]
    if rows:
        widths = [max(len(r[i]) for r in rows + [list(COLUMNS)]) for i in range(5)]
        lines.append("")
        lines.append("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for row in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    lines.append("")
    lines.extend(f"note: {note}" for note in result.notes)
    for entry in result.unused:
        lines.append(
            f"note: allowlist entry {entry.package} {entry.id} matched no finding "
            "(fixed, or unknown to this database): remove it once fixed"
        )
    allowed = len(result.decisions) - len(result.open)
    lines.append(
        f"{result.audited} packages audited: {len(result.decisions)} findings, "
        f"{allowed} allowed with a reason, {len(result.open)} open"
    )
    if result.open:
        lines.append(
            "FAILED: fix each open finding (upgrade the pin) or record why it stays in "
            "security/audit-allowlist.yml"
        )
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_report(result: AuditResult) -> str:
    out = [
        "# Dependency audit: latest report",
        "",
        "Written by `make audit` (`python -m security.audit`); how it works, and how to "
        "refresh its databases, is at the end of this page.",
        "",
        f"- Run on {result.today.isoformat()}, {result.mode}: {result.mode_note}.",
    ]
    for source in result.sources:
        out.append(
            f"- Database: {source.describe()}: **data {data_age_days(source, result.today)} "
            f"days old** ({source.url})."
        )
    allowed = len(result.decisions) - len(result.open)
    out += [
        f"- {result.audited} packages audited (`pip freeze --all` of `.venv` plus pins "
        f"not installed): {len(result.decisions)} findings, {allowed} allowed with a "
        f"recorded reason, **{len(result.open)} open**.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "| " + " | ".join("---" for _ in COLUMNS) + " |",
    ]
    for row in _rows(result.decisions):
        out.append("| " + " | ".join(_md(cell) for cell in row) + " |")
    if not result.decisions:
        out.append("| (none) | | | | |")
    extra = list(result.notes) + [
        f"allowlist entry {e.package} {e.id} matched no finding in this run"
        for e in result.unused
    ]
    if extra:
        out += ["", "Notes:", ""] + [f"- {_md(note)}" for note in extra]
    return "\n".join(out) + "\n"
