"""Passwords, the audit log's hash chain, charts, CSV cells and the NLU export."""

import sqlite3

import pytest
from sqlalchemy import insert, text

from console import audit, charts
from console.db import console_engine, user_messages
from console.enquiries import to_csv
from console.inbox import ReviewError, export_yaml, known_intents, review
from console.security import AccountError, add_user, hash_password, verify_password
from console.settings import ROOT, load_settings


@pytest.fixture
def console(tmp_path):
    return console_engine(f"sqlite:///{tmp_path / 'console.db'}")


def test_password_hash_is_salted_scrypt_and_verifies():
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("scrypt$")
    assert stored != hash_password("correct horse battery staple")
    assert verify_password("correct horse battery staple", stored)
    assert not verify_password("correct horse battery stapler", stored)
    assert not verify_password("x", "not-a-hash")


def test_accounts_need_a_role_a_long_password_and_a_new_name(console):
    with pytest.raises(AccountError, match="at least 12"):
        add_user(console, "amy", "reviewer", "short")
    with pytest.raises(AccountError, match="role"):
        add_user(console, "amy", "admin", "long enough password")
    add_user(console, "amy", "reviewer", "long enough password")
    with pytest.raises(AccountError, match="already"):
        add_user(console, "AMY", "coordinator", "long enough password")


def test_audit_chain_verifies_and_the_table_refuses_changes(console, tmp_path):
    for i in range(3):
        audit.record(console, "amy", "reveal", f"conversation:c{i}")
    assert audit.verify(console).ok and audit.verify(console).rows == 3
    with pytest.raises(Exception, match="append-only"):
        with console.begin() as connection:
            connection.execute(text("UPDATE console_audit_log SET actor = 'eve'"))
    with pytest.raises(Exception, match="append-only"):
        with console.begin() as connection:
            connection.execute(text("DELETE FROM console_audit_log"))
    # Someone with the database file drops the trigger and edits a row: verify sees it.
    raw = sqlite3.connect(tmp_path / "console.db")
    raw.execute("DROP TRIGGER console_audit_no_update")
    raw.execute("UPDATE console_audit_log SET target = 'conversation:other' WHERE id = 2")
    raw.commit()
    raw.close()
    result = audit.verify(console)
    assert not result.ok and result.first_bad_id == 2


def test_charts_are_svg_with_escaped_labels():
    svg = charts.column_chart("t", [("<b>x</b>", 3), ("y", 0)])
    assert svg.startswith("<svg") and "&lt;b&gt;x&lt;/b&gt;" in svg and "<b>" not in svg
    assert "No data yet" in charts.column_chart("t", [])
    assert svg.count('class="bar"') == 2
    assert "<script" not in charts.bar_list("<script>", [("<script>", 1)])


def test_csv_cells_cannot_become_spreadsheet_formulas():
    output = to_csv([{"reference": "KY-1", "notes": "=HYPERLINK(\"x\")", "full_name": "+Bob"}])
    assert "'=HYPERLINK" in output and "'+Bob" in output


def _message(console, event_id, text, intent="nlu_fallback", guess="procedure/duration"):
    from console.summary import text_key

    with console.begin() as connection:
        connection.execute(insert(user_messages).values(
            event_id=event_id, sender_id="s", timestamp=1.0, text=text,
            text_key=text_key(text), intent=intent, full_intent=guess, confidence=0.3,
            in_form=False,
        ))
    return text_key(text)


