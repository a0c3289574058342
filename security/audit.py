"""Audit the pinned dependencies for known vulnerabilities (``make audit``).

Live first: when OSV's API answers within a few seconds, pip-audit (in its own venv
under build/tools/audit) checks the pinned set against it. Otherwise, or with
``--mode offline``, the set is matched against the databases shipped in
security/advisory-db/, and the report says how old their data is. Findings listed in
security/audit-allowlist.yml with a reason are allowed; any other fails (exit 1).

Usage: python -m security.audit [--mode auto|live|offline] [--report docs/audit.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

from security import live
from security.advisories import DatabaseError, Database, find_vulnerabilities, load_database
from security.allowlist import AllowlistError, decide, load_allowlist
from security.pins import audited_set, pip_freeze, read_pin_files
from security.report import AuditResult, markdown_report, text_table

ROOT = Path(__file__).resolve().parents[1]
DB_DIR = ROOT / "security" / "advisory-db"
ALLOWLIST = ROOT / "security" / "audit-allowlist.yml"
ABOUT = ROOT / "security" / "ABOUT-REPORT.md"


def default_databases() -> List[Path]:
    return sorted(DB_DIR.glob("*.json.gz"))


def offline_findings(paths: Sequence[Path], packages):
    databases: List[Database] = [load_database(path) for path in paths]
    if not databases:
        raise DatabaseError(f"no database in {DB_DIR} (see security/refresh_db.py)")
    findings, unparsed = find_vulnerabilities(databases, packages)
    notes = [f"specifier not understood, skipped: {spec}" for spec in unparsed]
    return findings, [db.source for db in databases], notes


def run(args) -> AuditResult:
    root = Path(args.root)
    pins = read_pin_files(root)
    freeze = Path(args.freeze_file).read_text() if args.freeze_file else pip_freeze(args.python)
    pinned = audited_set(freeze, pins)
    entries = load_allowlist(Path(args.allowlist))
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()

    findings = None
    notes = list(pinned.notes)
    sources = []
    mode, mode_note = "offline (shipped databases)", "--mode offline"
    if args.mode in ("auto", "live"):
        reachable, why = live.osv_reachable(timeout=args.timeout)
        if reachable:
            with tempfile.TemporaryDirectory() as workdir:
                findings, skipped, note = live.run_pip_audit(
                    root, pinned.packages, Path(workdir)
                )
            notes += [f"pip-audit skipped {item}" for item in skipped]
            if findings is not None:
                mode, mode_note = "live (pip-audit against OSV)", why
                sources = []
            else:
                why = note
        if findings is None:
            if args.mode == "live":
                raise SystemExit(f"audit: live mode asked for, but {why}")
            mode_note = f"{why}, so the shipped databases were used"
    if findings is None:
        findings, sources, db_notes = offline_findings(args.db or default_databases(),
                                                       pinned.packages)
        notes += db_notes
    decisions, unused = decide(findings, entries, today=today)
    return AuditResult(
        mode=mode,
        mode_note=mode_note,
        sources=sources,
        audited=len(pinned.packages),
        decisions=decisions,
        unused=unused,
        notes=notes,
        today=today,
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("auto", "live", "offline"), default="auto")
    parser.add_argument("--report", help="also write the report as Markdown here")
    parser.add_argument("--allowlist", default=str(ALLOWLIST))
    parser.add_argument("--db", action="append", type=Path,
                        help="a shipped database (repeatable; default: security/advisory-db/)")
    parser.add_argument("--root", default=str(ROOT), help="where the pin files are")
    parser.add_argument("--freeze-file", help="read this instead of running pip freeze")
    parser.add_argument("--python", default=sys.executable, help="the venv's python")
    parser.add_argument("--timeout", type=float, default=4.0,
                        help="seconds to wait for the live service")
    parser.add_argument("--today", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        result = run(args)
    except (DatabaseError, AllowlistError) as error:
        print(f"audit: {error}", file=sys.stderr)
        return 2
    print(text_table(result))
    if args.report:
        about = ABOUT.read_text("utf-8") if ABOUT.exists() else ""
        Path(args.report).write_text(markdown_report(result) + ("\n" + about if about else ""))
        print(f"report written to {args.report}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
