"""Stand-ins for the messaging platforms' HTTP APIs, and their webhook payloads.

``PlatformMock`` is one local HTTP server that answers like Twilio's Messages API,
Telegram's Bot API and Meta's Send API do, and records every request, so a test can
read what the bot sent at the HTTP boundary. The Rasa server reaches it through
``TWILIO_API_BASE_URL``, ``TELEGRAM_API_BASE_URL`` and ``FACEBOOK_API_BASE_URL``.

The ``*_payload`` functions build each platform's documented webhook request: Twilio's
form fields for SMS and WhatsApp, a Telegram ``Update``, a Messenger page event.
Signatures are made here with Twilio's own ``RequestValidator`` and plain ``hmac``,
not with the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlencode, urlsplit
from urllib.request import Request, urlopen
from urllib.error import HTTPError

from twilio.request_validator import RequestValidator

from tests.support.servers import LocalHttpServer, QuietHandler

TWILIO_SID = "AC" + "0" * 31 + "1"
TWILIO_TOKEN = "twilio-test-auth-token"
TWILIO_NUMBER = "+441223000001"
TWILIO_WHATSAPP = "+14155238886"
TWILIO_PUBLIC_URL = "https://kypho.example.org/webhooks/twilio/webhook"
TELEGRAM_TOKEN = "123456789:AAE-test_token_for_the_mock"
TELEGRAM_BOT = "kypho_test_bot"
TELEGRAM_SECRET = "telegram-test-secret"
TELEGRAM_PUBLIC_URL = "https://kypho.example.org/webhooks/telegram/webhook"
FACEBOOK_VERIFY = "facebook-test-verify"
FACEBOOK_SECRET = "facebook-test-app-secret"
FACEBOOK_TOKEN = "facebook-test-page-token"
FACEBOOK_PAGE = "1122334455"

_ids = itertools.count(1000)


@dataclass
class Sent:
    """One request the bot made to a platform API."""

    platform: str  # twilio, telegram, facebook
    method: str  # Messages.json, sendMessage, me/messages, ...
    params: Dict[str, Any]
    headers: Dict[str, str]
    query: Dict[str, List[str]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        if self.platform == "twilio":
            return self.params.get("Body", "")
        if self.platform == "telegram":
            return self.params.get("text", "")
        return ((self.params.get("message") or {}).get("text")) or ""


class PlatformMock(LocalHttpServer):
    """A local HTTP server answering like Twilio, Telegram and Meta, recording calls."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: List[Sent] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- reading what was sent

    def messages(self, platform: str, to: str) -> List[Sent]:
        """Messages sent on ``platform`` to the recipient ``to``, oldest first."""
        with self._lock:
            sent = list(self.sent)
        return [s for s in sent if s.platform == platform and _recipient(s) == str(to)]

    def calls(self, platform: str, method: str) -> List[Sent]:
        with self._lock:
            return [
                s for s in self.sent if s.platform == platform and s.method == method
            ]

    # -- the server

    def handler(self) -> type:
        mock = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, reply = mock._answer(
                    self.path,
                    dict(self.headers),
                    body,
                    self.headers.get("Content-Type", ""),
                )
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _record(self, sent: Sent) -> None:
        with self._lock:
            self.sent.append(sent)

    def _answer(
        self, path: str, headers: Dict[str, str], body: bytes, content_type: str
    ) -> Tuple[int, Any]:
        url = urlsplit(path)
        query = parse_qs(url.query)
        twilio = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages\.json", url.path)
        if twilio:
            return self._twilio(
                twilio.group(1), headers, _form(body, content_type), query
            )
        telegram = re.fullmatch(r"/bot([^/]+)/(\w+)", url.path)
        if telegram:
            return self._telegram(
                telegram.group(1), telegram.group(2), headers, _form(body, content_type)
            )
        facebook = re.fullmatch(r"/v[\d.]+/me/messages", url.path)
        if facebook:
            return self._facebook(headers, json.loads(body or b"{}"), query)
        return 404, {"error": f"no such endpoint {url.path}"}

    def _twilio(self, sid, headers, params, query) -> Tuple[int, Any]:
        expected = (
            "Basic "
            + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        )
        if sid != TWILIO_SID or headers.get("Authorization") != expected:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        self._record(Sent("twilio", "Messages.json", params, headers, query))
        # The fields of Twilio's Message resource that its client reads.
        return 201, {
            "sid": f"SM{uuid.uuid4().hex}",
            "account_sid": sid,
            "to": params.get("To"),
            "from": params.get("From"),
            "body": params.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/SM0.json",
        }

    def _telegram(self, token, method, headers, params) -> Tuple[int, Any]:
        if token != TELEGRAM_TOKEN:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        self._record(Sent("telegram", method, params, headers))
        if method == "getMe":
            result: Any = {
                "id": 123456789,
                "is_bot": True,
                "first_name": "Kyphoplasty assistant",
                "username": TELEGRAM_BOT,
            }
        elif method == "sendMessage":
            chat_id = int(params["chat_id"])
            result = {
                "message_id": next(_ids),
                "from": {
                    "id": 123456789,
                    "is_bot": True,
                    "first_name": "Kyphoplasty assistant",
                },
                "chat": {"id": chat_id, "type": "private"},
                "date": int(time.time()),
                "text": params.get("text", ""),
            }
        else:  # setWebhook, answerCallbackQuery, ...
            result = True
        return 200, {"ok": True, "result": result}

    def _facebook(self, headers, body, query) -> Tuple[int, Any]:
        if query.get("access_token") != [FACEBOOK_TOKEN]:
            return 400, {
                "error": {"message": "Invalid OAuth access token.", "code": 190}
            }
        self._record(Sent("facebook", "me/messages", body, headers, query))
        return 200, {
            "recipient_id": (body.get("recipient") or {}).get("id"),
            "message_id": f"m_{uuid.uuid4().hex}",
        }


