"""Every setting of the staff console, read from the environment in this one place.

Each variable is listed, with its default, in docs/console.md. Tests and the
benchmark pass their own mapping to ``load_settings`` instead of changing this module.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Tuple

from actions.env_values import EnvValueError, env_flag, env_number, sqlalchemy_url
from actions.settings import DEFAULT_DB_URL as DEFAULT_ENQUIRY_DB_URL

ROOT = Path(__file__).resolve().parents[1]
# The same file endpoints.yml names (Rasa resolves it from the project directory).
DEFAULT_TRACKER_DB_URL = f"sqlite:///{ROOT / 'var' / 'tracker.db'}"
# A database of its own rather than the enquiries one: the action server, which
# faces the public, never needs to read staff password hashes or the audit log, and
# the enquiries database's retention job never touches the console's records.
DEFAULT_CONSOLE_DB_URL = f"sqlite:///{ROOT / 'var' / 'console.db'}"
DEFAULT_SECRET_FILE = ROOT / "var" / "console-secret.key"
ROLES = ("reviewer", "coordinator")
DEFAULT_RASA_READY_URL = "http://127.0.0.1:5005/webhooks/health/ready"


def secret_from_file(path: Path) -> str:
    """The key in ``path``, created (owner-only) on first use; var/ is git-ignored."""
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


@dataclass(frozen=True)
class Settings:
    tracker_db_url: str = DEFAULT_TRACKER_DB_URL
    enquiry_db_url: str = DEFAULT_ENQUIRY_DB_URL
    console_db_url: str = DEFAULT_CONSOLE_DB_URL
    # Signs nothing a client holds; it keys the fingerprints that stand in for
    # personal details in the audit log, so they cannot be reversed by guessing.
    secret_key: str = ""
    # Days conversations are kept before `python -m console purge` deletes them.
    retention_days: int = 365
    # User messages predicted below this confidence go to the NLU inbox.
    low_confidence: float = 0.5
    # Where domain.yml and data/nlu/ are read from (the intents the inbox offers).
    project_dir: Path = ROOT
    # Secure cookies: forced on or off here, otherwise on when the request came over TLS.
    secure_cookies: Optional[bool] = None
    session_hours: float = 12.0
    # Failed logins allowed per account and per address within the window.
    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    failure_window_seconds: int = 900
    page_size: int = 50
    # The readiness checks of the Rasa instances (infra/health.py) that the overview's
    # health panel shows: a failing tracker or lock store is reported there.
    rasa_ready_urls: Tuple[str, ...] = (DEFAULT_RASA_READY_URL,)


def load_settings(env: Optional[Mapping[str, str]] = None) -> Settings:
    """Settings from ``env`` (the process environment by default)."""
    env = os.environ if env is None else env
    secret = env.get("CONSOLE_SECRET_KEY", "").strip()
    if not secret:
        secret_file = Path(env.get("CONSOLE_SECRET_FILE", "").strip() or DEFAULT_SECRET_FILE)
        secret = secret_from_file(secret_file)
    low = env_number(env, "CONSOLE_LOW_CONFIDENCE", 0.5)
    if low > 1:
        raise EnvValueError(f"CONSOLE_LOW_CONFIDENCE={low:g} must be between 0 and 1")
    return Settings(
        # The tracker store Rasa itself is given (endpoints.yml reads
        # TRACKER_STORE_URL), unless the console is pointed elsewhere.
        tracker_db_url=sqlalchemy_url(
            env.get("CONSOLE_TRACKER_DB_URL", "") or env.get("TRACKER_STORE_URL", ""),
            DEFAULT_TRACKER_DB_URL,
        ),
        enquiry_db_url=sqlalchemy_url(env.get("ENQUIRY_DB_URL", ""), DEFAULT_ENQUIRY_DB_URL),
        console_db_url=sqlalchemy_url(env.get("CONSOLE_DB_URL", ""), DEFAULT_CONSOLE_DB_URL),
        secret_key=secret,
        retention_days=env_number(env, "CONSOLE_RETENTION_DAYS", 365, minimum=1, whole=True, unit="days"),
        low_confidence=low,
        project_dir=Path(env.get("CONSOLE_PROJECT_DIR", "").strip() or ROOT),
        secure_cookies=env_flag(env, "CONSOLE_SECURE_COOKIES", default=None),
        session_hours=env_number(env, "CONSOLE_SESSION_HOURS", 12.0, minimum=0.1, unit="hours"),
        max_failures_per_account=env_number(env, "CONSOLE_MAX_FAILED_LOGINS", 5, minimum=1, whole=True),
        max_failures_per_address=env_number(
            env, "CONSOLE_MAX_FAILED_LOGINS_PER_ADDRESS", 20, minimum=1, whole=True
        ),
        failure_window_seconds=env_number(
            env, "CONSOLE_LOGIN_WINDOW_SECONDS", 900, minimum=1, whole=True, unit="seconds"
        ),
        rasa_ready_urls=tuple(
            url.strip()
            for url in (env.get("CONSOLE_RASA_READY_URLS", "") or DEFAULT_RASA_READY_URL).split(",")
            if url.strip()
        ),
    )
