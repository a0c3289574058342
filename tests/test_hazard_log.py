"""Keeps the clinical hazard log (docs/clinical-safety/hazard-log.md) honest.

The log is Markdown written for people. This test reads it as data:

* every hazard the safety case must cover is there (a wrong fact, an invented fact, ...);
* every hazard has its cause(s), effect on the patient, controls, initial risk,
  residual risk and a Tests: line;
* every rating is the one DCB0129's 5x5 matrix gives for its severity and likelihood,
  the matrix printed in the log is that matrix, and no residual risk is above its
  initial risk;
* every control that is not marked Planned names a file that exists;
* every test on a Tests: line exists: a pytest node id ``tests/x.py::test_y`` (any
  ``[param]`` suffix stripped; ``file::Class::method`` too) must name a file that
  defines that function, and ``make X`` needs a Makefile target X.

The negative tests at the end run the same checker on small inline logs, to show that
it catches a missing test, a wrong rating and a missing field.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
HAZARD_LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"
SAFETY_CASE = ROOT / "docs" / "clinical-safety" / "safety-case-report.md"

SEVERITIES = ("Minor", "Significant", "Considerable", "Major", "Catastrophic")
LIKELIHOODS = ("Very low", "Low", "Medium", "High", "Very high")

# DCB0129's risk matrix: likelihood -> ratings for Minor .. Catastrophic.
DCB0129_MATRIX: Dict[str, Tuple[int, ...]] = {
    "Very high": (3, 4, 4, 5, 5),
    "High": (2, 3, 3, 4, 5),
    "Medium": (2, 2, 3, 3, 4),
    "Low": (1, 2, 2, 3, 4),
    "Very low": (1, 1, 2, 2, 3),
}

# Hazards the safety case must cover (issue 9), matched against hazard titles.
REQUIRED_HAZARDS: Dict[str, str] = {
    "a wrong fact": r"\bwrong fact\b",
    "an invented fact": r"\binvented fact\b",
    "a missed urgent symptom": r"\bmissed urgent symptom",
    "a false reassurance": r"\bfalse reassurance\b",
    "implied eligibility": r"\beligib",
    "a lost or delayed callback enquiry": r"\b(lost|delayed)\b.*\bcallback\b",
    "a wrong phone number": r"\bwrong phone number\b",
    "personal details exposed": r"\bpersonal details\b",
    "the bot unavailable": r"\bunavailable\b",
    "a user who does not read English well": r"\benglish\b",
    "out-of-date page content": r"\bout[- ]of[- ]date\b",
}

REQUIRED_FIELDS = ("Cause(s)", "Effect on the patient", "Controls", "Initial risk",
                   "Residual risk", "Tests")

HEADING_RE = re.compile(r"^###\s+(H\d{2})\s*[:.\-\u2013\u2014]\s*(.+?)\s*$")
FIELD_RE = re.compile(r"^- \*\*(.+?):\*\*\s*(.*)$")
RISK_RE = re.compile(
    r"severity\s+(?P<severity>" + "|".join(SEVERITIES) + r")\s*,\s*"
    r"likelihood\s+(?P<likelihood>" + "|".join(sorted(LIKELIHOODS, key=len, reverse=True)) + r")\s*,\s*"
    r"rating\s+(?P<rating>\d+)",
    re.I,
)
BACKTICKED_RE = re.compile(r"`([^`]+)`")
# A repository path in a control: has a slash or a file extension, and no spaces.
PATH_RE = re.compile(r"^[\w.\-]+(?:/[\w.\-]*)*$")
FILE_SUFFIXES = (".py", ".yml", ".yaml", ".md", ".txt", ".sh", ".cfg", ".jsonl", ".json", ".ini")


# --------------------------------------------------------------------------- parsing

@dataclass
class Risk:
    severity: str
    likelihood: str
    rating: int


@dataclass
class Hazard:
    id: str
    title: str
    fields: Dict[str, str] = field(default_factory=dict)

    def risk(self, name: str) -> Optional[Risk]:
        match = RISK_RE.search(self.fields.get(name, ""))
        if not match:
            return None
        severity = next(s for s in SEVERITIES if s.lower() == match["severity"].lower())
        likelihood = next(l for l in LIKELIHOODS if l.lower() == match["likelihood"].lower())
        return Risk(severity, likelihood, int(match["rating"]))

    @property
    def tests(self) -> List[str]:
        return [ref.strip() for ref in BACKTICKED_RE.findall(self.fields.get("Tests", ""))]

    @property
    def control_lines(self) -> List[str]:
        text = self.fields.get("Controls", "")
        return [line.strip()[2:].strip() for line in text.splitlines() if line.strip().startswith("- ")]


def parse_hazard_log(text: str) -> List[Hazard]:
    """Each ``### Hnn: Title`` section, with its ``- **Field:** value`` lines. A field's
    value runs on over indented lines (numbered causes, control bullets)."""
    hazards: List[Hazard] = []
    current: Optional[Hazard] = None
    field_name: Optional[str] = None
    for line in text.splitlines():
        heading = HEADING_RE.match(line)
        if heading:
            current = Hazard(heading.group(1), heading.group(2))
            hazards.append(current)
            field_name = None
            continue
        if line.startswith("#"):
            current, field_name = None, None
            continue
        if current is None:
            continue
        match = FIELD_RE.match(line)
        if match:
            field_name = match.group(1).strip()
            current.fields[field_name] = match.group(2).strip()
        elif field_name and line.strip() and line[:1].isspace():
            current.fields[field_name] += "\n" + line.rstrip()
        elif not line.strip():
            continue
        else:
            field_name = None
    return hazards


def parse_matrix(text: str) -> Dict[str, Tuple[int, ...]]:
    """The ``| Likelihood \\ Severity | Minor | ... |`` table printed in the log."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0].lower().startswith("likelihood") and cells[1:] == list(SEVERITIES):
            matrix: Dict[str, Tuple[int, ...]] = {}
            for row in lines[i + 2:]:
                if not row.strip().startswith("|"):
                    break
                parts = [c.strip() for c in row.strip().strip("|").split("|")]
                matrix[parts[0]] = tuple(int(c) for c in parts[1:])
            return matrix
    return {}


