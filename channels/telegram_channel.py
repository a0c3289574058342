"""Telegram, at /webhooks/telegram/webhook.

Telegram POSTs each update as JSON (a ``message``, an ``edited_message`` or a
``callback_query`` from an inline button). The chat id is the sender id.

At start-up the channel registers its webhook with Telegram (``setWebhook``) with a
``secret_token``; Telegram then sends it back in ``X-Telegram-Bot-Api-Secret-Token``
on every update, and an update without it is refused with 403. The token is
``TELEGRAM_SECRET_TOKEN``, or one derived from the bot token. ``TELEGRAM_VERIFY`` is
the bot's username, checked once against ``getMe`` as Rasa's own channel does.

Buttons are inline keyboard buttons. Telegram limits a button's ``callback_data`` to
64 bytes, so a longer payload is sent as its option number and read back from the
tracker. Replies longer than 4,096 characters are split; the buttons go with the
last part.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Mapping, Optional, Text

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer, check_token
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.exceptions import TelegramAPIError, ValidationError
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.formatting import (
    TELEGRAM_LIMIT,
    button_payload,
    button_title,
    split_message,
)
from channels.messaging import (
    MessagingInput,
    MessagingOutput,
    OnNewMessage,
    handle_user_message,
    read_numbered_reply,
    setting,
)
from channels.signatures import derived_secret, same_secret

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for an inline button's data
# Up to this many short buttons share one row; otherwise one button a row.
ROW_BUTTONS = 3
ROW_TITLE = 20
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def callback_data(button: Mapping[str, Any], number: int) -> str:
    """The button's payload, or its option number when the payload is too long."""
    payload = button_payload(button)
    if payload and len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
        return payload
    return str(number)


def inline_keyboard(buttons: List[Dict[str, Any]]) -> InlineKeyboardMarkup:
    keys = [
        InlineKeyboardButton(button_title(b), callback_data=callback_data(b, n))
        for n, b in enumerate(buttons, 1)
    ]
    markup = InlineKeyboardMarkup()
    if len(keys) <= ROW_BUTTONS and all(
        len(button_title(b)) <= ROW_TITLE for b in buttons
    ):
        markup.row(*keys)
    else:
        for key in keys:
            markup.row(key)
    return markup


