"""Shipped advisory databases and the version matching against them.

Two offline formats are read, each with a ``meta`` block naming its source and the
date of its data, so that every report can say how old its knowledge is:

- ``osv``: OSV records (id, aliases, ECOSYSTEM ranges, explicit versions), as in the
  PyPA advisory database and the OSV PyPI export;
- ``pyup-specs``: the PyUp safety-db free feed, a map of package to vulnerable
  version specifiers. It has no advisory ids, so each specifier is its own finding
  unless an OSV advisory with the same fixed version already explains it.

Everything here is pure: the database is data, the installed set a mapping of
names to versions, and the result a list of findings.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

# An OSV range as the events it lists, e.g. [("introduced", "0"), ("fixed", "3.9.2")].
Range = Tuple[Tuple[str, str], ...]
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


def normalize_name(name: str) -> str:
    """PEP 503 name, so 'PyYAML', 'pyyaml' and 'py_yaml' are one package."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def parse_version(text: str) -> Optional[Version]:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


@dataclass(frozen=True)
class Affected:
    """One package's affected versions in one advisory."""

    package: str
    ranges: Tuple[Range, ...] = ()
    versions: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Advisory:
    id: str
    summary: str
    affected: Tuple[Affected, ...]
    aliases: Tuple[str, ...] = ()
    published: str = ""


@dataclass(frozen=True)
class SourceInfo:
    """Where a database came from and how old its data is."""

    name: str
    format: str
    data_date: str
    url: str = ""
    licence: str = ""
    snapshot: str = ""
    records: int = 0

    def describe(self) -> str:
        parts = [f"{self.name}, data of {self.data_date}"]
        if self.snapshot:
            parts.append(f"snapshot {self.snapshot[:12]}")
        if self.records:
            parts.append(f"{self.records} records")
        if self.licence:
            parts.append(f"licence {self.licence}")
        return "; ".join(parts)


