"""nlp/language.py: other languages are recognised, and no English message is."""
from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest
import yaml

from nlp.language import is_other_language

ROOT = Path(__file__).resolve().parents[1]


def english_examples() -> List[str]:
    examples = []
    files = [*ROOT.glob("data/nlu/*.yml"), *ROOT.glob("tests/nlu/*.yml"), *ROOT.glob("tests/urgent/*.yml")]
    for path in files:
        if path.stem == "other_language":
            continue
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
            for line in (item.get("examples") or "").splitlines():
                line = re.sub(r"^\s*-\s*", "", line).strip()
                line = re.sub(r"\[([^\]]+)\][({][^)}]*[)}]", r"\1", line)
                if line:
                    examples.append(line)
    return examples


def test_no_english_training_or_test_message_counts_as_another_language() -> None:
    examples = english_examples()
    assert len(examples) > 2000
    flagged = [text for text in examples if is_other_language(text)]
    assert flagged == []


@pytest.mark.parametrize(
    "text",
    [
        "wat is kyphoplsty n hw long dose it tak",  # typos are not a language
        "my mum has a crushed vertebra, could this help her?",
        "Is Dr Hernández a consultant there?",
        "café near the hospital?",
        "",
        "🙂🙂🙂",
        "12345",
    ],
)
def test_english_and_non_text_stay_english(text: str) -> None:
    assert not is_other_language(text)


@pytest.mark.parametrize(
    "text",
    [
        "¿Cuánto cuesta el procedimiento?",
        "Combien coûte la procédure ?",
        "Wie lange dauert die Operation?",
        "Czy mogę przyjść na konsultację z moją mamą?",
        "Quanto custa o procedimento?",
        "Faint mae'r driniaeth yn ei gostio?",
        "یہ علاج کتنے کا ہے؟",
        "ਇਸ ਇਲਾਜ ਦੀ ਕੀਮਤ ਕਿੰਨੀ ਹੈ?",
        "这个手术要多少钱？",
        "no puedo sentir mis piernas",
    ],
)
def test_other_languages_are_recognised(text: str) -> None:
    assert is_other_language(text)


# --- what NLU reads of a long message (nlp/input_guard.text_to_read) ------------------


def test_a_short_message_is_read_whole():
    from nlp.input_guard import text_to_read

    assert text_to_read("My back hurts. How long does it take?") == (
        "My back hurts. How long does it take?", False)


def test_a_long_message_is_read_for_its_question_wherever_it_is():
    from nlp.input_guard import text_to_read

    story = "My mother is 78 and has had back pain since a fall. " * 20
    assert text_to_read(story + "How long does the procedure take?") == (
        "How long does the procedure take?", True)
    assert text_to_read("How long does the procedure take? " + story) == (
        "How long does the procedure take?", True)


def test_a_long_message_without_a_question_is_cut_at_the_limit():
    from nlp.input_guard import text_to_read

    text, partial = text_to_read("word " * 500, max_chars=100)
    assert partial and len(text) <= 100


def test_nlu_reads_the_words_around_markup():
    from nlp.input_guard import normalise_text

    assert normalise_text("<img src=x onerror=alert(1)>how long does it take?") == (
        "how long does it take?", False)
    assert normalise_text("<script>alert(1)</script>") == ("alert(1)", False)
    assert normalise_text("I <3 my nurse, is 2 < 3?") == ("I <3 my nurse, is 2 < 3?", False)
