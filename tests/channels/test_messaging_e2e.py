"""The messaging channels end to end: the platforms' own webhook requests POSTed to a
real Rasa server (with the real action server), and the replies read where they
leave it, at a local stand-in for each platform's HTTP API (tests/channels/platforms.py).

One Rasa server for the module, with every channel's secrets set and the project's
own credentials.yml.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from typing import Iterator, List
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

from actions.enquiry_store import EnquiryStore
from tests.channels.platforms import (
    FACEBOOK_SECRET,
    FACEBOOK_VERIFY,
    TELEGRAM_PUBLIC_URL,
    TELEGRAM_SECRET,
    TWILIO_NUMBER,
    TWILIO_WHATSAPP,
    PlatformMock,
    Sent,
    channel_env,
    messenger_event,
    post,
    post_messenger,
    post_telegram,
    post_twilio,
    telegram_button_update,
    telegram_message_update,
    twilio_signature,
    twilio_sms_params,
    twilio_whatsapp_params,
)
from tests.support.servers import (
    ROOT,
    Service,
    start_action_server,
    start_rasa,
    write_endpoints,
)

pytestmark = pytest.mark.e2e

URGENT_START = "Call 999 or go to A&E now"
URGENT_MESSAGE = "I can't feel my legs and I've lost control of my bladder"
FAQ_QUESTION = "how long does the kyphoplasty operation take?"
FAQ_ANSWER = "one hour"
# Phone numbers reserved by Ofcom for drama: never a real person's.
UK_MOBILE = "+447700900123"


class Bot:
    def __init__(
        self, rasa: Service, actions: Service, platforms: PlatformMock, db: EnquiryStore
    ):
        self.rasa = rasa
        self.actions = actions
        self.platforms = platforms
        self.db = db

    @property
    def url(self) -> str:
        return self.rasa.url


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Iterator[Bot]:
    workdir = tmp_path_factory.mktemp("channels")
    platforms = PlatformMock().start()
    db_url = f"sqlite:///{workdir / 'enquiries.db'}"
    actions = start_action_server(workdir, env={"ENQUIRY_DB_URL": db_url})
    endpoints = write_endpoints(workdir, actions.url, workdir / "tracker.db")
    try:
        rasa = start_rasa(
            workdir,
            endpoints,
            env=channel_env(platforms),
            credentials=ROOT / "credentials.yml",
        )
    except Exception:
        actions.stop()
        platforms.stop()
        raise
    yield Bot(rasa, actions, platforms, EnquiryStore(db_url))
    rasa.stop()
    actions.stop()
    platforms.stop()
    for log in (rasa.log, actions.log):  # no phone number in any log line
        text = log.read_text()
        assert "7700900" not in text, f"a phone number appears in {log.name}"


def new_mobile() -> str:
    """A different drama-range mobile per conversation, so conversations do not mix."""
    return f"+4477009{uuid.uuid4().int % 100000:05d}"


def replies(sent: List[Sent], before: int) -> List[str]:
    return [s.text for s in sent[before:]]


class TwilioUser:
    """One person texting the bot by SMS or WhatsApp."""

    def __init__(self, bot: Bot, whatsapp: bool, number: str = "") -> None:
        self.bot = bot
        self.number = number or new_mobile()
        self.whatsapp = whatsapp
        self.address = f"whatsapp:{self.number}" if whatsapp else self.number

    def say(self, text: str) -> List[Sent]:
        before = len(self.bot.platforms.messages("twilio", self.address))
        params = (
            twilio_whatsapp_params(self.address, text)
            if self.whatsapp
            else twilio_sms_params(self.address, text)
        )
        status, body = post_twilio(self.bot.url, params)
        assert status == 200 and "<Response>" in body, (status, body)
        return self.bot.platforms.messages("twilio", self.address)[before:]

    def text(self, text: str) -> str:
        return "\n".join(s.text for s in self.say(text))


# ---------------------------------------------------------------- start-up


def test_every_channel_is_on_and_telegrams_webhook_points_at_us(bot):
    log = bot.rasa.log.read_text()
    for line in (
        "Twilio channel on at /webhooks/twilio/webhook",
        "Telegram channel on at /webhooks/telegram/webhook",
        "Facebook Messenger channel on at /webhooks/facebook/webhook",
    ):
        assert line in log
    registered = bot.platforms.calls("telegram", "setWebhook")
    assert registered, "setWebhook never reached the Telegram stand-in"
    assert registered[-1].params["url"] == TELEGRAM_PUBLIC_URL
    assert registered[-1].params["secret_token"] == TELEGRAM_SECRET


# ---------------------------------------------------------------- Twilio: SMS and WhatsApp


@pytest.mark.parametrize("whatsapp", [False, True], ids=["sms", "whatsapp"])
def test_twilio_faq_question_is_answered_from_our_number(bot, whatsapp):
    user = TwilioUser(bot, whatsapp)
    sent = user.say(FAQ_QUESTION)
    assert sent and any(FAQ_ANSWER in s.text for s in sent)
    expected_from = f"whatsapp:{TWILIO_WHATSAPP}" if whatsapp else TWILIO_NUMBER
    assert all(s.params["From"] == expected_from for s in sent)
    assert all(len(s.text) <= 1600 for s in sent)


@pytest.mark.parametrize("whatsapp", [False, True], ids=["sms", "whatsapp"])
def test_twilio_urgent_symptoms_get_999_advice_first(bot, whatsapp):
    sent = TwilioUser(bot, whatsapp).say(URGENT_MESSAGE)
    assert sent and sent[0].text.startswith(URGENT_START)


def test_twilio_unsigned_or_wrongly_signed_requests_are_refused(bot):
    number = new_mobile()
    params = twilio_sms_params(number, FAQ_QUESTION)
    assert post_twilio(bot.url, params, signature=None)[0] == 403
    assert post_twilio(bot.url, params, signature="bm90IGEgc2lnbmF0dXJl")[0] == 403
    # Signed by someone without our auth token.
    forged = twilio_signature(params, token="another-accounts-token")
    assert post_twilio(bot.url, params, signature=forged)[0] == 403
    # A valid signature of other content: the body was changed on the way.
    tampered = dict(params, Body="what is kyphoplasty?")
    assert post_twilio(bot.url, tampered, signature=twilio_signature(params))[0] == 403
    assert bot.platforms.messages("twilio", number) == []


def test_whatsapp_buttons_become_numbered_options_and_a_number_picks_one(bot):
    user = TwilioUser(bot, whatsapp=True)
    asked = user.text("how long does it take?")
    assert "Reply 1 for The procedure, 2 for Recovery." in asked
    assert FAQ_ANSWER in user.text("1")


def test_a_complete_callback_over_whatsapp_offers_the_senders_number(bot):
    user = TwilioUser(bot, whatsapp=True, number=UK_MOBILE)
    opening = user.text("can someone call me back please")
    assert "full name" in opening
    offer = user.text("Jane Smith")
    assert "Shall we call you on this number?" in offer and "ending in 123" in offer
    assert (
        "Reply with a number:\n1. Yes, call this number\n2. Use a different number"
        in offer
    )
    assert "email" in user.text("1")
    aim = user.text("no")
    assert (
        "aim of your enquiry" in aim
        and "Reply with a number:\n1. Self-pay price" in aim
    )
    assert "best time" in user.text("1")
    assert "90 days" in user.text("2")  # 2. Afternoon
    summary = user.text("1")  # 1 for Yes, I agree
    assert "Name: Jane Smith" in summary and "Phone: 07700 900123" in summary
    assert "Reply 1 for Confirm, 2 for Change a detail, 3 for Cancel." in summary
    done = user.text("1")
    reference = re.search(r"\bKY-[2-9A-HJKMNP-Z]{6}\b", done)
    assert reference, done
    row = bot.db.get(reference.group())
    assert (row["full_name"], row["phone_e164"], row["email"]) == (
        "Jane Smith",
        UK_MOBILE,
        None,
    )
    assert (row["enquiry_aim"], row["call_time"]) == ("self_pay", "afternoon")
    assert row["channel"] == "twilio"


def test_sms_callback_with_a_different_number(bot):
    user = TwilioUser(bot, whatsapp=False)
    user.text("please ring me back")
    assert "Shall we call you on this number?" in user.text("Tom Baker")
    assert "What phone number" in user.text("2")  # 2 for Use a different number
    assert "email" in user.text("01632 960123")
    assert "I have stopped" in user.text("stop")


# ---------------------------------------------------------------- Telegram


class TelegramUser:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.chat_id = 700000000 + uuid.uuid4().int % 100000000

    def send(self, update: dict, secret=TELEGRAM_SECRET) -> List[Sent]:
        before = len(self.bot.platforms.messages("telegram", self.chat_id))
        status, body = post_telegram(self.bot.url, update, secret)
        assert (status, body) == (200, "success")
        return self.bot.platforms.messages("telegram", self.chat_id)[before:]

    def say(self, text: str) -> List[Sent]:
        return self.send(telegram_message_update(self.chat_id, text))

    def press(self, data: str) -> List[Sent]:
        return self.send(telegram_button_update(self.chat_id, data))


def test_telegram_faq_question_is_answered(bot):
    sent = TelegramUser(bot).say(FAQ_QUESTION)
    assert any(FAQ_ANSWER in s.text for s in sent)
    assert all(len(s.text) <= 4096 for s in sent)


def test_telegram_urgent_symptoms_get_999_advice_first(bot):
    sent = TelegramUser(bot).say(URGENT_MESSAGE)
    assert sent and sent[0].text.startswith(URGENT_START)


def test_telegram_buttons_are_an_inline_keyboard_and_a_press_is_answered(bot):
    user = TelegramUser(bot)
    asked = user.say("how long does it take?")
    keyboard = json.loads(asked[-1].params["reply_markup"])["inline_keyboard"]
    keys = [key for row in keyboard for key in row]
    assert [k["text"] for k in keys] == ["The procedure", "Recovery"]
    pressed = user.press(keys[0]["callback_data"])
    assert any(FAQ_ANSWER in s.text for s in pressed)
    assert bot.platforms.calls("telegram", "answerCallbackQuery")


def test_telegram_update_without_the_secret_token_is_refused(bot):
    user = TelegramUser(bot)
    update = telegram_message_update(user.chat_id, FAQ_QUESTION)
    assert post_telegram(bot.url, update, secret=None)[0] == 403
    assert post_telegram(bot.url, update, secret="guessed")[0] == 403
    assert bot.platforms.messages("telegram", user.chat_id) == []


def test_telegram_callback_form_asks_for_the_number(bot):
    user = TelegramUser(bot)
    user.say("can someone call me back please")
    asked = "\n".join(s.text for s in user.say("Jane Smith"))
    # No phone number comes with a Telegram chat, so none is offered.
    assert "What phone number should the team call you on?" in asked
    assert "email" in "\n".join(s.text for s in user.say("07700 900123"))


# ---------------------------------------------------------------- Messenger


def messenger_texts(sent: List[Sent]) -> str:
    return "\n".join(s.text for s in sent)


def messenger_say(bot: Bot, psid: str, text: str, quick_reply=None) -> List[Sent]:
    before = len(bot.platforms.messages("facebook", psid))
    status, body = post_messenger(bot.url, messenger_event(psid, text, quick_reply))
    assert (status, body) == (200, "EVENT_RECEIVED")
    return bot.platforms.messages("facebook", psid)[before:]


def new_psid() -> str:
    return str(6000000000000000 + uuid.uuid4().int % 1000000000000)


def test_messenger_faq_question_is_answered(bot):
    sent = messenger_say(bot, new_psid(), FAQ_QUESTION)
    assert FAQ_ANSWER in messenger_texts(sent)
    assert all(len(s.text) <= 2000 for s in sent)


def test_messenger_urgent_symptoms_get_999_advice_first(bot):
    sent = messenger_say(bot, new_psid(), URGENT_MESSAGE)
    assert sent and sent[0].text.startswith(URGENT_START)


def test_messenger_buttons_are_quick_replies(bot):
    psid = new_psid()
    asked = messenger_say(bot, psid, "how long does it take?")
    replies = asked[-1].params["message"]["quick_replies"]
    assert [r["title"] for r in replies] == ["The procedure", "Recovery"]
    answer = messenger_say(
        bot, psid, "The procedure", quick_reply=replies[0]["payload"]
    )
    assert FAQ_ANSWER in messenger_texts(answer)


def test_messenger_callback_form_lists_long_options_by_number(bot):
    psid = new_psid()
    messenger_say(bot, psid, "can someone call me back please")
    messenger_say(bot, psid, "Jane Smith")
    messenger_say(bot, psid, "07700 900123")
    aim = messenger_say(bot, psid, "no")[-1]
    assert "Reply with a number:\n1. Self-pay price" in aim.text
    assert [r["title"] for r in aim.params["message"]["quick_replies"]][:2] == [
        "1",
        "2",
    ]
    assert "best time" in messenger_texts(messenger_say(bot, psid, "4"))
    assert "I have stopped" in messenger_texts(messenger_say(bot, psid, "stop"))


def test_messenger_signatures_are_checked(bot):
    psid = new_psid()
    event = messenger_event(psid, FAQ_QUESTION)
    assert post_messenger(bot.url, event, secret=None)[0] == 403
    assert post_messenger(bot.url, event, secret="not-the-app-secret")[0] == 403
    # The SHA-256 header decides when present, even beside a valid SHA-1 one.
    body = json.dumps(event).encode()
    sha1 = "sha1=" + hmac.new(FACEBOOK_SECRET.encode(), body, hashlib.sha1).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature": sha1,
        "X-Hub-Signature-256": "sha256=" + "0" * 64,
    }
    assert post(bot.url + "/webhooks/facebook/webhook", body, headers)[0] == 403
    assert bot.platforms.messages("facebook", psid) == []
    # SHA-1 alone is still accepted, from apps that only send that.
    assert post_messenger(bot.url, event, headers=("X-Hub-Signature",))[0] == 200
    assert FAQ_ANSWER in messenger_texts(bot.platforms.messages("facebook", psid))


def test_bad_json_gets_a_clear_400(bot):
    telegram = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    url = bot.url + "/webhooks/telegram/webhook"
    assert post(url, b"{not json", telegram) == (
        400,
        "expected a Telegram update as JSON",
    )
    body = b"[1, 2]"
    signed = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256="
        + hmac.new(FACEBOOK_SECRET.encode(), body, hashlib.sha256).hexdigest(),
    }
    assert post(bot.url + "/webhooks/facebook/webhook", body, signed) == (
        400,
        "expected a Messenger webhook event as JSON",
    )


def test_messenger_webhook_verification(bot):
    base = (
        bot.url
        + "/webhooks/facebook/webhook?hub.mode=subscribe&hub.challenge=1158201444"
    )
    with urlopen(base + f"&hub.verify_token={FACEBOOK_VERIFY}") as response:
        assert response.read().decode() == "1158201444"
    with pytest.raises(HTTPError) as refused:
        urlopen(base + "&hub.verify_token=guess")
    assert refused.value.code == 403
