"""Liveness and readiness for load balancers and Kubernetes, as a Rasa input channel.

List it in the credentials file (``infra.health.HealthInput:``) and Rasa serves:

- ``GET /webhooks/health/``: 200 while the process serves HTTP (liveness).
- ``GET /webhooks/health/ready``: 200 only when the model is loaded, one warm-up
  message has gone through the NLU pipeline and the policies, and the tracker store
  and the lock store answer; 503 with the reason otherwise (readiness).

Rasa's own ``/status`` needs the HTTP API, which stays off on public instances, and
``/webhooks/rest/`` answers as soon as the model is loaded, while the first real
message would still pay for TensorFlow's first-call set-up (a second or more here).
The warm-up pays it before the instance is reported ready.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from infra import failures

logger = logging.getLogger(__name__)

WARM_UP_TEXT = "what is balloon kyphoplasty"
PING_TIMEOUT_SECONDS = 3


class WarmUp:
    """Runs one message through the loaded model, without storing anything."""

    def __init__(self) -> None:
        self.done = False
        self.error: Optional[str] = None
        self.seconds: Optional[float] = None

    async def run(self, agent: Any) -> None:
        from rasa.shared.core.events import ActionExecuted, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        start = time.perf_counter()
        try:
            parse = await agent.parse_message(WARM_UP_TEXT)
            if agent.processor is not None:
                tracker = DialogueStateTracker.from_events(
                    "health-warm-up",
                    [
                        ActionExecuted("action_listen"),
                        UserUttered(WARM_UP_TEXT, parse["intent"], parse_data=parse),
                    ],
                    slots=agent.domain.slots,
                )
                agent.processor.predict_next_with_tracker(tracker)
        except Exception as error:  # reported by /ready; the instance stays unready
            self.error = failures.describe(error)
            logger.exception("Warm-up failed.")
            return
        self.seconds = time.perf_counter() - start
        self.done = True
        logger.info("Warm-up message processed in %.2f s; ready.", self.seconds)


async def _store_answers(store: Any) -> Optional[str]:
    """None if the store answers (or cannot be asked), else why not."""
    inner = getattr(store, "_tracker_store", store)  # Rasa's FailSafe wrapper
    ping: Optional[Callable[[], Any]] = getattr(inner, "ping", None)
    if ping is None:
        return None
    try:
        result = ping()
        if inspect.isawaitable(result):
            await asyncio.wait_for(result, PING_TIMEOUT_SECONDS)
    except Exception as error:
        return failures.describe(error)
    return None


class HealthInput(InputChannel):
    """Not a chat channel: only the two health routes above."""

    @classmethod
    def name(cls) -> Text:
        return "health"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        health_webhook = Blueprint("health_webhook", __name__)
        warm_up = WarmUp()

        @health_webhook.listener("after_server_start")
        async def start_warm_up(app: Any, _loop: Any) -> None:
            agent = getattr(app.ctx, "agent", None)
            if agent is not None and agent.is_ready():
                app.add_task(warm_up.run(agent))

        @health_webhook.route("/", methods=["GET"])
        async def live(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @health_webhook.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            checks: Dict[str, Any] = {
                "model": bool(agent is not None and agent.is_ready()),
                "warm_up": warm_up.done,
            }
            problems = []
            if not checks["model"]:
                problems.append("the model is not loaded")
            if warm_up.error:
                problems.append(f"the warm-up message failed ({warm_up.error})")
            elif not warm_up.done:
                problems.append("the warm-up message has not finished")
            if agent is not None:
                for name, store in (
                    ("tracker store", agent.tracker_store),
                    ("lock store", agent.lock_store),
                ):
                    error = await _store_answers(store)
                    checks[name.replace(" ", "_")] = error is None
                    if error:
                        problems.append(f"the {name} does not answer ({error})")
            body = {
                "status": "ready" if not problems else "not ready",
                "checks": checks,
                "problems": problems,
                "warm_up_seconds": warm_up.seconds,
            }
            return response.json(body, status=200 if not problems else 503)

        return health_webhook
