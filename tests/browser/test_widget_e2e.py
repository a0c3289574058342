"""The chat widget end to end in headless Chromium, against the running stack: the
real Rasa server (socketio channel, PublicSocketIOInput), the real action server with
a scratch enquiry database, and the page server (`python -m web`), all started once
for this module on free ports.

Also saves docs/screenshots/widget-desktop.png and widget-phone.png for the README.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from actions.enquiry_store import EnquiryStore
from tests.support.browser import chromium, require_browser, screenshot
from tests.support.servers import (
    ROOT,
    Service,
    base_env,
    free_port,
    start_action_server,
    start_rasa,
    write_endpoints,
)

pytestmark = pytest.mark.e2e

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
NAME, PHONE, EMAIL = "Jane Smith", "07700 900123", "jane.smith@example.com"
WAIT = 90  # seconds for one bot answer: Rasa shares 2 cores with other test runs

ROOT_JS = "const r = document.getElementById('kypho-chat').shadowRoot;"


class WidgetStack:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.web_port = free_port()
        self.page_url = f"http://127.0.0.1:{self.web_port}/"
        self.origin = f"http://127.0.0.1:{self.web_port}"
        self.db_url = f"sqlite:///{workdir / 'enquiries.db'}"
        self.services: List[Service] = []
        actions = start_action_server(workdir, env={"ENQUIRY_DB_URL": self.db_url})
        self.services.append(actions)
        endpoints = write_endpoints(workdir, actions.url, workdir / "tracker.db")
        self.rasa = start_rasa(
            workdir, endpoints, env={"WIDGET_ALLOWED_ORIGINS": self.origin}
        )
        self.services.append(self.rasa)
        log = workdir / "web.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "web",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.web_port),
                "--rasa-url",
                self.rasa.url,
            ],
            cwd=ROOT,
            env=base_env(),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        web = Service("page server", process, self.origin, log)
        self.services.append(web)
        web.wait_ready("/health", 60)

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[WidgetStack]:
    stack = WidgetStack(tmp_path_factory.mktemp("widget-e2e"))
    yield stack
    stack.stop()
    # The session_request fix in channels/public.py: Rasa's own handler leaves
    # enter_room un-awaited with python-socketio 5.x, and warns about it.
    assert "enter_room' was never awaited" not in stack.rasa.log.read_text()
    for service in stack.services:  # no personal detail in any log line
        text = service.log.read_text()
        for value in (NAME, PHONE, "7700900123", EMAIL):
            assert value not in text, f"{value!r} appears in {service.log.name}"


# ------------------------------------------------------------------ page helpers


def js(driver: Any, body: str, *args: Any) -> Any:
    return driver.execute_script(ROOT_JS + body, *args)


def wait_until(driver: Any, condition, timeout: float = WAIT, message: str = "") -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(
        lambda d: condition(), message
    )


def bot_texts(driver: Any) -> List[str]:
    return js(
        driver,
        "return Array.from(r.querySelectorAll('.kc-message--bot .kc-bubble'))"
        ".map(e => e.textContent);",
    )


def user_texts(driver: Any) -> List[str]:
    return js(
        driver,
        "return Array.from(r.querySelectorAll('.kc-message--user .kc-bubble'))"
        ".map(e => e.textContent);",
    )


def wait_for_bot(driver: Any, needle: str, after: int = 0) -> str:
    """The first bot message after the first ``after`` ones that contains ``needle``."""

    def found():
        return next((t for t in bot_texts(driver)[after:] if needle in t), None)

    return wait_until(
        driver, found, message=f"no bot message with {needle!r}: {bot_texts(driver)}"
    )


def active(driver: Any) -> dict:
    """What has keyboard focus: inside the widget's shadow root, or on the page."""
    return driver.execute_script(
        "const host = document.getElementById('kypho-chat');"
        "const inner = host && host.shadowRoot.activeElement;"
        "const e = inner || document.activeElement;"
        "const style = getComputedStyle(e);"
        "return {inWidget: !!inner, cls: e.className || '', tag: e.tagName,"
        " text: e.textContent, label: e.getAttribute('aria-label') || '',"
        " outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth)};"
    )


