"""The page server (web/): the demo page built from the patient page, the widget's
files, and the `python -m web` command, run as a real process on a free port."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html import unescape
from html.parser import HTMLParser
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from tests.support.servers import ROOT, base_env, free_port
from web.demo_page import WidgetSettings, phone_segments, render_demo_page, tel_href
from web.source_page import (
    WEBSITE_CONTROLS,
    SourcePageMissing,
    parse_page,
    read_source_page,
)


def visible_text(html: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_every_line_of_patient_information_is_on_the_demo_page():
    source = read_source_page()
    page = visible_text(
        render_demo_page(parse_page(source), WidgetSettings("http://x"))
    )
    lines = [" ".join(line.split()) for line in source.splitlines() if line.strip()]
    kept = [line.lstrip("• ").strip() for line in lines if line not in WEBSITE_CONTROLS]
    assert len(kept) > 40
    for line in kept:
        assert line in page, line
    for control in ("Please select a hospital", "Click here to read more"):
        assert control not in page


def test_the_page_structure_follows_the_source():
    blocks = parse_page(read_source_page())
    assert blocks[0].kind == "title" and blocks[0].text == "Balloon Kyphoplasty"
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "What happens during the Balloon Kyphoplasty procedure?" in headings
    assert "How to contact us" in headings
    assert [b.text for b in blocks if b.kind == "subheading"][
        0
    ] == "Step 1: Balloon Placement"
    contact = next(b for b in blocks if b.kind == "list")
    assert (
        contact.lines[0] == "For self pay treatment enquiries please call 01223 266929"
    )


def test_source_text_is_escaped_never_markup():
    text = (
        "Title <b>bold</b>\n\n"
        '<script>alert(1)</script> & "quotes" call 01223 266900\n\n'
        "  • <img src=x onerror=alert(2)>\n"
    )
    html = render_demo_page(parse_page(text), WidgetSettings("http://x"))
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert (
        "<script>alert(1)" not in html
        and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    )
    assert "<img" not in html
    assert '<a href="tel:+441223266900">01223 266900</a>' in html


def test_the_widget_config_cannot_close_its_script_tag():
    settings = WidgetSettings("http://x", title="</script><script>alert(1)</script>")
    html = render_demo_page(parse_page("Title\n"), settings)
    assert html.count("</script>") == 2  # the config's and the widget's own
    assert "\\u003c/script>" in html


@pytest.mark.parametrize(
    "number, href",
    [("01223 266900", "tel:+441223266900"), ("+44 7700 900123", "tel:+447700900123")],
)
def test_tel_links_use_e164(number, href):
    assert tel_href(number) == href


def test_figures_on_the_page_are_not_taken_for_phone_numbers():
    numbers = [
        value
        for block in parse_page(read_source_page())
        for kind, value in phone_segments(block.text)
        if kind == "tel"
    ]
    assert numbers == ["01223 200580", "01223 266929", "01223 266900", "01223 266990"]


def test_a_missing_source_page_says_where_it_should_be(tmp_path):
    with pytest.raises(SourcePageMissing, match="KYPHO_SOURCE_PAGE"):
        read_source_page(tmp_path / "nowhere.txt")


# ------------------------------------------------------------------ the real server


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: List[Dict[str, str]] = []
        self.stylesheets: List[str] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, str]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes["href"])


def get(url: str) -> Tuple[int, Any, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def page_server(tmp_path_factory) -> Iterator[Tuple[str, str]]:
    port = free_port()
    log = tmp_path_factory.mktemp("web") / "web.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "web",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--rasa-url",
            "http://127.0.0.1:5999",
        ],
        cwd=ROOT,
        env=base_env(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while get_ok(url + "/health") is False:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the page server did not start:\n" + log.read_text())
        time.sleep(0.2)
    yield url, log.read_text()
    process.terminate()
    process.wait(timeout=15)


def get_ok(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except (urllib.error.URLError, OSError):
        return False


def test_the_command_prints_the_page_address(page_server):
    url, output = page_server
    assert f"Demo page with the chat widget: {url}/" in output


def test_the_demo_page_embeds_the_widget_with_one_script_and_a_config(page_server):
    url, _ = page_server
    status, headers, body = get(url + "/")
    html = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    links = Links()
    links.feed(html)
    assert [s.get("src") for s in links.scripts] == [None, "/widget/chat.js"]
    assert '"serverUrl": "http://127.0.0.1:5999"' in html
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in csp
    assert "connect-src 'self' http://127.0.0.1:5999 ws://127.0.0.1:5999" in csp
    # Every script and stylesheet is served by us: nothing from another host.
    for src in [s["src"] for s in links.scripts if s.get("src")] + links.stylesheets:
        assert src.startswith("/"), src
        assert get(url + src)[0] == 200, src


@pytest.mark.parametrize(
    "path, content_type, marker",
    [
        ("/widget/chat.js", "text/javascript", b"session_request"),
        ("/widget/chat.css", "text/css", b"prefers-reduced-motion"),
        ("/vendor/socket.io.min.js", "text/javascript", b"Socket.IO"),
        ("/static/demo.css", "text/css", b"skip-link"),
    ],
)
def test_the_widget_files_and_the_npm_client_are_served(
    page_server, path, content_type, marker
):
    status, headers, body = get(page_server[0] + path)
    assert status == 200 and headers["Content-Type"].startswith(content_type)
    assert marker in body
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/vendor/package.json",
        "/vendor/..%2f..%2fpackage.json",
        "/widget/../app.py",
        "/nope",
    ],
)
def test_nothing_else_is_served(page_server, path):
    status, _, body = get(page_server[0] + path)
    assert status == 404 and b"Traceback" not in body


def test_health(page_server):
    status, _, body = get(page_server[0] + "/health")
    assert status == 200 and b'"ok"' in body


def run_web(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "web", "--port", str(free_port()), *args],
        cwd=ROOT,
        env=base_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_missing_source_page_stops_the_command_with_a_clear_message(tmp_path):
    done = run_web(KYPHO_SOURCE_PAGE=str(tmp_path / "missing.txt"))
    assert done.returncode == 2
    assert (
        "patient page was not found" in done.stderr and "Traceback" not in done.stderr
    )


def test_a_bad_rasa_url_stops_the_command_with_a_clear_message():
    done = run_web("--rasa-url", "localhost:5005")
    assert done.returncode == 2
    assert "not an http(s) URL" in done.stderr and "Traceback" not in done.stderr


def test_a_port_in_use_stops_the_command_with_a_clear_message():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "web", "--port", str(port)],
            cwd=ROOT,
            env=base_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
