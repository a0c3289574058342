"""Webhook signature checks (channels/signatures.py), against Twilio's own validator
and plain HMAC computed here."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from twilio.request_validator import RequestValidator

from channels.signatures import (
    derived_secret,
    hub_signature,
    same_secret,
    twilio_signature,
    valid_hub_signature,
    valid_twilio_signature,
)

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


class MultiDict(dict):
    """Form fields with repeated names, the way Twilio's validator reads them."""

    def getlist(self, name):
        return self[name]


@pytest.mark.parametrize(
    "params",
    [
        PARAMS,
        {},
        {"Body": "Caf\u00e9 \u2013 \u00a3100?", "From": "whatsapp:+447700900123"},
        {"Body": "", "ToState": "", "From": "+447700900123"},
    ],
)
def test_twilio_signature_matches_twilios_own_validator(params):
    expected = RequestValidator(TOKEN).compute_signature(URL, params)
    assert twilio_signature(URL, params, TOKEN) == expected
    assert valid_twilio_signature(URL, params, expected, TOKEN)


def test_repeated_fields_are_signed_like_twilio_does():
    params = {"MediaUrl": ["https://b.example/2", "https://a.example/1"], "To": ["+44"]}
    expected = RequestValidator(TOKEN).compute_signature(URL, MultiDict(params))
    assert twilio_signature(URL, params, TOKEN) == expected


def test_twilio_signature_is_refused_when_anything_differs():
    good = twilio_signature(URL, PARAMS, TOKEN)
    assert not valid_twilio_signature(URL, dict(PARAMS, Digits="9999"), good, TOKEN)
    assert not valid_twilio_signature(URL + "&x=1", PARAMS, good, TOKEN)
    assert not valid_twilio_signature(URL, PARAMS, good, "another-token")
    assert not valid_twilio_signature(URL, PARAMS, None, TOKEN)
    assert not valid_twilio_signature(URL, PARAMS, "", TOKEN)
    assert not valid_twilio_signature(URL, PARAMS, "s\u00e9gnature", TOKEN)
    assert not valid_twilio_signature(URL, PARAMS, good, "")


def test_twilio_signature_with_or_without_the_default_port():
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert valid_twilio_signature(
        URL, PARAMS, twilio_signature(with_port, PARAMS, TOKEN), TOKEN
    )
    assert valid_twilio_signature(
        with_port, PARAMS, twilio_signature(URL, PARAMS, TOKEN), TOKEN
    )
    other_port = "https://mycompany.com:8443/myapp.php?foo=1&bar=2"
    assert not valid_twilio_signature(
        URL, PARAMS, twilio_signature(other_port, PARAMS, TOKEN), TOKEN
    )


BODY = b'{"object":"page","entry":[{"id":"1","messaging":[]}]}'
SECRET = "app-secret"


def test_hub_signature_is_the_hmac_of_the_raw_body():
    sha256 = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    sha1 = hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    assert hub_signature(BODY, SECRET) == f"sha256={sha256}"
    assert hub_signature(BODY, SECRET, "sha1") == f"sha1={sha1}"


def test_valid_hub_signatures():
    sha256, sha1 = hub_signature(BODY, SECRET), hub_signature(BODY, SECRET, "sha1")
    assert valid_hub_signature(BODY, SECRET, sha256, sha1)
    assert valid_hub_signature(BODY, SECRET, sha256)
    assert valid_hub_signature(BODY, SECRET, None, sha1)  # older apps: SHA-1 only


def test_invalid_hub_signatures():
    sha256, sha1 = hub_signature(BODY, SECRET), hub_signature(BODY, SECRET, "sha1")
    assert not valid_hub_signature(BODY, SECRET, None, None)
    assert not valid_hub_signature(BODY + b" ", SECRET, sha256, sha1)
    assert not valid_hub_signature(BODY, "other-secret", sha256, sha1)
    assert not valid_hub_signature(BODY, "", sha256, sha1)
    # SHA-256 decides when present: a valid SHA-1 beside a wrong SHA-256 is refused.
    assert not valid_hub_signature(BODY, SECRET, "sha256=" + "0" * 64, sha1)
    assert not valid_hub_signature(BODY, SECRET, sha1, None)  # wrong algorithm name
    assert not valid_hub_signature(BODY, SECRET, "sha256=\u00e9", None)


def test_shared_secrets():
    assert same_secret("abc", "abc")
    assert not same_secret("abc", "abd") and not same_secret("abc", None)
    assert not same_secret("", "")
    derived = derived_secret("123:token", "telegram-webhook")
    assert derived == derived_secret("123:token", "telegram-webhook")
    assert derived != derived_secret("123:other", "telegram-webhook")
    assert len(derived) == 64 and derived.isalnum()