def keys(driver: Any, *sequence: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*sequence).perform()


def say(driver: Any, text: str) -> None:
    """Type into whatever has focus and press Enter: the keyboard, nothing else."""
    from selenium.webdriver.common.keys import Keys

    keys(driver, text, Keys.ENTER)


def click_reply(driver: Any, title: str) -> None:
    buttons = js(driver, "return Array.from(r.querySelectorAll('.kc-replies button'));")
    titles = [b.text for b in buttons]
    assert title in titles, titles
    buttons[titles.index(title)].click()


def wait_for_replies(driver: Any) -> List[str]:
    return wait_until(
        driver,
        lambda: js(
            driver,
            "return Array.from(r.querySelectorAll('.kc-replies button')).map(b => b.textContent);",
        ),
        message="no quick-reply buttons",
    )


def widget_state(driver: Any) -> dict:
    return driver.execute_script(
        "const k = Object.keys(sessionStorage).find(k => k.startsWith('kyphoChat:'));"
        "return k ? JSON.parse(sessionStorage.getItem(k)) : null;"
    )


def open_page(driver: Any, stack: WidgetStack) -> None:
    driver.get(stack.page_url)
    wait_until(
        driver,
        lambda: driver.execute_script(
            "const h = document.getElementById('kypho-chat');"
            "return h && h.shadowRoot.querySelector('.kc-launcher') &&"
            " getComputedStyle(h.shadowRoot.querySelector('.kc-launcher')).display !== 'inline';"
        ),
        30,
        "the widget did not appear",
    )


def open_widget_by_mouse(driver: Any) -> None:
    js(driver, "return r.querySelector('.kc-launcher');").click()
    wait_for_bot(driver, "not medical advice")


