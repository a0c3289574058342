"""Content checks on what the callback flow says (actions/data/enquiry_messages.yml).

The same checks tests/test_content_safety.py runs on the domain's responses: verbatim
quotes from the stated section, no number or name the quotes do not support, no
eligibility wording, short sentences, UK spelling and plain English. Also: every
message the actions use exists and fills in, and the hospital list's phone numbers
are the page's own.
"""

from __future__ import annotations

import re
import statistics
import string

import pytest

from actions.enquiry_fields import hospitals
from actions.enquiry_form import MESSAGES_FILE, _messages, message
from content.answers import (
    GENERAL_SECTION,
    answers_from_file,
    eligibility_violations,
    long_sentences,
    missing_quotes,
    normalise_ws,
    page_headings,
    page_text,
    quotes_in_section,
    readability,
    unsupported_facts,
)
from tests.test_content_safety import MAX_WORDS, MIN_MEAN_FLESCH, US_SPELLINGS

MESSAGES = answers_from_file(MESSAGES_FILE)
IDS = [m.name for m in MESSAGES]
PAGE = page_text()
HEADINGS = set(page_headings(PAGE)) | {GENERAL_SECTION}
each_message = pytest.mark.parametrize("answer", MESSAGES, ids=IDS)


@each_message
def test_metadata_quotes_and_facts(answer):
    assert answer.has_metadata, f"{answer.name} needs metadata with section and source"
    assert (
        answer.section in HEADINGS
    ), f"{answer.name}: {answer.section!r} is not a page heading"
    assert not missing_quotes(answer, PAGE), f"{answer.name}: quotes not on the page"
    assert quotes_in_section(
        answer, PAGE
    ), f"{answer.name}: no quote under {answer.section!r}"
    unsupported = unsupported_facts(answer)
    assert (
        not unsupported
    ), f"{answer.name}: unsupported facts {[f.raw for f in unsupported]}"


@each_message
def test_wording(answer):
    assert not eligibility_violations(answer.text), answer.name
    assert not long_sentences(answer.text, MAX_WORDS), answer.name
    assert not US_SPELLINGS.findall(answer.text), answer.name


def test_plain_english():
    scores = [
        readability(m.text)["flesch_reading_ease"]
        for m in MESSAGES
        if len(m.text.split()) > 3
    ]
    assert statistics.mean(scores) >= MIN_MEAN_FLESCH


def test_every_message_the_actions_use_exists():
    actions_dir = MESSAGES_FILE.parent.parent
    source = "".join(
        (actions_dir / f).read_text() for f in ("enquiry_form.py", "handover.py")
    )
    named = set(
        re.findall(
            r'"(enquiry_(?:ask|wrong|summary|no_email|only|too|submitted|not_stored|cancelled|store|phone)[a-z_]*)"',
            source,
        )
    )
    asked = {
        f"enquiry_ask_{slot}" for slot in ("full_name", "phone", "email")
    }  # built from the slot name
    assert named and not (named | asked) - set(_messages())


@pytest.mark.parametrize("name", sorted(_messages()))
def test_every_message_fills_in_and_its_buttons_are_plain_text(name):
    placeholders = [
        field
        for _, field, _, _ in string.Formatter().parse(_messages()[name]["text"])
        if field
    ]
    filled = message(name, ["Extra option"], **{field: "x" for field in placeholders})
    assert "{" not in filled["text"] and "}" not in filled["text"]
    for button in filled["buttons"]:
        assert button["payload"] == button["title"] and not button[
            "payload"
        ].startswith("/")


def test_the_default_hospitals_numbers_are_the_pages_own():
    page = normalise_ws(PAGE)
    default = hospitals()[0]
    for key in ("phone", "self_pay_phone", "outpatient_phone"):
        assert (
            default[key] in page
        ), f"hospitals.yml {key} {default[key]} is not on the page"
    assert default["name"] in page
