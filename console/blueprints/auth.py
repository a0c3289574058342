"""Logging in and out. No sign-up: accounts come from `python -m console users add`."""

from __future__ import annotations

import secrets
from typing import Optional

from sanic import Blueprint, Request
from sanic.exceptions import Forbidden
from sanic.response import HTTPResponse, redirect

from console import audit
from console.security import authenticate, end_session, start_session, tokens_match
from console.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    TooManyRequests,
    render,
    requires,
    run_sync,
)


def _secure(request: Request) -> bool:
    forced = request.app.ctx.settings.secure_cookies
    return forced if forced is not None else request.scheme in ("https", "wss")


def _set_cookie(request: Request, response: HTTPResponse, name: str, value: str,
                max_age: Optional[int]) -> None:
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    if max_age is not None:
        cookie["max-age"] = max_age
    if _secure(request):
        cookie["secure"] = True


def _safe_next(target: Optional[str]) -> str:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def blueprint() -> Blueprint:
    bp = Blueprint("auth")

    def login_page(request: Request, status: int = 200, error: str = "",
                   name: str = "") -> HTTPResponse:
        # Reused while the cookie lives: a second load of the page (a prefetch, a
        # second tab) must not invalidate the form already on screen.
        existing = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        token = existing if 20 <= len(existing) <= 100 else secrets.token_urlsafe(32)
        response = render(
            request, "login.html", status=status, error=error, name=name,
            login_csrf=token, next=_safe_next(request.args.get("next") or
                                              (request.form or {}).get("next")),
        )
        _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    @bp.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        if request.ctx.staff:
            return redirect("/")
        return login_page(request)

    @bp.post("/login")
    async def login(request: Request) -> HTTPResponse:
        form = request.form or {}
        if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf_token")):
            raise Forbidden("The login form has expired. Reload the page and try again.")
        app = request.app
        name = (form.get("name") or "").strip()
        address = request.remote_addr or request.ip or "unknown"
        result = await run_sync(
            authenticate, app.ctx.console, app.ctx.settings, name, form.get("password") or "",
            address,
        )
        if result.throttled:
            await run_sync(audit.record, app.ctx.console, name[:100] or "-", "login_throttled",
                           "", {})
            minutes = max(1, app.ctx.settings.failure_window_seconds // 60)
            raise TooManyRequests(
                f"Too many failed logins for this account or address. Try again in {minutes} minutes."
            )
        if not result.staff:
            return login_page(request, status=401, error="Wrong name or password.", name=name)
        token = await run_sync(start_session, app.ctx.console, app.ctx.settings, result.staff)
        await run_sync(audit.record, app.ctx.console, result.staff.name, "login", "", {})
        response = redirect(_safe_next(form.get("next")))
        _set_cookie(request, response, SESSION_COOKIE, token,
                    max_age=int(app.ctx.settings.session_hours * 3600))
        del response.cookies[LOGIN_CSRF_COOKIE]
        return response

    @bp.post("/logout")
    @requires("reviewer")
    async def logout(request: Request) -> HTTPResponse:
        await run_sync(end_session, request.app.ctx.console, request.cookies.get(SESSION_COOKIE))
        response = redirect("/login")
        del response.cookies[SESSION_COOKIE]
        return response

    return bp
