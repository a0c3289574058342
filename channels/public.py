"""The public web channels (REST and the widget's socketio).

They are Rasa's own channels, kept under names that stay `rest` and `socketio`, so
that guards for public traffic have one place to live.
"""
from __future__ import annotations

import inspect
import logging
import os
import re
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request

from channels.rate_limit import RATE_LIMITED_REPLY, PublicRateLimits

logger = logging.getLogger(__name__)

ALLOWED_ORIGINS_ENV = "WIDGET_ALLOWED_ORIGINS"
# The demo page that `make run` serves (web/, port 8080), by both of its names.
DEFAULT_ALLOWED_ORIGINS = ("http://127.0.0.1:8080", "http://localhost:8080")
# What a widget may ask to resume: Rasa's own ids are 32 hex digits (uuid4().hex).
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


MAX_SENDER_LENGTH = 128
# The input normaliser (nlp/input_guard.py) cuts long messages to 1,000 characters
# with a note; this only refuses what no person types into a chat.
MAX_MESSAGE_LENGTH = 100_000


def webhook_body_problem(body: Any) -> Optional[str]:
    """Why a REST webhook body cannot be a user's message, or None when it can.

    Rasa's own handler answers a body of the wrong shape with 200 and no reply, or
    with a 500; a client deserves to be told what to fix.
    """
    if not isinstance(body, dict):
        return "the body must be a JSON object like {\"sender\": \"...\", \"message\": \"...\"}"
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        return "\"sender\" must be a non-empty string (the conversation id)"
    if len(sender) > MAX_SENDER_LENGTH:
        return f"\"sender\" must be at most {MAX_SENDER_LENGTH} characters"
    message = body.get("message")
    if not isinstance(message, str):
        return "\"message\" must be a string"
    if len(message) > MAX_MESSAGE_LENGTH:
        return f"\"message\" must be at most {MAX_MESSAGE_LENGTH} characters"
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return "\"metadata\" must be a JSON object when given"
    return None


_LONE_SURROGATES = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """JSON's \\ud800 escapes give strings no UTF-8 can hold; they become U+FFFD, so
    the rest of the message is still read and stored."""
    return _LONE_SURROGATES.sub("\ufffd", text)


def client_address(request: Request) -> Optional[str]:
    """The client's address: from X-Forwarded-For only when Sanic is told to trust
    a proxy (SANIC_PROXIES_COUNT), so a client cannot pick its own address."""
    return request.remote_addr or request.ip or None


def rate_limited_reply(sender: str) -> List[Dict[str, str]]:
    return [{"recipient_id": sender, "text": RATE_LIMITED_REPLY}]


