"""`python -m console`: serve the console, manage staff accounts, purge and erase.

    python -m console serve [--host 127.0.0.1] [--port 8081]
    python -m console users add NAME --role reviewer|coordinator [--password-stdin]
    python -m console users list
    python -m console purge [--older-than DAYS]
    python -m console erase --conversation ID | --phone P | --email E
    python -m console audit verify
    python -m console export-nlu [--out data/nlu/reviewed.yml]
    python -m console refresh
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

from console.settings import ROLES, Settings, load_settings

CLI_ACTOR = "cli:" + (os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown")


def _logging(level: int = logging.INFO) -> None:
    from console.web import RequestIdFilter

    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Sanic's access log prints raw paths and query strings (search text): off.
    logging.getLogger("sanic.access").disabled = True


def _engines(settings: Settings):
    from console.db import console_engine, engine_for

    return (
        engine_for(settings.tracker_db_url),
        engine_for(settings.enquiry_db_url),
        console_engine(settings.console_db_url),
    )


def serve(settings: Settings, host: str, port: int) -> int:
    from console.app import create_app

    _logging()
    app = create_app(settings)
    print(f"Staff console: http://{host}:{port}/  (log in with an account from "
          "`python -m console users add NAME`)", flush=True)
    app.run(host=host, port=port, access_log=False, motd=False, workers=1)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Again: ")
    if first != second:
        raise SystemExit("error: the passwords differ; nothing was changed")
    return first


def users(settings: Settings, args: argparse.Namespace) -> int:
    from console import audit
    from console.security import AccountError, add_user, list_users

    _, _, console = _engines(settings)
    if args.users_command == "add":
        try:
            user_id = add_user(console, args.name, args.role, _read_password(args.password_stdin))
        except AccountError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        audit.record(console, CLI_ACTOR, "user_add", f"user:{user_id}", {"role": args.role})
        print(f"Added {args.name.strip().lower()} ({args.role}).")
        return 0
    rows = list_users(console)
    if not rows:
        print("No staff accounts yet. Add one with: python -m console users add NAME --role coordinator")
    for row in rows:
        created = time.strftime("%Y-%m-%d", time.gmtime(row["created_at"]))
        state = " (disabled)" if row["disabled"] else ""
        print(f"{row['name']:<24} {row['role']:<12} created {created}{state}")
    return 0


def purge(settings: Settings, days: Optional[int]) -> int:
    from console.retention import EraseError, purge as run_purge

    tracker, _, console = _engines(settings)
    days = settings.retention_days if days is None else days
    try:
        removed = run_purge(tracker, console, days, CLI_ACTOR)
    except EraseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Purged conversations with no activity for {days} days: "
          f"{len(removed.conversations)} conversations, {removed.events} events.")
    return 0


def erase(settings: Settings, args: argparse.Namespace) -> int:
    from console.retention import EraseError, erase as run_erase

    tracker, enquiry_db, console = _engines(settings)
    try:
        removed = run_erase(tracker, enquiry_db, console, settings.secret_key, CLI_ACTOR,
                            conversation=args.conversation, phone=args.phone, email=args.email)
    except EraseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Erased {len(removed.conversations)} conversations ({removed.events} events) "
          f"and {removed.enquiries} enquiries.")
    if not removed.conversations and not removed.enquiries:
        print("Nothing matched: no conversation or enquiry holds that.")
    return 0


def audit_verify(settings: Settings) -> int:
    from console import audit

    _, _, console = _engines(settings)
    result = audit.verify(console)
    if result.ok:
        print(f"OK: the audit log's hash chain is intact ({result.rows} entries).")
        return 0
    print(f"BROKEN at entry {result.first_bad_id}: {result.problem}.", file=sys.stderr)
    return 1


def export_nlu(settings: Settings, out: Optional[str]) -> int:
    from console import audit
    from console.inbox import export_yaml

    _, _, console = _engines(settings)
    text, count = export_yaml(console, settings.project_dir)
    audit.record(console, CLI_ACTOR, "export_nlu", out or "stdout", {"examples": count})
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text)
        print(f"Wrote {count} reviewed examples to {out}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def refresh(settings: Settings) -> int:
    from console.tracker import refresh as run_refresh

    tracker, _, console = _engines(settings)
    result = run_refresh(tracker, console)
    print(f"Summarised {result.senders} conversations in {result.seconds:.2f}s.")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m console", description="The staff console.")
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the web console")
    run.add_argument("--host", default=os.environ.get("CONSOLE_HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("CONSOLE_PORT", "8081")))
    accounts = commands.add_parser("users", help="staff accounts")
    account_commands = accounts.add_subparsers(dest="users_command", required=True)
    add = account_commands.add_parser("add", help="add a staff account")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="reviewer")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin (for scripts)")
    account_commands.add_parser("list", help="list staff accounts")
    old = commands.add_parser("purge", help="delete conversations past the retention period")
    old.add_argument("--older-than", type=int, metavar="DAYS",
                     help="days without activity (default CONSOLE_RETENTION_DAYS)")
    wipe = commands.add_parser("erase", help="remove one person's conversations and enquiries")
    which = wipe.add_mutually_exclusive_group(required=True)
    which.add_argument("--conversation", metavar="ID")
    which.add_argument("--phone", metavar="P")
    which.add_argument("--email", metavar="E")
    check = commands.add_parser("audit", help="the audit log")
    check.add_argument("audit_command", choices=["verify"])
    export = commands.add_parser("export-nlu", help="write the reviewed NLU examples")
    export.add_argument("--out", help="file to write (default: standard output)")
    commands.add_parser("refresh", help="bring the conversation summaries up to date")
    return top


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return serve(settings, args.host, args.port)
    logging.basicConfig(level=logging.WARNING)
    if args.command == "users":
        return users(settings, args)
    if args.command == "purge":
        return purge(settings, args.older_than)
    if args.command == "erase":
        return erase(settings, args)
    if args.command == "audit":
        return audit_verify(settings)
    if args.command == "export-nlu":
        return export_nlu(settings, args.out)
    return refresh(settings)


if __name__ == "__main__":
    sys.exit(main())
