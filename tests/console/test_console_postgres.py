"""The console on PostgreSQL: Rasa's tracker store, the enquiries and the console's
own tables all in a scratch PostgreSQL database, filled by a real conversation
through a real Rasa server."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.console.conftest import MISS_ONE, MISS_TWO, complete_callback
from tests.console.support import ConsoleServer, add_user, cli, console_env
from tests.support.enquiry_helpers import temporary_postgres_database
from tests.support.servers import RestClient, start_action_server, start_rasa

pytestmark = pytest.mark.e2e
PHONE = "01632 960615"


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("console-pg")
    with temporary_postgres_database() as url:
        parsed = make_url(url)
        endpoints = workdir / "endpoints.yml"
        actions = start_action_server(workdir, env={"ENQUIRY_DB_URL": url})
        endpoints.write_text(
            "action_endpoint:\n"
            f'  url: "{actions.url}/webhook"\n'
            "tracker_store:\n"
            "  type: SQL\n"
            "  dialect: postgresql\n"
            f"  url: {parsed.host}\n"
            f"  port: {parsed.port or 5432}\n"
            f"  db: {parsed.database}\n"
            f"  username: {parsed.username}\n"
            "lock_store:\n"
            "  type: in_memory\n"
        )
        try:
            rasa = start_rasa(workdir, endpoints)
        except Exception:
            actions.stop()
            raise
        try:
            client = RestClient(rasa.url)
            client.say("hello")
            assert "one hour" in client.say("how long does the procedure take?")
            assert "did not understand" in client.say(MISS_ONE)
            client.say(MISS_TWO)
            complete_callback(client, "Pat Postgres", PHONE, "no")
            env = console_env(workdir, url, url, url)
            add_user(env, "alice", "coordinator")
            add_user(env, "bob", "reviewer")
            server = ConsoleServer(env, workdir / "console.log").start()
            try:
                yield {"server": server, "env": env, "url": url, "sender": client.sender}
            finally:
                server.stop()
        finally:
            rasa.stop()
            actions.stop()


def test_the_list_and_transcript_read_postgres(pg_stack):
    bob = pg_stack["server"].session()
    assert bob.login("bob").status == 302
    rows = json.loads(bob.get("/api/conversations").body)["conversations"]
    row = next(r for r in rows if r["sender_id"] == pg_stack["sender"])
    assert row["fallback"] and row["handover"] and row["enquiry"]
    assert row["user_messages"] == 12 and row["min_confidence"] <= 0.3
    found = json.loads(bob.get("/api/conversations?intent=procedure/duration&enquiry=1").body)
    assert [r["sender_id"] for r in found["conversations"]] == [pg_stack["sender"]]
    page = bob.get(f"/conversations/view?id={pg_stack['sender']}").text
    assert "procedure/duration" in page and "[phone]" in page
    assert "960615" not in page and "Pat Postgres" not in page


def test_coordinator_flow_and_append_only_audit_on_postgres(pg_stack):
    alice = pg_stack["server"].session()
    alice.login("alice")
    listing = alice.get("/enquiries").text
    enquiry_id = re.search(r'<a href="/enquiries/(\d+)" class="open">', listing).group(1)
    assert alice.post(f"/enquiries/{enquiry_id}/status",
                      {"status": "contacted", "notes": "left a voicemail"}).status == 302
    assert "new → contacted" in alice.get(f"/enquiries/{enquiry_id}").text
    revealed = alice.post(f"/enquiries/{enquiry_id}/reveal", {})
    assert "+441632960615" in revealed.text
    inbox = json.loads(alice.get("/api/inbox?q=asdkjh").body)["groups"]
    assert alice.post("/inbox/review", {"key": inbox[0]["text_key"],
                                        "decision": "out_of_scope"}).status == 302
    assert f"- {MISS_ONE}" in alice.post("/inbox/export.yml", {}).text
    engine = create_engine(pg_stack["url"])
    try:
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text("UPDATE console_audit_log SET actor = 'eve'"))
    finally:
        engine.dispose()
    assert "intact" in cli(pg_stack["env"], "audit", "verify").stdout


def test_erase_a_conversation_on_postgres(pg_stack):
    result = cli(pg_stack["env"], "erase", "--conversation", pg_stack["sender"])
    assert result.returncode == 0, result.stderr
    assert re.search(r"Erased 1 conversations \(\d{2,} events\) and 1 enquiries", result.stdout)
    engine = create_engine(pg_stack["url"])
    try:
        with engine.connect() as connection:
            assert connection.execute(
                text("select count(*) from events where sender_id = :s"),
                {"s": pg_stack["sender"]},
            ).scalar() == 0
            assert connection.execute(text("select count(*) from enquiries")).scalar() == 0
    finally:
        engine.dispose()
    alice = pg_stack["server"].session()
    alice.login("alice")
    assert alice.get(f"/conversations/view?id={pg_stack['sender']}").status == 404
    assert json.loads(alice.get("/api/conversations").body)["total"] == 0