def expected_rating(severity: str, likelihood: str) -> int:
    return DCB0129_MATRIX[likelihood][SEVERITIES.index(severity)]


# --------------------------------------------------------------------------- references

def _defines(path: Path, name: str, cls: Optional[str] = None) -> bool:
    """Whether the test file defines ``name`` (in class ``cls`` if given)."""
    source = path.read_text(encoding="utf-8")
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    try:
        tree = ast.parse(source)
    except SyntaxError:  # half-edited file: fall back to the text
        if cls and not re.search(rf"^\s*class\s+{re.escape(cls)}\b", source, re.M):
            return False
        return re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(name)}\s*\(", source, re.M) is not None
    if cls:
        return any(
            isinstance(node, ast.ClassDef) and node.name == cls
            and any(isinstance(item, functions) and item.name == name for item in node.body)
            for node in tree.body
        )
    return any(isinstance(node, functions) and node.name == name for node in tree.body)


def make_targets(makefile: Path) -> set:
    targets = set()
    for line in makefile.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-/ ]+?)\s*:(?!=)", line)
        if match and not line.startswith(("\t", "#", ".")):
            targets.update(match.group(1).split())
    return targets


def reference_problem(ref: str, root: Path) -> Optional[str]:
    """Why a Tests: reference does not resolve, or None when it does."""
    if ref.startswith("make "):
        target = ref[len("make "):].strip()
        makefile = root / "Makefile"
        if not makefile.is_file():
            return f"{ref}: no Makefile"
        if target not in make_targets(makefile):
            return f"{ref}: the Makefile has no target {target!r}"
        return None
    if "::" in ref:
        node = re.sub(r"\[.*\]$", "", ref)
        path_part, *names = node.split("::")
        path = root / path_part
        if not path.is_file():
            return f"{ref}: no file {path_part}"
        if len(names) == 1:
            ok = _defines(path, names[0])
        elif len(names) == 2:
            ok = _defines(path, names[1], cls=names[0])
        else:
            return f"{ref}: not a node id of the form file::test or file::Class::test"
        return None if ok else f"{ref}: {path_part} does not define {'::'.join(names)}"
    return f"{ref}: not a pytest node id (file::test) or a make target (make X)"


