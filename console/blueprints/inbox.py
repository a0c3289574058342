"""The NLU inbox: group, review, export as Rasa NLU YAML."""

from __future__ import annotations

import math

from sanic import Blueprint, Request
from sanic.exceptions import InvalidUsage
from sanic.response import HTTPResponse, json, raw, redirect

from console import audit
from console.inbox import ReviewError, export_yaml, groups, known_intents, review
from console.masking import mask_text
from console.tracker import refresh
from console.web import page_number, query_url, render, requires, run_sync

SHOW = ("open", "reviewed", "all")


def blueprint() -> Blueprint:
    bp = Blueprint("inbox")

    async def _groups(request: Request):
        app = request.app
        settings = app.ctx.settings
        show = request.args.get("show", "open")
        if show not in SHOW:
            raise InvalidUsage(f"show must be one of: {', '.join(SHOW)}")
        page = page_number(request)
        await run_sync(refresh, app.ctx.tracker, app.ctx.console)
        search = (request.args.get("q") or "").strip()[:200]
        rows, total = await run_sync(groups, app.ctx.console, settings.low_confidence, show,
                                     page, settings.page_size, search)
        for row in rows:
            row["text"] = mask_text(row["text"], (), app.ctx.public_numbers)
        return show, page, rows, total, search

    @bp.get("/inbox")
    @requires("reviewer")
    async def index(request: Request) -> HTTPResponse:
        show, page, rows, total, search = await _groups(request)
        settings = request.app.ctx.settings
        return render(
            request, "inbox.html", rows=rows, total=total, page=page, show=show,
            pages=max(1, math.ceil(total / settings.page_size)),
            intents=known_intents(settings.project_dir).labels,
            threshold=settings.low_confidence, shows=SHOW, search=search,
        )

    @bp.get("/api/inbox")
    @requires("reviewer")
    async def api_index(request: Request) -> HTTPResponse:
        show, page, rows, total, _ = await _groups(request)
        return json({"total": total, "page": page, "groups": rows})

    @bp.post("/inbox/review")
    @requires("reviewer")
    async def submit(request: Request) -> HTTPResponse:
        app = request.app
        settings = app.ctx.settings
        form = request.form or {}
        try:
            await run_sync(
                review, app.ctx.console, known_intents(settings.project_dir),
                form.get("key", ""), form.get("decision", ""), form.get("intent") or None,
                request.ctx.staff.name, settings.low_confidence, app.ctx.public_numbers,
            )
        except ReviewError as error:
            raise InvalidUsage(str(error)) from None
        return redirect(query_url("/inbox", {"show": form.get("show", "open"),
                                             "page": form.get("page", ""),
                                             "q": form.get("q", "")}))

    @bp.post("/inbox/export.yml")
    @requires("reviewer")
    async def export(request: Request) -> HTTPResponse:
        app = request.app
        text, count = await run_sync(export_yaml, app.ctx.console, app.ctx.settings.project_dir)
        await run_sync(audit.record, app.ctx.console, request.ctx.staff.name, "export_nlu",
                       "reviewed.yml", {"examples": count})
        return raw(text.encode("utf-8"), content_type="application/x-yaml; charset=utf-8",
                   headers={"Content-Disposition": 'attachment; filename="reviewed.yml"'})

    return bp
