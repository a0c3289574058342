"""Every setting of the custom actions, read from the environment in this one place.

Each variable is listed, with its default, in the README's Configuration table.
``settings()`` reads the environment once per process; tests start the action server
with their own environment instead of changing this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Optional, Tuple

from actions.env_values import env_flag, env_number, sqlalchemy_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB_URL = f"sqlite:///{ROOT / 'var' / 'enquiries.db'}"
DEFAULT_HOSPITALS_FILE = Path(__file__).resolve().parent / "data" / "hospitals.yml"


def _list(value: Optional[str]) -> Tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    # Where enquiries are stored: SQLite under var/ unless a SQLAlchemy URL is given.
    db_url: str = DEFAULT_DB_URL
    # Days an enquiry is kept before it is deleted; the consent question says so.
    retention_days: int = 90
    hospitals_file: Path = DEFAULT_HOSPITALS_FILE
    # Staff notification by email: sent only when host, sender and recipients are all set.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = ""
    smtp_to: Tuple[str, ...] = ()
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    # Staff notification as a JSON POST; an optional bearer token authenticates it.
    webhook_url: str = ""
    webhook_token: str = ""
    # Whether notifications carry the caller's name, phone and email, or only the
    # reference (staff then read the details from the enquiries database).
    notify_contact_details: bool = False
    notify_timeout_seconds: float = 10.0
    # How often the action server retries notifications left in the outbox.
    outbox_retry_seconds: float = 60.0
    # Where enquiries wait when the database is down at submit, and how often the
    # action server tries to store them (actions/enquiry_spool.py).
    spool_dir: Path = ROOT / "var" / "enquiry-spool"
    spool_retry_seconds: float = 30.0

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_from and self.smtp_to)

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_url)

    @property
    def notifiers(self) -> Tuple[str, ...]:
        """The notification channels in use, in the order they are tried."""
        return tuple(
            name
            for name, enabled in (
                ("email", self.email_enabled),
                ("webhook", self.webhook_enabled),
            )
            if enabled
        )


def load_settings(env: Optional[Mapping[str, str]] = None) -> Settings:
    """Settings from ``env`` (the process environment by default)."""
    env = os.environ if env is None else env
    return Settings(
        db_url=sqlalchemy_url(env.get("ENQUIRY_DB_URL", ""), DEFAULT_DB_URL),
        retention_days=env_number(env, "ENQUIRY_RETENTION_DAYS", 90, minimum=1, whole=True, unit="days"),
        hospitals_file=Path(
            env.get("ENQUIRY_HOSPITALS_FILE", "").strip() or DEFAULT_HOSPITALS_FILE
        ),
        smtp_host=env.get("ENQUIRY_SMTP_HOST", "").strip(),
        smtp_port=env_number(env, "ENQUIRY_SMTP_PORT", 25, minimum=1, whole=True),
        smtp_from=env.get("ENQUIRY_SMTP_FROM", "").strip(),
        smtp_to=_list(env.get("ENQUIRY_SMTP_TO")),
        smtp_starttls=env_flag(env, "ENQUIRY_SMTP_STARTTLS"),
        smtp_user=env.get("ENQUIRY_SMTP_USER", "").strip(),
        smtp_password=env.get("ENQUIRY_SMTP_PASSWORD", ""),
        webhook_url=env.get("ENQUIRY_WEBHOOK_URL", "").strip(),
        webhook_token=env.get("ENQUIRY_WEBHOOK_TOKEN", "").strip(),
        notify_contact_details=env_flag(env, "ENQUIRY_NOTIFY_CONTACT_DETAILS"),
        notify_timeout_seconds=env_number(
            env, "ENQUIRY_NOTIFY_TIMEOUT", 10.0, minimum=0.1, unit="seconds"
        ),
        outbox_retry_seconds=env_number(
            env, "ENQUIRY_OUTBOX_RETRY_SECONDS", 60.0, minimum=0.1, unit="seconds"
        ),
        spool_dir=Path(env.get("ENQUIRY_SPOOL_DIR", "").strip() or ROOT / "var" / "enquiry-spool"),
        spool_retry_seconds=env_number(
            env, "ENQUIRY_SPOOL_RETRY_SECONDS", 30.0, minimum=0.1, unit="seconds"
        ),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings of this process, read once."""
    return load_settings()
