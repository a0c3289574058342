"""Version matching against the shipped advisory formats (security/advisories.py).

A small OSV database is written as YAML records, built with security/refresh_db.py
exactly as the shipped one is, and loaded back; PyUp specifiers are checked alongside.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from packaging.version import Version

from security import refresh_db
from security.advisories import (
    Affected,
    DatabaseError,
    affected_match,
    find_vulnerabilities,
    load_database,
    range_affects,
    spec_fix,
)

OSV_RECORDS = {
    "aiohttp/PYSEC-TEST-1.yaml": """
id: PYSEC-TEST-1
aliases: [CVE-2099-0001, GHSA-aaaa-bbbb-cccc]
summary: Request smuggling in the parser
published: 2024-01-29T23:15:00Z
affected:
- package: {ecosystem: PyPI, name: aiohttp}
  ranges:
  - type: GIT
    repo: https://example.invalid/aiohttp
    events: [{introduced: "0"}, {fixed: 1c335944d6a8b1298baf179b7c0b3069f10c514b}]
  - type: ECOSYSTEM
    events: [{introduced: "1.0.5"}, {fixed: "3.9.2"}, {introduced: "3.10.0"}, {fixed: "3.10.3"}]
""",
    "pyyaml/PYSEC-TEST-2.yaml": """
id: PYSEC-TEST-2
details: |
  Arbitrary code execution in full_load.
  Second line is not part of the summary.
affected:
- package: {ecosystem: PyPI, name: PyYAML}
  ranges:
  - type: ECOSYSTEM
    events: [{introduced: "0"}, {last_affected: "5.3"}]
""",
    "demo/PYSEC-TEST-3.yaml": """
id: PYSEC-TEST-3
summary: Only listed versions
affected:
- package: {ecosystem: PyPI, name: demo-pkg}
  versions: ["1.0", "1.1"]
""",
    "demo/PYSEC-TEST-4.yaml": """
id: PYSEC-TEST-4
summary: Withdrawn advisory
withdrawn: 2024-02-01T00:00:00Z
affected:
- package: {ecosystem: PyPI, name: demo-pkg}
  ranges:
  - type: ECOSYSTEM
    events: [{introduced: "0"}]
