"""What staff see of real conversations: driven through the real Rasa server into
its SQLite tracker store, read by the real console server."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess

import pytest
import yaml

from tests.console.conftest import MISS_ONE, MISS_TWO, PHONE_ERASE, PHONE_MAIN
from tests.console.support import cli
from tests.support.servers import ROOT

pytestmark = pytest.mark.e2e


def api(session, path):
    response = session.get(path)
    assert response.status == 200, response.text[:500]
    return json.loads(response.body)


@pytest.fixture
def alice(console_stack):
    session = console_stack.server.session()
    assert session.login("alice").status == 302
    return session


@pytest.fixture
def bob(console_stack):
    session = console_stack.server.session()
    assert session.login("bob").status == 302
    return session


def test_serve_prints_its_address(console_stack):
    assert console_stack.server.banner.startswith(
        f"Staff console: http://127.0.0.1:{console_stack.server.port}/"
    )


def test_the_list_shows_flags_counts_and_confidence(console_stack, bob):
    senders = console_stack.driven.senders
    data = api(bob, f"/api/conversations?q={console_stack.driven.token}")
    rows = {row["sender_id"]: row for row in data["conversations"]}
    assert set(rows) == {senders["miss"], senders["xss"], senders["erase"]}
    miss = rows[senders["miss"]]
    assert miss["fallback"] and miss["handover"] and miss["enquiry"] and not miss["urgent"]
    assert miss["channel"] == "rest" and miss["user_messages"] == 11
    assert miss["min_confidence"] <= 0.3
    xss = rows[senders["xss"]]
    assert not (xss["enquiry"] or xss["handover"])
    # Newest first.
    starts = [row["started_at"] for row in data["conversations"]]
    assert starts == sorted(starts, reverse=True)


def test_filters_by_flag_intent_channel_and_date(console_stack, bob):
    senders = console_stack.driven.senders
    urgent = {r["sender_id"] for r in api(bob, "/api/conversations?urgent=1")["conversations"]}
    assert senders["urgent"] in urgent and senders["faq"] not in urgent
    duration = {
        r["sender_id"]
        for r in api(bob, "/api/conversations?intent=procedure/duration")["conversations"]
    }
    assert senders["faq"] in duration and senders["urgent"] not in duration
    assert api(bob, "/api/conversations?channel=no-such-channel")["total"] == 0
    assert api(bob, "/api/conversations?to=2001-01-01")["total"] == 0
    html = bob.get("/conversations?enquiry=1&fallback=1").text
    assert "enquiry made" in html and re.search(r"(\d+) found", html)
    assert bob.get("/conversations?from=yesterday").status == 400


def test_transcript_is_chat_style_and_masks_personal_details(console_stack, bob):
    sender = console_stack.driven.senders["miss"]
    page = bob.get(f"/conversations/view?id={sender}")
    assert page.status == 200
    text = page.text
    assert "nlu_fallback" in text and "utter_handover" in text
    assert "form <code>enquiry_form</code> started" in text
    assert "slot <code>enquiry_aim</code>" in text  # slots as they were filled
    for secret in (PHONE_MAIN, "960514", "Jane Testperson", "jane.", "@example.com"):
        assert secret not in text, secret
    assert "[phone]" in text and "[personal details]" in text
    assert "01223 266900" in text  # the hospital's own number stays readable
    assert 'id="reveal"' not in text  # reviewers get no reveal button


def test_a_coordinator_reveals_and_it_is_audited(console_stack, alice):
    sender = console_stack.driven.senders["miss"]
    page = alice.get(f"/conversations/view?id={sender}")
    assert 'id="reveal"' in page.text and PHONE_MAIN not in page.text
    revealed = alice.post("/conversations/reveal", {"id": sender})
    assert revealed.status == 200
    assert PHONE_MAIN in revealed.text and "Jane Testperson" in revealed.text
    audit_page = alice.get("/audit").text
    assert f"conversation:{sender}" in audit_page and "intact" in audit_page


def test_enquiry_status_changes_are_recorded_and_linked(console_stack, alice):
    sender = console_stack.driven.senders["miss"]
    listing = alice.get("/enquiries").text
    match = re.search(
        r'<a href="/enquiries/(\d+)" class="open">(KY-\w+)</a>(?:(?!</tr>).)*?id=' + sender,
        listing, re.S,
    )
    assert match, "the enquiry links to its conversation"
    enquiry_id = match.group(1)
    assert PHONE_MAIN not in listing and "[phone]" in listing
    for status in ("contacted", "closed"):
        done = alice.post(f"/enquiries/{enquiry_id}/status",
                          {"status": status, "notes": f"<b>{status}</b> by phone"})
        assert done.status == 302
    page = alice.get(f"/enquiries/{enquiry_id}").text
    assert 'id="current-status">closed' in page
    assert "new → contacted" in page and "contacted → closed" in page and "alice" in page
    assert "&lt;b&gt;closed&lt;/b&gt; by phone" in page
    assert alice.post(f"/enquiries/{enquiry_id}/status", {"status": "lost"}).status == 400
    closed = alice.get("/enquiries?status=closed").text
    assert match.group(2) in closed


def test_csv_export_is_for_coordinators_and_audited(console_stack, alice, bob):
    alice.get("/enquiries")
    export = alice.post("/enquiries/export.csv", {})
    assert export.status == 200 and "text/csv" in export.header("content-type")
    assert "attachment" in export.header("content-disposition")
    assert PHONE_MAIN.replace(" ", "")[1:] in export.text  # +441632960514
    assert export.text.splitlines()[0].startswith("reference,created_at,status")
    assert "export_enquiries" in alice.get("/audit").text
    bob.get("/overview")
    assert bob.post("/enquiries/export.csv", {}).status == 403


def test_inbox_review_and_export_pass_rasa_data_validate(console_stack, bob, tmp_path):
    inbox = api(bob, "/api/inbox?show=all")
    texts = {group["text"]: group for group in inbox["groups"]}
    assert MISS_ONE in texts and MISS_TWO in texts
    assert texts[MISS_ONE]["intent"] == "nlu_fallback"
    # Answers to the callback form never land in the inbox.
    assert not any("Testperson" in t or "960514" in t or "[phone]" in t for t in texts)
    page = bob.get("/inbox?q=asdkjh")
    assert "procedure/duration" in page.text  # the intents the model knows
    key = texts[MISS_ONE]["text_key"]
    assert bob.post("/inbox/review", {"key": key, "decision": "out_of_scope"}).status == 302
    assert bob.post("/inbox/review", {"key": key, "decision": "corrected",
                                      "intent": "made_up/intent"}).status == 400
    assert api(bob, "/api/inbox?q=asdkjh")["groups"] == []
    reviewed = api(bob, "/api/inbox?q=asdkjh&show=reviewed")["groups"]
    assert [g["label"] for g in reviewed] == ["out_of_scope"]
    # A reviewed example from the same conversation's user messages, as a real
    # question, corrected to an FAQ sub-intent.
    token = console_stack.driven.token
    question = texts.get(f"what is kyphoplasty {token}")
    if question:  # only when the model was unsure of it
        bob.post("/inbox/review", {"key": question["text_key"], "decision": "corrected",
                                   "intent": "procedure/what_is"})

    export = bob.post("/inbox/export.yml", {})
    assert export.status == 200
    data = yaml.safe_load(export.text)
    examples = {item["intent"]: item["examples"] for item in data["nlu"]}
    assert f"- {MISS_ONE}" in examples["out_of_scope"].splitlines()

    # rasa data validate on a copy of the project's data with the export added.
    data_dir = tmp_path / "data"
    shutil.copytree(ROOT / "data", data_dir)
    (data_dir / "nlu" / "reviewed.yml").write_text(export.text)
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "rasa"), "data", "validate", "--data", str(data_dir),
         "--domain", "domain.yml", "--config", "config.yml", "--fail-on-warnings"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**console_stack.env, "NO_COLOR": "1"},
    )
    from scripts.validate import unexpected_warnings

    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    areas = set(re.findall(r"^- intent: ([a-z_]+)/", (ROOT / "data/nlu/procedure.yml").read_text(), re.M))
    areas |= {p.stem for p in (ROOT / "data" / "nlu").glob("*.yml")}
    assert result.returncode == 0, output[-3000:]
    assert unexpected_warnings(output, areas) == [], output[-3000:]


def test_overview_draws_charts_from_the_store(console_stack, bob):
    numbers = api(bob, "/api/overview?days=7")
    assert numbers["conversations_total"] >= 5 and numbers["enquiries_total"] >= 2
    assert 0 < numbers["fallback_rate"] < 1 and 0 < numbers["handover_rate"] < 1
    page = bob.get("/overview").text
    assert page.count("<svg") == 6 and "Top intents" in page and "<script>" not in page


def test_the_health_panel_shows_each_rasa_instance(console_stack, bob):
    ready, down = api(bob, "/api/health")
    assert ready["state"] == "ready", ready
    assert down["state"] == "unreachable" and down["problems"], down
    page = bob.get("/overview").text
    assert 'class="health-ready"' in page and 'class="health-unreachable"' in page
    assert "When a store fails" in page


def test_erase_by_phone_removes_events_and_enquiries(console_stack, alice):
    sender = console_stack.driven.senders["erase"]
    assert alice.get(f"/conversations/view?id={sender}").status == 200
    result = cli(console_stack.env, "erase", "--phone", "+44 1632 960782")
    assert result.returncode == 0, result.stderr
    assert re.search(r"Erased [1-9]\d* conversations \(\d+ events\) and 1 enquiries", result.stdout)
    with sqlite3.connect(console_stack.tracker_db) as db:
        assert db.execute("select count(*) from events where sender_id = ?", (sender,)).fetchone()[0] == 0
        assert db.execute("select count(*) from events where sender_id = ?",
                          (console_stack.driven.senders["faq"],)).fetchone()[0] > 0
    with sqlite3.connect(console_stack.enquiry_db) as db:
        assert db.execute("select count(*) from enquiries where phone_e164 = '+441632960782'").fetchone()[0] == 0
        assert db.execute("select count(*) from enquiries where phone_e164 = '+441632960514'").fetchone()[0] == 1
    assert alice.get(f"/conversations/view?id={sender}").status == 404
    audit_page = alice.get("/audit").text
    assert "erase" in audit_page and "phone:" in audit_page
    assert "960782" not in audit_page and PHONE_ERASE not in audit_page
    again = cli(console_stack.env, "erase", "--phone", PHONE_ERASE)
    assert "Nothing matched" in again.stdout
    bad = cli(console_stack.env, "erase", "--phone", "12345")
    assert bad.returncode == 2 and "not a UK phone number" in bad.stderr
    assert "Traceback" not in bad.stderr


