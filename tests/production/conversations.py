"""The callback form, step by step, as the tests in this package drive it: each step
is what the user types and a phrase the bot's reply must contain."""

from __future__ import annotations

import re
from typing import List, Tuple

FORM_STEPS: List[Tuple[str, str]] = [
    ("can someone call me back please", "full name"),
    ("Jane Smith", "phone number"),
    ("07700 900123", "email"),
    ("jane.smith@example.com", "aim of your enquiry"),
    ("Self-pay price", "best time"),
    ("Afternoon", "90 days"),
    ("Yes, I agree", "Is this right?"),
    ("Confirm", "KY-"),
]

FAQ_QUESTIONS = [
    "what is balloon kyphoplasty?",
    "how long does the operation take?",
    "will I need a general anaesthetic?",
    "how soon can I go home afterwards?",
    "what are the risks?",
    "who does the procedure at Spire?",
]


def reference_in(text: str) -> str:
    match = re.search(r"\bKY-[2-9A-HJKMNP-Z]{6}\b", text)
    assert match, text
    return match.group()