def control_paths(line: str) -> List[str]:
    """Repository paths named in a control line (backticked, path-like)."""
    paths = []
    for ref in BACKTICKED_RE.findall(line):
        ref = ref.strip()
        if PATH_RE.match(ref) and ("/" in ref or ref.endswith(FILE_SUFFIXES)):
            paths.append(ref)
    return paths


# --------------------------------------------------------------------------- the checker

def check_hazard_log(text: str, root: Path, required: Optional[Dict[str, str]] = None) -> List[str]:
    """Every problem with a hazard log, as readable lines; [] when it is sound."""
    problems: List[str] = []
    hazards = parse_hazard_log(text)
    if not hazards:
        return ["no hazards found (headings must look like '### H01: Title')"]

    ids = [h.id for h in hazards]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"{dup}: used by more than one hazard")

    for label, pattern in (REQUIRED_HAZARDS if required is None else required).items():
        if not any(re.search(pattern, h.title, re.I) for h in hazards):
            problems.append(f"required hazard missing: {label}")

    for hazard in hazards:
        where = f"{hazard.id} ({hazard.title})"
        for name in REQUIRED_FIELDS:
            if not hazard.fields.get(name, "").strip():
                problems.append(f"{where}: no {name}")

        risks = {}
        for name in ("Initial risk", "Residual risk"):
            if not hazard.fields.get(name, "").strip():
                continue
            risk = hazard.risk(name)
            if risk is None:
                problems.append(f"{where}: {name} must read 'severity S, likelihood L, rating N'")
                continue
            expected = expected_rating(risk.severity, risk.likelihood)
            if risk.rating != expected:
                problems.append(
                    f"{where}: {name} {risk.severity} x {risk.likelihood} is rated {risk.rating}, "
                    f"but the DCB0129 matrix gives {expected}")
            risks[name] = risk
        if len(risks) == 2 and risks["Residual risk"].rating > risks["Initial risk"].rating:
            problems.append(f"{where}: residual risk is higher than the initial risk")

        controls = hazard.control_lines
        if hazard.fields.get("Controls", "").strip() and not controls:
            problems.append(f"{where}: Controls must be a list of '- Kind (`file`): ...' lines")
        for line in controls:
            if line.lower().startswith("planned"):
                continue
            paths = control_paths(line)
            if not paths:
                problems.append(f"{where}: control names no file: {line[:70]!r}")
            for path in paths:
                if not (root / path).exists():
                    problems.append(f"{where}: control names {path}, which does not exist")

        tests_text = hazard.fields.get("Tests", "")
        if tests_text.strip() and not hazard.tests and "none" not in tests_text.lower():
            problems.append(f"{where}: the Tests line names no test (write 'none' if there is none yet)")
        for ref in hazard.tests:
            problem = reference_problem(ref, root)
            if problem:
                problems.append(f"{where}: {problem}")
    return problems


# --------------------------------------------------------------------------- the real log

@pytest.fixture(scope="module")
def log_text() -> str:
    return HAZARD_LOG.read_text(encoding="utf-8")


def test_hazard_log_is_sound(log_text: str):
    problems = check_hazard_log(log_text, ROOT)
    assert not problems, "hazard log problems:\n" + "\n".join(f"  {p}" for p in problems)


def test_the_printed_matrix_is_dcb0129s(log_text: str):
    assert parse_matrix(log_text) == DCB0129_MATRIX


