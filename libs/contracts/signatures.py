"""Webhook signatures: how Cortex signs a request, and how a subscriber checks it.

Two schemes over the same raw body, both HMAC-SHA256:

* `X-Cortex-Signature: t=<unix>,v1=<hex>` over `"<t>.<body>"`, keyed with the secret's
  UTF-8 bytes exactly as the user holds it (`whsec_…` included).
* Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`
  over `"<id>.<timestamp>.<body>"`, keyed with the base64-decoded part after `whsec_`
  (a secret without that prefix is used as its UTF-8 bytes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

CORTEX_HEADER = "X-Cortex-Signature"
WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300  # seconds either side of now: older requests are refused as replays


class SignatureError(ValueError):
    """The request is not signed with this secret, or is too old or too new."""


def standard_key(secret: str) -> bytes:
    """The HMAC key of the Standard Webhooks scheme for `secret`."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error:
            pass  # not base64 after all: fall back to the text itself
    return secret.encode()


def cortex_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Cortex-Signature` header value."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def standard_signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value (`key` from `standard_key`)."""
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def sign(secret: str, message_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Every signature header of one request."""
    t = int(time.time()) if timestamp is None else timestamp
    return {
        CORTEX_HEADER: cortex_signature(secret, t, body),
        WEBHOOK_ID: message_id,
        WEBHOOK_TIMESTAMP: str(t),
        WEBHOOK_SIGNATURE: standard_signature(standard_key(secret), message_id, t, body),
    }


def _check_time(timestamp: int, tolerance: int, now: float | None) -> None:
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(f"timestamp {timestamp} is more than {tolerance} s from now")


def verify_cortex(
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check `X-Cortex-Signature`; raises SignatureError unless it is valid and recent."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("no t=<unix time> in the signature header") from None
    _check_time(timestamp, tolerance, now)
    expected = cortex_signature(secret, timestamp, body).split("v1=", 1)[1]
    # Several v1 values may be present (e.g. during a rotation): one match is enough.
    if not any(hmac.compare_digest(expected, v) for v in parts.get("v1", [])):
        raise SignatureError("no v1 signature matches")


def verify_standard(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check the Standard Webhooks headers; raises SignatureError unless valid and recent."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        message_id, stamp = lower[WEBHOOK_ID], lower[WEBHOOK_TIMESTAMP]
        signatures = lower[WEBHOOK_SIGNATURE]
        timestamp = int(stamp)
    except (KeyError, ValueError):
        raise SignatureError("missing or malformed webhook-* headers") from None
    _check_time(timestamp, tolerance, now)
    expected = standard_signature(standard_key(secret), message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, s) for s in signatures.split()):
        raise SignatureError("no v1 signature matches")


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check whichever scheme the request carries (`X-Cortex-Signature` first)."""
    lower = {k.lower(): v for k, v in headers.items()}
    if CORTEX_HEADER.lower() in lower:
        verify_cortex(secret, lower[CORTEX_HEADER.lower()], body, tolerance, now)
    else:
        verify_standard(secret, lower, body, tolerance, now)
