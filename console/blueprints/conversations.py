"""The conversation list with its filters, and chat-style transcripts.

Transcripts are masked for everyone; a coordinator may reveal one (a POST with the
CSRF token), which is written to the audit log before anything is shown.
"""

from __future__ import annotations

import math

from sanic import Blueprint, Request
from sanic.exceptions import InvalidUsage, NotFound
from sanic.response import HTTPResponse, json

from console import audit
from console.enquiries import EnquiryFilter, list_enquiries
from console.inbox import known_intents
from console.masking import mask_text
from console.security import fingerprint
from console.tracker import (
    ConversationFilter,
    channels,
    list_conversations,
    load_events,
    refresh,
    summary_of,
    transcript,
)
from console.web import page_number, render, requires, run_sync


def _filters(request: Request) -> ConversationFilter:
    try:
        return ConversationFilter.from_args(request.args)
    except ValueError as error:
        raise InvalidUsage(str(error)) from None


async def _page(request: Request):
    app = request.app
    settings = app.ctx.settings
    filters = _filters(request)
    page = page_number(request)
    await run_sync(refresh, app.ctx.tracker, app.ctx.console)
    rows, total = await run_sync(
        list_conversations, app.ctx.console, filters, page, settings.page_size,
        settings.low_confidence,
    )
    return filters, page, rows, total


def _audit_target(request: Request, sender_id: str) -> str:
    """A conversation id, unless it is itself a personal detail (a phone number is
    the sender id on some channels): then its fingerprint."""
    if mask_text(sender_id) == sender_id:
        return sender_id
    return "fp:" + fingerprint(request.app.ctx.settings.secret_key, sender_id)


def blueprint() -> Blueprint:
    bp = Blueprint("conversations")

    @bp.get("/conversations")
    @requires("reviewer")
    async def index(request: Request) -> HTTPResponse:
        filters, page, rows, total = await _page(request)
        settings = request.app.ctx.settings
        return render(
            request, "conversations.html", rows=rows, total=total, page=page,
            pages=max(1, math.ceil(total / settings.page_size)), filters=filters,
            args=filters.query_args(),
            channels=await run_sync(channels, request.app.ctx.console),
            intents=known_intents(settings.project_dir).labels,
        )

    @bp.get("/api/conversations")
    @requires("reviewer")
    async def api_index(request: Request) -> HTTPResponse:
        filters, page, rows, total = await _page(request)
        return json({"total": total, "page": page, "conversations": rows})

    async def show(request: Request, sender_id: str, reveal: bool) -> HTTPResponse:
        app = request.app
        if not sender_id:
            raise InvalidUsage("Which conversation? The address needs ?id=...")
        await run_sync(refresh, app.ctx.tracker, app.ctx.console)
        raw = await run_sync(load_events, app.ctx.tracker, sender_id)
        if not raw:
            raise NotFound("There is no conversation with that id (it may have been erased).")
        summary = await run_sync(summary_of, app.ctx.console, sender_id)
        known = []
        enquiry_rows = []
        if request.ctx.staff.can("coordinator"):
            enquiry_rows = await run_sync(
                list_enquiries, app.ctx.enquiry_db, app.ctx.console,
                EnquiryFilter(conversation_id=sender_id),
            )
            for row in enquiry_rows:
                known.extend(v for v in (row["full_name"], row["phone_e164"], row["email"]) if v)
        items = transcript(raw, reveal, known, app.ctx.public_numbers)
        return render(
            request, "transcript.html", sender_id=sender_id,
            shown_id=sender_id if reveal else mask_text(sender_id),
            summary=summary, items=items, revealed=reveal, enquiries=enquiry_rows,
        )

    @bp.get("/conversations/view")
    @requires("reviewer")
    async def view(request: Request) -> HTTPResponse:
        return await show(request, request.args.get("id", ""), reveal=False)

    @bp.post("/conversations/reveal")
    @requires("coordinator")
    async def reveal(request: Request) -> HTTPResponse:
        sender_id = (request.form or {}).get("id", "")
        app = request.app
        await run_sync(audit.record, app.ctx.console, request.ctx.staff.name, "reveal",
                       "conversation:" + _audit_target(request, sender_id), {})
        return await show(request, sender_id, reveal=True)

    @bp.get("/api/conversations/view")
    @requires("reviewer")
    async def api_view(request: Request) -> HTTPResponse:
        app = request.app
        sender_id = request.args.get("id", "")
        raw = await run_sync(load_events, app.ctx.tracker, sender_id)
        if not raw:
            raise NotFound("There is no conversation with that id.")
        return json({"id": mask_text(sender_id),
                     "items": transcript(raw, False, (), app.ctx.public_numbers)})

    return bp
