"""The page server: the demo page, the widget's files, the npm files it needs, /health.

Everything the browser loads comes from here (our code and node_modules), never from
a CDN. The demo page is built once at start from the patient page.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import urlsplit

from sanic import Sanic, response
from sanic.exceptions import NotFound, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from web.demo_page import WidgetSettings, config_script, render_demo_page, script_hash
from web.source_page import parse_page, read_source_page

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
ROOT = WEB_DIR.parent
STATIC_DIR = WEB_DIR / "static"
NODE_MODULES = ROOT / "node_modules"

# URL path -> file. Only these are served: nothing else under node_modules is public.
VENDOR_FILES: Dict[str, Path] = {
    "socket.io.min.js": NODE_MODULES / "socket.io-client/dist/socket.io.min.js",
    "socket.io.min.js.map": NODE_MODULES / "socket.io-client/dist/socket.io.min.js.map",
}
WIDGET_FILES = {"chat.js", "chat.css"}
STATIC_FILES = {"demo.css"}
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json; charset=utf-8",
}


class SetupMissing(RuntimeError):
    """A file the page needs is not installed; the message says which command fixes it."""


def check_vendor_files() -> None:
    missing = [str(p) for name, p in VENDOR_FILES.items() if not name.endswith(".map")]
    missing = [p for p in missing if not Path(p).is_file()]
    if missing:
        raise SetupMissing(
            f"{', '.join(missing)} is missing: the widget needs socket.io-client from "
            "npm. Run `make web-setup` (it runs `npm ci`)."
        )


def origin_of(url: str) -> str:
    """``http://127.0.0.1:5005`` for ``http://127.0.0.1:5005/anything``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(rasa_url: str, inline_script_hash: str) -> Dict[str, str]:
    rasa = origin_of(rasa_url)
    socket = rasa.replace("http", "ws", 1)
    return {
        "Content-Security-Policy": (
            "default-src 'self'; "
            f"script-src 'self' {inline_script_hash}; "
            f"connect-src 'self' {rasa} {socket}; "
            "img-src 'self' data:; style-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def create_app(
    rasa_url: str = "http://127.0.0.1:5005",
    source_page: Optional[Path] = None,
    title: Optional[str] = None,
) -> Sanic:
    """The page server. Raises SourcePageMissing or SetupMissing with a clear message
    when the patient page or the npm files are not there."""
    origin_of(rasa_url)  # a bad URL fails here, not in the browser
    check_vendor_files()
    settings = WidgetSettings(server_url=rasa_url.rstrip("/"))
    if title:
        settings = WidgetSettings(server_url=settings.server_url, title=title)
    page = render_demo_page(parse_page(read_source_page(source_page)), settings)
    page_headers = security_headers(rasa_url, script_hash(config_script(settings)))
    asset_headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}

    # Sanic keeps a registry of apps by name; a unique name lets tests build several.
    app = Sanic(f"kypho_web_{uuid.uuid4().hex[:8]}")
    app.config.FALLBACK_ERROR_FORMAT = "text"

    def send_file(path: Path) -> HTTPResponse:
        if not path.is_file():
            raise NotFound("Not found")
        return response.raw(
            path.read_bytes(),
            content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
            headers=asset_headers,
        )

    @app.route("/", methods=["GET", "HEAD"])
    async def demo_page(_: Request) -> HTTPResponse:
        return response.html(page, headers=page_headers)

    @app.route("/health", methods=["GET", "HEAD"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.route("/widget/<name>", methods=["GET", "HEAD"])
    async def widget_file(_: Request, name: str) -> HTTPResponse:
        if name not in WIDGET_FILES:
            raise NotFound("Not found")
        return send_file(STATIC_DIR / name)

    @app.route("/static/<name>", methods=["GET", "HEAD"])
    async def static_file(_: Request, name: str) -> HTTPResponse:
        if name not in STATIC_FILES:
            raise NotFound("Not found")
        return send_file(STATIC_DIR / name)

    @app.route("/vendor/<name>", methods=["GET", "HEAD"])
    async def vendor_file(_: Request, name: str) -> HTTPResponse:
        if name not in VENDOR_FILES:
            raise NotFound("Not found")
        return send_file(VENDOR_FILES[name])

    @app.exception(SanicException)
    async def http_error(request: Request, exception: SanicException) -> HTTPResponse:
        status = getattr(exception, "status_code", 500) or 500
        message = "Not found" if status == 404 else str(exception) or "Error"
        return response.text(message, status=status)

    @app.exception(Exception)
    async def unexpected_error(request: Request, exception: Exception) -> HTTPResponse:
        logger.exception("Unexpected error on %s %s", request.method, request.path)
        return response.text("Internal server error", status=500)

    return app
