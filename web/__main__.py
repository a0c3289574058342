"""`python -m web --host 127.0.0.1 --port 8080 --rasa-url http://127.0.0.1:5005`

Serves the demo page with the chat widget and prints its address.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from typing import List, Optional

from web.app import SetupMissing, create_app
from web.source_page import SourcePageMissing


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m web", description="Serve the demo page with the chat widget."
    )
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("WEB_PORT", "8080"))
    )
    parser.add_argument(
        "--rasa-url",
        default=os.environ.get("WIDGET_RASA_URL", "http://127.0.0.1:5005"),
        help="the Rasa server the widget talks to (its socketio channel)",
    )
    return parser.parse_args(argv)


def port_problem(host: str, port: int) -> Optional[str]:
    """Why we cannot listen on host:port, or None. Sanic only logs a failed bind
    (with a traceback) and returns, so the command checks first and says it plainly."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"unknown host {host!r}: {exc}"
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    # Sanic sets up its own loggers; ours (web.*) gets one handler of its own.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("web").addHandler(handler)
    logging.getLogger("web").setLevel(logging.INFO)
    try:
        app = create_app(rasa_url=args.rasa_url)
    except (SourcePageMissing, SetupMissing, ValueError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    problem = port_problem(args.host, args.port)
    if problem:
        print(
            f"ERROR: cannot listen on {args.host}:{args.port}: {problem}. "
            "Choose another with --port (make web WEB_PORT=...).",
            file=sys.stderr,
        )
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Demo page with the chat widget: http://{host}:{args.port}/", flush=True)
    print(f"The widget talks to Rasa at {args.rasa_url}", flush=True)
    try:
        app.run(host=args.host, port=args.port, access_log=False, motd=False)
    except OSError as exc:
        print(
            f"ERROR: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
