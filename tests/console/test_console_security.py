"""Security of the console over HTTP: login required everywhere, CSRF, escaping,
roles, throttling, cookies and headers."""

from __future__ import annotations

import re

import pytest

from console.app import create_app
from console.settings import Settings
from tests.console.support import PASSWORD, Session, add_user
from tests.support.hardening import record

pytestmark = pytest.mark.e2e


def _routes():
    """Every route the app has, read from a real app, so a new one is covered too."""
    app = create_app(Settings(secret_key="x", console_db_url="sqlite://"))
    found = []
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        if path.startswith("/static") or path in ("/health", "/login"):
            continue
        path = re.sub(r"<\w+:int>", "1", path)
        for method in route.methods:
            found.append((method, path))
    return sorted(set(found))


ROUTES = _routes()


def test_the_route_list_covers_every_area():
    paths = {path for _, path in ROUTES}
    for expected in ("/conversations", "/conversations/view", "/conversations/reveal",
                     "/enquiries", "/enquiries/export.csv", "/inbox", "/inbox/review",
                     "/inbox/export.yml", "/overview", "/audit", "/api/conversations",
                     "/api/enquiries", "/api/inbox", "/api/overview", "/logout"):
        assert expected in paths


@pytest.mark.parametrize("method,path", ROUTES)
def test_nothing_answers_without_login(console_stack, method, path):
    session = console_stack.server.session()
    response = session.request(method, path, {} if method == "POST" else None)
    assert response.status in (302, 401), (method, path, response.status)
    if response.status == 302:
        assert response.header("location").startswith("/login")
    assert "asdkjh" not in response.text and "KY-" not in response.text


def test_security_headers_on_every_page(console_stack):
    session = console_stack.server.session()
    for path in ("/login", "/health", "/no-such-page"):
        response = session.get(path)
        csp = response.header("content-security-policy")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert response.header("x-frame-options") == "DENY"
        assert response.header("x-content-type-options") == "nosniff"
        assert re.fullmatch(r"[0-9a-f]{12}", response.header("x-request-id"))
    assert "<script>" not in session.get("/login").text.replace(
        '<script src="/static/console.js" defer></script>', "")


def test_session_cookie_is_httponly_and_samesite(console_stack):
    session = console_stack.server.session()
    response = session.login("bob")
    cookie = response.header("set-cookie")
    assert "console_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on 127.0.0.1; Secure over TLS


def test_csrf_is_refused(console_stack):
    session = console_stack.server.session()
    session.get("/login")
    assert session.post("/login", {"name": "bob", "password": PASSWORD, "csrf_token": "forged"}).status == 403
    session.login("alice")
    sender = console_stack.driven.senders["faq"]
    assert session.post("/conversations/reveal", {"id": sender, "csrf_token": "forged"}).status == 403
    assert session.post("/conversations/reveal", {"id": sender}, csrf=False).status == 403
    assert session.post("/enquiries/export.csv", {}, csrf=False).status == 403
    assert session.post("/logout", {}, csrf=False).status == 403
    assert session.get("/overview").status == 200  # still logged in


def test_what_patients_typed_shows_as_text(console_stack):
    session = console_stack.server.session()
    session.login("alice")
    sender = console_stack.driven.senders["xss"]
    for page in (session.get(f"/conversations/view?id={sender}"),
                 session.post("/conversations/reveal", {"id": sender})):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<script>alert(1)</script>" not in page.text
    inbox = session.get("/inbox?show=all").text
    assert "<script>alert" not in inbox


def test_a_reviewer_cannot_reach_coordinator_routes(console_stack):
    session = console_stack.server.session()
    session.login("bob")
    sender = console_stack.driven.senders["miss"]
    assert session.get("/enquiries").status == 403
    assert session.get("/enquiries/1").status == 403
    assert session.get("/audit").status == 403
    assert session.get("/api/enquiries").status == 403
    refused = session.post("/conversations/reveal", {"id": sender})
    assert refused.status == 403 and "01632" not in refused.text
    assert session.post("/enquiries/1/status", {"status": "closed"}).status == 403
    assert session.post("/enquiries/1/reveal", {}).status == 403
    assert "Not allowed" in session.get("/audit").text
    api_refusal = session.get("/api/enquiries")
    assert api_refusal.text.startswith("{") and '"status":403' in api_refusal.text


def test_failed_logins_are_throttled_per_account(console_stack):
    add_user(console_stack.env, "carol", "reviewer")
    session = console_stack.server.session()
    session.get("/login")
    for _ in range(5):
        wrong = session.post("/login", {"name": "carol", "password": "wrong password!"})
        assert wrong.status == 401 and "Wrong name or password" in wrong.text
    # Now even the right password is refused, with a clear message.
    refused = session.post("/login", {"name": "carol", "password": PASSWORD})
    assert refused.status == 429 and "Too many failed logins" in refused.text
    assert Session(console_stack.server.url).login("bob").status == 302  # others unaffected


def test_logout_ends_the_session(console_stack):
    session = console_stack.server.session()
    session.login("bob")
    assert session.get("/overview").status == 200
    assert session.post("/logout", {}).status == 302
    assert session.get("/overview").status == 302


def test_no_sign_up_and_no_default_account(console_stack):
    session = console_stack.server.session()
    assert session.get("/signup").status == 404
    session.get("/login")
    for name, password in (("admin", "admin"), ("admin", "password"), ("root", "")):
        assert session.post("/login", {"name": name, "password": password}).status == 401


def test_open_redirects_are_refused(console_stack):
    session = console_stack.server.session()
    session.get("/login?next=//evil.example")
    response = session.post("/login", {"name": "bob", "password": PASSWORD,
                                       "next": "//evil.example/x"})
    assert response.status == 302 and response.header("location") == "/"


MALFORMED_FORMS = [
    {},  # every field missing
    {"id": "x" * 5000, "reference": "'; DROP TABLE enquiries; --", "status": "<script>",
     "intent": "no_such_intent", "note": "\x00\x07", "page": "-1", "group": "abc"},
    {"id": "", "reference": "", "status": "", "intent": ""},
]


@pytest.mark.parametrize("method,path", [r for r in ROUTES if r[1] != "/logout"])
def test_malformed_requests_get_a_4xx_or_a_page_never_a_500(console_stack, method, path):
    session = console_stack.server.session()
    session.login("alice")
    if method == "POST":
        responses = [session.post(path, form) for form in MALFORMED_FORMS]
        responses.append(session.post(path, {"note": "n" * 2_000_000}))
    else:
        responses = [
            session.get(path + "?days=abc&page=-5&id=%00%ff&status=<b>&since=notadate&q=" + "x" * 3000)
        ]
    for response in responses:
        assert response.status < 500, (method, path, response.status, response.text[:300])
        assert "Traceback" not in response.text
    record("bad_inputs", "malformed console request", len(responses))
