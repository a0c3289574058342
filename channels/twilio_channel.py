"""SMS and WhatsApp through Twilio, at /webhooks/twilio/webhook.

Twilio POSTs each incoming message form-encoded (``From``, ``To``, ``Body``, ...).
A WhatsApp sender is ``whatsapp:+447700900123``, an SMS sender ``+447700900123``;
that value is the conversation's sender id, and the reply goes back the same way,
from our WhatsApp or SMS number.

Unlike Rasa's own Twilio channel, every request must carry a valid
``X-Twilio-Signature`` (channels/signatures.py), or it is refused with 403. Twilio
signs the URL it called; behind a proxy that is not the URL this server sees, so
``TWILIO_WEBHOOK_URL`` gives the public one.

Neither SMS nor plain WhatsApp messages have buttons: buttons become numbered
options ("Reply 1 for Yes, 2 for No.") and a reply of "1" is read as the first
button's payload. Replies longer than Twilio's 1,600 characters are split at
sentence boundaries; SMS text keeps to the GSM alphabet so segments stay 160 long.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Mapping, Optional, Text
from urllib.parse import parse_qs

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from channels.formatting import (
    SMS_LIMIT,
    WHATSAPP_LIMIT,
    sms_text,
    split_message,
    with_numbered_options,
)
from channels.messaging import (
    MessagingInput,
    MessagingOutput,
    OnNewMessage,
    handle_user_message,
    read_numbered_reply,
    rebase_url,
    setting,
)
from channels.signatures import valid_twilio_signature

logger = logging.getLogger(__name__)
# Twilio's HTTP client logs every request (URL and headers) at INFO.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

WHATSAPP_PREFIX = "whatsapp:"
SEND_TIMEOUT_SECONDS = 10
# An empty TwiML document: "received, nothing to say here". Replies go through the
# REST API instead, so that several messages and long waits work the same way.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def is_whatsapp(address: Optional[str]) -> bool:
    return bool(address) and address.lower().startswith(WHATSAPP_PREFIX)


def whatsapp_address(number: str) -> str:
    return number if is_whatsapp(number) else WHATSAPP_PREFIX + number


def form_fields(body: Optional[bytes]) -> Dict[str, List[str]]:
    """The POST fields, blank ones included: Twilio signs those too, and Sanic's
    ``request.form`` drops them."""
    try:
        return parse_qs((body or b"").decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}


def first(params: Mapping[str, List[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[0]


class TwilioClient(Client):
    """Twilio's REST client, optionally sending to another API host (for tests)."""

    def __init__(
        self, account_sid: str, auth_token: str, api_base_url: str = ""
    ) -> None:
        super().__init__(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=SEND_TIMEOUT_SECONDS),
        )
        self.api_base_url = api_base_url

    def request(self, method: str, uri: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(
            method, rebase_url(uri, self.api_base_url), *args, **kwargs
        )


class TwilioOutput(MessagingOutput):
    """Sends replies as SMS or WhatsApp messages through Twilio's Messages API."""

    title = "Twilio"

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    def __init__(self, client: Client, from_number: str, whatsapp: bool) -> None:
        self.client = client
        self.from_number = from_number
        self.whatsapp = whatsapp
        self.limit = WHATSAPP_LIMIT if whatsapp else SMS_LIMIT

    async def _create(self, **message: Any) -> bool:
        try:
            await asyncio.to_thread(self.client.messages.create, **message)
            return True
        except TwilioRestException as exc:
            logger.error(
                "Twilio refused a message: HTTP %s, code %s", exc.status, exc.code
            )
        except (TwilioException, OSError) as exc:
            logger.error("Sending through Twilio failed: %s", type(exc).__name__)
        return False

    async def send_text_message(
        self, recipient_id: Text, text: Text, **kwargs: Any
    ) -> None:
        # Paragraphs stay in one message: separate SMS can arrive out of order.
        if not self.whatsapp:
            text = sms_text(text)
        for part in split_message(text, self.limit):
            if not await self._create(
                to=recipient_id, from_=self.from_number, body=part
            ):
                return  # the rest would read oddly without the part that failed

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        await self.send_text_message(recipient_id, with_numbered_options(text, buttons))

    async def send_image_url(
        self, recipient_id: Text, image: Text, **kwargs: Any
    ) -> None:
        await self._create(to=recipient_id, from_=self.from_number, media_url=[image])


class TwilioInput(MessagingInput):
    """SMS and WhatsApp messages from Twilio, signature-checked."""

    title = "Twilio"
    required_settings = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    @classmethod
    def missing_settings(cls, env: Mapping[str, str]) -> List[str]:
        missing = super().missing_settings(env)
        if not setting(env, "TWILIO_NUMBER") and not setting(
            env, "TWILIO_WHATSAPP_NUMBER"
        ):
            missing.append("TWILIO_NUMBER or TWILIO_WHATSAPP_NUMBER")
        return missing

    def __init__(self, env: Mapping[str, str], problems: List[str] = ()) -> None:
        super().__init__(env, problems)
        self.account_sid = setting(env, "TWILIO_ACCOUNT_SID")
        self.auth_token = setting(env, "TWILIO_AUTH_TOKEN")
        self.sms_number = setting(env, "TWILIO_NUMBER")
        whatsapp = setting(env, "TWILIO_WHATSAPP_NUMBER")
        self.whatsapp_number = whatsapp_address(whatsapp) if whatsapp else ""
        self.webhook_url = setting(env, "TWILIO_WEBHOOK_URL")
        self.api_base_url = setting(env, "TWILIO_API_BASE_URL")
        self._client: Optional[TwilioClient] = None

    @property
    def client(self) -> TwilioClient:
        if self._client is None:
            self._client = TwilioClient(
                self.account_sid, self.auth_token, self.api_base_url
            )
        return self._client

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: the configured public URL, or the one requested."""
        if not self.webhook_url:
            return request.url
        query = request.query_string
        return f"{self.webhook_url}?{query}" if query else self.webhook_url

    def output_for(self, sender: str, to: str = "") -> Optional[TwilioOutput]:
        """The channel to answer ``sender`` on: WhatsApp for a WhatsApp sender."""
        if is_whatsapp(sender):
            from_number = self.whatsapp_number or (to if is_whatsapp(to) else "")
            return TwilioOutput(self.client, from_number, True) if from_number else None
        from_number = self.sms_number or (to if to and not is_whatsapp(to) else "")
        return TwilioOutput(self.client, from_number, False) if from_number else None

    def get_output_channel(self) -> Optional[OutputChannel]:
        # Without a message there is no sender to tell SMS from WhatsApp; SMS if set.
        if not self.enabled:
            return None
        if self.sms_number:
            return TwilioOutput(self.client, self.sms_number, False)
        return TwilioOutput(self.client, self.whatsapp_number, True)

    def channel_blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("twilio_channel", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            signature = request.headers.get("X-Twilio-Signature")
            if not signature:
                logger.warning("Twilio webhook refused: no X-Twilio-Signature")
                return response.text("missing X-Twilio-Signature", status=403)
            params = form_fields(request.body)
            if not valid_twilio_signature(
                self.signed_url(request), params, signature, self.auth_token
            ):
                logger.warning("Twilio webhook refused: wrong X-Twilio-Signature")
                return response.text("invalid X-Twilio-Signature", status=403)

            sender = first(params, "From")
            text = first(params, "Body").strip()
            if not sender or not text:
                # Media without text, or a status callback: nothing to answer.
                return response.text(EMPTY_TWIML, content_type="text/xml")
            output = self.output_for(sender, first(params, "To"))
            if output is None:
                logger.warning("Twilio: no number set to reply from on this channel")
                return response.text(EMPTY_TWIML, content_type="text/xml")
            # Some carriers turn "@" into "¡" in SMS.
            text = text.replace("¡", "@")
            text = await read_numbered_reply(request, sender, text)
            await handle_user_message(
                on_new_message,
                UserMessage(
                    text,
                    output,
                    sender,
                    input_channel=self.name(),
                    metadata={
                        "twilio_channel": "whatsapp" if output.whatsapp else "sms"
                    },
                ),
                self.title,
                self.rate_limits,
            )
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return webhook
