"""The validation wrapper fails on every warning except Rasa's retrieval-intent duplicate."""
import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "validate_script", Path(__file__).resolve().parents[1] / "scripts" / "validate.py"
)
validate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(validate)

DUPLICATE = (
    "/x/rasa/shared/utils/io.py:100: UserWarning: The following duplicated intents have "
    "been found across multiple domain files: procedure, recovery"
)


def test_retrieval_intent_duplicate_is_the_only_allowed_warning():
    assert validate.unexpected_warnings(DUPLICATE, {"procedure", "recovery", "risks"}) == []


def test_duplicate_of_a_plain_intent_is_reported():
    line = DUPLICATE.replace("procedure, recovery", "procedure, greet")
    assert validate.unexpected_warnings(line, {"procedure", "recovery"}) == [line]


def test_any_other_user_warning_is_reported():
    line = "/x/io.py:100: UserWarning: The utterance 'utter_x' is not used in any story or rule."
    assert validate.unexpected_warnings(line, {"procedure"}) == [line]


def test_library_deprecations_are_not_about_our_data():
    line = "/x/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call"
    assert validate.unexpected_warnings(line, set()) == []


def test_the_retrieval_intents_are_read_from_the_nlu_files():
    assert {"procedure", "not_covered"} <= validate.retrieval_intents()
