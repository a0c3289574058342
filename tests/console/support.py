"""Test support for the staff console: the real console server in a subprocess,
an HTTP session with cookies and CSRF tokens, and the CLI."""

from __future__ import annotations

import http.cookiejar
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

from tests.support.servers import ROOT, base_env, free_port, http_ok

PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_env(workdir: Path, tracker_url: str, enquiry_url: str,
                console_url: Optional[str] = None, **extra: str) -> Dict[str, str]:
    return base_env(
        CONSOLE_TRACKER_DB_URL=tracker_url,
        ENQUIRY_DB_URL=enquiry_url,
        CONSOLE_DB_URL=console_url or f"sqlite:///{workdir / 'console.db'}",
        CONSOLE_SECRET_KEY="test-secret-key-not-for-production",
        **extra,
    )


def cli(env: Dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "console", *args], cwd=ROOT, env=env, input=stdin,
        capture_output=True, text=True, timeout=120,
    )


def add_user(env: Dict[str, str], name: str, role: str, password: str = PASSWORD) -> None:
    result = cli(env, "users", "add", name, "--role", role, "--password-stdin",
                 stdin=password + "\n")
    assert result.returncode == 0, result.stderr


@dataclass
class ConsoleServer:
    env: Dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: Optional[subprocess.Popen] = None
    banner: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ConsoleServer":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "console", "serve", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("console exited:\n" + self.log.read_text()[-3000:])
            if http_ok(self.url + "/health"):
                self.banner = self.log.read_text().splitlines()[0]
                return self
            time.sleep(0.2)
        raise RuntimeError("console not ready:\n" + self.log.read_text()[-3000:])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def session(self) -> "Session":
        return Session(self.url)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: D401 - urllib's hook
        return None


@dataclass
class Response:
    status: int
    headers: Dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def csrf(self) -> str:
        match = CSRF_RE.search(self.text)
        assert match, "no CSRF token on the page"
        return match.group(1)


class Session:
    """One browser-like client: keeps cookies, does not follow redirects."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect
        )
        self.csrf_token = ""

    def request(self, method: str, path: str, data: Optional[Dict[str, str]] = None,
                headers: Optional[Dict[str, str]] = None) -> Response:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, method=method,
                                         headers=headers or {})
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(request, timeout=60) as response:
                result = Response(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            result = Response(error.code, dict(error.headers), error.read())
        match = CSRF_RE.search(result.text) if "text/html" in result.header(
            "content-type") else None
        if match:
            self.csrf_token = match.group(1)
        return result

    def get(self, path: str, **headers: str) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, data: Optional[Dict[str, str]] = None, csrf: bool = True) -> Response:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token)
        return self.request("POST", path, data)

    def login(self, name: str, password: str = PASSWORD) -> Response:
        self.get("/login")
        response = self.post("/login", {"name": name, "password": password})
        if response.status == 302:
            self.get("/overview")  # picks up the session's CSRF token
        return response
