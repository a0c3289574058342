"""Reading settings from the environment, the same way in every part.

The action server, Rasa's infrastructure add-ons, the channels and the staff console
each read their own variables, but a bad value must get the same clear refusal
everywhere: one that names the variable and says what would do, never a bare
``could not convert string to float``. This module lives in ``actions/`` because
every image (Rasa, action server, console) ships that folder.
"""
from __future__ import annotations

import math
from typing import Mapping, Optional, Union

TRUE_WORDS = ("1", "true", "yes", "on")


class EnvValueError(ValueError):
    """A value in the environment that cannot be used; the message names the variable."""


def env_number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float = 0.0,
    above_minimum: bool = False,
    whole: bool = False,
    unit: str = "",
) -> Union[int, float]:
    """``env[name]`` as a number, or ``default`` when it is unset or blank.

    ``minimum`` is allowed unless ``above_minimum``; ``whole`` refuses fractions and
    returns an int. ``unit`` words the message ("seconds", "messages per minute").
    """
    raw = (env.get(name) or "").strip()
    if not raw:
        return int(default) if whole else default
    kind = "whole number" if whole else "number"
    wanted = f"a {kind} of {unit}" if unit else f"a {kind}"
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    # float() also takes "nan" and "inf", which no setting here can mean.
    if not math.isfinite(value) or (whole and not value.is_integer()):
        raise EnvValueError(f"{name}={raw!r} is not {wanted}")
    if value < minimum or (above_minimum and value == minimum):
        bound = f"more than {minimum:g}" if above_minimum else f"{minimum:g} or more"
        raise EnvValueError(f"{name}={raw!r} must be {bound}{' ' + unit if unit else ''}")
    return int(value) if whole else value


def env_flag(env: Mapping[str, str], name: str, default: Optional[bool] = False) -> Optional[bool]:
    """``env[name]`` read as yes or no; ``default`` when it is unset or blank."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    return raw in TRUE_WORDS


def sqlalchemy_url(raw: str, default: str = "") -> str:
    """A database URL SQLAlchemy 1.4 accepts.

    Heroku-style hosts and Kubernetes operators often hand out ``postgres://``,
    which SQLAlchemy 1.4 no longer takes.
    """
    url = raw.strip() or default
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url
