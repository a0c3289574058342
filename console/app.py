"""The staff console's Sanic app: ``create_app(settings)``, nothing at module level.

Shaped like rasa_sdk's endpoint: a factory, a /health route, one exception handler
that answers HTML or JSON with an explicit status, blueprints by area, and a request
id on every log line. Responses carry a strict Content-Security-Policy (no inline
script), X-Frame-Options DENY and nosniff; Sanic's access log is off because raw
paths and query strings can hold what a patient typed; ``console.access`` logs the
route pattern instead.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, json

from console.blueprints import audit, auth, conversations, enquiries, inbox, overview
from console.db import console_engine, engine_for
from console.masking import public_numbers
from console.security import load_session
from console.settings import Settings
from console.web import (
    SESSION_COOKIE,
    render,
    request_id_var,
    run_sync,
    wants_json,
    conversation_url,
    query_url,
)

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("console.access")
HERE = Path(__file__).resolve().parent

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _format_time(ts: Optional[float]) -> str:
    if ts is None:
        return ""
    if isinstance(ts, datetime):
        ts = (ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).timestamp()
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = _format_time
    env.filters["pct"] = lambda value: f"{(value or 0) * 100:.1f}%"
    env.filters["conf"] = lambda value: "" if value is None else f"{value:.2f}"
    env.globals["conversation_url"] = conversation_url
    env.globals["query_url"] = query_url
    return env


def _public_numbers(settings: Settings) -> frozenset:
    """Hospital numbers from actions/data/hospitals.yml stay visible in transcripts."""
    from actions.enquiry_fields import hospitals

    numbers = []
    try:
        for hospital in hospitals():
            numbers.extend(str(v) for k, v in hospital.items() if "phone" in k)
    except (OSError, ValueError):  # no hospitals file: mask every number
        pass
    return public_numbers(numbers)


def create_app(settings: Settings, name: str = "kypho_console") -> Sanic:
    if Sanic._app_registry.get(name):  # a second app in one process (tests, tools)
        name = f"{name}_{uuid.uuid4().hex[:8]}"
    app = Sanic(name, env_prefix="KYPHO_CONSOLE_SANIC_", configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "html"
    app.ctx.settings = settings
    app.ctx.console = console_engine(settings.console_db_url)
    app.ctx.tracker = engine_for(settings.tracker_db_url)
    app.ctx.enquiry_db = engine_for(settings.enquiry_db_url)
    app.ctx.templates = _templates()
    app.ctx.public_numbers = _public_numbers(settings)

    app.static("/static", str(HERE / "static"), name="static")
    for module in (auth, overview, conversations, enquiries, inbox, audit):
        app.blueprint(module.blueprint())

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    @app.middleware("request")
    async def start(request: Request) -> None:
        if getattr(request.ctx, "request_id", None):
            return  # the middleware runs again for an error response
        given = request.headers.get("x-request-id", "")
        request.ctx.request_id = (
            given if given.isalnum() and len(given) <= 32 else uuid.uuid4().hex[:12]
        )
        request_id_var.set(request.ctx.request_id)
        request.ctx.started = time.perf_counter()
        request.ctx.staff = None
        request.ctx.csrf = None
        token = request.cookies.get(SESSION_COOKIE)
        if token and not request.path.startswith("/static/"):
            session = await run_sync(load_session, app.ctx.console, token)
            if session:
                request.ctx.staff = session["staff"]
                request.ctx.csrf = session["csrf"]

    @app.middleware("response")
    async def finish(request: Request, response: HTTPResponse) -> None:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if not request.path.startswith("/static/"):
            # Pages show patients' words: never keep them in a shared cache.
            response.headers.setdefault("Cache-Control", "no-store")
        request_id = getattr(request.ctx, "request_id", "-")
        response.headers["X-Request-Id"] = request_id
        route = request.route.path if request.route else "(no route)"
        started = getattr(request.ctx, "started", None)
        access_logger.info(
            "%s /%s %s %.1fms",
            request.method,
            route.lstrip("/"),
            response.status,
            (time.perf_counter() - started) * 1000 if started else 0.0,
        )

    async def on_error(request: Request, exception: BaseException) -> HTTPResponse:
        if isinstance(exception, SanicException):
            status = exception.status_code or 500
            message = str(exception) if status < 500 else "Something went wrong on our side."
        else:
            status = 500
            message = "Something went wrong on our side."
        if status >= 500:
            # The type and where, not the message: a database error's message can
            # quote the parameters, which may be what a patient typed.
            where = "".join(traceback.format_tb(exception.__traceback__)[-3:])
            logger.error("Unhandled %s\n%s", type(exception).__name__, where)
        if wants_json(request):
            return json({"error": message, "status": status}, status=status)
        return render(request, "error.html", status=status, status_code=status, message=message)

    app.error_handler.add(Exception, on_error)
    return app


