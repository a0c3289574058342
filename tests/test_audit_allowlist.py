"""The audit allowlist: its checks and the decision for each finding."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from security.advisories import Finding
from security.allowlist import AllowlistError, decide, load_allowlist, parse_allowlist

REASON = "rasa 3.6.21 pins it; the vulnerable code path is never called here"


def finding(package="aiohttp", advisory="PYSEC-1", aliases=(), fixed="3.9.2"):
    return Finding(package=package, version="3.9.1", advisory_id=advisory,
                   fixed_in=fixed, summary="", source="test", aliases=aliases)


def entry(**overrides):
    item = {"package": "aiohttp", "id": "PYSEC-1", "reason": REASON,
            "reviewed": dt.date(2026, 11, 1)}
    item.update(overrides)
    return item


@pytest.mark.parametrize(
    "data, message",
    [
        ({"package": "x"}, "expected a list of entries"),
        (["aiohttp"], "entry 1: expected a mapping"),
        ([entry(reason="")], "entry 1: missing reason"),
        ([{"package": "a", "id": "b"}], "entry 1: missing reason, reviewed"),
        ([entry(reason="pinned")], "the reason must say why"),
        ([entry(reviewed="last week")], "reviewed must be a date"),
        ([entry(), entry(package="AIOHTTP")], "entry 2: AIOHTTP PYSEC-1 is listed twice"),
        ([entry(expires="2027-01-01")], "unknown field(s) expires"),
        ([entry(aliases="CVE-1")], "aliases must be a list"),
    ],
)
def test_mistakes_are_named(data, message):
    with pytest.raises(AllowlistError) as error:
        parse_allowlist(data, source="allow.yml")
    assert message in str(error.value)
    assert str(error.value).startswith("allow.yml")


def test_yaml_errors_and_a_missing_file(tmp_path):
    bad = tmp_path / "allow.yml"
    bad.write_text("- package: [unclosed\n")
    with pytest.raises(AllowlistError, match="not valid YAML"):
        load_allowlist(bad)
    assert load_allowlist(tmp_path / "absent.yml") == []
    empty = tmp_path / "empty.yml"
    empty.write_text("# nothing allowed yet\n")
    assert load_allowlist(empty) == []


def test_decisions():
    entries = parse_allowlist(
        [
            entry(),
            entry(package="PyYAML", id="PYSEC-9", aliases=["CVE-2099-1"]),
            entry(package="sanic", id="PYSEC-5", reviewed="2025-01-01"),
            entry(package="twilio", id="PYUP:<9.0.5"),
        ]
    )
    findings = [
        finding(),  # allowed by id
        finding(package="pyyaml", advisory="GHSA-x", aliases=("CVE-2099-1",)),  # by alias
        finding(package="sanic", advisory="PYSEC-5"),  # allowed, but reviewed long ago
        finding(advisory="PYSEC-2"),  # same package, other advisory: open
        finding(package="requests", advisory="PYSEC-1"),  # same id, other package: open
        finding(package="skops", advisory="PYUP:>=0.6", fixed="no fix"),
    ]
    decisions, unused = decide(findings, entries, today=dt.date(2026, 11, 24))
    allowed = [d.allowed for d in decisions]
    assert allowed == [True, True, True, False, False, False]
    assert [d.review_due for d in decisions[:3]] == [False, False, True]
    assert decisions[2].text().startswith("allowed (review due): rasa 3.6.21")
    assert decisions[3].text() == "OPEN: upgrade to 3.9.2 or record a reason"
    assert decisions[5].text() == "OPEN: no fixed release; replace the package or record a reason"
    assert [(e.package, e.id) for e in unused] == [("twilio", "PYUP:<9.0.5")]


def test_the_project_allowlist_is_valid_and_every_reason_names_a_cause():
    entries = load_allowlist(Path("security/audit-allowlist.yml"))
    assert entries
    for item in entries:
        # A reason says what forces the version or proposes the fix.
        assert any(word in item.reason for word in ("rasa", "Rasa", "Fix proposed", "setup")), item