class PublicRestInput(RestInput):
    """Rasa's REST channel at /webhooks/rest/webhook, with two guards in front.

    - A body that is not ``{"sender": str, "message": str}`` gets a 400 with the
      reason, before Rasa sees it.
    - Over the per-sender or per-address rate limit (channels/rate_limit.py), the
      answer is a 429 carrying the friendly reply in the usual shape.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rate_limits = PublicRateLimits.from_env()

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.on_request
        async def guard(request: Request) -> Any:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            try:
                body = request.json
            except Exception:  # Sanic's own parse error carries no useful reason
                body = ...
            problem = (
                "the body is not valid JSON in UTF-8" if body is ... else webhook_body_problem(body)
            )
            if problem:
                return response.json({"error": problem}, status=400)
            # Rasa reads the same parsed body, so the cleaned text is what it sees.
            body["message"] = without_lone_surrogates(body["message"])
            if not self.rate_limits.allow(body["sender"], client_address(request)):
                logger.warning("REST: a client is over the rate limit")
                return response.json(
                    rate_limited_reply(body["sender"]),
                    status=429,
                    headers={"Retry-After": "60"},
                )
            return None

        return webhook


def allowed_origins_from_env(value: Optional[str]) -> frozenset:
    """The origins named in WIDGET_ALLOWED_ORIGINS (comma-separated), or the defaults.

    Origins are compared exactly as browsers send them (scheme://host[:port], no
    path), so a trailing slash someone adds by habit is dropped here.
    """
    if value is None or not value.strip():
        return frozenset(DEFAULT_ALLOWED_ORIGINS)
    return frozenset(
        part.strip().rstrip("/") for part in value.split(",") if part.strip()
    )


class OriginPolicy:
    """Exact-origin allow-list for the socketio endpoint, with rate-limited logging.

    A browser always sends Origin on a websocket upgrade and on cross-origin polling,
    so a page on another site cannot open a conversation through a visitor's browser.
    Requests without Origin (same-origin polling, non-browser clients) are let through:
    a non-browser client can send any Origin it likes, so refusing them adds nothing.
    """

    LOG_EVERY_SECONDS = 60.0

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(allowed)
        self._last_logged: Dict[str, float] = {}

    def __call__(self, origin: Optional[str], environ: Any = None) -> bool:
        if not origin or origin in self.allowed:
            return True
        self._log_refusal(origin)
        return False

    def _log_refusal(self, origin: str) -> None:
        # engineio asks twice per refused request (check, then CORS headers), and a
        # hostile page can retry in a loop: one line per origin per minute is enough.
        now = time.monotonic()
        last = self._last_logged.get(origin)
        if last is not None and now - last < self.LOG_EVERY_SECONDS:
            return
        if len(self._last_logged) > 1000:
            self._last_logged.clear()
        self._last_logged[origin] = now
        logger.warning(
            "Refused a socketio connection from origin %r: not in %s (allowed: %s)",
            origin[:200],
            ALLOWED_ORIGINS_ENV,
            ", ".join(sorted(self.allowed)) or "none",
        )


def session_id_to_use(data: Any) -> str:
    """The session a widget resumes (``session_request``'s ``session_id``), or a new one.

    Anything that is not a plausible id (missing, not a string, too short to be
    unguessable, odd characters) gets a fresh id instead, so a conversation id in the
    tracker store is never something a client made up to collide with another's.
    """
    requested = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(requested, str) and SESSION_ID.match(requested):
        return requested
    return uuid.uuid4().hex


UNREADABLE_MESSAGE = (
    "Sorry, I could not read that message. Please type your question again."
)


class PublicSocketIOInput(SocketIOInput):
    """Rasa's socketio channel at /socket.io, used by the website widget.

    Session persistence: Rasa 3.6's ``session_request`` handler calls
    ``sio.enter_room`` without awaiting it, but python-socketio 5.x (5.18 here) made
    it a coroutine, so the socket never joins its session's room and every reply,
    sent to that room, is lost. The handler is replaced here with one that awaits it.

    Rasa builds its socketio server with ``cors_allowed_origins=[]``, which turns off
    both engineio's origin check and its CORS headers. Here the allow-list from
    WIDGET_ALLOWED_ORIGINS goes back in: engineio then refuses any other origin before
    a connection is made (polling and websocket alike) and answers the allowed ones
    with CORS headers, so the widget on the page server's origin can poll Rasa without
    `rasa run --cors`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.origin_policy = OriginPolicy(
            allowed_origins_from_env(os.environ.get(ALLOWED_ORIGINS_ENV))
        )
        self.rate_limits = PublicRateLimits.from_env()

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        assert self.sio is not None  # set by SocketIOInput.blueprint
        self.sio.eio.cors_allowed_origins = self.origin_policy
        self._replace_session_request(self.sio)
        self._guard_user_messages(self.sio)
        logger.info(
            "socketio accepts browser connections from: %s",
            ", ".join(sorted(self.origin_policy.allowed)),
        )
        return socketio_webhook

    def _replace_session_request(self, sio: Any) -> None:
        namespace = self.namespace
        persistent = self.session_persistence

        async def session_request(sid: str, data: Optional[Dict]) -> None:
            session_id = session_id_to_use(data)
            if persistent:
                entered = sio.enter_room(sid, session_id, namespace=namespace)
                if inspect.isawaitable(entered):  # python-socketio 5.x; 4.x was sync
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            logger.debug("socketio client %s joined its session", sid)

        sio.on("session_request", namespace=namespace)(session_request)

    def _guard_user_messages(self, sio: Any) -> None:
        """Puts the shape check and the rate limits in front of Rasa's handler for
        the widget's messages; both answer on the socket, never silently."""
        namespace = self.namespace or "/"
        handle_message = sio.handlers[namespace][self.user_message_evt]
        reply_event = self.bot_message_evt

        async def guarded(sid: str, data: Any) -> None:
            if (
                not isinstance(data, dict)
                or not isinstance(data.get("message", ""), str)
                or not isinstance(data.get("session_id", ""), str)
                or not isinstance(data.get(self.metadata_key, {}), dict)
            ):
                await sio.emit(
                    reply_event, {"text": UNREADABLE_MESSAGE}, room=sid, namespace=namespace
                )
                return
            environ = sio.get_environ(sid, namespace=namespace) or {}
            request = environ.get("sanic.request")
            address = client_address(request) if request is not None else None
            if not self.rate_limits.allow(data.get("session_id") or sid, address):
                logger.warning("socketio: a client is over the rate limit")
                await sio.emit(
                    reply_event, {"text": RATE_LIMITED_REPLY}, room=sid, namespace=namespace
                )
                return
            if "message" in data:
                data["message"] = without_lone_surrogates(data["message"])
            await handle_message(sid, data)

        sio.on(self.user_message_evt, namespace=namespace)(guarded)
