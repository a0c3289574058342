"""Property-based fuzzing of the form validators and the channel input handling.

Bounded: FUZZ_EXAMPLES cases per target (200 by default), no deadline. Each target
must return its documented type for any input and never raise. The number of cases
tried is printed and recorded for `make hardening-report`.
"""
from __future__ import annotations

import os
from collections import Counter
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions import enquiry_fields as fields
from actions.server import webhook_problem
from channels import formatting, signatures
from nlp.input_guard import normalise_text
from nlp.language import is_other_language
from tests.support.hardening import record

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
TRIED: Counter = Counter()
# Text as patients and attackers send it: any code point, including controls and
# surrogates, plus fragments that look like phone numbers, emails, SQL and HTML.
TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(), max_size=300),
    st.builds(
        lambda a, b: a + b,
        st.sampled_from(["07700 900", "+44 ", "<script>", "'; DROP TABLE x;--", "@example.org", "/affirm{"]),
        st.text(max_size=50),
    ),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    total = sum(TRIED.values())
    print(f"\nfuzz: {total} cases tried over {len(TRIED)} targets: {dict(TRIED)}")
    for target, count in TRIED.items():
        record("fuzz_cases", target, count)


@FUZZ
@given(TEXT)
def test_form_validators_never_raise(text: str) -> None:
    TRIED["form validators"] += 1
    name = fields.normalise_name(text)
    assert name is None or (isinstance(name, str) and "<" not in name)
    phone = fields.normalise_uk_phone(text)
    assert phone is None or (phone.startswith("+44") and phone[1:].isdigit())
    if phone:
        assert fields.format_uk_phone(phone)
    email = fields.parse_email(text)
    assert email is None or "@" in email or email == fields.NO_EMAIL  # "none": no email
    fields.find_email(text)
    fields.parse_yes_no(text)
    fields.option_number(text, 4)
    fields.field_to_change(text)
    fields.wants_change(text)
    for field_name in ("full_name", "phone", "email"):
        fields.new_value_in_correction(field_name, text)


@FUZZ
@given(TEXT, st.integers(min_value=1, max_value=2000))
def test_input_normaliser(text: str, limit: int) -> None:
    TRIED["input normaliser"] += 1
    clean, cut = normalise_text(text, limit)
    assert len(clean) <= limit and cut == (len(normalise_text(text, 10**9)[0]) > limit)
    assert not any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in clean)
    is_other_language(text)


@FUZZ
@given(TEXT, st.sampled_from([160, 1600, 2000, 4096]))
def test_channel_splitting(text: str, limit: int) -> None:
    TRIED["channel splitting"] += 1
    parts = formatting.split_message(text, limit)
    assert all(len(part) <= limit for part in parts)
    formatting.sms_segments(formatting.sms_text(text))


@FUZZ
@given(TEXT, st.lists(st.dictionaries(st.sampled_from(["title", "payload"]), st.text(max_size=30)), max_size=5))
def test_channel_numbered_options(text: str, buttons) -> None:
    TRIED["numbered options"] += 1
    formatting.with_numbered_options(text, buttons)
    formatting.option_index(text, len(buttons))


@FUZZ
@given(st.binary(max_size=500), st.one_of(st.none(), st.text(max_size=80)))
def test_forged_signatures_are_refused_not_raised(body: bytes, signature) -> None:
    TRIED["signature checks"] += 1
    assert signatures.valid_hub_signature(body, "app-secret", signature, None) is False
    assert signatures.valid_hub_signature(body, "app-secret", None, signature) is False
    params = {"Body": body.decode("latin-1"), "From": "+447700900123"}
    assert signatures.valid_twilio_signature("https://x/webhooks/twilio/webhook", params, signature, "token") is False


@FUZZ
@given(JSON)
def test_action_calls_of_any_shape_are_judged(body) -> None:
    TRIED["action server calls"] += 1
    problem = webhook_problem(body)
    assert problem is None or isinstance(problem, str)
