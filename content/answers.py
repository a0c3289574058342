"""Load the assistant's answers and check them against the hospital's patient page.

Pure Python (PyYAML and textstat only, no Rasa import) so the checks run fast and can be
used by tests, scripts and reviewers alike.

Every response carries metadata:

    metadata:
      section: "<page heading the answer comes from, verbatim, or General>"
      source:                     # exact sentence(s) of the page, verbatim
      - "..."
      reviewed_by: null           # clinician sign-off, stamped by scripts/content_report.py
      reviewed_on: null
      reviewed_sha: null          # content_sha() of the text that was signed off

The checks here are deliberately simple and explainable:

* ``missing_quotes``: every quote must be a verbatim substring of the page
  (whitespace-normalised only; spelling and punctuation must match).
* ``unsupported_facts``: every number, year, percentage, fraction, phone number and
  proper name in the answer must also be in the answer's own quoted sentences
  (or in ``ALLOWED_FACTS``). A changed figure or an added name is therefore caught.
* ``eligibility_violations``: the answer must never tell someone they are, or are not,
  suitable for the treatment.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAGE = Path("..") / "shared" / "source" / "balloon-kyphoplasty-patient-page.txt"
GENERAL_SECTION = "General"

# Facts an answer may state without a page quote: emergency and NHS signposting, and
# the example number shown in the callback form.
ALLOWED_FACTS: Set[str] = {"999", "111", "NHS 111", "A&E", "NHS", "UK", "07700 900123", "English"}

# Capitalised words that are ordinary words, not names or facts.
NON_FACT_WORDS: Set[str] = {"I", "I'm", "I’m", "I'll", "I’ll", "I've", "I’ve", "I'd", "I’d",
                            "OK", "GP", "GPs"}

# Titles written with or without a full stop ("Mr." on the page, "Mr" elsewhere).
TITLES = {"Mr", "Mrs", "Ms", "Dr", "Prof", "Professor", "Miss", "Sir", "St"}

PLACEHOLDER_RE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


# --------------------------------------------------------------------------- text utils

def normalise_ws(text: str) -> str:
    """Collapse every run of whitespace (including non-breaking spaces) to one space."""
    return re.sub(r"\s+", " ", (text or "").replace("\u00a0", " ")).strip()


def _norm_punct(text: str) -> str:
    """Whitespace plus apostrophes/quotes and title full stops, for comparing names."""
    text = normalise_ws(text).replace("’", "'").replace("‘", "'")
    return re.sub(r"\b(" + "|".join(sorted(TITLES)) + r")\.", r"\1", text)


def strip_placeholders(text: str, replacement: str = "something") -> str:
    """Replace ``{slot}`` placeholders: a slot value is not a fact the answer asserts."""
    return PLACEHOLDER_RE.sub(replacement, text or "")


def content_sha(text: str) -> str:
    """First 12 hex digits of the sha256 of the whitespace-normalised text."""
    return hashlib.sha256(normalise_ws(text).encode("utf-8")).hexdigest()[:12]


_ABBREVIATIONS = ("Mr", "Mrs", "Ms", "Dr", "Prof", "St", "e.g", "i.e", "etc", "approx", "vs", "No")
_DOT = "\u2024"  # one-dot leader: stands in for an abbreviation's full stop while splitting


def sentences(text: str) -> List[str]:
    """Split text into sentences. Line breaks and bullet markers also end a sentence."""
    text = strip_placeholders(text)
    result: List[str] = []
    for line in re.split(r"\n+", text):
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line).strip()
        if not line:
            continue
        protected = line
        for abbr in _ABBREVIATIONS:
            protected = re.sub(r"\b" + re.escape(abbr) + r"\.", abbr.replace(".", _DOT) + _DOT, protected)
        parts = re.split(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9£])", protected)
        for part in parts:
            part = part.replace(_DOT, ".").strip()
            if part:
                result.append(part)
    return result


_WORD_RE = re.compile(r"[A-Za-z0-9£%][A-Za-z0-9£%’'&.,/-]*")


def words(sentence: str) -> List[str]:
    return _WORD_RE.findall(sentence)


def long_sentences(text: str, limit: int = 25) -> List[Tuple[int, str]]:
    """Sentences of more than ``limit`` words, as (word count, sentence)."""
    out = []
    for sentence in sentences(text):
        n = len(words(sentence))
        if n > limit:
            out.append((n, sentence))
    return out


@functools.lru_cache(maxsize=1)
def syllable_source() -> str:
    """Which syllable counter textstat uses here: "cmudict" (the CMU Pronouncing Dictionary,
    if NLTK already has it on disk) or "pyphen" (hyphenation rules, always available).

    textstat 0.7.13 tries to *download* cmudict on first use and raises if it cannot. The
    checks must work offline and never touch the network, so when the dictionary is not
    already installed we use textstat's own pyphen fallback instead of letting it fail.
    Install it with ``python -m nltk.downloader cmudict`` for dictionary-based counts."""
    try:
        import nltk

        nltk.data.find("corpora/cmudict")
        return "cmudict"
    except Exception:
        try:
            from textstat.backend.counts import _count_syllables

            _count_syllables.get_cmudict = lambda lang: None  # -> textstat's pyphen path
        except ImportError:  # older textstat without the backend package: pyphen already
            pass
        return "pyphen"


def readability(text: str) -> Dict[str, float]:
    """Flesch reading ease (higher is easier; 60-70 is plain English) and the Flesch-Kincaid
    school grade, via textstat (see ``syllable_source``)."""
    import textstat

    syllable_source()
    clean = strip_placeholders(text, "it")
    # One sentence per line for textstat too, so a bullet list is not read as one sentence.
    clean = " ".join(s if s[-1:] in ".!?" else s + "." for s in sentences(clean))
    return {
        "flesch_reading_ease": round(float(textstat.flesch_reading_ease(clean)), 1),
        "grade": round(float(textstat.flesch_kincaid_grade(clean)), 1),
    }


# --------------------------------------------------------------------------- the page

def page_path() -> Path:
    env = os.environ.get("KYPHO_SOURCE_PAGE")
    if env:
        return Path(env)
    return (REPO_ROOT / DEFAULT_PAGE).resolve()


@functools.lru_cache(maxsize=4)
def _read_page(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def page_text() -> str:
    """The source page, exactly as stored (see ``page_path``)."""
    return _read_page(str(page_path()))


def _is_heading(lines: Sequence[str], i: int) -> bool:
    line = lines[i].strip()
    if not line or line.startswith(("•", "-", "*", "©")):
        return False
    if line[-1] in ".,;…" or len(line.split()) > 12:
        return False
    if not line[0].isupper():
        return False
    previous_blank = i == 0 or not lines[i - 1].strip()
    return previous_blank


def page_headings(page: Optional[str] = None) -> List[str]:
    """Headings of the page: short stand-alone lines after a blank line, without a full stop."""
    page = page_text() if page is None else page
    lines = page.splitlines()
    return [lines[i].strip() for i in range(len(lines)) if _is_heading(lines, i)]


def _heading_level(heading: str) -> int:
    return 2 if re.match(r"Step \d+:", heading) else 1


def page_sections(page: Optional[str] = None) -> Dict[str, str]:
    """Heading -> whitespace-normalised text under it (up to the next heading of the same
    or a higher level, so "What happens during..." includes its Step 1-4 sub-sections)."""
    page = page_text() if page is None else page
    lines = page.splitlines()
    marks = [(i, lines[i].strip()) for i in range(len(lines)) if _is_heading(lines, i)]
    sections: Dict[str, str] = {}
    for n, (i, heading) in enumerate(marks):
        level = _heading_level(heading)
        end = len(lines)
        for j, other in marks[n + 1:]:
            if _heading_level(other) <= level:
                end = j
                break
        body = normalise_ws("\n".join(lines[i:end]))
        sections[heading] = (sections.get(heading, "") + " " + body).strip()
    return sections


# --------------------------------------------------------------------------- answers

@dataclass
class Answer:
    name: str
    texts: List[str]
    section: Optional[str]
    sources: List[str]
    reviewed_by: Optional[str] = None
    reviewed_on: Optional[str] = None
    reviewed_sha: Optional[str] = None
    file: str = ""
    has_metadata: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def intent(self) -> str:
        """``procedure/duration`` for ``utter_procedure/duration``; ``greet`` for ``utter_greet``."""
        return self.name[len("utter_"):] if self.name.startswith("utter_") else self.name

    @property
    def is_retrieval(self) -> bool:
        return "/" in self.name

    @property
    def sha(self) -> str:
        return content_sha(self.text)

    @property
    def changed_since_sign_off(self) -> bool:
        return not self.reviewed_sha or str(self.reviewed_sha) != self.sha


def _as_str(value) -> Optional[str]:
    return None if value is None else str(value)


def answer_files(root: Optional[Path] = None) -> List[Path]:
    """domain.yml (or domain/*.yml) if present, data/responses/*.yml, and the
    callback flow's messages (actions/data/enquiry_messages.yml), which custom
    actions send and which need the same checks and sign-off."""
    root = Path(root) if root else REPO_ROOT
    files: List[Path] = []
    if (root / "domain.yml").is_file():
        files.append(root / "domain.yml")
    if (root / "domain").is_dir():
        files.extend(sorted((root / "domain").glob("*.yml")))
    files.extend(sorted((root / "data" / "responses").glob("*.yml")))
    enquiry_messages = root / "actions" / "data" / "enquiry_messages.yml"
    if enquiry_messages.is_file():
        files.append(enquiry_messages)
    return files


def answers_from_file(path: Path, root: Optional[Path] = None) -> List[Answer]:
    root = Path(root) if root else REPO_ROOT
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    try:
        rel = str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        rel = str(path)
    out: List[Answer] = []
    for name, variations in (data.get("responses") or {}).items():
        variations = variations or []
        texts = [v.get("text") for v in variations if isinstance(v, dict) and v.get("text")]
        meta = next((v.get("metadata") for v in variations
                     if isinstance(v, dict) and isinstance(v.get("metadata"), dict)), None)
        meta = meta or {}
        source = meta.get("source")
        if isinstance(source, str):
            source = [source]
        out.append(Answer(
            name=str(name),
            texts=[str(t) for t in texts],
            section=_as_str(meta.get("section")),
            sources=[str(s) for s in (source or [])],
            reviewed_by=_as_str(meta.get("reviewed_by")),
            reviewed_on=_as_str(meta.get("reviewed_on")),
            reviewed_sha=_as_str(meta.get("reviewed_sha")),
            file=rel,
            has_metadata=bool(meta) and "section" in meta and "source" in meta,
        ))
    return out


def load_answers(root: Optional[Path] = None) -> List[Answer]:
    """Every response in domain.yml (if present) and data/responses/*.yml."""
    answers: List[Answer] = []
    for path in answer_files(root):
        answers.extend(answers_from_file(path, root))
    return answers


# --------------------------------------------------------------------------- facts

@dataclass(frozen=True)
class Fact:
    kind: str    # phone | percent | fraction | year | number | name
    value: str   # canonical form used for comparison
    raw: str = field(compare=False)  # as written

    @property
    def key(self) -> Tuple[str, str]:
        kind = "number" if self.kind == "year" else self.kind
        return kind, self.value


_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_WORD = r"(?:" + "|".join(sorted(list(_UNITS) + list(_TENS) + list(_SCALES), key=len, reverse=True)) + r")"
_NUMBER_WORDS_RE = re.compile(
    r"\b" + _NUMBER_WORD + r"(?:(?:[\s-]+(?:and[\s-]+)?)" + _NUMBER_WORD + r")*\b", re.I)

_DENOMS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
           "fifth": 5, "fifths": 5, "tenth": 10, "tenths": 10}
_FRACTION_RE = re.compile(
    r"\b(?:(a|an|one|two|three|four|nine)[\s-]+)?(half|halves|thirds?|quarters?|fifths?|tenths?)\b", re.I)
_PHONE_RE = re.compile(r"(?<![\d+])(?:\+44\s?|0)\d{3,4}[ ]?\d{3}[ ]?\d{3,4}(?!\d)")
_DIGITS_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?!\w)|(?<=[^\W\d_])(\d+)(?![\w])")
_PERCENT_AFTER = re.compile(r"^\s*(?:%|per\s?cent\b|percent\b)", re.I)
_SCALE_AFTER = re.compile(r"^\s+(thousand|million|billion)\b", re.I)


def _words_to_number(phrase: str) -> int:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", phrase.lower()):
        if word == "and" or not word:
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        else:
            total += max(current, 1) * _SCALES[word]
            current = 0
    return total + current


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _number_facts(text: str) -> List[Fact]:
    facts: List[Fact] = []
    for m in _PHONE_RE.finditer(text):
        facts.append(Fact("phone", normalise_ws(m.group()), m.group()))
        text = _mask(text, m.start(), m.end())
    for m in _FRACTION_RE.finditer(text):
        numerator = m.group(1)
        if m.group(2).lower() in ("half", "halves") and numerator and numerator.lower() not in ("a", "an", "one"):
            num = _words_to_number(numerator)
        elif numerator and numerator.lower() not in ("a", "an"):
            num = _words_to_number(numerator)
        else:
            num = 1
        if m.group(2).lower() in ("third", "quarter", "fifth", "tenth") and not numerator:
            continue  # "third" alone is an ordinal ("the third step"), not a fraction
        facts.append(Fact("fraction", f"{num}/{_DENOMS[m.group(2).lower()]}", m.group()))
        text = _mask(text, m.start(), m.end())
    for m in _NUMBER_WORDS_RE.finditer(text):
        value = _words_to_number(m.group())
        after = text[m.end():]
        kind = "percent" if _PERCENT_AFTER.match(after) else "number"
        facts.append(Fact(kind, _fmt(value), m.group()))
        text = _mask(text, m.start(), m.end())
    for m in _DIGITS_RE.finditer(text):
        if m.group(3) is not None:  # a footnote glued to a word, e.g. "pressure2"
            raw = m.group(3)
            facts.append(Fact("number", _fmt(int(raw)), raw))
            continue
        whole = m.group(1).replace(",", "")
        value = float(whole + ("." + m.group(2) if m.group(2) else ""))
        after = text[m.end():]
        scale = _SCALE_AFTER.match(after)
        if scale:
            value *= _SCALES[scale.group(1).lower()]
            after = after[scale.end():]
        if _PERCENT_AFTER.match(after):
            kind = "percent"
        elif "," not in m.group(1) and not m.group(2) and len(whole) == 4 and 1800 <= int(whole) <= 2099:
            kind = "year"
        else:
            kind = "number"
        facts.append(Fact(kind, _fmt(value), m.group()))
    return facts


@functools.lru_cache(maxsize=1)
def _easy_words() -> frozenset:
    try:
        import textstat
        path = Path(textstat.__file__).parent / "resources" / "en" / "easy_words.txt"
        return frozenset(w.strip().lower() for w in path.read_text(encoding="utf-8").split())
    except Exception:  # pragma: no cover - textstat missing
        return frozenset()


@functools.lru_cache(maxsize=8)
def _lowercase_vocabulary(text: str) -> frozenset:
    return frozenset(w for w in re.findall(r"[a-z][a-z’'-]*", text))


def _page_vocabulary() -> frozenset:
    try:
        return _lowercase_vocabulary(page_text())
    except OSError:
        return frozenset()


def _is_common_word(word: str, text: str) -> bool:
    """A capitalised word at the start of a sentence is an ordinary word, not a name, if it
    is a common English word or is written in lower case elsewhere (in this text or on the page)."""
    if len(word) > 1 and word.isupper():
        return False  # an acronym: NICE, VCF
    lower = word.lower().replace("’", "'")
    if "-" in lower.strip("-"):
        return all(_is_common_word(part, text) for part in lower.split("-") if part)
    stems = {lower}
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("ly", "")):
        if lower.endswith(suffix) and len(lower) > len(suffix) + 2:
            stems.add(lower[: -len(suffix)] + repl)
    vocab = _easy_words() | _lowercase_vocabulary(text) | _page_vocabulary()
    return bool(stems & vocab)


_CAPITALISED = re.compile(r"^[A-Z][A-Za-z0-9]*(?:[’'&-][A-Za-z0-9]+)*$")


def _name_facts(text: str) -> List[Fact]:
    facts: List[Fact] = []
    for sentence in sentences(text):
        # A colon starts a new sentence for this purpose ("Telephone: 01223 ...").
        for clause in re.split(r":\s+", sentence):
            runs: List[Tuple[bool, List[str]]] = []  # (starts the clause, words)
            previous_open = False  # previous word was capitalised and not followed by punctuation
            for n, raw in enumerate(clause.split()):
                lead = re.match(r"^[\"“‘'(\[]*", raw).group()
                core = raw[len(lead):]
                trail = re.search(r"[\"”’'),.;:!?\]]*$", core).group()
                if trail == "’s" or trail == "'s":
                    trail = ""
                core = core[: len(core) - len(trail)] if trail else core
                if core in TITLES and trail == ".":
                    trail = ""
                if core and _CAPITALISED.match(core) and not core.isdigit():
                    if previous_open and not lead and runs:
                        runs[-1][1].append(core)
                    else:
                        runs.append((n == 0, [core]))
                    previous_open = not trail
                else:
                    previous_open = False
            for at_start, run in runs:
                if at_start and _is_common_word(run[0], text) and run[0] not in TITLES:
                    run = run[1:]
                run = [w for w in run] if run else run
                if not run or (len(run) == 1 and run[0] in NON_FACT_WORDS):
                    continue
                name = " ".join(run)
                facts.append(Fact("name", _norm_punct(name), name))
    return facts


def facts_in(text: str) -> List[Fact]:
    """Numbers, phone numbers, years, percentages, fractions ("two-thirds") and proper names
    (capitalised words not at sentence start, runs of capitalised words, and uncommon
    capitalised words at sentence start) in ``text``. ``{slot}`` placeholders are ignored."""
    text = strip_placeholders(text, "something").replace("\u00a0", " ")
    return _number_facts(text) + _name_facts(text)


def _allowed(fact: Fact) -> bool:
    allowed = {_norm_punct(a) for a in ALLOWED_FACTS}
    return fact.value in allowed or normalise_ws(fact.raw) in allowed


def _name_supported(name: str, source_text: str) -> bool:
    pattern = r"(?<![\w])" + re.escape(name) + r"(?:s|'s)?(?![\w])"
    return re.search(pattern, _norm_punct(source_text)) is not None


def unsupported_facts_in(text: str, sources: Iterable[str]) -> List[Fact]:
    """Facts in ``text`` that are neither allowed nor in the quoted ``sources``."""
    source_text = " ".join(sources)
    source_keys = {f.key for f in facts_in(source_text)}
    missing: List[Fact] = []
    for fact in facts_in(text):
        if _allowed(fact):
            continue
        if fact.kind == "name":
            ok = _name_supported(fact.value, source_text)
        else:
            ok = fact.key in source_keys
        if not ok and fact not in missing:
            missing.append(fact)
    return missing


def unsupported_facts(answer: Answer) -> List[Fact]:
    out: List[Fact] = []
    for text in answer.texts:
        for fact in unsupported_facts_in(text, answer.sources):
            if fact not in out:
                out.append(fact)
    return out


def missing_quotes(answer: Answer, page: Optional[str] = None) -> List[str]:
    """Quotes of ``answer`` that are not verbatim (whitespace-normalised) in the page."""
    page_norm = normalise_ws(page_text() if page is None else page)
    return [q for q in answer.sources if not normalise_ws(q) or normalise_ws(q) not in page_norm]


def quotes_in_section(answer: Answer, page: Optional[str] = None) -> bool:
    """True if the answer's section is General, or at least one quote is under that heading."""
    if answer.section == GENERAL_SECTION or not answer.sources:
        return True
    body = page_sections(page).get(answer.section or "", "")
    return any(normalise_ws(q) in body for q in answer.sources)


# --------------------------------------------------------------------------- eligibility

_RELATIVE = (r"your\s+(?:mum|mother|mam|dad|father|wife|husband|partner|relative|son|daughter|"
             r"parent|gran|granny|grandmother|grandfather|grandad|nan|friend|sister|brother)")
_PERSON = rf"(?:you|{_RELATIVE}|he|she|they)"
_TREATMENT = r"(?:it|this|that|the\s+(?:procedure|treatment|operation|surgery)|(?:balloon\s+)?kyphoplasty)"
_BE = (r"(?:(?:'re|’re|'s|’s)|\s+(?:are|is|am|would\s+be|will\s+be|should\s+be|may\s+be|might\s+be|"
       r"could\s+be|must\s+be|seems?|looks?|sounds?))")
_FILLER = r"(?:(?:not|definitely|certainly|probably|likely|very|quite|a|an|good|ideal|perfect|strong|great|to\s+be)\s+)*"

ELIGIBILITY_PHRASES: List[re.Pattern] = [re.compile(p, re.I) for p in (
    # "you are suitable", "your mum is a good candidate", "you are not eligible"
    rf"\b{_PERSON}{_BE}\s+{_FILLER}(?:suitable|eligible|candidates?|right\s+for|fit\s+for|appropriate\s+for)\b",
    # "you qualify", "she meets the criteria"
    rf"\b{_PERSON}\s+(?:do\s+not\s+|don't\s+|don’t\s+|does\s+not\s+|doesn't\s+|doesn’t\s+)?(?:qualify|qualifies|meets?\s+the\s+criteria|fits?\s+the\s+criteria)\b",
    # "you can have it", "your dad could get this treatment", "you can't have kyphoplasty"
    rf"\b{_PERSON}\s+(?:can|could|will|would|should|may|might|cannot|can't|can’t|won't|won’t|will\s+not)\s+(?:definitely\s+|certainly\s+|probably\s+|still\s+|easily\s+)?(?:have|get|receive|go\s+ahead\s+with|be\s+treated\s+with|be\s+offered|undergo)\s+{_TREATMENT}\b",
    # "it will work for you", "this could help your mum"
    rf"\b{_TREATMENT}\s+(?:will|would|should|is\s+going\s+to|is\s+sure\s+to|can|could)\s+(?:definitely\s+|certainly\s+|probably\s+|really\s+)?(?:work|help|fix|cure|be\s+right|be\s+suitable|be\s+ideal)\s+(?:for\s+)?(?:you|your|him|her|them)\b",
    # "it is right for you", "this is not suitable for your mother"
    rf"\b{_TREATMENT}\s+(?:is|'s|’s|would\s+be|will\s+be)\s+(?:definitely\s+|certainly\s+|probably\s+|not\s+)?(?:right|suitable|ideal|appropriate|perfect|the\s+answer)\s+for\s+(?:you|your|him|her|them)\b",
    # "you are too old", "it is not too late", "too late for you"
    rf"\b{_PERSON}{_BE}\s+(?:not\s+)?too\s+(?:old|young|frail|ill|late)\b",
    r"\b(?:not|never|isn't|isn’t)\s+too\s+(?:late|old)\b",
    r"\btoo\s+(?:old|late|young)\s+for\s+(?:you|your|him|her|them|this|it)\b",
    # "you should have this treatment"
    rf"\b{_PERSON}\s+(?:should|must|need\s+to|ought\s+to)\s+(?:definitely\s+|certainly\s+)?(?:have|get|go\s+for|book)\s+{_TREATMENT}\b",
    # "you would benefit", "your mum could benefit"
    rf"\b{_PERSON}\s+(?:will|would|could|should|may|might|can)\s+(?:definitely\s+|certainly\s+|probably\s+|likely\s+)?benefit\b",
    # "Yes, you can" / "Yes, it will"
    r"\byes\b[,.!]?\s+(?:you|it|this|they|he|she)\s+(?:can|could|will|would|are|is|qualify)\b",
)]

# "Only a consultant can say whether you are suitable" is the safe answer, not a claim.
_HEDGE_BEFORE = re.compile(r"\b(?:whether|if)(?:\s+or\s+not)?\s+$", re.I)


def eligibility_violations(text: str) -> List[str]:
    """Phrases that state or imply that a person is (or is not) suitable or eligible."""
    found: List[str] = []
    for sentence in sentences(text):
        for pattern in ELIGIBILITY_PHRASES:
            for m in pattern.finditer(sentence):
                if _HEDGE_BEFORE.search(sentence[: m.start()]):
                    continue
                if m.group() not in found:
                    found.append(m.group())
    return found
