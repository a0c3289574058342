"""With no messaging secrets set, the server still starts, says once per channel
that it is off, and the channels' webhooks process nothing.

Uses the session's Rasa server (tests/conftest.py), which runs with the project's
credentials.yml and the environment as it is, so no extra server is started.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.channels.platforms import (
    messenger_event,
    post_messenger,
    post_telegram,
    post_twilio,
    telegram_message_update,
    twilio_sms_params,
)

pytestmark = pytest.mark.e2e

CHANNELS = {
    "Twilio": ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"),
    "Telegram": ("TELEGRAM_TOKEN", "TELEGRAM_VERIFY", "TELEGRAM_WEBHOOK_URL"),
    "Facebook Messenger": (
        "FACEBOOK_VERIFY",
        "FACEBOOK_SECRET",
        "FACEBOOK_PAGE_ACCESS_TOKEN",
    ),
}


@pytest.fixture(scope="module")
def stack_without_secrets(stack):
    set_here = [v for names in CHANNELS.values() for v in names if os.environ.get(v)]
    if set_here:
        pytest.skip(f"channel secrets are set in this environment: {set_here}")
    return stack


def rasa_log(stack) -> str:
    # tests/support/servers.py writes the log beside the tracker store, by port.
    port = urlsplit(stack.rasa_url).port
    return (Path(stack.tracker_db).parent / f"rasa-{port}.log").read_text()


def conversation_exists(stack, sender_id: str) -> bool:
    with sqlite3.connect(stack.tracker_db) as db:
        rows = db.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender_id,)
        )
        return rows.fetchone()[0] > 0


def test_each_channel_left_out_says_so_in_one_line(stack_without_secrets):
    log = rasa_log(stack_without_secrets)
    for title, names in CHANNELS.items():
        lines = [line for line in log.splitlines() if f"{title} channel off:" in line]
        assert len(lines) == 1, f"{title}: {lines}"
        assert all(name in lines[0] for name in names), lines[0]
        assert "Traceback" not in log


def test_the_webhooks_of_channels_that_are_off_process_nothing(stack_without_secrets):
    stack = stack_without_secrets
    sms_sender = "+447700900999"
    assert post_twilio(stack.rasa_url, twilio_sms_params(sms_sender, "hello"))[0] == 404
    chat_id = 424242
    update = telegram_message_update(chat_id, "hello")
    assert post_telegram(stack.rasa_url, update)[0] == 404
    psid = "9988776655"
    assert post_messenger(stack.rasa_url, messenger_event(psid, "hello"))[0] == 404
    for sender in (sms_sender, str(chat_id), psid):
        assert not conversation_exists(stack, sender)
    # The web channels are unaffected.
    assert "one hour" in stack.client().say(
        "how long does the kyphoplasty operation take?"
    )