def run_axe(driver: Any) -> List[dict]:
    """axe-core (from npm) on the whole page, WCAG 2.0/2.1 A and AA rules; the
    serious and critical violations, with where they are."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make web-setup` (npm ci)")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values:"
        " ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.map(n => n.target)}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


# ------------------------------------------------------------------ socketio origin


def test_the_socketio_channel_takes_the_page_origin_and_refuses_others(stack):
    import socketio

    client = socketio.Client(reconnection=False)
    answers: List[Any] = []
    confirmed: List[str] = []
    client.on("session_confirm", confirmed.append)
    client.on("bot_uttered", answers.append)
    client.connect(
        stack.rasa.url, headers={"Origin": stack.origin}, transports=["polling"]
    )
    try:
        client.emit("session_request", {"session_id": None})
        deadline_wait(lambda: confirmed)
        session = confirmed[0]
        assert re.fullmatch(r"[0-9a-f]{32}", session)
        client.emit("user_uttered", {"message": "hi", "session_id": session})
        # The reply goes to the session's room: it arrives only if we joined it.
        deadline_wait(
            lambda: any("not medical advice" in a.get("text", "") for a in answers)
        )
    finally:
        client.disconnect()

    stranger = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        stranger.connect(
            stack.rasa.url,
            headers={"Origin": "https://evil.example"},
            transports=["polling"],
        )
    deadline_wait(
        lambda: "Refused a socketio connection from origin 'https://evil.example'"
        in stack.rasa.log.read_text()
    )


def deadline_wait(condition, timeout: float = WAIT) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail("condition not met in time")


# ------------------------------------------------------------------ the journey


def test_keyboard_faq_callback_form_reload_and_restart(stack):
    from selenium.webdriver.common.keys import Keys

    require_browser()
    with chromium() as driver:
        open_page(driver, stack)

        # Keyboard only: Tab from the top of the page to the launcher.
        for _ in range(40):
            keys(driver, Keys.TAB)
            if "kc-launcher" in active(driver)["cls"]:
                break
        focused = active(driver)
        assert "kc-launcher" in focused["cls"], focused
        assert focused["label"].startswith("Open chat")
        assert focused["outline"] != "none" and focused["outlineWidth"] >= 2, focused
        keys(driver, Keys.ENTER)
        assert (
            js(
                driver,
                "return r.querySelector('.kc-launcher').getAttribute('aria-expanded');",
            )
            == "true"
        )
        assert "kc-input" in active(driver)["cls"], "focus did not move into the chat"

        greeting = wait_for_bot(driver, "not medical advice")
        assert "automated assistant" in greeting
        wait_until(
            driver,
            lambda: "not medical advice"
            in js(driver, "return r.querySelector('.kc-announcer').textContent;"),
        )
        js(
            driver,
            "window.__typingSeen = false; new MutationObserver(() => {"
            " if (!r.querySelector('.kc-typing').hidden) window.__typingSeen = true; })"
            ".observe(r.querySelector('.kc-typing'), {attributes: true});",
        )

        # Two FAQ questions, typed and sent with Enter.
        count = len(bot_texts(driver))
        say(driver, "how long does the kyphoplasty operation take?")
        assert "one hour" in wait_for_bot(driver, "one hour", after=count)
        assert driver.execute_script("return window.__typingSeen;") is True
        assert js(driver, "return r.querySelector('.kc-typing').hidden;") is True
        announced = js(driver, "return r.querySelector('.kc-announcer').textContent;")
        assert "one hour" in announced and "how long" not in announced

        count = len(bot_texts(driver))
        say(driver, "who does the procedure at Spire?")
        wait_for_bot(driver, "Trivedi", after=count)
        assert "kc-input" in active(driver)["cls"]
        driver.execute_script("window.scrollTo(0, 0);")
        screenshot(driver, "widget-desktop")

        # The callback form: typed answers and quick-reply buttons.
        count = len(bot_texts(driver))
        say(driver, "can someone call me back please")
        wait_for_bot(driver, "full name", after=count)
        for answer, next_question in (
            (NAME, "phone number"),
            (PHONE, "email"),
            (EMAIL, "aim of your enquiry"),
        ):
            count = len(bot_texts(driver))
            say(driver, answer)
            wait_for_bot(driver, next_question, after=count)
        assert "Self-pay price" in wait_for_replies(driver)
        count = len(bot_texts(driver))
        click_reply(driver, "Self-pay price")
        wait_for_bot(driver, "best time", after=count)
        assert "Afternoon" in wait_for_replies(driver)
        count = len(bot_texts(driver))
        click_reply(driver, "Afternoon")
        wait_for_bot(driver, "Do you agree", after=count)
        wait_for_replies(driver)
        count = len(bot_texts(driver))
        click_reply(driver, "Yes, I agree")
        summary = wait_for_bot(driver, "Is this right?", after=count)
        assert NAME in summary and PHONE in summary
        # The phone number in the summary is a tel: link, its text unchanged.
        links = js(
            driver,
            "return Array.from(r.querySelectorAll('.kc-bubble a')).map(a => [a.getAttribute('href'), a.textContent]);",
        )
        assert ["tel:+447700900123", PHONE] in links
        wait_for_replies(driver)
        count = len(bot_texts(driver))
        click_reply(driver, "Confirm")
        done = wait_for_bot(driver, "KY-", after=count)
        reference = re.search(r"\bKY-[2-9A-HJKMNP-Z]{6}\b", done).group()
        assert user_texts(driver)[-1] == "Confirm"

        # Stored once, from this socketio conversation.
        session_id = widget_state(driver)["sessionId"]
        row = EnquiryStore(stack.db_url).get(reference)
        assert row is not None, reference
        assert row["full_name"] == NAME and row["phone_e164"] == "+447700900123"
        assert row["email"] == EMAIL and row["call_time"].lower() == "afternoon"
        assert row["channel"] == "socketio" and row["conversation_id"] == session_id

        # A reload keeps the conversation, and it carries on in the same session.
        before = bot_texts(driver)
        driver.refresh()
        wait_until(
            driver,
            lambda: len(bot_texts(driver)) == len(before),
            30,
            "history not restored",
        )
        assert bot_texts(driver) == before
        assert any(reference in text for text in bot_texts(driver))
        assert js(driver, "return r.querySelector('.kc-panel').hidden;") is False
        js(driver, "r.querySelector('.kc-input').focus();")
        say(driver, "how long does the kyphoplasty operation take?")
        wait_for_bot(driver, "one hour", after=len(before))
        assert widget_state(driver)["sessionId"] == session_id

        # Escape closes the chat and gives focus back to the launcher.
        keys(driver, Keys.ESCAPE)
        assert js(driver, "return r.querySelector('.kc-panel').hidden;") is True
        assert "kc-launcher" in active(driver)["cls"]
        keys(driver, Keys.ENTER)

        # Restart: an empty conversation with a new session and a new greeting.
        js(driver, "return r.querySelector('.kc-restart');").click()
        wait_until(
            driver,
            lambda: bot_texts(driver) and "not medical advice" in bot_texts(driver)[0],
            message="no new greeting",
        )
        assert len(bot_texts(driver)) == 1 and user_texts(driver) == []
        new_session = widget_state(driver)["sessionId"]
        assert new_session and new_session != session_id
        assert enquiries_from(stack, session_id) == 1  # stored once, never again


def enquiries_from(stack: WidgetStack, conversation_id: str) -> int:
    from sqlalchemy import func, select

    from actions.enquiry_store import enquiries

    store = EnquiryStore(stack.db_url)
    with store.engine.connect() as connection:
        return connection.execute(
            select(func.count()).where(enquiries.c.conversation_id == conversation_id)
        ).scalar_one()


# ------------------------------------------------------------------ safety and a11y


def test_patient_and_bot_text_is_shown_as_text_never_html(stack):
    require_browser()
    with chromium() as driver:
        open_page(driver, stack)
        open_widget_by_mouse(driver)
        hostile = '<img src=x onerror="window.__pwned=1"><b>bold</b>'
        js(driver, "r.querySelector('.kc-input').focus();")
        count = len(bot_texts(driver))
        say(driver, hostile)
        assert user_texts(driver)[-1] == hostile
        wait_until(driver, lambda: len(bot_texts(driver)) > count, message="no reply")
        # A bot message with markup in it (the summary echoes what people type).
        driver.execute_script(
            "window.KyphoChat.receive({text: arguments[0] + ' call 01223 266900',"
            " quick_replies: [{title: '<i>x</i>', payload: '/deny'}]});",
            hostile,
        )
        assert bot_texts(driver)[-1] == hostile + " call 01223 266900"
        assert (
            js(
                driver,
                "return r.querySelectorAll('.kc-messages img, .kc-messages b, .kc-messages i').length;",
            )
            == 0
        )
        assert (
            js(driver, "return r.querySelector('.kc-replies button').textContent;")
            == "<i>x</i>"
        )
        assert driver.execute_script("return window.__pwned === undefined;") is True


def test_axe_finds_no_serious_violations_and_quick_replies_work_by_keyboard(stack):
    from selenium.webdriver.common.keys import Keys

    require_browser()
    with chromium() as driver:
        open_page(driver, stack)
        assert run_axe(driver) == []  # the page with the closed launcher
        open_widget_by_mouse(driver)
        js(driver, "r.querySelector('.kc-input').focus();")
        count = len(bot_texts(driver))
        say(driver, "how much does the treatment cost")
        wait_for_bot(driver, "call you back", after=count)
        assert wait_for_replies(driver) == ["Yes", "No"]
        assert run_axe(driver) == []  # open, with messages, a tel: link and buttons

        # Quick replies are the last controls before the input: Shift+Tab, Enter.
        js(driver, "r.querySelector('.kc-input').focus();")
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(
            Keys.SHIFT
        ).perform()
        assert active(driver)["text"] == "No"
        count = len(bot_texts(driver))
        keys(driver, Keys.ENTER)
        assert "01223 266990" in wait_for_bot(driver, "01223 266900", after=count)
        assert user_texts(driver)[-1] == "No"
        assert "kc-input" in active(driver)["cls"]


def test_phone_screen_360px_wide(stack):
    require_browser()
    with chromium(width=360, height=740) as driver:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True},
        )
        open_page(driver, stack)
        assert (
            driver.execute_script("return document.documentElement.scrollWidth;") <= 360
        )
        open_widget_by_mouse(driver)
        js(driver, "r.querySelector('.kc-input').focus();")
        count = len(bot_texts(driver))
        say(driver, "how long does the kyphoplasty operation take?")
        wait_for_bot(driver, "one hour", after=count)
        box = js(
            driver,
            "const b = r.querySelector('.kc-panel').getBoundingClientRect();"
            " return [b.left, b.top, b.width, b.height];",
        )
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= 360 and box[3] <= 740, box
        for selector in (".kc-input", ".kc-send", ".kc-close", ".kc-restart"):
            rect = js(
                driver,
                f"const b = r.querySelector('{selector}').getBoundingClientRect();"
                " return [b.left, b.right, b.height];",
            )
            assert rect[0] >= 0 and rect[1] <= 360 and rect[2] >= 44, (selector, rect)
        assert (
            driver.execute_script("return document.documentElement.scrollWidth;") <= 360
        )
        screenshot(driver, "widget-phone")
        assert run_axe(driver) == []


def test_reduced_motion_turns_off_the_animations(stack):
    require_browser()
    with chromium() as driver:
        animation = (
            "const s = r.querySelector('.kc-typing span');"
            " r.querySelector('.kc-typing').hidden = false;"
            " return [getComputedStyle(s).animationName,"
            " getComputedStyle(r.querySelector('.kc-panel')).animationName];"
        )
        open_page(driver, stack)
        js(driver, "r.querySelector('.kc-panel').hidden = false;")
        assert js(driver, animation) == ["kc-blink", "kc-rise"]
        driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]},
        )
        assert js(driver, animation) == ["none", "none"]


@contextmanager
def other_site(html: str) -> Iterator[str]:
    """A one-page website on its own origin (a free port)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_one_script_tag_embeds_it_on_another_site_and_it_says_when_rasa_is_down(
    stack,
):
    """Another site (another origin): the script tag with its config in data-config,
    files from our page server, and a Rasa address where nothing listens."""
    import json

    require_browser()
    config = {
        "serverUrl": f"http://127.0.0.1:{free_port()}",
        "title": "Questions about your spine treatment",
        "colours": {"primary": "#123456", "onPrimary": "#ffffff"},
        "offlineMessage": "Not available now. Call 01223 266900.",
    }
    page = (
        "<!doctype html><html lang='en'><head><title>Another site</title></head>"
        "<body><h1>Another site</h1>"
        f"<script src='{stack.page_url}widget/chat.js' "
        f"data-config='{json.dumps(config)}' async></script></body></html>"
    )
    with other_site(page) as url, chromium() as driver:
        driver.get(url)
        wait_until(
            driver,
            lambda: driver.execute_script(
                "return !!document.getElementById('kypho-chat');"
            ),
            30,
            "the widget did not load on the other site",
        )
        js(driver, "r.querySelector('.kc-launcher').click();")
        assert (
            js(driver, "return r.querySelector('.kc-title').textContent;")
            == config["title"]
        )
        primary = driver.execute_script(
            "return document.getElementById('kypho-chat').style"
            ".getPropertyValue('--kc-primary');"
        )
        assert primary == "#123456"
        wait_until(
            driver,
            lambda: "Not available now"
            in js(driver, "return r.querySelector('.kc-status').textContent;"),
            30,
            "no message that the assistant cannot be reached",
        )
        status = js(
            driver,
            "const s = r.querySelector('.kc-status');"
            " return [s.getAttribute('role'), s.querySelector('a').getAttribute('href')];",
        )
        assert status == ["status", "tel:+441223266900"]
