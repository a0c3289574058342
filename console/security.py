"""Staff accounts, passwords, sessions, CSRF tokens and login throttling.

Passwords are hashed with scrypt (hashlib, OpenSSL) at a cost that takes tens of
milliseconds. Session cookies hold a random token; the database keeps only its
sha256, so a copy of the table logs nobody in. Each session has its own CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from console.db import login_failures, staff_sessions, staff_users
from console.settings import ROLES, Settings

# scrypt cost: N=2^14, r=8 (16 MiB, ~50 ms here); stored with each hash so it can grow.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 12
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
# Checked against when the account does not exist, so both cases take as long.
_DUMMY_HASH: Optional[str] = None


class AccountError(ValueError):
    """A staff account cannot be created as asked; the message says why."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
        maxmem=64 * 1024 * 1024, dklen=32,
    )
    encode = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt)}${encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
            p=int(p), maxmem=64 * 1024 * 1024, dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip() != password:
        raise AccountError("the password must not start or end with spaces")


def check_name(name: str) -> str:
    name = (name or "").strip().lower()
    if not (2 <= len(name) <= 100) or not set(name) <= NAME_CHARS:
        raise AccountError(
            "a user name has 2-100 characters: letters, digits, '.', '_' or '-'"
        )
    return name


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def fingerprint(secret: str, value: str) -> str:
    """A keyed hash standing in for a personal detail in the audit log."""
    return hmac.new(secret.encode(), value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


# ---------------------------------------------------------------- accounts


def add_user(engine: Engine, name: str, role: str, password: str) -> int:
    name = check_name(name)
    if role not in ROLES:
        raise AccountError(f"the role must be one of: {', '.join(ROLES)}")
    check_new_password(password)
    try:
        with engine.begin() as connection:
            return connection.execute(
                insert(staff_users).values(
                    name=name, role=role, password_hash=hash_password(password),
                    created_at=time.time(), disabled=False,
                )
            ).inserted_primary_key[0]
    except IntegrityError:
        raise AccountError(f"there is already a user called {name!r}") from None


def list_users(engine: Engine) -> List[Dict[str, Any]]:
    with engine.connect() as connection:
        return [
            dict(row)
            for row in connection.execute(
                select(staff_users.c.id, staff_users.c.name, staff_users.c.role,
                       staff_users.c.created_at, staff_users.c.disabled)
                .order_by(staff_users.c.name)
            ).mappings()
        ]


@dataclass(frozen=True)
class Staff:
    id: int
    name: str
    role: str

    def can(self, role: str) -> bool:
        """Coordinators can do everything reviewers can."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class LoginResult:
    staff: Optional[Staff] = None
    throttled: bool = False


def _failures(connection: Any, kind: str, key: str, since: float) -> int:
    return connection.execute(
        select(func.count()).select_from(login_failures).where(
            and_(login_failures.c.kind == kind, login_failures.c.key == key,
                 login_failures.c.at >= since)
        )
    ).scalar() or 0


def authenticate(
    engine: Engine, settings: Settings, name: str, password: str, address: str
) -> LoginResult:
    """Checks a login, counting failures per account and per address.

    While either count is at its limit within the window, the password is not even
    checked, so guessing gains nothing; a success clears the account's failures.
    """
    global _DUMMY_HASH
    now = time.time()
    name = (name or "").strip().lower()[:100]
    since = now - settings.failure_window_seconds
    with engine.connect() as connection:
        if (
            _failures(connection, "account", name, since) >= settings.max_failures_per_account
            or _failures(connection, "address", address, since)
            >= settings.max_failures_per_address
        ):
            return LoginResult(throttled=True)
        row = connection.execute(
            select(staff_users).where(staff_users.c.name == name)
        ).mappings().first()
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(8))
    ok = verify_password(password or "", row["password_hash"] if row else _DUMMY_HASH)
    with engine.begin() as connection:
        if ok and row and not row["disabled"]:
            connection.execute(
                delete(login_failures).where(
                    and_(login_failures.c.kind == "account", login_failures.c.key == name)
                )
            )
            return LoginResult(Staff(row["id"], row["name"], row["role"]))
        connection.execute(
            insert(login_failures),
            [
                {"kind": "account", "key": name, "at": now},
                {"kind": "address", "key": address[:255], "at": now},
            ],
        )
        connection.execute(delete(login_failures).where(login_failures.c.at < now - 86400))
    return LoginResult()


# ---------------------------------------------------------------- sessions


def start_session(engine: Engine, settings: Settings, staff: Staff) -> str:
    """A new session for ``staff``; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with engine.begin() as connection:
        connection.execute(delete(staff_sessions).where(staff_sessions.c.expires_at < now))
        connection.execute(
            insert(staff_sessions).values(
                token_hash=token_hash(token), user_id=staff.id,
                csrf_token=secrets.token_urlsafe(32), created_at=now,
                expires_at=now + settings.session_hours * 3600,
            )
        )
    return token


def load_session(engine: Engine, token: str) -> Optional[Dict[str, Any]]:
    """The staff member and CSRF token of a live session, or None."""
    if not token or len(token) > 200:
        return None
    query = (
        select(staff_sessions.c.csrf_token, staff_users.c.id, staff_users.c.name,
               staff_users.c.role, staff_users.c.disabled)
        .join(staff_users, staff_users.c.id == staff_sessions.c.user_id)
        .where(staff_sessions.c.token_hash == token_hash(token),
               staff_sessions.c.expires_at > time.time())
    )
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    if not row or row["disabled"]:
        return None
    return {"staff": Staff(row["id"], row["name"], row["role"]), "csrf": row["csrf_token"]}


def end_session(engine: Engine, token: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            delete(staff_sessions).where(staff_sessions.c.token_hash == token_hash(token))
        )


def end_sessions_of(engine: Engine, user_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(delete(staff_sessions).where(staff_sessions.c.user_id == user_id))


def tokens_match(expected: Optional[str], given: Optional[str]) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


