"""The log masking helper on its own, and installed into a process's logging."""
from __future__ import annotations

import logging

import pytest

from privacy.log_masking import MASK, install, mask_personal_details

PERSONAL = ["Margaret Thornton", "07700 900123", "+447700900123", "margaret.t@example.co.uk"]


@pytest.mark.parametrize(
    "line",
    [
        "Received user message 'My name is Margaret Thornton' with intent '{'name': 'inform'}'",
        "Validating user input '{'intent': {'name': 'inform'}, 'text': 'Margaret Thornton'}'",
        "SlotSet(key: full_name, value: Margaret Thornton)",
        "Current slot values: \n\tfull_name: Margaret Thornton\n\tphone: +447700900123",
        "call me on 07700 900123, or mail margaret.t@example.co.uk",
        "UserUttered(text: Margaret Thornton, intent: inform, entities: )",
        '{"full_name": "Margaret Thornton", "phone": "+447700900123"}',
        '{"event": "slot", "timestamp": null, "name": "full_name", "value": "Margaret Thornton"}',
        '{"event_info": "x", "user_text": "Margaret Thornton", "text": "Margaret Thornton"}',
    ],
)
def test_personal_details_are_masked(line: str) -> None:
    masked = mask_personal_details(line)
    assert MASK in masked
    for detail in PERSONAL:
        assert detail not in masked


@pytest.mark.parametrize(
    "line",
    [
        "Predicted next action 'action_listen' with confidence 1.00.",
        "Logged UserUtterance - tracker now has 12 events.",
        "Starting Rasa server on http://127.0.0.1:5005",
    ],
)
def test_ordinary_lines_are_unchanged(line: str) -> None:
    assert mask_personal_details(line) == line


def test_installed_factory_masks_messages_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    install()
    install()  # idempotent: the factory is wrapped once
    logger = logging.getLogger("rasa.core.processor")
    with caplog.at_level(logging.DEBUG):
        logger.debug("Received user message '%s'", "My email is margaret.t@example.co.uk")
        try:
            raise ValueError("bad phone 07700 900123")
        except ValueError:
            logger.exception("validation failed")
    text = caplog.text
    assert "margaret.t@example.co.uk" not in text and "07700 900123" not in text
    assert text.count(MASK) >= 2
    assert "validation failed" in text and "ValueError" in text


def test_rasas_debug_slot_dump_and_the_form_summary_are_masked():
    from privacy.log_masking import mask_personal_details

    slot_dump = (
        '{"slot_values": "\\tfull_name: Olive Hardcastle\\n\\tphone: None\\n\\trequested_slot: email", '
        '"event": "processor.slots.log"}'
    )
    bot = "BotUttered('Please check your details.\\nName: Olive Hardcastle\\nPhone: +441632960514'"
    for line in (slot_dump, bot):
        masked = mask_personal_details(line)
        assert "Olive" not in masked and "Hardcastle" not in masked, masked
    # Intent and action names stay readable.
    assert mask_personal_details('{"name": "greet", "confidence": 0.9}') == '{"name": "greet", "confidence": 0.9}'
