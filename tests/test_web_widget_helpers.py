"""The widget's pure helpers (web/static/chat.js), run in Node: phone numbers to tel:
links, Rasa's socketio messages, colour contrast and the embed config."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.support.servers import ROOT

CHAT_JS = ROOT / "web" / "static" / "chat.js"

pytestmark = pytest.mark.skipif(
    not shutil.which("node"), reason="Node.js is needed to run the widget's helpers"
)


def call(helper: str, *args: Any) -> Any:
    script = (
        f"const h = require({json.dumps(str(CHAT_JS))});"
        f"process.stdout.write(JSON.stringify(h.{helper}(...{json.dumps(args)})));"
    )
    done = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def tels(text: str) -> list:
    return [
        (s["value"], s["href"])
        for s in call("phoneSegments", text)
        if s["type"] == "tel"
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "For all enquiries, call 01223 266900. For self-pay, call 01223 266929.",
            [
                ("01223 266900", "tel:+441223266900"),
                ("01223 266929", "tel:+441223266929"),
            ],
        ),
        ("Phone: 07700 900123", [("07700 900123", "tel:+447700900123")]),
        ("or +44 1223 266990 from abroad", [("+44 1223 266990", "tel:+441223266990")]),
        ("Call 999 or go to A&E now", [("999", "tel:999")]),
        ("Call NHS 111 now for a high temperature", [("111", "tel:111")]),
        # Figures that are not phone numbers stay text.
        ("230,000 osteoporotic fractures, 120,000 of these; 300-400 cases", []),
        ("published in 2009, more than 500,000 patients", []),
        ("room 111 on floor 999", []),
        ("reference 012345", []),
    ],
)
def test_uk_phone_numbers_become_tel_links_and_other_figures_do_not(text, expected):
    assert tels(text) == expected


def test_the_text_around_numbers_is_kept_exactly():
    text = "Call 01223 266900 <b>now</b> & then"
    segments = call("phoneSegments", text)
    assert "".join(s["value"] for s in segments) == text
    assert [s["type"] for s in segments] == ["text", "tel", "text"]


def test_quick_replies_from_the_socketio_channel_become_buttons():
    message = {
        "text": "What is the aim of your enquiry?",
        "quick_replies": [
            {
                "content_type": "text",
                "title": "Self-pay price",
                "payload": "Self-pay price",
            },
            {"content_type": "text", "title": "Yes", "payload": "/affirm"},
        ],
    }
    assert call("normaliseBotMessage", message) == {
        "text": "What is the aim of your enquiry?",
        "replies": [
            {"title": "Self-pay price", "payload": "Self-pay price"},
            {"title": "Yes", "payload": "/affirm"},
        ],
        "unsupported": False,
    }


@pytest.mark.parametrize(
    "message",
    [{"attachment": {"type": "image", "payload": {"src": "x"}}}, {}, None, {"text": 5}],
)
def test_messages_the_widget_cannot_show_are_flagged_not_dropped(message):
    assert call("normaliseBotMessage", message)["unsupported"] is True


def test_contrast_ratio_matches_wcag():
    assert call("contrastRatio", "#000000", "#ffffff") == pytest.approx(21.0)
    assert call("contrastRatio", "#00566b", "#ffffff") >= 4.5
    assert call("contrastRatio", "#8fc1c9", "#ffffff") < 4.5
    assert call("contrastRatio", "teal", "#fff") is None


def test_the_embed_config_keeps_defaults_and_ignores_unknown_keys():
    config = call(
        "mergeConfig",
        {
            "serverUrl": "https://bot.example/",
            "title": "Ask us",
            "colours": {"primary": "#123456"},
            "innerHTML": "<img src=x>",
        },
    )
    assert config["serverUrl"] == "https://bot.example"
    assert config["title"] == "Ask us"
    assert config["colours"] == {"primary": "#123456", "onPrimary": "#ffffff"}
    assert "not medical advice" in config["subtitle"]
    assert "innerHTML" not in config
