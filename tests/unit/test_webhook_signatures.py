"""Both signature schemes: what we sign verifies with our helper and with `standardwebhooks`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from standardwebhooks import Webhook

from contracts.signatures import SignatureError, sign, standard_key, verify
from cortex_notifier.domain.model import generate_secret

BODY = b'{"id":"evt_1","type":"job.completed","data":{"job":{"id":"job_1"}}}'


def test_cortex_signature_is_hmac_of_timestamp_dot_body() -> None:
    headers = sign("s3cret-s3cret-s3cret", "evt_1", BODY, timestamp=1_700_000_000)
    expected = hmac.new(b"s3cret-s3cret-s3cret", b"1700000000." + BODY, hashlib.sha256)
    assert headers["X-Cortex-Signature"] == f"t=1700000000,v1={expected.hexdigest()}"


def test_standard_signature_uses_decoded_whsec_key() -> None:
    secret = generate_secret()
    raw = base64.b64decode(secret.removeprefix("whsec_"))
    assert standard_key(secret) == raw and len(raw) == 32
    headers = sign(secret, "evt_1", BODY, timestamp=1_700_000_000)
    mac = hmac.new(raw, b"evt_1.1700000000." + BODY, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(mac).decode()


def test_standardwebhooks_package_verifies_our_headers() -> None:
    secret = generate_secret()
    headers = sign(secret, "evt_42", BODY)
    payload = Webhook(secret).verify(
        BODY, {k: v for k, v in headers.items() if k.startswith("webhook-")}
    )
    assert payload["id"] == "evt_1"


def test_helper_verifies_each_scheme_alone() -> None:
    secret = generate_secret()
    headers = sign(secret, "evt_1", BODY)
    verify(secret, {"X-Cortex-Signature": headers["X-Cortex-Signature"]}, BODY)
    verify(secret, {k: v for k, v in headers.items() if k.startswith("webhook-")}, BODY)


@pytest.mark.parametrize("scheme", ["cortex", "standard"])
def test_helper_refuses_wrong_secret_altered_body_and_replays(scheme: str) -> None:
    secret = generate_secret()
    headers = sign(secret, "evt_1", BODY)
    if scheme == "standard":
        headers.pop("X-Cortex-Signature")
    with pytest.raises(SignatureError):
        verify(generate_secret(), headers, BODY)
    with pytest.raises(SignatureError):
        verify(secret, headers, BODY + b" ")
    with pytest.raises(SignatureError, match="from now"):
        verify(secret, headers, BODY, tolerance=300, now=time.time() + 301)
    verify(secret, headers, BODY, tolerance=300, now=time.time() + 250)


def test_helper_refuses_missing_or_malformed_headers() -> None:
    with pytest.raises(SignatureError):
        verify("secret-secret-secret", {}, BODY)
    with pytest.raises(SignatureError):
        verify("secret-secret-secret", {"X-Cortex-Signature": "v1=abc"}, BODY)


def test_plain_secret_keys_standard_scheme_with_its_utf8_bytes() -> None:
    secret = "my-own-secret-value"
    assert standard_key(secret) == secret.encode()
    headers = sign(secret, "evt_1", BODY)
    # The reference package takes the key as base64 (optionally after whsec_).
    encoded = "whsec_" + base64.b64encode(secret.encode()).decode()
    Webhook(encoded).verify(BODY, {k: v for k, v in headers.items() if k.startswith("webhook-")})
