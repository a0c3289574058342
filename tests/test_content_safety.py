"""Safety checks on every patient-facing answer (domain.yml and data/responses/*.yml).

Each check is parametrised per answer, so a failure names the answer. The checks:
metadata present; section is a page heading (or General); every quote is verbatim on the
page; every number, phone number, year, percentage, fraction and name is in the answer's
own quotes; no wording that tells someone they are (or are not) suitable; no sentence over
25 words; mean Flesch reading ease at least 55. The negative tests at the end prove the
checks can fail.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import re
import shutil
import statistics
from pathlib import Path

import pytest
import yaml

from content.answers import (
    ALLOWED_FACTS,
    GENERAL_SECTION,
    REPO_ROOT,
    Answer,
    content_sha,
    eligibility_violations,
    facts_in,
    load_answers,
    long_sentences,
    missing_quotes,
    page_headings,
    page_text,
    quotes_in_section,
    readability,
    sentences,
    unsupported_facts,
)

MAX_WORDS = 25
MIN_MEAN_FLESCH = 55.0

# The answer catalogue: every FAQ area and key must have exactly one answer.
CATALOGUE = {
    "procedure": ["what_is", "steps", "anaesthesia", "duration", "hospital_stay", "incisions", "bone_cement"],
    "recovery": ["overview", "pain_relief", "daily_activities", "quality_of_life", "physiotherapy"],
    "candidacy": ["who_benefits", "when_considered", "what_is_vcf", "personal_suitability"],
    "evidence": ["clinical_trial", "nice_guidance", "patients_treated"],
    "risks": ["cement_leakage", "vs_vertebroplasty"],
    "background": ["osteoporosis_uk", "undiagnosed"],
    "consultants": ["who_performs", "trivedi", "mannion"],
    "contact": ["phone_numbers", "self_pay", "appointment", "hospital"],
    "not_covered": ["cost", "insurance", "nhs", "preparation", "aftercare", "recovery_time", "other_risks"],
}
CATALOGUE_NAMES = {f"utter_{area}/{key}" for area, keys in CATALOGUE.items() for key in keys}

# American spellings that should be British in a UK hospital's answers.
US_SPELLINGS = re.compile(
    r"\b(anesthe\w*|color\w*|center\w*|favor\w*|behavior\w*|hospitaliz\w*|stabiliz\w*|"
    r"organiz\w*|realiz\w*|recogniz\w*|minimiz\w*|esophag\w*|edema|hemorrhag\w*|pediatric\w*|"
    r"orthopedic\w*|tumor\w*|fiber\w*|liter\w*|gray)\b", re.I)

ANSWERS = load_answers()
IDS = [a.name for a in ANSWERS]
PAGE = page_text()
HEADINGS = set(page_headings(PAGE)) | {GENERAL_SECTION}


def by_name(name: str) -> Answer:
    return next(a for a in ANSWERS if a.name == name)


answer_param = pytest.mark.parametrize("answer", ANSWERS, ids=IDS)


# --------------------------------------------------------------------------- coverage

def test_every_catalogue_answer_exists():
    names = {a.name for a in ANSWERS}
    missing = sorted(CATALOGUE_NAMES - names)
    assert not missing, f"Catalogue answers with no response: {missing}"


def test_no_duplicate_responses():
    dupes = sorted({n for n in IDS if IDS.count(n) > 1})
    assert not dupes, f"Responses defined more than once: {dupes}"


def test_every_faq_response_is_in_the_catalogue():
    extra = sorted(a.name for a in ANSWERS if a.is_retrieval and a.name not in CATALOGUE_NAMES)
    assert not extra, f"FAQ responses not in the catalogue: {extra}"


def test_nlu_retrieval_intents_have_answers():
    names = {a.name for a in ANSWERS}
    missing = []
    for path in sorted((REPO_ROOT / "data" / "nlu").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            intent = str(block.get("intent", "")) if isinstance(block, dict) else ""
            if "/" in intent and f"utter_{intent}" not in names:
                missing.append(f"{path.name}: {intent}")
    assert not missing, f"Retrieval intents with no answer: {missing}"


# --------------------------------------------------------------------------- per answer

@answer_param
def test_has_metadata_with_section_and_source(answer: Answer):
    assert answer.texts, f"{answer.name} has no text"
    assert answer.has_metadata, f"{answer.name} needs metadata with section and source"
    assert answer.section in HEADINGS, (
        f"{answer.name}: section {answer.section!r} is not a heading of the page (or {GENERAL_SECTION!r})")
    if not answer.file.startswith(("domain", "actions/data/")):
        # Only conversational messages (domain.yml, the callback flow) with no facts may
        # have source: []; test_no_unsupported_facts still checks every one of them.
        assert answer.sources, f"{answer.name} must quote the page sentence(s) it rests on"


@answer_param
def test_faq_response_shape(answer: Answer):
    if not answer.file.startswith("data/responses/"):
        pytest.skip("not an FAQ answer file")
    area = Path(answer.file).stem
    assert re.fullmatch(rf"utter_{re.escape(area)}/[a-z_]+", answer.name), (
        f"{answer.name} in {answer.file} should be named utter_{area}/<key>")
    assert len(answer.texts) == 1, f"{answer.name} should have a single variation"
    for field in ("reviewed_by", "reviewed_on", "reviewed_sha"):
        assert hasattr(answer, field)


@answer_param
def test_quotes_are_verbatim_on_the_page(answer: Answer):
    missing = missing_quotes(answer, PAGE)
    assert not missing, f"{answer.name}: quotes not found verbatim on the page: {missing}"


@answer_param
def test_a_quote_comes_from_the_stated_section(answer: Answer):
    assert quotes_in_section(answer, PAGE), (
        f"{answer.name}: none of its quotes is under the heading {answer.section!r}")


@answer_param
def test_no_unsupported_facts(answer: Answer):
    unsupported = unsupported_facts(answer)
    assert not unsupported, (
        f"{answer.name}: facts not in its quoted sources: "
        + ", ".join(f"{f.kind} {f.raw!r}" for f in unsupported))


@answer_param
def test_no_eligibility_phrasing(answer: Answer):
    found = eligibility_violations(answer.text)
    assert not found, f"{answer.name} states or implies suitability: {found}"


@answer_param
def test_no_sentence_over_25_words(answer: Answer):
    long = long_sentences(answer.text, MAX_WORDS)
    assert not long, f"{answer.name}: sentences over {MAX_WORDS} words: {long}"


@answer_param
def test_uk_spelling(answer: Answer):
    found = US_SPELLINGS.findall(answer.text)
    assert not found, f"{answer.name}: American spelling {found}"


# --------------------------------------------------------------------------- specific answers

@pytest.mark.parametrize("name", sorted(n for n in CATALOGUE_NAMES if n.startswith("utter_not_covered/")))
def test_not_covered_says_so_and_gives_a_number(name: str):
    text = by_name(name).text
    assert "do not have information" in text, f"{name} must say plainly that the information is missing"
    assert re.search(r"01223 2669(00|29|90)", text), f"{name} must give a hospital number"


def test_cost_gives_the_self_pay_number():
    assert "01223 266929" in by_name("utter_not_covered/cost").text


@pytest.mark.parametrize("name", ["utter_candidacy/who_benefits", "utter_candidacy/personal_suitability"])
def test_suitability_answers_defer_to_a_consultant(name: str):
    text = by_name(name).text
    assert "Only a consultant" in text
    assert "01223 266990" in text


def test_what_is_vcf_quotes_the_sentence_naming_vcfs():
    assert any("vertebral compression fractures (VCFs)" in q for q in by_name("utter_candidacy/what_is_vcf").sources)


# --------------------------------------------------------------------------- readability

def test_mean_flesch_reading_ease():
    scores = sorted((readability(a.text)["flesch_reading_ease"], a.name) for a in ANSWERS)
    mean = statistics.mean(s for s, _ in scores)
    lowest = ", ".join(f"{name} {score:.1f}" for score, name in scores[:5])
    print(f"\nMean Flesch reading ease over {len(scores)} answers: {mean:.1f}")
    print(f"Lowest five: {lowest}")
    assert mean >= MIN_MEAN_FLESCH, f"Mean Flesch {mean:.1f} < {MIN_MEAN_FLESCH}; lowest: {lowest}"


# --------------------------------------------------------------------------- the checks can fail

def _copy(answer: Answer, **changes) -> Answer:
    return dataclasses.replace(answer, **changes)


def test_changed_number_is_caught():
    original = by_name("utter_procedure/duration")
    assert not unsupported_facts(original)
    changed = _copy(original, texts=[original.text.replace("up to one hour", "up to two hours")])
    assert any(f.value == "2" for f in unsupported_facts(changed))


@pytest.mark.parametrize("old,new", [
    ("500,000", "50,000"),        # digits
    ("2000", "2005"),              # year
    ("500,000", "half a million"),  # words instead of digits
])
def test_changed_figure_is_caught(old: str, new: str):
    original = by_name("utter_evidence/patients_treated")
    changed = _copy(original, texts=[original.text.replace(old, new)])
    assert changed.text != original.text
    assert unsupported_facts(changed)


def test_changed_percentage_fraction_and_phone_are_caught():
    trivedi = by_name("utter_consultants/trivedi")
    assert unsupported_facts(_copy(trivedi, texts=[trivedi.text.replace("80%", "90%")]))
    missed = by_name("utter_background/undiagnosed")
    assert unsupported_facts(_copy(missed, texts=[missed.text.replace("two-thirds", "three-quarters")]))
    cost = by_name("utter_not_covered/cost")
    assert unsupported_facts(_copy(cost, texts=[cost.text.replace("01223 266929", "01223 266928")]))
    # The page's formatting of a number is part of the fact.
    assert unsupported_facts(_copy(cost, texts=[cost.text.replace("01223 266929", "01223266929")]))


def test_made_up_name_is_caught():
    original = by_name("utter_consultants/who_performs")
    changed = _copy(original, texts=[original.text + " Dr Sarah Jones also does this procedure."])
    assert any("Jones" in f.value for f in unsupported_facts(changed))
    renamed = _copy(original, texts=[original.text.replace("Mr Richard Mannion", "Mr David Mannion")])
    assert any("David" in f.value for f in unsupported_facts(renamed))
    at_start = _copy(original, texts=[original.text + " Smithson runs the clinic."])
    assert any(f.value == "Smithson" for f in unsupported_facts(at_start))
    place = _copy(by_name("utter_contact/hospital"),
                  texts=["Balloon kyphoplasty is offered at Spire Cambridge Lea Hospital and in Norwich."])
    assert any(f.value == "Norwich" for f in unsupported_facts(place))


@pytest.mark.parametrize("text", [
    "You are suitable for this treatment.",
    "You're a good candidate for balloon kyphoplasty.",
    "Your mum is not suitable.",
    "You qualify for it.",
    "You can have this treatment.",
    "It will work for you.",
    "This could help your mother.",
    "At 85 you are not too old.",
    "It is not too late.",
    "You would benefit from kyphoplasty.",
    "Yes, you can.",
])
def test_eligibility_phrasing_is_caught(text: str):
    assert eligibility_violations(text), text


@pytest.mark.parametrize("text", [
    "Only a consultant can say whether it is right for you.",
    "A consultant can tell you if you are suitable.",
    "Patients with VCFs could benefit from balloon kyphoplasty.",
])
def test_hedged_wording_is_allowed(text: str):
    assert not eligibility_violations(text)


def test_quote_not_on_the_page_is_caught():
    original = by_name("utter_procedure/duration")
    changed = _copy(original, sources=original.sources + ["The procedure takes thirty minutes."])
    assert missing_quotes(changed, PAGE) == ["The procedure takes thirty minutes."]
    reworded = _copy(original, sources=[original.sources[0].replace("up to one hour", "up to an hour")])
    assert missing_quotes(reworded, PAGE)


def test_long_sentence_is_caught():
    text = "This sentence " + "goes on and on " * 7 + "until it ends."
    assert long_sentences(text, MAX_WORDS)


def test_fact_extraction():
    kinds = {(f.kind, f.value) for f in facts_in(
        "Since 2000, more than 500,000 patients; 80% of cases; two-thirds; three million people; "
        "call 01223 266929; Mr Rikin Trivedi operates.")}
    assert {("year", "2000"), ("number", "500000"), ("percent", "80"), ("fraction", "2/3"),
            ("number", "3000000"), ("phone", "01223 266929"), ("name", "Mr Rikin Trivedi")} <= kinds
    # Allowed signposting needs no quote; placeholders are not facts.
    plain = Answer(name="utter_x", texts=["Call 999, NHS 111 or go to A&E. Hello {name}, I am a bot."],
                   section=GENERAL_SECTION, sources=[])
    assert not unsupported_facts(plain)
    assert {"999", "NHS", "A&E"} <= ALLOWED_FACTS


def test_sentence_splitting():
    assert sentences("Mr. Trivedi operates. He is a surgeon.\n- A bullet") == [
        "Mr. Trivedi operates.", "He is a surgeon.", "A bullet"]


def test_content_sha_ignores_whitespace_only():
    assert content_sha("One  two\nthree") == content_sha("One two three")
    assert content_sha("One two three") != content_sha("One two four")
    assert len(content_sha("x")) == 12


# --------------------------------------------------------------------------- sign-off workflow

def _load_report_script():
    path = REPO_ROOT / "scripts" / "content_report.py"
    spec = importlib.util.spec_from_file_location("content_report", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sign_off_stamps_sha_and_keeps_comments(tmp_path: Path):
    report = _load_report_script()
    source = REPO_ROOT / "data" / "responses" / "procedure.yml"
    (tmp_path / "data" / "responses").mkdir(parents=True)
    target = tmp_path / "data" / "responses" / "procedure.yml"
    shutil.copy(source, target)
    before = target.read_text(encoding="utf-8")

    import datetime as dt
    stamped = report.sign_off(tmp_path, ["utter_procedure/duration"], "Dr Test Reviewer", dt.date(2024, 1, 2))
    assert stamped == ["utter_procedure/duration"]
    after = target.read_text(encoding="utf-8")
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(c in after for c in comments)

    signed = {a.name: a for a in load_answers(tmp_path)}
    duration = signed["utter_procedure/duration"]
    assert duration.reviewed_by == "Dr Test Reviewer"
    assert duration.reviewed_on == "2024-01-02"
    assert duration.reviewed_sha == content_sha(duration.text)
    assert not duration.changed_since_sign_off
    assert signed["utter_procedure/steps"].changed_since_sign_off  # not signed
    # Only the three sign-off lines changed.
    changed_lines = set(after.splitlines()) - set(before.splitlines())
    assert len(changed_lines) == 3, changed_lines

    # Editing the text afterwards puts it back on the "changed since sign-off" list.
    target.write_text(after.replace("takes up to one hour.", "takes up to one hour to do."), encoding="utf-8")
    edited = {a.name: a for a in load_answers(tmp_path)}["utter_procedure/duration"]
    assert edited.changed_since_sign_off
    with pytest.raises(KeyError):
        report.sign_off(tmp_path, ["utter_no_such/answer"], "Dr Test Reviewer")
