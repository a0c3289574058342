"""The audit's allowlist: findings we keep on purpose, each with its recorded reason.

security/audit-allowlist.yml holds a list of entries:

    - package: tensorflow
      id: PYUP:<2.12.1            # advisory id exactly as the audit prints it
      reason: rasa 3.6.21 pins tensorflow==2.12.0; ...
      reviewed: 2026-11-24        # when someone last checked the reason still holds
      aliases: [CVE-2023-...]     # optional: other ids of the same advisory

A finding is allowed when package and id (or one of the finding's aliases) match an
entry. Everything else is open, and open findings fail the audit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from security.advisories import Finding, normalize_name

REQUIRED = ("package", "id", "reason", "reviewed")
# A reason older than this is shown as due for review; it does not fail the audit.
REVIEW_DUE_DAYS = 180
MIN_REASON_CHARS = 20


class AllowlistError(ValueError):
    """The allowlist cannot be used as written; the message names the entry and field."""


@dataclass(frozen=True)
class Entry:
    package: str
    id: str
    reason: str
    reviewed: dt.date
    aliases: Tuple[str, ...] = ()

    def matches(self, finding: Finding) -> bool:
        if normalize_name(self.package) != normalize_name(finding.package):
            return False
        mine = {self.id, *self.aliases}
        return bool(mine & {finding.advisory_id, *finding.aliases})


@dataclass(frozen=True)
class Decision:
    finding: Finding
    entry: Optional[Entry]
    review_due: bool = False

    @property
    def allowed(self) -> bool:
        return self.entry is not None

    def text(self) -> str:
        if self.entry is None:
            fix = self.finding.fixed_in
            if fix == "no fix":
                return "OPEN: no fixed release; replace the package or record a reason"
            return f"OPEN: upgrade to {fix} or record a reason"
        due = " (review due)" if self.review_due else ""
        return f"allowed{due}: {self.entry.reason}"


def _date(value, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise AllowlistError(f"{where}: reviewed must be a date (YYYY-MM-DD), not {value!r}")


def parse_allowlist(data, source: str = "allowlist") -> List[Entry]:
    """Entries from the YAML's data; any mistake stops with its entry and field named."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise AllowlistError(f"{source}: expected a list of entries, got {type(data).__name__}")
    entries: List[Entry] = []
    seen = set()
    for index, item in enumerate(data, start=1):
        where = f"{source} entry {index}"
        if not isinstance(item, dict):
            raise AllowlistError(f"{where}: expected a mapping with {', '.join(REQUIRED)}")
        missing = [key for key in REQUIRED if not str(item.get(key) or "").strip()]
        if missing:
            raise AllowlistError(f"{where}: missing {', '.join(missing)}")
        unknown = sorted(set(item) - set(REQUIRED) - {"aliases"})
        if unknown:
            raise AllowlistError(f"{where}: unknown field(s) {', '.join(unknown)}")
        reason = " ".join(str(item["reason"]).split())
        if len(reason) < MIN_REASON_CHARS:
            raise AllowlistError(f"{where}: the reason must say why ({reason!r} is too short)")
        aliases = item.get("aliases") or ()
        if not isinstance(aliases, (list, tuple)):
            raise AllowlistError(f"{where}: aliases must be a list")
        entry = Entry(
            package=str(item["package"]).strip(),
            id=str(item["id"]).strip(),
            reason=reason,
            reviewed=_date(item["reviewed"], where),
            aliases=tuple(str(alias) for alias in aliases),
        )
        key = (normalize_name(entry.package), entry.id)
        if key in seen:
            raise AllowlistError(f"{where}: {entry.package} {entry.id} is listed twice")
        seen.add(key)
        entries.append(entry)
    return entries


def load_allowlist(path: Path) -> List[Entry]:
    path = Path(path)
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as error:
        raise AllowlistError(f"{path}: not valid YAML ({error})") from None
    return parse_allowlist(data, source=str(path))


def decide(
    findings: Sequence[Finding],
    entries: Iterable[Entry],
    today: Optional[dt.date] = None,
    review_due_days: int = REVIEW_DUE_DAYS,
) -> Tuple[List[Decision], List[Entry]]:
    """Each finding's decision, and the entries no finding used (candidates to remove)."""
    today = today or dt.date.today()
    entries = list(entries)
    used: Dict[Tuple[str, str], bool] = {}
    decisions = []
    for finding in findings:
        entry = next((e for e in entries if e.matches(finding)), None)
        if entry is not None:
            used[(normalize_name(entry.package), entry.id)] = True
        due = entry is not None and (today - entry.reviewed).days > review_due_days
        decisions.append(Decision(finding=finding, entry=entry, review_due=due))
    unused = [e for e in entries if (normalize_name(e.package), e.id) not in used]
    return decisions, unused
