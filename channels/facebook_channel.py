"""Facebook Messenger, at /webhooks/facebook/webhook.

Meta checks the webhook once with a GET (``hub.verify_token`` must equal
``FACEBOOK_VERIFY``; the ``hub.challenge`` is echoed back), then POSTs each batch of
events as JSON signed with the app secret. A POST whose ``X-Hub-Signature-256`` (or,
without it, ``X-Hub-Signature``) does not match is refused with 403.

Every messaging event in a batch is handled (Rasa's own channel stops after the
first); echoes, deliveries and read receipts are skipped. Buttons are quick replies:
up to 13, titles up to 20 characters. Longer titles are listed as numbered options
in the text, with the numbers as the quick replies; more than 13 buttons are
numbered options only. Replies over Messenger's 2,000 characters are split.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Iterator, List, Mapping, Optional, Text, Tuple

from fbmessenger import MessengerClient
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.formatting import (
    MESSENGER_LIMIT,
    button_payload,
    button_title,
    split_message,
    with_numbered_options,
)
from channels.messaging import (
    MessagingInput,
    MessagingOutput,
    OnNewMessage,
    handle_user_message,
    read_numbered_reply,
    setting,
)
from channels.signatures import valid_hub_signature

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "21.0"
SEND_TIMEOUT_SECONDS = 10
QUICK_REPLY_LIMIT = 13
QUICK_REPLY_TITLE = 20


def quick_replies(buttons: List[Dict[str, Any]]) -> Tuple[bool, List[Dict[str, str]]]:
    """Messenger quick replies for ``buttons``, and whether the text must list the
    options by number because the titles do not fit."""
    if len(buttons) > QUICK_REPLY_LIMIT:
        return True, []
    numbered = any(len(button_title(b)) > QUICK_REPLY_TITLE for b in buttons)
    replies = [
        {
            "content_type": "text",
            "title": str(number) if numbered else button_title(b),
            "payload": button_payload(b),
        }
        for number, b in enumerate(buttons, 1)
    ]
    return numbered, replies


def messaging_events(payload: Mapping[str, Any]) -> Iterator[Tuple[str, str]]:
    """(sender id, text) for each message or postback from a person, in order."""
    if payload.get("object") != "page":
        return
    for entry in _mappings(payload.get("entry")):
        for event in _mappings(entry.get("messaging")):
            sender = _mapping(event.get("sender")).get("id")
            if not sender:
                continue
            message = _mapping(event.get("message"))
            if message.get("is_echo"):
                continue
            text = (
                _mapping(message.get("quick_reply")).get("payload")
                or message.get("text")
                or _mapping(event.get("postback")).get("payload")
            )
            if isinstance(text, str) and text.strip():
                yield str(sender), text.strip()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _mappings(value: Any) -> List[Mapping[str, Any]]:
    """The objects of a JSON list; anything malformed is skipped, not an error."""
    return (
        [item for item in value if isinstance(item, Mapping)]
        if isinstance(value, list)
        else []
    )


class FacebookOutput(MessagingOutput):
    """Sends replies through the Send API."""

    title = "Messenger"

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    def __init__(self, client: MessengerClient) -> None:
        self.client = client

    async def _send(self, recipient_id: Text, message: Dict[str, Any]) -> bool:
        try:
            result = await asyncio.to_thread(
                self.client.send,
                message,
                recipient_id,
                "RESPONSE",
                timeout=SEND_TIMEOUT_SECONDS,
            )
        except Exception as exc:  # requests' connection and decoding errors
            logger.error("Sending through Messenger failed: %s", type(exc).__name__)
            return False
        error = (result or {}).get("error") if isinstance(result, dict) else None
        if error:
            logger.error("Messenger refused a message: code %s", error.get("code"))
            return False
        return True

    async def send_text_message(
        self, recipient_id: Text, text: Text, **kwargs: Any
    ) -> None:
        for part in split_message(text, MESSENGER_LIMIT):
            if not await self._send(recipient_id, {"text": part}):
                return

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        numbered, replies = quick_replies(buttons)
        if numbered:
            text = with_numbered_options(text, buttons)
        parts = split_message(text, MESSENGER_LIMIT) or [" "]
        for part in parts[:-1]:
            if not await self._send(recipient_id, {"text": part}):
                return
        last: Dict[str, Any] = {"text": parts[-1]}
        if replies:
            last["quick_replies"] = replies
        await self._send(recipient_id, last)

    async def send_image_url(
        self, recipient_id: Text, image: Text, **kwargs: Any
    ) -> None:
        await self._send(
            recipient_id,
            {
                "attachment": {
                    "type": "image",
                    "payload": {"url": image, "is_reusable": True},
                }
            },
        )


class FacebookInput(MessagingInput):
    """Messenger events from Meta, signature-checked."""

    title = "Facebook Messenger"
    required_settings = ("FACEBOOK_VERIFY", "FACEBOOK_SECRET", "FACEBOOK_PAGE_ACCESS_TOKEN")

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    def __init__(self, env: Mapping[str, str], problems: List[str] = ()) -> None:
        super().__init__(env, problems)
        self.verify_token = setting(env, "FACEBOOK_VERIFY")
        self.app_secret = setting(env, "FACEBOOK_SECRET")
        self.page_access_token = setting(env, "FACEBOOK_PAGE_ACCESS_TOKEN")
        self.api_base_url = (
            setting(env, "FACEBOOK_API_BASE_URL") or DEFAULT_API_BASE_URL
        )
        self.api_version = (
            setting(env, "FACEBOOK_API_VERSION") or DEFAULT_API_VERSION
        ).lstrip("v")
        self._client: Optional[MessengerClient] = None

    @property
    def client(self) -> MessengerClient:
        if self._client is None:
            # app_secret adds appsecret_proof to every Send API call.
            client = MessengerClient(self.page_access_token, app_secret=self.app_secret)
            client.graph_url = f"{self.api_base_url.rstrip('/')}/v{self.api_version}"
            self._client = client
        return self._client

    def get_output_channel(self) -> Optional[OutputChannel]:
        return FacebookOutput(self.client) if self.enabled else None

    def channel_blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("facebook_channel", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if (
                request.args.get("hub.mode") == "subscribe"
                and request.args.get("hub.verify_token") == self.verify_token
            ):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("Messenger webhook check refused: wrong verify token")
            return response.text("wrong verify token", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not valid_hub_signature(
                request.body or b"",
                self.app_secret,
                request.headers.get("X-Hub-Signature-256"),
                request.headers.get("X-Hub-Signature"),
            ):
                logger.warning("Messenger webhook refused: missing or wrong signature")
                return response.text("invalid X-Hub-Signature", status=403)
            try:
                payload = request.json
            except Exception:
                payload = None
            if not isinstance(payload, Mapping):
                return response.text(
                    "expected a Messenger webhook event as JSON", status=400
                )
            output = FacebookOutput(self.client)
            for sender, text in messaging_events(payload):
                text = await read_numbered_reply(request, sender, text)
                await handle_user_message(
                    on_new_message,
                    UserMessage(text, output, sender, input_channel=self.name()),
                    self.title,
                    self.rate_limits,
                )
            return response.text("EVENT_RECEIVED")

        return webhook
