"""The action server: rasa-sdk's app, with the checks a server on a network needs.

`rasa run actions` answers a malformed request with a 500 that echoes the request
body (which holds the whole conversation, personal details included) and logs a
traceback; it also listens on 0.0.0.0 unless SANIC_HOST says otherwise. This entry
point keeps rasa-sdk's routes and executor and adds:

* a shape check of every /webhook call, answered with a 400 and a short reason;
* a body size limit (ACTION_SERVER_MAX_BODY_BYTES, 10 MB) and a bounded inflate;
* an error handler that never returns the request or the exception text;
* 127.0.0.1 unless ACTION_SERVER_HOST (or SANIC_HOST) is set, and no CORS, since only
  the Rasa server calls it.

Usage: python -m actions.server [--host H] [--port 5055] [--debug]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import zlib
from typing import Any, Optional

from sanic import Sanic, response
from sanic.request import Request

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


def webhook_problem(body: Any) -> Optional[str]:
    """Why an action call cannot be run, in a few words, or None when its shape is right."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("next_action"), str) or not body["next_action"].strip():
        return "next_action must be a non-empty string"
    tracker = body.get("tracker")
    if not isinstance(tracker, dict):
        return "tracker must be an object"
    if not isinstance(tracker.get("sender_id"), str):
        return "tracker.sender_id must be a string"
    events = tracker.get("events", [])
    if not isinstance(events, list) or not all(
        isinstance(event, dict) and isinstance(event.get("event"), str) for event in events
    ):
        return "tracker.events must be a list of events, each with an 'event' name"
    for key in ("slots", "latest_message", "active_loop"):
        if tracker.get(key) is not None and not isinstance(tracker[key], dict):
            return f"tracker.{key} must be an object"
    if body.get("domain") is not None and not isinstance(body["domain"], dict):
        return "domain must be an object"
    return None


def _decode(request: Request, max_bytes: int) -> Any:
    data = request.body or b""
    if request.headers.get("Content-Encoding") == "deflate":
        inflater = zlib.decompressobj()
        data = inflater.decompress(data, max_bytes + 1)
        if len(data) > max_bytes or inflater.unconsumed_tail:
            raise ValueError("the inflated body is too large")
    return json.loads(data)


def create_action_app(max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Sanic:
    from rasa_sdk.endpoint import create_app

    app = create_app("actions", cors_origins=[])
    app.config.REQUEST_MAX_SIZE = max_body_bytes

    @app.middleware("request")
    async def check_action_call(request: Request):  # type: ignore[no-untyped-def]
        if request.path != "/webhook" or request.method != "POST":
            return None
        declared = request.headers.get("Content-Length", "0")
        if not declared.isdigit() or int(declared) > max_body_bytes:
            return response.json({"error": "the body is too large"}, status=413)
        try:
            body = _decode(request, max_body_bytes)
        except (ValueError, zlib.error, UnicodeDecodeError):
            return response.json({"error": "the body is not valid JSON"}, status=400)
        problem = webhook_problem(body)
        if problem:
            return response.json({"error": problem}, status=400)
        return None

    # Replaces rasa-sdk's handler, which answers with the request body and exception text.
    async def safe_error(request: Request, exception: Exception):  # type: ignore[no-untyped-def]
        status = getattr(exception, "status_code", 500) or 500
        if status >= 500:
            logger.error("Action server error on %s: %s", request.path, type(exception).__name__)
            return response.json({"error": "internal error in the action server"}, status=500)
        reason = str(exception).splitlines()[0][:200] if str(exception) else "bad request"
        return response.json({"error": reason}, status=status)

    app.error_handler.add(Exception, safe_error)
    return app


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description="The kyphoplasty assistant's action server")
    parser.add_argument(
        "--host",
        default=os.environ.get("ACTION_SERVER_HOST") or os.environ.get("SANIC_HOST") or "127.0.0.1",
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_SERVER_PORT", 5055)))
    parser.add_argument("--debug", action="store_true", help="log at DEBUG (personal details stay masked)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)-8s %(name)s - %(message)s",
    )
    max_body = int(os.environ.get("ACTION_SERVER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
    app = create_action_app(max_body)
    logger.info("Action server listening on http://%s:%d", args.host, args.port)
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
