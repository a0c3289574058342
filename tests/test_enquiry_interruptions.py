"""actions.enquiry_form.is_interruption: which messages inside the form leave it."""
from __future__ import annotations

import pytest

from actions.enquiry_form import STOP_CONFIDENCE, is_interruption
from actions.settings import load_settings

CONFIG = load_settings({})


@pytest.mark.parametrize("text", ["stop", "Cancel please", "I want to quit", "exit"])
def test_the_words_the_form_offers_always_stop_it_however_unsure_the_classifier(text):
    assert is_interruption("phone", text, "stop", 0.3, CONFIG)


def test_a_confident_stop_in_other_words_stops_it():
    assert is_interruption("phone", "I'd rather not carry on with this", "stop", 0.9, CONFIG)


@pytest.mark.parametrize("text", ["'; DROP TABLE enquiries; --", "I want out"])
def test_an_unsure_stop_is_read_as_an_answer_so_nothing_typed_is_lost(text):
    assert not is_interruption("phone", text, "stop", STOP_CONFIDENCE - 0.01, CONFIG)


def test_no_email_is_an_answer_not_a_stop():
    assert not is_interruption("email", "no", "stop", 0.95, CONFIG)


def test_urgent_symptoms_always_leave_the_form():
    assert is_interruption("phone", "07700 900123", "urgent_symptom", 0.1, CONFIG)


def test_an_faq_question_leaves_the_form_only_when_confident_and_not_an_answer():
    assert is_interruption("phone", "how long does it take", "procedure", 0.95, CONFIG)
    assert not is_interruption("phone", "how long does it take", "procedure", 0.5, CONFIG)
    assert not is_interruption("phone", "07700 900123", "out_of_scope", 0.95, CONFIG)
