"""actions.env_values: every part refuses a bad setting the same way, naming it."""
import pytest

from actions.env_values import EnvValueError, env_flag, env_number, sqlalchemy_url


def test_unset_or_blank_gives_the_default():
    assert env_number({}, "X", 10.0) == 10.0
    assert env_number({"X": "  "}, "X", 10.0) == 10.0
    assert env_number({}, "X", 25, whole=True) == 25 and isinstance(env_number({}, "X", 25, whole=True), int)


def test_a_number_is_read_and_a_whole_one_comes_back_as_int():
    assert env_number({"X": " 2.5 "}, "X", 1.0) == 2.5
    value = env_number({"X": "30"}, "X", 1, whole=True)
    assert value == 30 and isinstance(value, int)


@pytest.mark.parametrize(
    "raw, kwargs, message",
    [
        ("soon", {"unit": "seconds"}, "X='soon' is not a number of seconds"),
        ("2.5", {"whole": True}, "X='2.5' is not a whole number"),
        ("-1", {}, "X='-1' must be 0 or more"),
        ("0", {"above_minimum": True, "unit": "seconds"}, "X='0' must be more than 0 seconds"),
        ("0.05", {"minimum": 0.1}, "X='0.05' must be 0.1 or more"),
        ("nan", {}, "X='nan' is not a number"),
        ("inf", {"unit": "seconds"}, "X='inf' is not a number of seconds"),
    ],
)
def test_a_bad_value_is_refused_with_its_name_and_what_would_do(raw, kwargs, message):
    with pytest.raises(EnvValueError) as caught:
        env_number({"X": raw}, "X", 1.0, **kwargs)
    assert str(caught.value) == message


def test_the_minimum_itself_is_allowed_unless_it_must_be_exceeded():
    assert env_number({"X": "0"}, "X", 1.0) == 0
    assert env_number({"X": "1"}, "X", 5, minimum=1, whole=True) == 1


def test_flags_read_the_usual_yes_words():
    assert [env_flag({"F": raw}, "F") for raw in ("1", "TRUE", "yes", "On")] == [True] * 4
    assert [env_flag({"F": raw}, "F") for raw in ("0", "no", "off", "nope")] == [False] * 4
    assert env_flag({}, "F") is False and env_flag({}, "F", default=None) is None


def test_postgres_urls_are_spelt_the_way_sqlalchemy_accepts():
    assert sqlalchemy_url("postgres://u@h/db") == "postgresql://u@h/db"
    assert sqlalchemy_url(" ", "sqlite:///x.db") == "sqlite:///x.db"
    assert sqlalchemy_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"