def test_every_hazard_names_at_least_one_test(log_text: str):
    without = [h.id for h in parse_hazard_log(log_text) if not h.tests]
    assert not without, f"hazards with no test or make target: {without}"


def test_hazard_ids_run_in_order(log_text: str):
    ids = [h.id for h in parse_hazard_log(log_text)]
    assert ids == [f"H{n:02d}" for n in range(1, len(ids) + 1)]


def test_summary_table_matches_the_hazards(log_text: str):
    rows = {}
    for line in log_text.splitlines():
        match = re.match(r"^\|\s*(H\d{2})\s*\|\s*(.+?)\s*\|\s*(\d)\s*\|\s*(\d)\s*\|\s*$", line)
        if match:
            rows[match.group(1)] = (int(match.group(3)), int(match.group(4)))
    hazards = parse_hazard_log(log_text)
    assert set(rows) == {h.id for h in hazards}
    for hazard in hazards:
        initial, residual = hazard.risk("Initial risk"), hazard.risk("Residual risk")
        assert rows[hazard.id] == (initial.rating, residual.rating), hazard.id


def test_the_safety_case_report_exists_and_points_at_the_log():
    text = SAFETY_CASE.read_text(encoding="utf-8")
    assert "hazard-log.md" in text
    for needed in ("Clinical Safety Officer", "DCB0160", "make content-report", "--sign-off"):
        assert needed in text, needed


# --------------------------------------------------------------------------- the checker can fail

FAKE_LOG = """\
# Fake log

### H01: Wrong fact

- **Cause(s):** a writer changes a figure.
- **Effect on the patient:** a wrong belief.
- **Initial risk:** severity Significant, likelihood High, rating 3.
- **Controls:**
  - Design (`content/answers.py`): quotes checked.
  - Planned, no test: something later.
- **Residual risk:** severity Significant, likelihood Low, rating 2.
- **Tests:** `tests/test_fake.py::test_real`, `tests/test_fake.py::test_param[a-b]`, `tests/test_fake.py::TestGroup::test_method`, `make gate`
"""

FAKE_TESTS = """\
import pytest

def test_real():
    pass

@pytest.mark.parametrize("x", ["a-b"])
async def test_param(x):
    pass

class TestGroup:
    def test_method(self):
        pass

def helper_in_module():
    pass
"""

FAKE_MAKEFILE = "gate: setup ## a gate\n\t@echo ok\n\nsetup:\n\t@true\n"
ONLY_WRONG_FACT = {"a wrong fact": r"\bwrong fact\b"}


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_fake.py").write_text(FAKE_TESTS, encoding="utf-8")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "answers.py").write_text("", encoding="utf-8")
    (tmp_path / "Makefile").write_text(FAKE_MAKEFILE, encoding="utf-8")
    return tmp_path


def test_fake_log_passes(fake_root: Path):
    assert check_hazard_log(FAKE_LOG, fake_root, ONLY_WRONG_FACT) == []


@pytest.mark.parametrize("missing", [
    "tests/test_fake.py::test_gone",
    "tests/test_fake.py::test_gone[1]",
    "tests/test_nowhere.py::test_real",
    "tests/test_fake.py::TestGroup::test_real",      # exists, but not in the class
    "tests/test_fake.py::TestOther::test_method",
    "tests/test_fake.py::test_method",               # only a method, not a module function
])
def test_a_missing_test_is_caught(fake_root: Path, missing: str):
    log = FAKE_LOG.replace("`make gate`", f"`make gate`, `{missing}`")
    problems = check_hazard_log(log, fake_root, ONLY_WRONG_FACT)
    assert len(problems) == 1 and missing in problems[0], problems


def test_a_missing_make_target_is_caught(fake_root: Path):
    problems = check_hazard_log(FAKE_LOG.replace("`make gate`", "`make nowhere`"), fake_root, ONLY_WRONG_FACT)
    assert problems == ["H01 (Wrong fact): make nowhere: the Makefile has no target 'nowhere'"]