@dataclass
class Database:
    source: SourceInfo
    advisories: Dict[str, List[Advisory]] = field(default_factory=dict)
    specs: Dict[str, List[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory_id: str
    fixed_in: str
    summary: str
    source: str
    aliases: Tuple[str, ...] = ()

    @property
    def key(self) -> Tuple[str, str]:
        return (normalize_name(self.package), self.advisory_id)


class DatabaseError(ValueError):
    """A database file that cannot be used; the message says which and why."""


# --- loading -----------------------------------------------------------------------


def _read_json(path: Path) -> dict:
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        data = json.loads(raw)
    except (OSError, EOFError, ValueError) as error:
        raise DatabaseError(f"{path}: cannot read ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("meta"), dict):
        raise DatabaseError(f"{path}: no 'meta' block; not a database built by refresh_db")
    return data


def _source_info(path: Path, meta: dict) -> SourceInfo:
    missing = [key for key in ("name", "format", "data_date") if not meta.get(key)]
    if missing:
        raise DatabaseError(f"{path}: meta lacks {', '.join(missing)}")
    return SourceInfo(
        name=str(meta["name"]),
        format=str(meta["format"]),
        data_date=str(meta["data_date"]),
        url=str(meta.get("url", "")),
        licence=str(meta.get("licence", "")),
        snapshot=str(meta.get("snapshot", "")),
        records=int(meta.get("records", 0)),
    )


def advisory_from_osv(record: Mapping) -> Optional[Advisory]:
    """An Advisory from an OSV record (raw or slimmed); None when withdrawn or not PyPI."""
    if record.get("withdrawn"):
        return None
    affected: List[Affected] = []
    for entry in record.get("affected") or ():
        package = entry.get("package") or {}
        if isinstance(package, Mapping):
            if package.get("ecosystem", "PyPI") != "PyPI":
                continue
            name = package.get("name", "")
        else:
            name = str(package)
        ranges = []
        for span in entry.get("ranges") or ():
            if isinstance(span, Mapping):
                if span.get("type") != "ECOSYSTEM":
                    continue  # GIT ranges name commits, not releases
                events = span.get("events") or ()
            else:
                events = span
            ranges.append(tuple(_event_pair(event) for event in events))
        affected.append(
            Affected(
                package=normalize_name(name),
                ranges=tuple(ranges),
                versions=tuple(str(v) for v in entry.get("versions") or ()),
            )
        )
    if not affected or not record.get("id"):
        return None
    summary = record.get("summary") or (record.get("details") or "").strip()
    return Advisory(
        id=str(record["id"]),
        summary=" ".join(str(summary).split())[:200],
        affected=tuple(affected),
        aliases=tuple(str(alias) for alias in record.get("aliases") or ()),
        published=str(record.get("published", ""))[:10],
    )


def _event_pair(event) -> Tuple[str, str]:
    if isinstance(event, Mapping):
        (kind, value), *_ = event.items()
    else:
        kind, value = event
    if kind not in EVENT_KINDS:
        raise DatabaseError(f"unknown OSV range event {kind!r}")
    return (str(kind), str(value))


def load_database(path: Path) -> Database:
    data = _read_json(Path(path))
    source = _source_info(Path(path), data["meta"])
    database = Database(source=source)
    if source.format == "osv":
        for record in data.get("advisories") or ():
            advisory = advisory_from_osv(record)
            if advisory is None:
                continue
            for package in {entry.package for entry in advisory.affected}:
                database.advisories.setdefault(package, []).append(advisory)
    elif source.format == "pyup-specs":
        for name, specs in (data.get("specs") or {}).items():
            database.specs[normalize_name(name)] = [str(spec) for spec in specs]
    else:
        raise DatabaseError(f"{path}: unknown format {source.format!r}")
    return database


# --- matching ----------------------------------------------------------------------


def _event_sort_key(event: Tuple[str, str]):
    kind, value = event
    if kind == "introduced" and value == "0":
        return (0, Version("0"))
    version = parse_version(value)
    return (1, version) if version is not None else (2, Version("0"))


def range_affects(events: Range, version: Version) -> bool:
    """OSV's evaluation of one ECOSYSTEM range: walk the events in version order."""
    affected = False
    for kind, value in sorted(events, key=_event_sort_key):
        bound = Version("0") if (kind, value) == ("introduced", "0") else parse_version(value)
        if bound is None:
            continue
        if kind == "introduced" and version >= bound:
            affected = True
        elif kind == "fixed" and version >= bound:
            affected = False
        elif kind == "last_affected" and version > bound:
            affected = False
    return affected


def fixed_after(events: Range, version: Version) -> Optional[Version]:
    """The first 'fixed' release above ``version`` in this range, if there is one."""
    fixes = [parse_version(value) for kind, value in events if kind == "fixed"]
    later = [fix for fix in fixes if fix is not None and fix > version]
    return min(later) if later else None


def affected_match(entry: Affected, version: Version) -> Tuple[bool, Optional[Version]]:
    """Whether ``version`` is affected, and the lowest release that fixes it."""
    listed = any(parse_version(v) == version for v in entry.versions)
    hits = [events for events in entry.ranges if range_affects(events, version)]
    if not (listed or hits):
        return False, None
    candidates = [fixed_after(events, version) for events in (hits or entry.ranges)]
    fixes = [fix for fix in candidates if fix is not None]
    return True, (min(fixes) if fixes else None)


def osv_findings(database: Database, installed: Mapping[str, str]) -> List[Finding]:
    findings = []
    for name, text in sorted(installed.items()):
        version = parse_version(text)
        if version is None:
            continue
        for advisory in database.advisories.get(normalize_name(name), ()):
            for entry in advisory.affected:
                if entry.package != normalize_name(name):
                    continue
                hit, fix = affected_match(entry, version)
                if hit:
                    findings.append(
                        Finding(
                            package=name,
                            version=text,
                            advisory_id=advisory.id,
                            fixed_in=str(fix) if fix else "no fix",
                            summary=advisory.summary,
                            source=database.source.name,
                            aliases=advisory.aliases,
                        )
                    )
                    break
    return findings


def spec_fix(spec: str) -> str:
    """What release a PyUp specifier says is safe: the bound of its '<' clause."""
    for clause in spec.split(","):
        clause = clause.strip()
        if clause.startswith("<="):
            return f"after {clause[2:].strip()}"
        if clause.startswith("<"):
            return clause[1:].strip()
        if clause.startswith("=="):
            return f"not {clause[2:].strip()}"
    return "no fix"


def spec_findings(
    database: Database, installed: Mapping[str, str], explained: Iterable[Finding] = ()
) -> Tuple[List[Finding], List[str]]:
    """Findings from vulnerable-version specifiers, and the specifiers that did not parse.

    A specifier whose safe release is the fixed version of an OSV finding for the same
    package is that advisory seen twice, so it is left out.
    """
    fixes_seen: Dict[str, set] = {}
    for finding in explained:
        fixes_seen.setdefault(normalize_name(finding.package), set()).add(finding.fixed_in)
    findings, unparsed = [], []
    for name, text in sorted(installed.items()):
        version = parse_version(text)
        if version is None:
            continue
        for spec in database.specs.get(normalize_name(name), ()):
            try:
                matches = SpecifierSet(spec, prereleases=True).contains(version)
            except InvalidSpecifier:
                unparsed.append(f"{name} {spec}")
                continue
            if not matches:
                continue
            fix = spec_fix(spec)
            if fix in fixes_seen.get(normalize_name(name), set()):
                continue
            findings.append(
                Finding(
                    package=name,
                    version=text,
                    advisory_id=f"PYUP:{spec}",
                    fixed_in=fix,
                    summary="vulnerable range in the PyUp feed (the free feed names no advisory)",
                    source=database.source.name,
                )
            )
    return findings, unparsed


def find_vulnerabilities(
    databases: Sequence[Database], installed: Mapping[str, str]
) -> Tuple[List[Finding], List[str]]:
    """All findings for the installed set, OSV databases first so PyUp can defer to them."""
    osv: List[Finding] = []
    for database in databases:
        if database.source.format == "osv":
            osv.extend(osv_findings(database, installed))
    specs: List[Finding] = []
    unparsed: List[str] = []
    for database in databases:
        if database.source.format == "pyup-specs":
            found, bad = spec_findings(database, installed, explained=osv)
            specs.extend(found)
            unparsed.extend(bad)
    return _dedupe(osv) + specs, unparsed


def _dedupe(findings: List[Finding]) -> List[Finding]:
    """One row per advisory when two OSV databases carry it (or one carries an alias)."""
    seen: Dict[Tuple[str, str], Finding] = {}
    names: Dict[Tuple[str, str], Tuple[str, str]] = {}
    for finding in findings:
        ids = (finding.advisory_id, *finding.aliases)
        known = next(
            (names[(normalize_name(finding.package), i)] for i in ids
             if (normalize_name(finding.package), i) in names),
            None,
        )
        if known is not None:
            continue
        seen[finding.key] = finding
        for i in ids:
            names[(normalize_name(finding.package), i)] = finding.key
    return list(seen.values())
