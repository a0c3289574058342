"""The overview: conversations, messages and enquiries per day, rates, top intents
and the confidence distribution, as server-rendered SVG charts."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, redirect

from console import charts
from console.health import instance_health
from console.overview import PERIODS, overview
from console.tracker import refresh
from console.web import render, requires, run_sync


def _days(request: Request) -> int:
    try:
        days = int(request.args.get("days", "30"))
    except ValueError:
        days = 30
    return days if days in PERIODS else 30


async def _numbers(request: Request, days: int) -> dict:
    app = request.app
    await run_sync(refresh, app.ctx.tracker, app.ctx.console)
    return await run_sync(overview, app.ctx.console, app.ctx.enquiry_db, days)


def blueprint() -> Blueprint:
    bp = Blueprint("overview")

    @bp.get("/")
    @requires("reviewer")
    async def home(request: Request) -> HTTPResponse:
        return redirect("/overview")

    @bp.get("/overview")
    @requires("reviewer")
    async def page(request: Request) -> HTTPResponse:
        days = _days(request)
        numbers = await _numbers(request, days)
        short = lambda points: [(day[5:], value) for day, value in points]  # noqa: E731
        figures = {
            "conversations": charts.column_chart(
                "Conversations per day", short(numbers["conversations_per_day"])),
            "messages": charts.column_chart("User messages per day", short(numbers["messages_per_day"])),
            "enquiries": charts.column_chart("Enquiries per day", short(numbers["enquiries_per_day"])),
            "rates": charts.column_chart("Share of conversations", numbers["rates"],
                                         percent=True, label_every=1),
            "intents": charts.bar_list("Top intents", numbers["top_intents"]),
            "confidence": charts.column_chart(
                "NLU confidence of user messages", numbers["confidence"], label_every=1),
        }
        health = await instance_health(request.app.ctx.settings.rasa_ready_urls)
        return render(request, "overview.html", numbers=numbers, figures=figures,
                      periods=PERIODS, health=health)

    @bp.get("/api/health")
    @requires("reviewer")
    async def health_api(request: Request) -> HTTPResponse:
        return json(await instance_health(request.app.ctx.settings.rasa_ready_urls))

    @bp.get("/api/overview")
    @requires("reviewer")
    async def api(request: Request) -> HTTPResponse:
        return json(await _numbers(request, _days(request)))

    return bp
