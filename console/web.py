"""What every blueprint shares: rendering, the auth decorator, CSRF checks, and
running blocking database work off the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from functools import wraps
from typing import Any, Callable, Dict, Optional
from urllib.parse import quote, urlencode

from sanic import Request
from sanic.exceptions import Forbidden, SanicException, Unauthorized
from sanic.response import HTTPResponse, html, redirect

from console.security import tokens_match

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
LOGIN_CSRF_COOKIE = "console_login_csrf"
SESSION_COOKIE = "console_session"


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class TooManyRequests(SanicException):
    status_code = 429


async def run_sync(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Blocking database work in a worker thread, keeping the request id for its logs."""
    context = contextvars.copy_context()
    return await asyncio.to_thread(context.run, function, *args, **kwargs)


def wants_json(request: Request) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    app = request.app
    env = app.ctx.templates
    context.setdefault("staff", getattr(request.ctx, "staff", None))
    context.setdefault("csrf_token", getattr(request.ctx, "csrf", "") or "")
    context.setdefault("path", request.path)
    context.setdefault("settings", app.ctx.settings)
    return html(env.get_template(template).render(**context), status=status)


def check_csrf(request: Request, expected: Optional[str]) -> None:
    given = request.headers.get("x-csrf-token") or (request.form or {}).get("csrf_token")
    if not tokens_match(expected, given):
        raise Forbidden("The form has expired or did not come from this console. Reload the page and try again.")


def requires(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The one auth decorator: a logged-in staff member with at least ``role``;
    POSTs must also carry the session's CSRF token."""

    def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(handler)
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> Any:
            staff = getattr(request.ctx, "staff", None)
            if staff is None:
                if wants_json(request) or request.method != "GET":
                    raise Unauthorized("Log in first.")
                target = request.path + (f"?{request.query_string}" if request.query_string else "")
                return redirect("/login?" + urlencode({"next": target}))
            if not staff.can(role):
                raise Forbidden(f"This needs the {role} role.")
            if request.method not in ("GET", "HEAD"):
                check_csrf(request, request.ctx.csrf)
            return await handler(request, *args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator


def page_number(request: Request) -> int:
    try:
        return max(1, min(100000, int(request.args.get("page", "1"))))
    except ValueError:
        return 1


def query_url(path: str, args: Dict[str, Any], **changes: Any) -> str:
    merged = {**args, **changes}
    merged = {key: value for key, value in merged.items() if value not in (None, "", 0, False)}
    return path + ("?" + urlencode(merged) if merged else "")


def conversation_url(sender_id: str) -> str:
    return "/conversations/view?id=" + quote(sender_id, safe="")
