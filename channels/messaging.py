"""What the messaging channels (Twilio, Telegram, Messenger) share.

* Secrets come from the environment, never from credentials.yml, so the same
  credentials.yml serves every deployment. A channel whose secrets are unset logs one
  line saying which are missing and registers no routes: its webhook answers 404.
* A bare number sent after a message with buttons ("2") is read as that button's
  payload. The buttons are read from the conversation's tracker in the tracker
  store, not from this process's memory, so several Rasa instances sharing one
  tracker store agree on what "2" means.
* Each platform's API base URL can be overridden (``*_API_BASE_URL``), for tests
  that answer like the platform on a local port. Unset in production.

Log lines carry no message text and no sender id (a phone number on Twilio).
"""

from __future__ import annotations

import logging
import os
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Text,
)
from urllib.parse import urlsplit, urlunsplit

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request

from channels.formatting import latest_buttons, option_index, payload_for_reply
from channels.rate_limit import RATE_LIMITED_REPLY, PublicRateLimits

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def setting(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def describe_missing(names: Sequence[str]) -> str:
    """ "A is not set" / "A and B are not set" / "A, B and C are not set"."""
    if len(names) == 1:
        return f"{names[0]} is not set"
    return f"{', '.join(names[:-1])} and {names[-1]} are not set"


def rebase_url(url: str, base_url: Optional[str]) -> str:
    """``url`` sent to ``base_url``'s scheme and host instead (its path prefixed by
    the base's path), for pointing a platform client at a local stand-in."""
    if not base_url:
        return url
    base = urlsplit(base_url)
    parts = urlsplit(url)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


class MessagingOutput(OutputChannel):
    """What the platforms' outputs share: quick replies go out as their buttons, and
    custom payloads are not sent (each platform's JSON differs; no response uses one)."""

    #: How the channel is called in log lines ("Twilio").
    title: str = ""

    async def send_quick_replies(
        self,
        recipient_id: Text,
        text: Text,
        quick_replies: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        logger.warning("%s channel: custom payloads are not sent", self.title)


class MessagingInput(InputChannel):
    """Base of the messaging channels: on when its secrets are set, off otherwise."""

    #: How the channel is called in log lines ("Twilio").
    title: str = ""

    def __init__(self, env: Mapping[str, str], problems: Sequence[str] = ()) -> None:
        self.env = dict(env)
        self.problems = list(problems)
        # Per sender only: every webhook comes from the platform's own addresses.
        self.rate_limits = PublicRateLimits.from_env(self.env)

    #: The environment variables that must all be set before the channel can run.
    required_settings: Sequence[str] = ()

    @classmethod
    def missing_settings(cls, env: Mapping[str, str]) -> List[str]:
        """The required settings that are unset; a channel with an either-or need
        (Twilio: one of two numbers) adds to this."""
        return [name for name in cls.required_settings if not setting(env, name)]

    @classmethod
    def invalid_settings(cls, env: Mapping[str, str]) -> List[str]:
        """What is wrong with settings that are set ("TELEGRAM_TOKEN is not ...")."""
        return []

    @classmethod
    def settings_problems(cls, env: Mapping[str, str]) -> List[str]:
        missing = cls.missing_settings(env)
        return ([describe_missing(missing)] if missing else []) + cls.invalid_settings(
            env
        )

    @classmethod
    def from_credentials(
        cls, credentials: Optional[Dict[Text, Any]]
    ) -> "MessagingInput":
        # credentials.yml lists the channel without secrets; they come from here.
        env = dict(os.environ)
        problems = cls.settings_problems(env)
        if problems:
            logger.info("%s channel off: %s", cls.title, "; ".join(problems))
        else:
            logger.info("%s channel on at /webhooks/%s/webhook", cls.title, cls.name())
        return cls(env, problems)

    @property
    def enabled(self) -> bool:
        return not self.problems

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        if not self.enabled:
            # No routes at all: nothing can reach a channel that has no secrets.
            return Blueprint(f"{self.name()}_channel_off")
        return self.channel_blueprint(on_new_message)

    def channel_blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        raise NotImplementedError


async def read_numbered_reply(request: Request, sender_id: str, text: str) -> str:
    """The payload a bare number picks from the bot's latest buttons, or ``text``.

    Only a bare number within the range of the buttons the bot last sent in this
    conversation is replaced; anything else, and any failure to read the tracker,
    leaves the text as the user typed it.
    """
    if option_index(text, 99) is None:
        return text
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return text
    try:
        tracker = await store.retrieve(sender_id)
    except Exception as exc:  # a tracker store outage must not drop the message
        logger.warning(
            "Could not read the tracker for a numbered reply: %s", type(exc).__name__
        )
        return text
    if tracker is None:
        return text
    return payload_for_reply(text, latest_buttons(tracker.events)) or text


async def handle_user_message(
    on_new_message: OnNewMessage,
    message: UserMessage,
    channel_title: str,
    limits: Optional[PublicRateLimits] = None,
) -> bool:
    """Hand a message to Rasa. A failure is logged (without the message) and not
    raised: the platform would retry and the user would get the same error again.

    A sender over the rate limit gets the friendly reply instead, and Rasa never
    sees the message."""
    try:
        if limits is not None and not limits.allow(message.sender_id, None):
            logger.warning("%s: a sender is over the rate limit", channel_title)
            await message.output_channel.send_text_message(
                message.sender_id, RATE_LIMITED_REPLY
            )
            return False
        await on_new_message(message)
        return True
    except Exception as exc:
        logger.error(
            "%s: handling a message failed: %s", channel_title, type(exc).__name__
        )
        logger.debug("Handling a message failed", exc_info=True)
        return False
