"""The messaging channels in-process: switching off without secrets, reading a
numbered reply from a shared tracker store, and what each output channel sends to
its platform's HTTP API (the local stand-in in tests/channels/platforms.py)."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Iterator

import pytest
from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from fbmessenger import MessengerClient
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.facebook_channel import (
    FacebookInput,
    FacebookOutput,
    messaging_events,
    quick_replies,
)
from channels.messaging import describe_missing, read_numbered_reply, rebase_url
from channels.telegram_channel import (
    TelegramInput,
    TelegramOutput,
    callback_data,
    inline_keyboard,
    update_text,
)
from channels.twilio_channel import TwilioClient, TwilioInput, TwilioOutput
from tests.channels.platforms import (
    FACEBOOK_TOKEN,
    TELEGRAM_TOKEN,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    PlatformMock,
    channel_env,
    messenger_event,
    telegram_button_update,
    telegram_message_update,
)

ALL_SECRETS = list(channel_env(PlatformMock()).keys())
HOW_LONG = [
    {"title": "The procedure", "payload": "How long does the procedure take?"},
    {"title": "Recovery", "payload": "How long does recovery take?"},
]


@pytest.fixture
def no_secrets(monkeypatch):
    for name in ALL_SECRETS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(scope="module")
def platforms() -> Iterator[PlatformMock]:
    mock = PlatformMock().start()
    yield mock
    mock.stop()


# ---------------------------------------------------------------- off without secrets


@pytest.mark.parametrize(
    "channel, line",
    [
        (
            TwilioInput,
            "Twilio channel off: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_NUMBER or TWILIO_WHATSAPP_NUMBER are not set",
        ),
        (
            TelegramInput,
            "Telegram channel off: TELEGRAM_TOKEN, TELEGRAM_VERIFY and "
            "TELEGRAM_WEBHOOK_URL are not set",
        ),
        (
            FacebookInput,
            "Facebook Messenger channel off: FACEBOOK_VERIFY, FACEBOOK_SECRET and "
            "FACEBOOK_PAGE_ACCESS_TOKEN are not set",
        ),
    ],
)
def test_without_secrets_a_channel_is_off_with_one_log_line(
    no_secrets, caplog, channel, line
):
    caplog.set_level(logging.INFO, logger="channels")
    made = channel.from_credentials(None)
    assert not made.enabled and made.get_output_channel() is None
    assert [r.getMessage() for r in caplog.records] == [line]


def test_a_channel_with_some_secrets_says_which_are_missing(no_secrets, caplog):
    caplog.set_level(logging.INFO, logger="channels")
    no_secrets.setenv("TWILIO_ACCOUNT_SID", TWILIO_SID)
    no_secrets.setenv("TWILIO_WHATSAPP_NUMBER", "+14155238886")
    assert not TwilioInput.from_credentials(None).enabled
    assert (
        caplog.records[-1].getMessage()
        == "Twilio channel off: TWILIO_AUTH_TOKEN is not set"
    )


def test_a_malformed_telegram_token_turns_the_channel_off(no_secrets, caplog):
    caplog.set_level(logging.INFO, logger="channels")
    for name, value in channel_env(PlatformMock()).items():
        if name.startswith("TELEGRAM"):
            no_secrets.setenv(name, value)
    no_secrets.setenv("TELEGRAM_TOKEN", "not a token")
    assert not TelegramInput.from_credentials(None).enabled
    assert "TELEGRAM_TOKEN is not a bot token" in caplog.records[-1].getMessage()


def test_with_secrets_every_channel_is_on(no_secrets, caplog):
    caplog.set_level(logging.INFO, logger="channels")
    for name, value in channel_env(PlatformMock()).items():
        no_secrets.setenv(name, value)
    for channel in (TwilioInput, TelegramInput, FacebookInput):
        assert channel.from_credentials(None).enabled
    assert [r.getMessage().split(" channel on")[0] for r in caplog.records] == [
        "Twilio",
        "Telegram",
        "Facebook Messenger",
    ]


def test_describe_missing():
    assert describe_missing(["A"]) == "A is not set"
    assert describe_missing(["A", "B"]) == "A and B are not set"
    assert describe_missing(["A", "B", "C"]) == "A, B and C are not set"


def test_rebase_url():
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1"
    assert rebase_url(url, "") == url
    assert (
        rebase_url(url, "http://127.0.0.1:9000")
        == "http://127.0.0.1:9000/2010-04-01/Accounts/AC1/Messages.json?x=1"
    )
    assert rebase_url(url, "http://mock/twilio/").startswith(
        "http://mock/twilio/2010-04-01/"
    )


# ---------------------------------------------------------------- numbered replies


def request_with_store(store) -> SimpleNamespace:
    """What the channels read from a Sanic request: ``request.app.ctx.agent``."""
    agent = SimpleNamespace(tracker_store=store)
    return SimpleNamespace(app=SimpleNamespace(ctx=SimpleNamespace(agent=agent)))


async def test_a_number_is_read_from_the_tracker_store_another_instance_wrote(tmp_path):
    """Two Rasa instances share one tracker store: the one that sent the buttons and
    the one that receives "1" need not be the same process."""
    db = str(tmp_path / "tracker.db")
    writer = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=db)
    reader = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=db)
    tracker = DialogueStateTracker.from_events(
        "whatsapp:+447700900123",
        [
            UserUttered("how long does it take?"),
            ActionExecuted("utter_ask_how_long_what"),
            BotUttered("Do you mean the procedure or recovery?", {"buttons": HOW_LONG}),
            ActionExecuted("action_listen"),
        ],
    )
    await writer.save(tracker)
    request = request_with_store(reader)
    sender = tracker.sender_id
    assert await read_numbered_reply(request, sender, "2") == HOW_LONG[1]["payload"]
    assert await read_numbered_reply(request, sender, " 1. ") == HOW_LONG[0]["payload"]
    assert await read_numbered_reply(request, sender, "3") == "3"
    assert await read_numbered_reply(request, sender, "recovery") == "recovery"
    assert await read_numbered_reply(request, "someone-else", "1") == "1"


async def test_a_tracker_store_failure_leaves_the_text_as_typed(caplog):
    class Broken:
        async def retrieve(self, sender_id):
            raise ConnectionError("down")

    assert await read_numbered_reply(request_with_store(Broken()), "x", "1") == "1"
    assert "ConnectionError" in caplog.text
    assert await read_numbered_reply(request_with_store(None), "x", "1") == "1"


# ---------------------------------------------------------------- what reaches each platform


async def test_twilio_sms_splits_and_numbers_the_options(platforms):
    output = TwilioOutput(
        TwilioClient(TWILIO_SID, TWILIO_TOKEN, api_base_url=platforms.url),
        TWILIO_NUMBER,
        whatsapp=False,
    )
    to = "+447700900501"
    long_text = "You\u2019ll usually stay one night after the procedure. " * 70
    await output.send_text_with_buttons(to, long_text, HOW_LONG)
    sent = platforms.messages("twilio", to)
    assert len(sent) == 3 and all(len(s.text) <= 1600 for s in sent)
    assert all(s.params["From"] == TWILIO_NUMBER for s in sent)
    assert "\u2019" not in "".join(s.text for s in sent)  # GSM, 160 a segment
    assert sent[-1].text.endswith("Reply 1 for The procedure, 2 for Recovery.")


async def test_twilio_whatsapp_keeps_typographic_characters(platforms):
    output = TwilioOutput(
        TwilioClient(TWILIO_SID, TWILIO_TOKEN, api_base_url=platforms.url),
        "whatsapp:+14155238886",
        whatsapp=True,
    )
    to = "whatsapp:+447700900502"
    await output.send_text_message(to, "You\u2019ll stay one night.")
    assert [s.text for s in platforms.messages("twilio", to)] == [
        "You\u2019ll stay one night."
    ]


async def test_a_twilio_error_is_logged_without_the_message(platforms, caplog):
    output = TwilioOutput(
        TwilioClient(TWILIO_SID, "wrong-token", api_base_url=platforms.url),
        TWILIO_NUMBER,
        whatsapp=False,
    )
    await output.send_text_message("+447700900503", "secret words")
    assert "Twilio refused a message: HTTP 401" in caplog.text
    assert "secret words" not in caplog.text and "7700900503" not in caplog.text


def telegram_bot(platforms) -> Bot:
    return Bot(TELEGRAM_TOKEN, server=TelegramAPIServer.from_base(platforms.url))


async def test_telegram_sends_long_text_in_parts_and_buttons_with_the_last(platforms):
    bot = telegram_bot(platforms)
    try:
        chat = 880001
        text = "Balloon kyphoplasty can reduce pain. " * 250  # about 9,250 characters
        await TelegramOutput(bot).send_text_with_buttons(str(chat), text, HOW_LONG)
    finally:
        await bot.session.close()
    sent = platforms.messages("telegram", chat)
    assert len(sent) == 3 and all(len(s.text) <= 4096 for s in sent)
    assert [("reply_markup" in s.params) for s in sent] == [False, False, True]
    keyboard = json.loads(sent[-1].params["reply_markup"])["inline_keyboard"]
    assert keyboard == [
        [
            {
                "text": "The procedure",
                "callback_data": "How long does the procedure take?",
            },
            {"text": "Recovery", "callback_data": "How long does recovery take?"},
        ]
    ]


def test_telegram_long_payloads_go_as_their_number():
    long_payload = {"title": "Long", "payload": "x" * 65}
    assert callback_data(long_payload, 2) == "2"
    assert callback_data({"title": "Yes", "payload": "Yes"}, 1) == "Yes"
    # "£" is two bytes: 32 of them are 64 bytes and fit, 33 do not.
    assert callback_data({"title": "p", "payload": "£" * 32}, 1) == "£" * 32
    assert callback_data({"title": "p", "payload": "£" * 33}, 1) == "1"


def test_telegram_many_or_long_buttons_go_one_a_row():
    rows = inline_keyboard(
        [{"title": t, "payload": t} for t in ("Morning", "Afternoon", "Evening")]
    ).inline_keyboard
    assert len(rows) == 1
    rows = inline_keyboard(
        [{"title": "An outpatient appointment with a consultant", "payload": "x"}]
        + HOW_LONG
    ).inline_keyboard
    assert len(rows) == 3


def test_telegram_update_text():
    assert update_text(telegram_message_update(5, "hello")) == {
        "chat_id": 5,
        "text": "hello",
    }
    pressed = update_text(telegram_button_update(5, "Yes"))
    assert (
        pressed["chat_id"] == 5
        and pressed["text"] == "Yes"
        and pressed["callback_query_id"]
    )
    sticker = telegram_message_update(5, "x")
    del sticker["message"]["text"]
    assert update_text(sticker) is None
    assert update_text({"update_id": 1}) is None


async def test_messenger_quick_replies_and_parts(platforms):
    client = MessengerClient(FACEBOOK_TOKEN)
    client.graph_url = platforms.url + "/v21.0"
    psid = "5550001"
    text = "Balloon kyphoplasty can reduce pain. " * 100  # about 3,700 characters
    await FacebookOutput(client).send_text_with_buttons(psid, text, HOW_LONG)
    sent = platforms.messages("facebook", psid)
    assert len(sent) == 2 and all(len(s.text) <= 2000 for s in sent)
    assert "quick_replies" not in sent[0].params["message"]
    assert sent[-1].params["message"]["quick_replies"] == [
        {
            "content_type": "text",
            "title": "The procedure",
            "payload": HOW_LONG[0]["payload"],
        },
        {
            "content_type": "text",
            "title": "Recovery",
            "payload": HOW_LONG[1]["payload"],
        },
    ]


def test_messenger_long_titles_become_numbered_options():
    buttons = [
        {"title": "An outpatient appointment with a consultant", "payload": "A"}
    ] + HOW_LONG
    numbered, replies = quick_replies(buttons)
    assert numbered and [r["title"] for r in replies] == ["1", "2", "3"]
    assert [r["payload"] for r in replies] == ["A"] + [b["payload"] for b in HOW_LONG]
    numbered, replies = quick_replies(
        [{"title": str(n), "payload": str(n)} for n in range(14)]
    )
    assert numbered and replies == []  # over 13: numbers in the text only


def test_messenger_events_skip_echoes_and_read_every_message():
    event = messenger_event("111", "first")
    messaging = event["entry"][0]["messaging"]
    messaging.append(
        {"sender": {"id": "111"}, "message": {"text": "echo", "is_echo": True}}
    )
    messaging.append({"sender": {"id": "111"}, "delivery": {"mids": ["m_1"]}})
    messaging.append({"sender": {"id": "222"}, "postback": {"payload": "Yes"}})
    messaging.append(
        messenger_event("111", "typed", quick_reply="Payload")["entry"][0]["messaging"][
            0
        ]
    )
    assert list(messaging_events(event)) == [
        ("111", "first"),
        ("222", "Yes"),
        ("111", "Payload"),
    ]
    assert (
        list(messaging_events({"object": "instagram", "entry": event["entry"]})) == []
    )


@pytest.mark.parametrize(
    "update",
    [
        {"message": {"text": "hi", "chat": "not an object"}},
        {"message": {"text": 5, "chat": {"id": 1}}},
        {"message": {"text": "   ", "chat": {"id": 1}}},
        {"message": "text"},
        {"callback_query": {"data": "Yes", "message": None}},
        {"callback_query": {"data": {"x": 1}, "message": {"chat": {"id": 1}}}},
        {"message": {"text": "hi", "chat": {"id": True}}},
    ],
)
def test_malformed_telegram_updates_have_nothing_to_answer(update):
    assert update_text(update) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "page", "entry": "x"},
        {"object": "page", "entry": ["x", None, {"messaging": "y"}]},
        {"object": "page", "entry": [{"messaging": [{"sender": "1", "message": []}]}]},
        {"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}}]}]},
    ],
)
def test_malformed_messenger_events_are_skipped(payload):
    assert list(messaging_events(payload)) == []
