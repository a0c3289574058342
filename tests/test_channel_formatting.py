"""The messaging channels' pure text helpers (channels/formatting.py)."""

from __future__ import annotations

import random

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from channels.formatting import (
    MESSENGER_LIMIT,
    SMS_LIMIT,
    TELEGRAM_LIMIT,
    latest_buttons,
    numbered_options,
    option_index,
    payload_for_reply,
    sms_segments,
    sms_text,
    split_message,
    with_numbered_options,
)

YES_NO = [{"title": "Yes", "payload": "Yes"}, {"title": "No", "payload": "No"}]
HOW_LONG = [
    {"title": "The procedure", "payload": "How long does the procedure take?"},
    {"title": "Recovery", "payload": "How long does recovery take?"},
]
AIMS = [
    {"title": t, "payload": t}
    for t in (
        "Self-pay price",
        "Using medical insurance",
        "NHS or GP referral",
        "An outpatient appointment with a consultant",
        "A question for the team",
        "Other",
    )
]


# ---------------------------------------------------------------- splitting


def test_a_short_message_is_sent_whole():
    assert split_message("Hello.\n\nHow can I help?", 1600) == [
        "Hello.\n\nHow can I help?"
    ]
    assert split_message("   ", 10) == []


def test_paragraphs_are_the_first_choice_of_cut():
    first, second = "A" * 50 + ".", "B" * 50 + "."
    assert split_message(f"{first}\n\n{second}", 80) == [first, second]


def test_sentences_before_words():
    text = "The procedure takes about one hour. You usually stay one night. Then home."
    parts = split_message(text, 40)
    assert parts == [
        "The procedure takes about one hour.",
        "You usually stay one night. Then home.",
    ]


def test_words_when_a_sentence_is_too_long():
    parts = split_message("one two three four five six seven", 10)
    assert parts == ["one two", "three four", "five six", "seven"]


def test_a_word_longer_than_the_limit_is_cut_hard():
    assert split_message("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize("limit", [SMS_LIMIT, TELEGRAM_LIMIT, MESSENGER_LIMIT])
def test_the_platform_limits_hold_for_a_long_answer(limit):
    sentence = "Balloon kyphoplasty is a minimally invasive procedure for fractures. "
    text = "\n\n".join(sentence * 12 for _ in range(10))
    parts = split_message(text, limit)
    assert len(parts) > 1
    assert all(len(part) <= limit for part in parts)
    assert " ".join(parts).split() == text.split()
    assert all(part.endswith(".") for part in parts)  # cut after a sentence


def test_random_texts_keep_every_word_in_order_within_the_limit():
    rng = random.Random(7)
    words = ["a", "bb", "ccc", "dddd.", "eeeee,", "ffffff!", "\n", "\n\n"]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 120)))
        limit = rng.randint(8, 60)
        parts = split_message(text, limit)
        assert all(0 < len(part) <= limit for part in parts)
        assert " ".join(parts).split() == text.split()


def test_a_limit_below_one_is_an_error():
    with pytest.raises(ValueError):
        split_message("text", 0)


# ---------------------------------------------------------------- numbered options


def test_few_short_options_read_on_one_line():
    assert numbered_options(YES_NO) == "Reply 1 for Yes, 2 for No."
    assert (
        with_numbered_options("Would you like a call back?", YES_NO)
        == "Would you like a call back?\n\nReply 1 for Yes, 2 for No."
    )


def test_many_or_long_options_are_listed_one_per_line():
    listed = numbered_options(AIMS)
    assert listed.splitlines() == [
        "Reply with a number:",
        "1. Self-pay price",
        "2. Using medical insurance",
        "3. NHS or GP referral",
        "4. An outpatient appointment with a consultant",
        "5. A question for the team",
        "6. Other",
    ]


def test_titles_with_commas_are_listed_so_the_options_stay_apart():
    buttons = [{"title": "Yes, I agree", "payload": "Yes, I agree"}, YES_NO[1]]
    assert numbered_options(buttons) == "Reply with a number:\n1. Yes, I agree\n2. No"


def test_no_buttons_leaves_the_text_alone():
    assert with_numbered_options("Hello.", []) == "Hello."


@pytest.mark.parametrize(
    "text, count, index",
    [
        ("1", 2, 0),
        ("2", 2, 1),
        (" 2. ", 2, 1),
        ("2)", 3, 1),
        ("#3", 3, 2),
        ("option 2", 2, 1),
        ("3", 2, None),
        ("0", 2, None),
        ("07700 900123", 2, None),
        ("I have 2 questions", 2, None),
        ("", 2, None),
        (None, 2, None),
    ],
)
def test_reading_an_option_number(text, count, index):
    assert option_index(text, count) == index


def test_a_number_picks_the_payload_not_the_title():
    assert payload_for_reply("1", HOW_LONG) == "How long does the procedure take?"
    assert payload_for_reply("3", HOW_LONG) is None
    assert payload_for_reply("Recovery", HOW_LONG) is None


# ---------------------------------------------------------------- buttons from the tracker


def test_latest_buttons_are_those_of_the_bots_last_turn():
    events = [
        UserUttered("how long does it take?"),
        ActionExecuted("utter_ask_how_long_what"),
        BotUttered("Do you mean ...?", {"buttons": HOW_LONG}),
        ActionExecuted("action_listen"),
    ]
    assert latest_buttons(events) == HOW_LONG
    # Also from the events' dict form, as the tracker store and action server keep them.
    assert latest_buttons([e.as_dict() for e in events]) == HOW_LONG


def test_a_user_message_since_the_buttons_clears_them():
    events = [
        BotUttered("Would you like a call back?", {"buttons": YES_NO}),
        UserUttered("what is kyphoplasty?"),
        BotUttered("Balloon kyphoplasty is ..."),
    ]
    assert latest_buttons(events) == []


def test_a_plain_message_after_the_buttons_in_the_same_turn_keeps_them():
    events = [
        UserUttered("how much is it?"),
        BotUttered("Would you like a call back?", {"buttons": YES_NO}),
        BotUttered("You can also call us."),
    ]
    assert latest_buttons(events) == YES_NO


# ---------------------------------------------------------------- SMS


def test_sms_text_keeps_to_the_gsm_alphabet():
    text = "You\u2019ll stay \u201covernight\u201d \u2013 about one night\u2026"
    plain = sms_text(text)
    assert plain == 'You\'ll stay "overnight" - about one night...'
    assert sms_segments(text) == 1 and sms_segments(plain) == 1
    assert sms_segments("\u2019" * 71) == 2  # UCS-2: 70 a segment
    assert sms_segments("x" * 71) == 1


@pytest.mark.parametrize(
    "length, segments", [(0, 0), (160, 1), (161, 2), (306, 2), (307, 3), (1600, 11)]
)
def test_sms_segments(length, segments):
    assert sms_segments("a" * length) == segments


def test_gsm_extension_characters_count_twice():
    assert sms_segments("€" * 80) == 1 and sms_segments("€" * 81) == 2