def _recipient(sent: Sent) -> str:
    if sent.platform == "twilio":
        return sent.params.get("To", "")
    if sent.platform == "telegram":
        return str(sent.params.get("chat_id", ""))
    return str((sent.params.get("recipient") or {}).get("id", ""))


def _form(body: bytes, content_type: str) -> Dict[str, Any]:
    """Form fields of a urlencoded, multipart or JSON body, one value each."""
    if "json" in content_type:
        return json.loads(body or b"{}")
    if "multipart/form-data" in content_type:
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        return {
            part.get_param("name", header="content-disposition"): part.get_content()
            for part in message.iter_parts()
        }
    return {
        k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()
    }


# ---------------------------------------------------------------- webhook payloads


def post(
    url: str, body: bytes, headers: Dict[str, str], timeout: float = 60
) -> Tuple[int, str]:
    request = Request(url, data=body, headers=headers, method="POST")
    try:
        with urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except HTTPError as error:
        return error.code, error.read().decode()


def twilio_sms_params(
    sender: str, text: str, to: str = TWILIO_NUMBER
) -> Dict[str, str]:
    """The fields Twilio POSTs for an incoming SMS (Messaging webhook)."""
    sid = "SM" + uuid.uuid4().hex
    return {
        "ToCountry": "GB",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": text,
        "FromCountry": "GB",
        "To": to,
        "MessagingServiceSid": "",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def twilio_whatsapp_params(
    sender: str, text: str, profile: str = "Jane"
) -> Dict[str, str]:
    """The fields Twilio POSTs for an incoming WhatsApp message."""
    sid = "SM" + uuid.uuid4().hex
    return {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": profile,
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": sender.replace("whatsapp:+", ""),
        "SmsStatus": "received",
        "Body": text,
        "To": f"whatsapp:{TWILIO_WHATSAPP}",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def twilio_signature(
    params: Dict[str, str], url: str = TWILIO_PUBLIC_URL, token: str = TWILIO_TOKEN
) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_twilio(
    rasa_url: str, params: Dict[str, str], signature: Optional[str] = "sign"
) -> Tuple[int, str]:
    """POST a Twilio webhook; ``signature="sign"`` signs it as Twilio would."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        signature = twilio_signature(params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return post(
        rasa_url + "/webhooks/twilio/webhook", urlencode(params).encode(), headers
    )


_update_ids = itertools.count(500000)


def telegram_message_update(chat_id: int, text: str) -> Dict[str, Any]:
    """A Telegram ``Update`` carrying a private text message."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Jane", "language_code": "en"}
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_ids),
            "from": user,
            "chat": {"id": chat_id, "first_name": "Jane", "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }


def telegram_button_update(chat_id: int, data: str) -> Dict[str, Any]:
    """A Telegram ``Update`` for a press on an inline keyboard button."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Jane", "language_code": "en"}
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_ids)),
            "from": user,
            "message": {
                "message_id": next(_ids),
                "from": {
                    "id": 123456789,
                    "is_bot": True,
                    "first_name": "Kyphoplasty assistant",
                },
                "chat": {"id": chat_id, "first_name": "Jane", "type": "private"},
                "date": int(time.time()),
                "text": "(the bot's message with buttons)",
            },
            "chat_instance": "-1234567890",
            "data": data,
        },
    }


def post_telegram(
    rasa_url: str, update: Dict[str, Any], secret: Optional[str] = TELEGRAM_SECRET
) -> Tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return post(
        rasa_url + "/webhooks/telegram/webhook", json.dumps(update).encode(), headers
    )


def messenger_event(
    psid: str, text: str, quick_reply: Optional[str] = None
) -> Dict[str, Any]:
    """A Messenger page webhook event with one text message."""
    now = int(time.time() * 1000)
    message: Dict[str, Any] = {"mid": f"m_{uuid.uuid4().hex}", "text": text}
    if quick_reply is not None:
        message["quick_reply"] = {"payload": quick_reply}
    return {
        "object": "page",
        "entry": [
            {
                "id": FACEBOOK_PAGE,
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": FACEBOOK_PAGE},
                        "timestamp": now,
                        "message": message,
                    }
                ],
            }
        ],
    }


def post_messenger(
    rasa_url: str,
    event: Dict[str, Any],
    secret: Optional[str] = FACEBOOK_SECRET,
    headers: Tuple[str, ...] = ("X-Hub-Signature-256", "X-Hub-Signature"),
) -> Tuple[int, str]:
    """POST a Messenger event, signed with ``secret`` (unsigned when None)."""
    body = json.dumps(event).encode()
    sent = {"Content-Type": "application/json"}
    if secret is not None:
        for header in headers:
            algorithm = hashlib.sha256 if header.endswith("256") else hashlib.sha1
            prefix = "sha256" if header.endswith("256") else "sha1"
            sent[header] = (
                f"{prefix}=" + hmac.new(secret.encode(), body, algorithm).hexdigest()
            )
    return post(rasa_url + "/webhooks/facebook/webhook", body, sent)


def channel_env(mock: PlatformMock) -> Dict[str, str]:
    """Every channel's secrets, with the platform APIs pointed at ``mock``."""
    return {
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_NUMBER": TWILIO_NUMBER,
        "TWILIO_WHATSAPP_NUMBER": TWILIO_WHATSAPP,
        "TWILIO_WEBHOOK_URL": TWILIO_PUBLIC_URL,
        "TWILIO_API_BASE_URL": mock.url,
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_VERIFY": TELEGRAM_BOT,
        "TELEGRAM_WEBHOOK_URL": TELEGRAM_PUBLIC_URL,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": mock.url,
        "FACEBOOK_VERIFY": FACEBOOK_VERIFY,
        "FACEBOOK_SECRET": FACEBOOK_SECRET,
        "FACEBOOK_PAGE_ACCESS_TOKEN": FACEBOOK_TOKEN,
        "FACEBOOK_API_BASE_URL": mock.url,
    }
