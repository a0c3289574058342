"""The one masking helper, applied to everything patients typed."""

import pytest

from console.masking import (
    EMAIL_MASK,
    NAME_MASK,
    PHONE_MASK,
    mask_text,
    mask_value,
    public_numbers,
    strip_personal,
)

HOSPITAL = public_numbers(["01223 266900", "01223 266929"])


@pytest.mark.parametrize(
    "typed",
    [
        "07700 900123",
        "my number is 07700900123 thanks",
        "+44 7700 900123",
        "+44 (0)7700 900123",
        "(01632) 960512",
        "0044 1632 960512",
        "call 07700-900-123 after 5",
    ],
)
def test_phone_numbers_in_any_spelling_are_masked(typed):
    masked = mask_text(typed)
    assert PHONE_MASK in masked
    assert not any(ch.isdigit() for ch in masked.replace("5", "")) or "after 5" in masked


def test_emails_are_masked():
    assert mask_text("it's jane.smith+kypho@Example.co.uk ok") == f"it's {EMAIL_MASK} ok"


def test_short_numbers_and_times_stay():
    text = "I am 72, the op was on 12/03 at 10.30 and took 1 hour"
    assert mask_text(text) == text


def test_published_hospital_numbers_stay_visible():
    text = "For all enquiries, call 01223 266900. Or +44 1223 266929."
    assert mask_text(text, public=HOSPITAL) == text
    assert PHONE_MASK in mask_text("me: 01223 266901", public=HOSPITAL)


def test_known_values_such_as_a_name_are_masked_whatever_the_case():
    text = "Name: Jane Smith. Thanks jane smith!"
    assert mask_text(text, known=["Jane Smith"]) == f"Name: {NAME_MASK}. Thanks {NAME_MASK}!"
    # A word that merely contains the name is left alone.
    assert mask_text("Janet Smithson", known=["Jane Smith"]) == "Janet Smithson"


def test_mask_value_walks_slot_values_and_entities():
    value = {"phone": "+447700900123", "list": ["x@example.com", 3], "n": None}
    assert mask_value(value) == {"phone": PHONE_MASK, "list": [EMAIL_MASK, 3], "n": None}


def test_strip_personal_removes_details_for_training_data():
    assert strip_personal("call me on 07700 900123 or a@b.com please") == "call me on or please"
    assert strip_personal("how long is recovery") == "how long is recovery"


def test_escaping_is_not_masking_s_job():
    # Masking leaves markup alone; templates escape it (tested over HTTP).
    assert mask_text("<script>alert(1)</script>") == "<script>alert(1)</script>"
def test_strip_removes_placeholders():
    from console.masking import strip_personal as s
    assert s("ring [phone] or [email] now") == "ring or now"