def update_text(update: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The chat and text of an update, or None when it has no text to answer."""
    query = update.get("callback_query")
    if isinstance(query, Mapping):
        message, text = query.get("message"), query.get("data")
        extra = {"callback_query_id": query.get("id")}
    else:
        message = update.get("message") or update.get("edited_message")
        text = message.get("text") if isinstance(message, Mapping) else None
        extra = {}
    if (
        not isinstance(message, Mapping)
        or not isinstance(text, str)
        or not text.strip()
    ):
        return None
    chat = message.get("chat")
    chat_id = chat.get("id") if isinstance(chat, Mapping) else None
    if not isinstance(chat_id, (int, str)) or isinstance(chat_id, bool):
        return None
    return {"chat_id": chat_id, "text": text, **extra}


class TelegramOutput(MessagingOutput):
    """Sends replies through the Bot API."""

    title = "Telegram"

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _send(self, chat_id: Text, text: str, **kwargs: Any) -> bool:
        try:
            await self.bot.send_message(chat_id, text, **kwargs)
            return True
        except TelegramAPIError as exc:
            logger.error("Telegram refused a message: %s", type(exc).__name__)
        except Exception as exc:  # network errors are aiogram's or aiohttp's
            logger.error("Sending through Telegram failed: %s", type(exc).__name__)
        return False

    async def send_text_message(
        self, recipient_id: Text, text: Text, **kwargs: Any
    ) -> None:
        for part in split_message(text, TELEGRAM_LIMIT):
            if not await self._send(recipient_id, part):
                return

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        parts = split_message(text, TELEGRAM_LIMIT) or [" "]
        for part in parts[:-1]:
            if not await self._send(recipient_id, part):
                return
        await self._send(recipient_id, parts[-1], reply_markup=inline_keyboard(buttons))

    async def send_image_url(
        self, recipient_id: Text, image: Text, **kwargs: Any
    ) -> None:
        try:
            await self.bot.send_photo(recipient_id, image)
        except Exception as exc:
            logger.error(
                "Sending a photo through Telegram failed: %s", type(exc).__name__
            )


class TelegramInput(MessagingInput):
    """Telegram updates, checked against the webhook's secret token."""

    title = "Telegram"
    required_settings = ("TELEGRAM_TOKEN", "TELEGRAM_VERIFY", "TELEGRAM_WEBHOOK_URL")

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def invalid_settings(cls, env: Mapping[str, str]) -> List[str]:
        token = setting(env, "TELEGRAM_TOKEN")
        try:
            if token:
                check_token(token)
        except ValidationError:
            return ["TELEGRAM_TOKEN is not a bot token (<digits>:<letters>)"]
        return []

    def __init__(self, env: Mapping[str, str], problems: List[str] = ()) -> None:
        super().__init__(env, problems)
        self.token = setting(env, "TELEGRAM_TOKEN")
        self.verify = setting(env, "TELEGRAM_VERIFY").lstrip("@")
        self.webhook_url = setting(env, "TELEGRAM_WEBHOOK_URL")
        self.secret_token = setting(env, "TELEGRAM_SECRET_TOKEN") or (
            derived_secret(self.token, "telegram-webhook") if self.token else ""
        )
        self.api_base_url = setting(env, "TELEGRAM_API_BASE_URL")
        self._bot: Optional[Bot] = None
        self._verified: Optional[bool] = None

    @property
    def bot(self) -> Bot:
        # Created on first use, inside the server's event loop.
        if self._bot is None:
            server = (
                TelegramAPIServer.from_base(self.api_base_url)
                if self.api_base_url
                else None
            )
            kwargs = {"server": server} if server else {}
            self._bot = Bot(self.token, timeout=10, **kwargs)
        return self._bot

    def get_output_channel(self) -> Optional[OutputChannel]:
        return TelegramOutput(self.bot) if self.enabled else None

    async def register_webhook(self) -> None:
        """Point Telegram at our webhook, with the secret token it must send back."""
        try:
            await self.bot.request(
                "setWebhook",
                {
                    "url": self.webhook_url,
                    "secret_token": self.secret_token,
                    "allowed_updates": json.dumps(ALLOWED_UPDATES),
                },
            )
            logger.info("Telegram webhook registered")
        except Exception as exc:
            logger.warning(
                "Telegram webhook not registered (%s); updates may not arrive",
                type(exc).__name__,
            )

    async def verified(self) -> bool:
        """Whether the token is the bot TELEGRAM_VERIFY names (asked once)."""
        if self._verified is None:
            try:
                me = await self.bot.get_me()
            except Exception as exc:
                logger.warning("Telegram getMe failed: %s", type(exc).__name__)
                return False  # asked again on the next update
            self._verified = (me.username or "").lower() == self.verify.lower()
            if not self._verified:
                logger.error(
                    "Telegram: TELEGRAM_TOKEN is not the bot TELEGRAM_VERIFY names"
                )
        return self._verified

    def channel_blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("telegram_channel", __name__)

        @webhook.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            await self.register_webhook()
            await self.verified()

        @webhook.listener("before_server_stop")
        async def stop(app: Any, loop: Any) -> None:
            if self._bot is not None:
                await self._bot.session.close()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not same_secret(self.secret_token, request.headers.get(SECRET_HEADER)):
                logger.warning(
                    "Telegram webhook refused: wrong or missing secret token"
                )
                return response.text(f"invalid {SECRET_HEADER}", status=403)
            if not await self.verified():
                return response.text("bot not verified", status=403)
            try:
                update = request.json
            except Exception:
                update = None
            if not isinstance(update, Mapping):
                return response.text("expected a Telegram update as JSON", status=400)
            found = update_text(update)
            if not found:
                return response.text("success")  # stickers, photos, joins: no reply
            output = TelegramOutput(self.bot)
            if found.get("callback_query_id"):
                try:  # stops the button's loading spinner
                    await self.bot.answer_callback_query(found["callback_query_id"])
                except Exception as exc:
                    logger.warning(
                        "Telegram answerCallbackQuery failed: %s", type(exc).__name__
                    )
            sender = str(found["chat_id"])
            text = await read_numbered_reply(request, sender, found["text"].strip())
            await handle_user_message(
                on_new_message,
                UserMessage(text, output, sender, input_channel=self.name()),
                self.title,
                self.rate_limits,
            )
            return response.text("success")

        return webhook
