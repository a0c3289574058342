"""The callback enquiry's actions through the real action server's ``/webhook``.

Each test drives Rasa's own form code (``FormAction``, ``RemoteAction``) against an
action server started for this module with its own SQLite database, so every request
is the tracker payload Rasa itself sends, and the answers are read back from the
database the action server wrote.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from actions.enquiry_form import phone_ending, phone_offer_reply
from actions.enquiry_store import EnquiryStore
from tests.support.enquiry_helpers import FormDriver
from tests.support.servers import start_action_server

NAME, PHONE, PHONE_E164, EMAIL = (
    "Jane Smith",
    "07700 900123",
    "+447700900123",
    "jane.smith@example.com",
)
PERSONAL = (
    NAME,
    PHONE,
    PHONE_E164,
    "7700900123",
    EMAIL,
    "Priya Natarajan",
    "07700 900456",
    "priya@example.org",
)
FORM_SLOTS = (
    "full_name",
    "phone",
    "email",
    "hospital",
    "enquiry_aim",
    "call_time",
    "enquiry_consent",
    "enquiry_confirmed",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("enquiry-actions")
    db_url = f"sqlite:///{workdir / 'enquiries.db'}"
    service = start_action_server(workdir, env={"ENQUIRY_DB_URL": db_url})
    service.db = EnquiryStore(db_url)
    yield service
    service.stop()
    log = service.log.read_text()
    for value in PERSONAL:  # no personal detail in any log line of the whole module
        assert value not in log, f"{value!r} appears in the action server log"


@pytest.fixture
def driver(server) -> FormDriver:
    return FormDriver(server.url)


async def fill_to_summary(d: FormDriver, name=NAME, phone=PHONE, email=EMAIL) -> str:
    await d.start()
    await d.say(name)
    await d.say(phone)
    await d.say(email)
    await d.say("Self-pay price", "not_covered", 0.7)
    await d.say("Afternoon", "greet", 0.6)
    return (await d.say("Yes, I agree", "affirm")).text


def reference_in(text: str) -> str:
    match = re.search(r"\bKY-[2-9A-HJKMNP-Z]{6}\b", text)
    assert match, text
    return match.group()


# ---------------------------------------------------------------- the happy path


async def test_happy_path_stores_the_enquiry_once_and_clears_the_slots(driver, server):
    first = await driver.start()
    assert first.texts == ["What is your full name? You can type stop at any time."]
    assert driver.requested_slot == "full_name"
    assert "phone number" in (await driver.say(NAME)).text
    assert "email" in (await driver.say(PHONE)).text
    aim = await driver.say(EMAIL)
    # One hospital in actions/data/hospitals.yml, so it is not asked.
    assert "aim of your enquiry" in aim.text
    titles = [b["title"] for b in aim.buttons[0]]
    assert titles[0] == "Self-pay price" and len(titles) == 6
    assert all(b["payload"] == b["title"] for b in aim.buttons[0])
    assert "best time" in (await driver.say("Self-pay price", "not_covered", 0.7)).text
    consent = await driver.say("Afternoon", "greet", 0.6)
    assert "up to 90 days" in consent.text and "delete" in consent.text
    summary = (await driver.say("Yes, I agree", "affirm")).text
    for shown in (
        NAME,
        PHONE,
        EMAIL,
        "Spire Cambridge Lea Hospital",
        "Self-pay price",
        "afternoon",
    ):
        assert shown in summary

    driver.user("Confirm", "affirm")
    done = await driver.run_form()
    reference = reference_in(done.text)
    assert "The team will call you in the afternoon on 07700 900123" in done.text

    row = server.db.get(reference)
    assert (
        row["full_name"] == NAME
        and row["phone_e164"] == PHONE_E164
        and row["email"] == EMAIL
    )
    assert row["hospital"] == "Spire Cambridge Lea Hospital"
    assert (row["enquiry_aim"], row["call_time"], row["status"]) == (
        "self_pay",
        "afternoon",
        "new",
    )
    assert (
        row["channel"] == "rest" and row["conversation_id"] == driver.tracker.sender_id
    )
    assert row["created_at"] and row["consent_at"] <= row["created_at"]
    assert len(row["idempotency_key"]) == 64
    # Personal details do not stay in the conversation's slots.
    assert all(driver.slot(slot) is None for slot in FORM_SLOTS)
    assert not driver.form_active


async def test_a_retried_submission_stores_nothing_new(driver, server):
    await fill_to_summary(
        driver, name="Priya Natarajan", phone="07700 900456", email="priya@example.org"
    )
    driver.user("yes that's right", "affirm")
    await driver.run_form(submit=False)
    before = server.db.count()
    snapshot = copy.deepcopy(driver.tracker)
    first = reference_in((await driver.action("action_submit_enquiry")).text)
    driver.tracker = snapshot  # Rasa retries the same action with the same tracker
    again = reference_in((await driver.action("action_submit_enquiry")).text)
    assert again == first
    assert server.db.count() == before + 1


async def test_no_email_is_accepted(driver, server):
    await driver.start()
    await driver.say("Tom Baker")
    await driver.say("+44 (0)1223 266900")
    assert "aim of your enquiry" in (await driver.say("I don't have one", "deny")).text
    assert driver.slot("email") == "none"
    await driver.say("2")
    await driver.say("evening")
    summary = (await driver.say("yes", "affirm")).text
    assert "Email: none given" in summary and "01223 266900" in summary
    driver.user("confirm", "affirm")
    reference = reference_in((await driver.run_form()).text)
    row = server.db.get(reference)
    assert (
        row["email"] is None
        and row["phone_e164"] == "+441223266900"
        and row["enquiry_aim"] == "insurance"
    )


async def test_skip_at_the_email_question_is_an_answer_not_a_stop(driver):
    await driver.start()
    await driver.say(NAME)
    await driver.say(PHONE)
    turn = await driver.say("skip", "stop")
    assert not turn.rejected and driver.slot("email") == "none"


# ---------------------------------------------------------------- invalid answers


@pytest.mark.parametrize(
    "slot, answers_before, invalid, expected",
    [
        ("full_name", [], "R2D2", "for example Jane Smith"),
        ("phone", [NAME], "12345", "07700 900123"),
        ("phone", [NAME], "+33 1 23 45 67 89", "UK phone number"),
        ("email", [NAME, PHONE], "jane@", "jane.smith@example.com"),
        ("enquiry_aim", [NAME, PHONE, EMAIL], "hmm", "option's number"),
        (
            "call_time",
            [NAME, PHONE, EMAIL, "1"],
            "tomorrow",
            "morning, afternoon or evening",
        ),
        ("enquiry_consent", [NAME, PHONE, EMAIL, "1", "2"], "maybe", "yes or no"),
        ("enquiry_consent", [NAME, PHONE, EMAIL, "1", "2"], "/affirm", "yes or no"),
    ],
)
async def test_an_invalid_answer_is_asked_again_with_an_example(
    driver, slot, answers_before, invalid, expected
):
    await driver.start()
    for answer in answers_before:
        await driver.say(answer)
    assert driver.requested_slot == slot
    turn = await driver.say(
        invalid, "affirm" if invalid.startswith("/") else "nlu_fallback"
    )
    assert expected in turn.text
    assert driver.requested_slot == slot and driver.slot(slot) is None
    if slot in ("enquiry_aim", "call_time"):
        assert turn.buttons[0], "the options are offered again"


async def test_three_invalid_tries_stop_the_form_and_give_the_numbers(driver, server):
    before = server.db.count()
    await driver.start()
    await driver.say(NAME)
    await driver.say("123")
    await driver.say("not sure")
    last = await driver.say("0800")
    assert "could not take your phone number" in last.text
    assert (
        "01223 266900" in last.text
        and "01223 266929" in last.text
        and "01223 266990" in last.text
    )
    assert not driver.form_active and driver.slot("full_name") is None
    assert server.db.count() == before


async def test_a_valid_answer_resets_the_count_of_tries(driver):
    await driver.start()
    await driver.say("123")
    await driver.say("456")
    await driver.say(NAME)
    await driver.say("789")
    await driver.say("000")
    assert driver.form_active and driver.requested_slot == "phone"


# ---------------------------------------------------------------- consent, stop, interruptions


async def test_declining_consent_stores_nothing(driver, server):
    before = server.db.count()
    await driver.start()
    for answer in (NAME, PHONE, EMAIL, "1", "1"):
        await driver.say(answer)
    turn = await driver.say("No", "deny")
    assert "not stored any of your details" in turn.text and "01223 266900" in turn.text
    assert not driver.form_active and all(driver.slot(s) is None for s in FORM_SLOTS)
    assert server.db.count() == before


async def test_stop_ends_the_form_without_storing(driver, server):
    before = server.db.count()
    await driver.start()
    await driver.say(NAME)
    turn = await driver.stop("cancel")
    assert "I have stopped" in turn.text and "01223 266900" in turn.text
    assert driver.slot("full_name") is None and not driver.form_active
    assert server.db.count() == before


@pytest.mark.parametrize(
    "question, intent, answer_action",
    [
        ("how long does the operation take", "procedure", "utter_procedure"),
        ("what are you, a robot?", "bot_challenge", "utter_bot_challenge"),
        ("do I need to stop my blood thinners", "not_covered", "utter_not_covered"),
        ("what's the weather tomorrow", "out_of_scope", "utter_out_of_scope"),
    ],
)
async def test_an_faq_question_is_answered_and_the_form_asks_again(
    driver, question, intent, answer_action
):
    await driver.start()
    await driver.say(NAME)
    again = await driver.interrupt(question, intent, answer_action)
    assert "phone number" in again.text and "Sorry" not in again.text
    assert driver.requested_slot == "phone"
    assert "email" in (await driver.say(PHONE)).text


async def test_an_faq_question_that_is_also_an_answer_is_taken_as_the_answer(driver):
    await driver.start()
    for answer in (NAME, PHONE, EMAIL):
        await driver.say(answer)
    turn = await driver.say("how much does it cost", "not_covered", 0.97)
    assert not turn.rejected and driver.slot("enquiry_aim") == "self_pay"


async def test_a_name_that_sounds_like_an_faq_topic_is_still_a_name(driver):
    await driver.start()
    turn = await driver.say("Richard Mannion", "consultants", 0.95)
    assert not turn.rejected and driver.slot("full_name") == "Richard Mannion"


async def test_urgent_symptoms_mid_form_then_the_same_question_again(driver):
    await driver.start()
    await driver.say(NAME)
    again = await driver.urgent("I suddenly can't feel my legs")
    assert again.texts == ["What phone number should the team call you on?"]
    assert driver.requested_slot == "phone" and driver.slot("enquiry_failures") in (
        None,
        0,
    )


async def test_a_new_enquiry_starts_empty_after_an_abandoned_one(driver):
    await driver.start()
    await driver.say(NAME)
    await driver.say(PHONE)
    # The user wanders off mid-form; later they ask for a callback again.
    from rasa.shared.core.events import ActiveLoop

    driver.tracker.update(ActiveLoop(None))
    again = await driver.start()
    assert "full name" in again.text and driver.slot("phone") is None


# ---------------------------------------------------------------- the summary


async def test_change_a_named_field_asks_for_it_again_then_shows_the_summary(driver):
    await fill_to_summary(driver)
    ask = await driver.say("change my phone number")
    assert ask.texts == ["What phone number should the team call you on?"]
    summary = (await driver.say("07700 900456")).text
    assert "Phone: 07700 900456" in summary and "Is this right?" in summary


@pytest.mark.parametrize(
    "button, asked, answer, shown",
    [
        ("Name", "full name", "Tom Baker", "Name: Tom Baker"),
        ("Phone number", "phone number", "01223 266900", "Phone: 01223 266900"),
        ("Email", "email address", "no", "Email: none given"),
        (
            "Reason for the call",
            "aim of your enquiry",
            "NHS or GP referral",
            "Reason for the call: NHS or GP referral",
        ),
        ("Best time to call", "best time", "Evening", "Best time to call: evening"),
    ],
)
async def test_no_at_the_summary_asks_which_detail_then_changes_it(
    driver, button, asked, answer, shown
):
    await fill_to_summary(driver)
    which = await driver.say("No", "deny")
    assert "Which detail" in which.text
    titles = [b["title"] for b in which.buttons[0]]
    assert titles == [
        "Name",
        "Phone number",
        "Email",
        "Reason for the call",
        "Best time to call",
        "Cancel",
    ]
    assert asked in (await driver.say(button)).text
    assert shown in (await driver.say(answer)).text


@pytest.mark.parametrize(
    "correction, shown",
    [
        ("change my phone to 07700 900456", "Phone: 07700 900456"),
        ("the email should be jane.doe@example.com", "Email: jane.doe@example.com"),
        ("change the time to evening", "Best time to call: evening"),
        ("change my name to jane doe", "Name: Jane Doe"),
    ],
)
async def test_a_correction_with_the_new_value_goes_straight_back_to_the_summary(
    driver, correction, shown
):
    await fill_to_summary(driver)
    assert shown in (await driver.say(correction)).text


async def test_changing_the_only_hospital_explains_and_shows_the_summary(driver):
    await fill_to_summary(driver)
    turn = await driver.say("change the hospital")
    assert (
        "only arrange calls from Spire Cambridge Lea Hospital" in turn.text
        and "Is this right?" in turn.text
    )


async def test_cancel_at_the_summary_stores_nothing(driver, server):
    before = server.db.count()
    await fill_to_summary(driver)
    turn = await driver.say(
        "3"
    )  # "Cancel", typed as its number on a channel without buttons
    assert "I have stopped" in turn.text and not driver.form_active
    assert server.db.count() == before


async def test_cancel_at_the_summary_classified_as_stop_goes_to_the_stop_rule(
    driver, server
):
    before = server.db.count()
    await fill_to_summary(driver)
    turn = await driver.stop("Cancel")
    assert "I have stopped" in turn.text
    assert server.db.count() == before


async def test_confirm_by_number(driver, server):
    await fill_to_summary(driver)
    assert reference_in((await driver.say("1")).text)


# ---------------------------------------------------------------- more than one hospital


@pytest.fixture(scope="module")
def two_hospital_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("two-hospitals")
    hospitals = workdir / "hospitals.yml"
    hospitals.write_text(
        "hospitals:\n"
        "  - {id: spire-cambridge-lea, name: Spire Cambridge Lea Hospital, phone: '01223 266900',"
        " self_pay_phone: '01223 266929', outpatient_phone: '01223 266990'}\n"
        "  - {id: spire-norwich, name: Spire Norwich Hospital, phone: '01603 000000'}\n"
    )
    db_url = f"sqlite:///{workdir / 'enquiries.db'}"
    service = start_action_server(
        workdir,
        env={"ENQUIRY_DB_URL": db_url, "ENQUIRY_HOSPITALS_FILE": str(hospitals)},
    )
    service.db = EnquiryStore(db_url)
    yield service
    service.stop()


async def test_with_several_hospitals_the_form_asks_which(two_hospital_server):
    driver = FormDriver(two_hospital_server.url)
    await driver.start()
    await driver.say(NAME)
    await driver.say(PHONE)
    ask = await driver.say(EMAIL)
    assert "Which hospital" in ask.text
    assert [b["title"] for b in ask.buttons[0]] == [
        "Spire Cambridge Lea Hospital",
        "Spire Norwich Hospital",
    ]
    assert "Sorry" in (await driver.say("London")).text
    await driver.say("2")
    await driver.say("1")
    await driver.say("morning")
    summary = (await driver.say("yes", "affirm")).text
    assert "Hospital: Spire Norwich Hospital" in summary
    done = (await driver.say("confirm", "affirm")).text
    assert "call the hospital on 01603 000000" in done
    assert (
        two_hospital_server.db.get(reference_in(done))["hospital"]
        == "Spire Norwich Hospital"
    )


# ---------------------------------------------------------------- the database is down


async def test_when_the_database_is_down_the_enquiry_is_spooled_not_lost(
    tmp_path: Path,
):
    unreachable = "postgresql://postgres@127.0.0.1:1/none"
    spool = tmp_path / "spool"
    service = start_action_server(
        tmp_path, env={"ENQUIRY_DB_URL": unreachable, "ENQUIRY_SPOOL_DIR": str(spool)}
    )
    try:
        driver = FormDriver(service.url)
        await fill_to_summary(driver)
        done = (await driver.say("confirm", "affirm")).text
        assert "will be passed to the team" in done and "01223 266900" in done
        reference = re.search(r"KY-[2-9A-HJKMNP-Z]{6}", done).group()
        assert driver.slot("full_name") is None
    finally:
        service.stop()
    (kept,) = list(spool.glob("*.json"))
    assert kept.stat().st_mode & 0o077 == 0  # readable by the server's user only
    assert reference in kept.read_text() and PHONE_E164 in kept.read_text()
    log = service.log.read_text()
    assert "Could not store an enquiry: OperationalError" in log
    assert NAME not in log and PHONE not in log and EMAIL not in log


# ---------------------------------------------------------------- the sender's number (SMS, WhatsApp)

OFFER = "Shall we call you on this number?"
OFFER_BUTTONS = ["Yes, call this number", "Use a different number"]


def twilio_driver(server, sender: str) -> FormDriver:
    """A conversation as the Twilio channel has it: the sender id is the number."""
    return FormDriver(server.url, sender=sender, channel="twilio")


async def test_whatsapp_offers_the_senders_number_and_yes_takes_it(server):
    d = twilio_driver(server, "whatsapp:" + PHONE_E164)
    await d.start()
    offer = await d.say(NAME)
    assert OFFER in offer.text and "ending in 123" in offer.text
    # Only the last digits are shown.
    assert PHONE not in offer.text and "7700900" not in offer.text
    assert [b["title"] for b in offer.buttons[-1]] == OFFER_BUTTONS
    assert "email" in (await d.say("Yes, call this number", "affirm")).text
    assert d.slot("phone") == PHONE_E164
    await d.say(EMAIL)
    await d.say("1")
    await d.say("2")
    summary = (await d.say("Yes, I agree", "affirm")).text
    assert f"Phone: {PHONE}" in summary
    done = (await d.say("Confirm", "affirm")).text
    row = server.db.get(reference_in(done))
    assert (row["phone_e164"], row["channel"]) == (PHONE_E164, "twilio")


async def test_sms_a_different_number_asks_for_it(server):
    d = twilio_driver(server, PHONE_E164)
    await d.start()
    assert OFFER in (await d.say(NAME)).text
    ask = await d.say("Use a different number", "deny")
    assert ask.texts == ["What phone number should the team call you on?"]
    assert d.slot("phone") is None and d.slot("enquiry_failures") in (None, 0)
    assert "email" in (await d.say("07700 900456")).text
    assert d.slot("phone") == "+447700900456"


async def test_no_to_the_offered_number_is_an_answer_not_a_stop(server):
    d = twilio_driver(server, PHONE_E164)
    await d.start()
    await d.say(NAME)
    turn = await d.say("no", "stop")
    assert not turn.rejected and d.form_active
    assert "What phone number" in turn.text


async def test_a_number_typed_at_the_offer_is_taken(server):
    d = twilio_driver(server, "whatsapp:" + PHONE_E164)
    await d.start()
    await d.say(NAME)
    assert "email" in (await d.say("01223 266900")).text
    assert d.slot("phone") == "+441223266900"


async def test_an_unclear_reply_to_the_offer_is_asked_again(server):
    d = twilio_driver(server, PHONE_E164)
    await d.start()
    await d.say(NAME)
    again = await d.say("maybe later")
    assert "Please answer yes" in again.text and OFFER in again.text
    assert d.slot("phone") is None and d.slot("enquiry_failures") == 1


@pytest.mark.parametrize(
    "sender, channel",
    [
        (PHONE_E164, "rest"),  # a REST sender id is whatever the caller chose
        ("whatsapp:+14155550100", "twilio"),  # not a UK number
        ("123456789", "telegram"),
    ],
)
async def test_the_number_is_offered_only_for_a_uk_number_on_twilio(
    server, sender, channel
):
    d = FormDriver(server.url, sender=sender, channel=channel)
    await d.start()
    ask = await d.say(NAME)
    assert ask.texts == ["What phone number should the team call you on?"]


async def test_changing_the_phone_at_the_summary_offers_the_number_again(server):
    d = twilio_driver(server, "whatsapp:" + PHONE_E164)
    await d.start()
    await d.say(NAME)
    await d.say("Use a different number", "deny")
    await d.say("07700 900456")
    await d.say(EMAIL)
    await d.say("1")
    await d.say("2")
    await d.say("Yes, I agree", "affirm")
    offer = await d.say("change my phone number")
    assert OFFER in offer.text
    summary = await d.say("yes", "affirm")
    assert d.slot("phone") == PHONE_E164 and f"Phone: {PHONE}" in summary.text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Yes, call this number", True),
        ("yes please", True),
        ("1", None),  # numbers are read by the channel, which sends the payload
        ("Use a different number", False),
        ("no", False),
        ("another one", False),
        ("not this one", False),
        ("maybe", None),
        ("/affirm", None),
    ],
)
def test_reading_the_reply_to_the_offered_number(text, expected):
    assert phone_offer_reply(text) is expected


def test_only_the_last_three_digits_are_shown():
    assert phone_ending(PHONE_E164) == "123"
