"""The audit log, read-only for coordinators, with the hash chain checked."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from console import audit
from console.web import page_number, render, requires, run_sync

PAGE = 100


def blueprint() -> Blueprint:
    bp = Blueprint("audit")

    @bp.get("/audit")
    @requires("coordinator")
    async def index(request: Request) -> HTTPResponse:
        console = request.app.ctx.console
        page = page_number(request)
        rows = await run_sync(audit.recent, console, PAGE, (page - 1) * PAGE)
        return render(request, "audit.html", rows=rows, page=page,
                      total=await run_sync(audit.count, console),
                      check=await run_sync(audit.verify, console), per_page=PAGE)

    return bp