def test_an_unrecognised_test_reference_is_caught(fake_root: Path):
    problems = check_hazard_log(FAKE_LOG.replace("`make gate`", "`test_real`"), fake_root, ONLY_WRONG_FACT)
    assert len(problems) == 1 and "not a pytest node id" in problems[0]


@pytest.mark.parametrize("old,new,expected", [
    # Significant x High is 3 on the matrix, not 4.
    ("likelihood High, rating 3", "likelihood High, rating 4", "gives 3"),
    # Significant x Low is 2, not 1.
    ("likelihood Low, rating 2", "likelihood Low, rating 1", "gives 2"),
    # The rating follows the likelihood: Significant x Very high is 4.
    ("likelihood High, rating 3", "likelihood Very high, rating 3", "gives 4"),
])
def test_a_wrong_rating_is_caught(fake_root: Path, old: str, new: str, expected: str):
    problems = check_hazard_log(FAKE_LOG.replace(old, new), fake_root, ONLY_WRONG_FACT)
    assert len(problems) == 1 and "DCB0129 matrix" in problems[0] and expected in problems[0], problems


def test_residual_above_initial_is_caught(fake_root: Path):
    log = FAKE_LOG.replace("severity Significant, likelihood Low, rating 2",
                           "severity Major, likelihood High, rating 4")
    problems = check_hazard_log(log, fake_root, ONLY_WRONG_FACT)
    assert problems == ["H01 (Wrong fact): residual risk is higher than the initial risk"]


def test_an_unreadable_risk_is_caught(fake_root: Path):
    log = FAKE_LOG.replace("severity Significant, likelihood High, rating 3", "high")
    problems = check_hazard_log(log, fake_root, ONLY_WRONG_FACT)
    assert len(problems) == 1 and "Initial risk must read" in problems[0]


@pytest.mark.parametrize("field_name", ["Cause(s)", "Effect on the patient", "Initial risk",
                                        "Residual risk", "Tests"])
def test_a_missing_field_is_caught(fake_root: Path, field_name: str):
    log = "\n".join(line for line in FAKE_LOG.splitlines()
                    if not line.startswith(f"- **{field_name}:**"))
    problems = check_hazard_log(log, fake_root, ONLY_WRONG_FACT)
    assert f"H01 (Wrong fact): no {field_name}" in problems, problems


def test_missing_controls_are_caught(fake_root: Path):
    log = re.sub(r"- \*\*Controls:\*\*\n(  - .*\n)+", "", FAKE_LOG)
    assert "Controls" not in log
    assert "H01 (Wrong fact): no Controls" in check_hazard_log(log, fake_root, ONLY_WRONG_FACT)


def test_a_control_naming_a_missing_file_is_caught(fake_root: Path):
    log = FAKE_LOG.replace("`content/answers.py`", "`content/gone.py`")
    problems = check_hazard_log(log, fake_root, ONLY_WRONG_FACT)
    assert problems == ["H01 (Wrong fact): control names content/gone.py, which does not exist"]


def test_a_missing_required_hazard_is_caught(fake_root: Path):
    problems = check_hazard_log(FAKE_LOG, fake_root, REQUIRED_HAZARDS)
    missing = {p for p in problems if p.startswith("required hazard missing")}
    assert len(missing) == len(REQUIRED_HAZARDS) - 1
    assert "required hazard missing: a missed urgent symptom" in missing
    assert not any("a wrong fact" in p for p in missing)


def test_the_real_log_without_a_hazard_is_caught(log_text: str):
    without = re.sub(r"### H03: Missed urgent symptom.*?(?=### H04)", "", log_text, flags=re.S)
    problems = check_hazard_log(without, ROOT)
    assert "required hazard missing: a missed urgent symptom" in problems


def test_make_targets_are_read_from_the_real_makefile():
    targets = make_targets(ROOT / "Makefile")
    assert {"test", "nlu-gate", "content-report", "test-stories"} <= targets
    assert ".PHONY" not in targets and "SHELL" not in targets