def test_reviews_export_as_rasa_nlu_yaml_without_personal_details(console):
    import yaml

    intents = known_intents(ROOT)
    assert "procedure/duration" in intents.labels and "procedure" not in intents.labels
    assert "out_of_scope" in intents.labels and "nlu_fallback" not in intents.labels
    key1 = _message(console, 1, "how many hours is the op, ring me on 07700 900123")
    key2 = _message(console, 2, "do you sell [garden](procedure) gnomes")
    key3 = _message(console, 3, "What is balloon kyphoplasty?")  # in data/nlu
    key4 = _message(console, 4, "asdfgh")
    review(console, intents, key1, "confirmed", None, "amy", 0.5)
    review(console, intents, key2, "out_of_scope", None, "amy", 0.5)
    review(console, intents, key3, "corrected", "procedure/what_is", "amy", 0.5)
    review(console, intents, key4, "ignored", None, "amy", 0.5)
    with pytest.raises(ReviewError, match="not an intent"):
        review(console, intents, key4, "corrected", "made_up", "amy", 0.5)
    with pytest.raises(ReviewError, match="not in the inbox"):
        review(console, intents, "no such key", "confirmed", None, "amy", 0.5)
    text_out, count = export_yaml(console, ROOT)
    data = yaml.safe_load(text_out)
    assert data["version"] == "3.1" and count == 2
    examples = {item["intent"]: item["examples"] for item in data["nlu"]}
    assert examples["procedure/duration"].strip() == "- how many hours is the op, ring me on"
    assert "[" not in examples["out_of_scope"] and "gnomes" in examples["out_of_scope"]
    assert "07700" not in text_out and "asdfgh" not in text_out
    assert "procedure/what_is" not in examples  # nothing new to add


def test_settings_read_the_environment_and_refuse_nonsense(tmp_path):
    settings = load_settings({"CONSOLE_SECRET_FILE": str(tmp_path / "k"),
                              "CONSOLE_RETENTION_DAYS": "30", "CONSOLE_LOW_CONFIDENCE": "0.4",
                              "CONSOLE_DB_URL": "postgres://u@h/db"})
    assert settings.retention_days == 30 and settings.low_confidence == 0.4
    assert settings.console_db_url == "postgresql://u@h/db"
    assert (tmp_path / "k").read_text().strip() == settings.secret_key
    assert oct((tmp_path / "k").stat().st_mode)[-3:] == "600"
    assert load_settings({"CONSOLE_SECRET_FILE": str(tmp_path / "k")}).secret_key == settings.secret_key
    with pytest.raises(ValueError, match="CONSOLE_LOW_CONFIDENCE"):
        load_settings({"CONSOLE_SECRET_KEY": "x", "CONSOLE_LOW_CONFIDENCE": "2"})
    with pytest.raises(ValueError, match="CONSOLE_RETENTION_DAYS='a year' is not a whole number"):
        load_settings({"CONSOLE_SECRET_KEY": "x", "CONSOLE_RETENTION_DAYS": "a year"})




def test_the_tracker_store_defaults_to_the_one_rasa_is_given():
    env = {"CONSOLE_SECRET_KEY": "x", "TRACKER_STORE_URL": "postgresql://p@h/rasa"}
    assert load_settings(env).tracker_db_url == "postgresql://p@h/rasa"
    env["CONSOLE_TRACKER_DB_URL"] = "sqlite:///elsewhere.db"
    assert load_settings(env).tracker_db_url == "sqlite:///elsewhere.db"


# --- the health panel (console/health.py) ---------------------------------------------


def test_a_ready_instance_has_no_problems():
    from console.health import describe

    line = describe("http://r1", 200, '{"status": "ready", "problems": []}')
    assert line == {"url": "http://r1", "state": "ready", "problems": []}


def test_a_failing_tracker_store_is_named():
    from console.health import describe

    body = '{"status": "not ready", "problems": ["the tracker store does not answer (OperationalError)"]}'
    line = describe("http://r1", 503, body)
    assert line["state"] == "not ready"
    assert line["problems"] == ["the tracker store does not answer (OperationalError)"]


def test_an_answer_that_is_not_a_readiness_report_is_not_taken_as_ready():
    from console.health import describe

    assert describe("http://r1", 200, "<html>ok</html>")["state"] == "unknown"
    assert describe("http://r1", 200, '{"status": "starting"}')["state"] == "not ready"


async def test_an_instance_that_does_not_answer_is_unreachable():
    from console.health import instance_health
    from tests.support.servers import free_port

    [line] = await instance_health([f"http://127.0.0.1:{free_port()}/webhooks/health/ready"])
    assert line["state"] == "unreachable"
