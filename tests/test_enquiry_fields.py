"""The callback form's field rules (actions/enquiry_fields.py), as tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.enquiry_fields import (
    CALL_TIMES,
    ENQUIRY_AIMS,
    NO_EMAIL,
    default_hospital,
    field_to_change,
    format_uk_phone,
    hospitals,
    match_choice,
    match_hospital,
    new_value_in_correction,
    normalise_name,
    normalise_uk_phone,
    option_number,
    parse_email,
    parse_yes_no,
    wants_change,
)

# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Jane Smith", "Jane Smith"),
        ("  Jane   Smith. ", "Jane Smith"),
        ("jane smith", "Jane Smith"),
        ("JANE SMITH", "Jane Smith"),
        ("Siobhán O'Connor", "Siobhán O'Connor"),
        ("o'brien", "O'Brien"),
        ("Anne-Marie Jones", "Anne-Marie Jones"),
        ("Mary Price", "Mary Price"),
        ("D\u2019Arcy Hughes", "D\u2019Arcy Hughes"),
        ("José Álvarez", "José Álvarez"),
        ("Jo", "Jo"),
        ("my name is Rikesh Patel", "Rikesh Patel"),
        ("I'm Olu Adeyemi", "Olu Adeyemi"),
        ("it's Ann Lee", "Ann Lee"),
        ("Mr Tom Baker", "Mr Tom Baker"),
        ("A" + "b" * 99, "A" + "b" * 99),
    ],
)
def test_valid_names_are_tidied(text, expected):
    assert normalise_name(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "J",
        "A" * 101,
        "Jane Smith 2",
        "R2D2",
        "jane@example.com",
        "07700 900123",
        "Jane_Smith",
        "Jane; Smith",
        "-Jane",
        "Jane-",
        "Jane  -Smith",
        "what is kyphoplasty",
        "tell me about mr trivedi",
        "how much does it cost",
        "no thanks",
        "hello there",
        "stop",
        "/greet",
        None,
    ],
)
def test_invalid_names_are_rejected(text):
    assert normalise_name(text) is None


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "text, e164, spoken",
    [
        ("07700 900123", "+447700900123", "07700 900123"),
        ("07700900123", "+447700900123", "07700 900123"),
        ("07700-900-123", "+447700900123", "07700 900123"),
        ("+44 7700 900123", "+447700900123", "07700 900123"),
        ("+447700900123", "+447700900123", "07700 900123"),
        ("+44 (0)7700 900123", "+447700900123", "07700 900123"),
        ("+44 (0) 1223 266900", "+441223266900", "01223 266900"),
        ("+44 07700 900123", "+447700900123", "07700 900123"),
        ("0044 7700 900123", "+447700900123", "07700 900123"),
        ("0044 (0)1223 266900", "+441223266900", "01223 266900"),
        ("44 7700 900123", "+447700900123", "07700 900123"),
        ("(01223) 266900", "+441223266900", "01223 266900"),
        ("01223 266900", "+441223266900", "01223 266900"),
        ("01223 266 900", "+441223266900", "01223 266900"),
        ("020 7946 0000", "+442079460000", "020 7946 0000"),
        ("0113 496 0000", "+441134960000", "0113 496 0000"),
        ("0300 123 4567", "+443001234567", "0300 123 4567"),
        ("0800 123456", "+44800123456", "0800 123456"),
        ("my number is 07700 900123", "+447700900123", "07700 900123"),
        ("call me on (01223) 266900 please", "+441223266900", "01223 266900"),
    ],
)
def test_uk_phone_numbers_are_normalised_to_e164(text, e164, spoken):
    assert normalise_uk_phone(text) == e164
    assert format_uk_phone(e164) == spoken


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12345",
        "07700 90012",  # a digit short
        "07700 9001234",  # a digit long
        "7700 900123",  # no trunk 0 or country code
        "+33 1 23 45 67 89",  # France
        "0033 1 23 45 67 89",
        "+1 212 555 0100",
        "09001 234567",  # premium rate
        "04700 900123",
        "07700 900123 or 07700 900456",
        "phone me",
        "0" * 50,
        '/inform{"phone": "07700900123"}',
        None,
    ],
)
def test_invalid_phone_numbers_are_rejected(text):
    assert normalise_uk_phone(text) is None


# ---------------------------------------------------------------- emails


@pytest.mark.parametrize(
    "text, expected",
    [
        ("jane.smith@example.com", "jane.smith@example.com"),
        ("Jane.Smith@Example.COM", "Jane.Smith@example.com"),
        ("  jane+callback@example.co.uk. ", "jane+callback@example.co.uk"),
        ("my email is jane@example.org", "jane@example.org"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("no", NO_EMAIL),
        ("none", NO_EMAIL),
        ("No email", NO_EMAIL),
        ("I don't have one", NO_EMAIL),
        ("i dont have an email address", NO_EMAIL),
        ("haven't got one", NO_EMAIL),
        ("skip", NO_EMAIL),
        ("n/a", NO_EMAIL),
    ],
)
def test_emails_are_accepted_or_declined(text, expected):
    assert parse_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "jane",
        "jane@",
        "@example.com",
        "jane@example",
        "jane@@example.com",
        "jane..smith@example.com",
        ".jane@example.com",
        "jane smith@example.com",
        "jane@example.c",
        "jane@-example.com",
        "x" * 65 + "@example.com",
        "07700 900123",
        None,
    ],
)
def test_invalid_emails_are_rejected(text):
    assert parse_email(text) is None


# ---------------------------------------------------------------- choices


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Self-pay price", "self_pay"),
        ("1", "self_pay"),
        ("how much does it cost", "self_pay"),
        ("I'd pay for it myself", "self_pay"),
        ("Using medical insurance", "insurance"),
        ("I'm with BUPA", "insurance"),
        ("what would it cost with my insurance", "insurance"),
        ("option 2", "insurance"),
        ("NHS or GP referral", "nhs_referral"),
        ("my GP referred me", "nhs_referral"),
        ("An outpatient appointment with a consultant", "outpatient"),
        ("I'd like to see a specialist", "outpatient"),
        ("A question for the team", "question"),
        ("I just have some questions", "question"),
        ("Other", "other"),
        ("something else", "other"),
        ("6", "other"),
        ("7", None),
        ("hmm", None),
        ("insurance or NHS", None),
        ("/affirm", None),
    ],
)
def test_enquiry_aims(text, expected):
    assert match_choice(text, ENQUIRY_AIMS) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Morning", "morning"),
        ("mornings are best", "morning"),
        ("1", "morning"),
        ("10am", "morning"),
        ("am", "morning"),
        ("Afternoon", "afternoon"),
        ("early afternoon", "afternoon"),
        ("after lunch", "afternoon"),
        ("about 2.30 pm", "afternoon"),
        ("Evening", "evening"),
        ("after 6pm", "evening"),
        ("after work please", "evening"),
        ("late morning", "morning"),
        ("3", "evening"),
        ("morning or evening", None),
        ("I am free whenever", None),
        ("4", None),
        ("tomorrow", None),
    ],
)
def test_call_times(text, expected):
    assert match_choice(text, CALL_TIMES) == expected


@pytest.mark.parametrize(
    "text, expected", [("2", 1), ("option 3", 2), ("3.", 2), ("9", None), ("two", None)]
)
def test_option_numbers(text, expected):
    assert option_number(text, 4) == expected


def test_the_hospital_list_comes_from_one_file_and_the_first_is_the_default():
    entries = hospitals()
    assert entries[0]["name"] == "Spire Cambridge Lea Hospital"
    assert default_hospital() == entries[0]
    assert match_hospital("Spire Cambridge Lea Hospital") == entries[0]["name"]


def test_hospitals_are_matched_by_number_name_or_a_distinctive_word(tmp_path: Path):
    path = tmp_path / "hospitals.yml"
    path.write_text(
        "hospitals:\n"
        "  - {id: spire-cambridge-lea, name: Spire Cambridge Lea Hospital, phone: '01223 266900'}\n"
        "  - {id: spire-norwich, name: Spire Norwich Hospital, phone: '01603 000000'}\n"
    )
    assert match_hospital("2", path) == "Spire Norwich Hospital"
    assert match_hospital("Norwich", path) == "Spire Norwich Hospital"
    assert match_hospital("the cambridge one", path) == "Spire Cambridge Lea Hospital"
    assert match_hospital("spire-norwich", path) == "Spire Norwich Hospital"
    assert match_hospital("Spire", path) is None  # both are Spire hospitals
    assert match_hospital("London", path) is None
    assert match_hospital("3", path) is None


# ---------------------------------------------------------------- yes / no and changes


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("yes", None, True),
        ("Yes, I agree", None, True),
        ("yeah go ahead", None, True),
        ("that's fine", None, True),
        ("no problem", None, True),
        ("aye", None, True),
        ("no", None, False),
        ("No thanks", None, False),
        ("I do not agree", None, False),
        ("I'd rather not", None, False),
        ("I don't know", None, None),
        ("maybe", None, None),
        ("right, what about the cost?", None, None),
        ("absolutely not", None, None),
        ("go for it then", "affirm", True),
        ("absolutely not", "deny", False),
        ("/affirm", "affirm", None),
    ],
)
def test_yes_and_no(text, intent, expected):
    assert parse_yes_no(text, intent) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("change my phone number", "phone"),
        ("the number is wrong", "phone"),
        ("Phone number", "phone"),
        ("my email address", "email"),
        ("name", "full_name"),
        ("the time is wrong", "call_time"),
        ("Best time to call", "call_time"),
        ("Reason for the call", "enquiry_aim"),
        ("Hospital", "hospital"),
        ("yes", None),
        ("change my name and number", None),
    ],
)
def test_which_field_a_change_names(text, expected):
    assert field_to_change(text) == expected


def test_change_words():
    assert wants_change("that's wrong") and wants_change("Change a detail")
    assert not wants_change("yes that's all good")


@pytest.mark.parametrize(
    "field_name, text, expected",
    [
        ("phone", "change my phone to 07700 900456", "+447700900456"),
        ("phone", "change my phone number", None),
        ("email", "the email should be jane.doe@example.com", "jane.doe@example.com"),
        ("call_time", "change the time to evening", "evening"),
        ("call_time", "the morning is wrong", None),
        ("full_name", "change my name to jane doe", "Jane Doe"),
        ("enquiry_aim", "change the reason to insurance", "insurance"),
        ("hospital", "change the hospital to Norwich", None),
    ],
)
def test_a_correction_can_carry_the_new_value(field_name, text, expected):
    assert new_value_in_correction(field_name, text) == expected
