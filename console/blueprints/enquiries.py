"""Callback enquiries for coordinators: the list, status changes with notes and
history, revealing contact details, and the CSV export (audited)."""

from __future__ import annotations

import math
import time

from sanic import Blueprint, Request
from sanic.exceptions import InvalidUsage, NotFound
from sanic.response import HTTPResponse, json, raw, redirect

from console import audit
from console.enquiries import (
    STATUSES,
    EnquiryError,
    EnquiryFilter,
    change_status,
    get_enquiry,
    history,
    list_enquiries,
    masked,
    to_csv,
)
from console.web import page_number, render, requires, run_sync


def _filters(args) -> EnquiryFilter:
    try:
        return EnquiryFilter.from_args(args)
    except ValueError as error:
        raise InvalidUsage(str(error)) from None


def blueprint() -> Blueprint:
    bp = Blueprint("enquiries")

    async def _list(request: Request, filters: EnquiryFilter):
        app = request.app
        return await run_sync(list_enquiries, app.ctx.enquiry_db, app.ctx.console, filters)

    @bp.get("/enquiries")
    @requires("coordinator")
    async def index(request: Request) -> HTTPResponse:
        filters = _filters(request.args)
        rows = await _list(request, filters)
        size = request.app.ctx.settings.page_size
        page = page_number(request)
        return render(
            request, "enquiries.html", rows=[masked(r) for r in rows[(page - 1) * size: page * size]],
            total=len(rows), page=page, pages=max(1, math.ceil(len(rows) / size)),
            filters=filters, args=filters.query_args(), statuses=STATUSES,
        )

    @bp.get("/api/enquiries")
    @requires("coordinator")
    async def api_index(request: Request) -> HTTPResponse:
        rows = await _list(request, _filters(request.args))
        keep = ("id", "reference", "created_ts", "status", "hospital", "enquiry_aim",
                "call_time", "channel", "conversation_id", "notes")
        return json({"enquiries": [{k: r.get(k) for k in keep} for r in rows]})

    async def _detail(request: Request, enquiry_id: int, reveal: bool) -> HTTPResponse:
        app = request.app
        row = await run_sync(get_enquiry, app.ctx.enquiry_db, app.ctx.console, enquiry_id)
        if not row:
            raise NotFound("There is no enquiry with that id (it may have been deleted).")
        return render(
            request, "enquiry.html", enquiry=row if reveal else masked(row), revealed=reveal,
            history=await run_sync(history, app.ctx.console, enquiry_id), statuses=STATUSES,
        )

    @bp.get("/enquiries/<enquiry_id:int>")
    @requires("coordinator")
    async def detail(request: Request, enquiry_id: int) -> HTTPResponse:
        return await _detail(request, enquiry_id, reveal=False)

    @bp.post("/enquiries/<enquiry_id:int>/reveal")
    @requires("coordinator")
    async def reveal(request: Request, enquiry_id: int) -> HTTPResponse:
        await run_sync(audit.record, request.app.ctx.console, request.ctx.staff.name,
                       "reveal", f"enquiry:{enquiry_id}", {})
        return await _detail(request, enquiry_id, reveal=True)

    @bp.post("/enquiries/<enquiry_id:int>/status")
    @requires("coordinator")
    async def status(request: Request, enquiry_id: int) -> HTTPResponse:
        app = request.app
        form = request.form or {}
        row = await run_sync(get_enquiry, app.ctx.enquiry_db, app.ctx.console, enquiry_id)
        if not row:
            raise NotFound("There is no enquiry with that id (it may have been deleted).")
        notes = form.get("notes")
        try:
            changed = await run_sync(change_status, app.ctx.console, enquiry_id,
                                     (form.get("status") or "").strip(), notes,
                                     request.ctx.staff.name)
        except EnquiryError as error:
            raise InvalidUsage(str(error)) from None
        if changed:
            await run_sync(audit.record, app.ctx.console, request.ctx.staff.name,
                           "enquiry_status", f"enquiry:{enquiry_id}",
                           {"from": row["status"], "to": form.get("status")})
        return redirect(f"/enquiries/{enquiry_id}")

    @bp.post("/enquiries/export.csv")
    @requires("coordinator")
    async def export(request: Request) -> HTTPResponse:
        filters = _filters(request.form or {})
        rows = await _list(request, filters)
        await run_sync(audit.record, request.app.ctx.console, request.ctx.staff.name,
                       "export_enquiries", "csv",
                       {"rows": len(rows), "filters": filters.query_args()})
        name = time.strftime("enquiries-%Y%m%d-%H%M%S.csv", time.gmtime())
        return raw(to_csv(rows).encode("utf-8"), content_type="text/csv; charset=utf-8",
                   headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return bp