""",
    "npm/NPM-TEST-5.json": json.dumps(
        {
            "id": "GHSA-npm-only",
            "summary": "Another ecosystem",
            "affected": [
                {
                    "package": {"ecosystem": "npm", "name": "aiohttp"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                }
            ],
        }
    ),
}


@pytest.fixture(scope="module")
def osv_db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("osv")
    for name, text in OSV_RECORDS.items():
        path = root / "vulns" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    out = root / "fixture-osv.json.gz"
    code = refresh_db.main(
        ["osv", "--input", str(root / "vulns"), "--out", str(out), "--name", "Fixture OSV",
         "--data-date", "2024-10-10", "--snapshot", "abc123", "--licence", "CC-BY-4.0"]
    )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def pyup_db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pyup")
    feed = {
        "$meta": {"advisory": "PyUp.io metadata", "timestamp": 1775023247},
        "aiohttp": ["<3.9.2", ">=2.0.0rc1,<3.10.11", "<=1.0"],
        "Demo_Pkg": ["==1.1", "not a specifier"],
        "sanic": [">=21.3.0,<21.12.2"],
    }
    source = root / "insecure.json"
    source.write_text(json.dumps(feed))
    out = root / "fixture-pyup.json.gz"
    assert refresh_db.main(["pyup", "--input", str(source), "--out", str(out)]) == 0
    return out


def ids(findings):
    return sorted((f.package, f.advisory_id) for f in findings)


def test_ranges_follow_osv_event_order():
    events = (("introduced", "1.0.5"), ("fixed", "3.9.2"), ("introduced", "3.10.0"),
              ("fixed", "3.10.3"))
    assert range_affects(events, Version("3.9.1"))
    assert not range_affects(events, Version("3.9.2"))
    assert not range_affects(events, Version("3.9.5"))  # between the two ranges
    assert range_affects(events, Version("3.10.1"))
    assert not range_affects(events, Version("1.0.4"))
    assert range_affects((("introduced", "0"), ("last_affected", "5.3")), Version("5.3"))
    assert not range_affects((("introduced", "0"), ("last_affected", "5.3")), Version("5.3.1"))


def test_fixed_version_is_the_next_fix_above_the_installed_one():
    entry = Affected("aiohttp", ranges=((("introduced", "1.0.5"), ("fixed", "3.9.2"),
                                         ("introduced", "3.10.0"), ("fixed", "3.10.3")),))
    assert affected_match(entry, Version("3.10.0")) == (True, Version("3.10.3"))
    assert affected_match(entry, Version("2.0")) == (True, Version("3.9.2"))
    assert affected_match(entry, Version("3.10.3")) == (False, None)


def test_the_built_database_keeps_its_source_and_date(osv_db):
    database = load_database(osv_db)
    assert database.source.name == "Fixture OSV"
    assert database.source.data_date == "2024-10-10"
    assert database.source.records == 3  # the withdrawn and the npm-only records are dropped
    assert "data of 2024-10-10" in database.source.describe()


def test_osv_findings(osv_db):
    database = load_database(osv_db)
    installed = {"aiohttp": "3.9.1", "pyyaml": "5.3", "demo-pkg": "1.1", "sanic": "21.12.2"}
    findings, _ = find_vulnerabilities([database], installed)
    assert ids(findings) == [
        ("aiohttp", "PYSEC-TEST-1"),
        ("demo-pkg", "PYSEC-TEST-3"),
        ("pyyaml", "PYSEC-TEST-2"),
    ]
    by_id = {f.advisory_id: f for f in findings}
    assert by_id["PYSEC-TEST-1"].fixed_in == "3.9.2"
    assert by_id["PYSEC-TEST-1"].aliases == ("CVE-2099-0001", "GHSA-aaaa-bbbb-cccc")
    assert by_id["PYSEC-TEST-2"].fixed_in == "no fix"
    assert by_id["PYSEC-TEST-2"].summary == "Arbitrary code execution in full_load. Second line is not part of the summary."
    # Fixed and unlisted versions are clean.
    clean, _ = find_vulnerabilities([database], {"aiohttp": "3.9.2", "PyYAML": "6.0", "demo-pkg": "1.2"})
    assert clean == []


def test_pyup_ranges_defer_to_osv_advisories_with_the_same_fix(osv_db, pyup_db):
    databases = [load_database(osv_db), load_database(pyup_db)]
    assert databases[1].source.data_date == "2026-04-01"  # from the feed's timestamp
    findings, unparsed = find_vulnerabilities(
        databases, {"aiohttp": "3.9.1", "demo-pkg": "1.1", "sanic": "21.12.2"}
    )
    # "<3.9.2" is PYSEC-TEST-1 again; the 3.10.11 range is news; "<=1.0" does not match.
    assert ids(findings) == [
        ("aiohttp", "PYSEC-TEST-1"),
        ("aiohttp", "PYUP:>=2.0.0rc1,<3.10.11"),
        ("demo-pkg", "PYSEC-TEST-3"),
        ("demo-pkg", "PYUP:==1.1"),
    ]
    assert unparsed == ["demo-pkg not a specifier"]


def test_pyup_ranges_include_prereleases(pyup_db):
    findings, _ = find_vulnerabilities([load_database(pyup_db)], {"aiohttp": "2.0.0rc1"})
    assert ("aiohttp", "PYUP:>=2.0.0rc1,<3.10.11") in ids(findings)


def test_two_osv_databases_with_the_same_advisory_give_one_row(osv_db, tmp_path):
    record = {"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2099-0001"],
              "affected": [{"package": {"ecosystem": "PyPI", "name": "aiohttp"},
                            "ranges": [{"type": "ECOSYSTEM",
                                        "events": [{"introduced": "0"}, {"fixed": "3.9.2"}]}]}]}
    (tmp_path / "vulns").mkdir()
    (tmp_path / "vulns" / "ghsa.json").write_text(json.dumps(record))
    other = tmp_path / "ghsa.json.gz"
    refresh_db.main(["osv", "--input", str(tmp_path / "vulns"), "--out", str(other),
                     "--name", "Fixture GHSA", "--data-date", "2026-01-01"])
    findings, _ = find_vulnerabilities([load_database(osv_db), load_database(other)],
                                       {"aiohttp": "3.9.1"})
    assert ids(findings) == [("aiohttp", "PYSEC-TEST-1")]


@pytest.mark.parametrize(
    "spec, fix",
    [("<3.9.2", "3.9.2"), (">=2.0,<3.10.11", "3.10.11"), ("<=0.46.1", "after 0.46.1"),
     ("==1.1", "not 1.1"), (">=0.6", "no fix")],
)
def test_spec_fix(spec, fix):
    assert spec_fix(spec) == fix


def test_unusable_database_files_are_named(tmp_path):
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(DatabaseError, match="broken.json.gz: cannot read"):
        load_database(broken)
    no_meta = tmp_path / "no-meta.json.gz"
    no_meta.write_bytes(gzip.compress(b'{"advisories": []}'))
    with pytest.raises(DatabaseError, match="no 'meta' block"):
        load_database(no_meta)
    no_date = tmp_path / "no-date.json.gz"
    no_date.write_bytes(gzip.compress(b'{"meta": {"name": "x", "format": "osv"}}'))
    with pytest.raises(DatabaseError, match="meta lacks data_date"):
        load_database(no_date)


def test_the_shipped_databases_load_and_say_how_old_they_are():
    shipped = sorted(Path("security/advisory-db").glob("*.json.gz"))
    assert shipped, "security/advisory-db/ holds the offline databases"
    for path in shipped:
        database = load_database(path)
        assert database.source.data_date[:4].isdigit()
        assert database.advisories or database.specs
