"""Checks that a webhook request really comes from the platform.

* Twilio signs each request with ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed
  with the account's auth token, over the full URL Twilio called followed by every
  POST parameter name and value, sorted by name.
  https://www.twilio.com/docs/usage/security#validating-requests
* Meta signs each Messenger webhook with ``X-Hub-Signature-256`` (``sha256=<hex>``
  HMAC-SHA256 of the raw body, keyed with the app secret) and, for older apps, also
  ``X-Hub-Signature`` (``sha1=<hex>``).
  https://developers.facebook.com/docs/messenger-platform/webhooks#validate-payloads
* Telegram echoes the ``secret_token`` given to ``setWebhook`` in
  ``X-Telegram-Bot-Api-Secret-Token``.

All comparisons are constant-time. Pure functions: the channels call them with the
request's parts, and tests/test_channel_signatures.py checks them against the
platforms' documented examples and Twilio's own validator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Iterable, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit, urlunsplit

ParamValues = Union[str, Sequence[str]]


def _values(value: ParamValues) -> Iterable[str]:
    return [value] if isinstance(value, str) else list(value)


def twilio_signature(
    url: str, params: Mapping[str, ParamValues], auth_token: str
) -> str:
    """The ``X-Twilio-Signature`` Twilio sends for a POST of ``params`` to ``url``."""
    data = url
    for name in sorted(params):
        for value in sorted(set(_values(params[name]))):
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> Tuple[str, ...]:
    """The URL as given, without its default port, and with it: Twilio has signed
    both forms, so its own validator accepts either."""
    parts = urlsplit(url)
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    variants = [url]
    if parts.port is None and default_port:
        variants.append(
            urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default_port}"))
        )
    elif parts.port == default_port:
        variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}")))
    return tuple(variants)


def valid_twilio_signature(
    url: str,
    params: Mapping[str, ParamValues],
    signature: Optional[str],
    auth_token: str,
) -> bool:
    """Whether ``signature`` is Twilio's signature of this request."""
    if not signature or not auth_token:
        return False
    return any(
        hmac.compare_digest(
            twilio_signature(variant, params, auth_token).encode(), signature.encode()
        )
        for variant in _url_variants(url)
    )


def hub_signature(body: bytes, app_secret: str, algorithm: str = "sha256") -> str:
    """The ``X-Hub-Signature(-256)`` header value Meta sends for ``body``."""
    digest = hmac.new(
        app_secret.encode(), body, getattr(hashlib, algorithm)
    ).hexdigest()
    return f"{algorithm}={digest}"


def valid_hub_signature(
    body: bytes,
    app_secret: str,
    signature_256: Optional[str],
    signature_sha1: Optional[str] = None,
) -> bool:
    """Whether the request body is signed with the app secret.

    ``X-Hub-Signature-256`` decides when it is present (SHA-1 alone is weaker);
    otherwise ``X-Hub-Signature``. No header, or an unknown algorithm, is invalid.
    """
    if not app_secret:
        return False
    for header, algorithm in ((signature_256, "sha256"), (signature_sha1, "sha1")):
        if header:
            expected = hub_signature(body, app_secret, algorithm)
            return hmac.compare_digest(expected.encode(), header.strip().encode())
    return False


def derived_secret(token: str, purpose: str) -> str:
    """A stable secret derived from a platform token (64 hex characters), for a
    shared secret the operator need not set by hand."""
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def same_secret(expected: str, given: Optional[str]) -> bool:
    return bool(expected) and hmac.compare_digest(
        expected.encode(), (given or "").encode()
    )
