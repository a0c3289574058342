"""Is a message written in English? A small, deterministic check.

The assistant answers in English only. A question in another language must get a
polite English reply with the phone number, not a confident wrong answer: DIET maps
"¿Cuánto cuesta el procedimiento?" to whatever FAQ shares its character n-grams.

No language model can be downloaded, so the check uses what spaCy ships: the stop
words of the languages most spoken in the UK after English. A message counts as
another language when it is mostly in a non-Latin script, or when it uses at least
two common words of another language and more of those than English ones. Typos do
not create foreign function words, so misspelt English stays English.
"""
from __future__ import annotations

import importlib
import re
import unicodedata
from functools import lru_cache
from typing import FrozenSet

# Polish, Romanian, Punjabi/Urdu/Bengali/Gujarati scripts come from the script check;
# these are the Latin-script languages whose stop words spaCy ships.
_LATIN_LANGUAGES = ("es", "fr", "de", "pl", "pt", "it", "ro", "nl", "lt", "lv", "tr", "sk", "cs", "hu", "sq", "hr", "ca", "ga", "da", "sv", "nb")
# Welsh has no spaCy stop-word list; the commonest function words of a question.
_WELSH = frozenset(
    "beth yw sut mae ydy ydw fy dy ei ein eich eu gyda gan ond neu hefyd oes faint "
    "pryd pam pwy ble cael gallu gallaf hwn hon hyn yma yna iawn diolch".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@lru_cache(maxsize=1)
def _english_words() -> FrozenSet[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    # Short words English shares with its neighbours' stop lists ("a", "me", "no",
    # "he", "son", "once", "die") must not count as foreign evidence.
    extra = "ok okay hi hello thanks thank please yes yeah nope op mum dad".split()
    return frozenset(STOP_WORDS) | frozenset(extra)


@lru_cache(maxsize=1)
def _foreign_words() -> FrozenSet[str]:
    english = _english_words()
    words = set(_WELSH)
    for code in _LATIN_LANGUAGES:
        module = importlib.import_module(f"spacy.lang.{code}.stop_words")
        words.update(w.lower() for w in module.STOP_WORDS if len(w) > 1)
    return frozenset(words - english)


def _latin_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 1.0
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    return latin / len(letters)


def is_other_language(text: str) -> bool:
    """True when `text` is clearly not English (see the module docstring)."""
    if not text or not any(ch.isalpha() for ch in text):
        return False
    if _latin_share(text) < 0.5:
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    english, foreign = _english_words(), _foreign_words()
    english_hits = sum(1 for w in words if w in english)
    foreign_hits = sum(1 for w in words if w in foreign)
    return foreign_hits >= 2 and foreign_hits > english_hits
