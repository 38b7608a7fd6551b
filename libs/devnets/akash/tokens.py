"""HS256 JWTs that Console issues and the provider gateways accept."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

MAX_REMEMBERED = 1024


class TokenError(Exception):
    """The token is malformed, forged or expired."""


ISSUER = "akash-devnet"  # the `iss` of every token the devnet signs


class TokenSigner:
    """Signs and checks JWTs with one shared secret (Console and providers trust each other)."""

    def __init__(self, secret: str, issuer: str) -> None:
        self._key = secret.encode()
        self._issuer = issuer
        # Tokens whose signature was checked: a client reuses one token for every lease
        # call, and the HMAC and JSON work showed in the devnet's profile. Expiry is still
        # checked on every use.
        self._verified: dict[str, dict[str, Any]] = {}

    def issue(self, ttl_seconds: int, leases: dict[str, Any]) -> str:
        """A token valid for `ttl_seconds` carrying the requested lease permissions."""
        now = int(time.time())
        claims = {
            "iss": self._issuer,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "version": "v1",
            "leases": leases,
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{body}.{self._sign(header, body)}"

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; TokenError otherwise."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._check(token)
            if len(self._verified) >= MAX_REMEMBERED:
                self._verified.clear()
            self._verified[token] = claims
        if claims.get("exp", 0) < time.time():
            raise TokenError("token expired")
        return claims

    def _check(self, token: str) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3 or not hmac.compare_digest(parts[2], self._sign(parts[0], parts[1])):
            raise TokenError("invalid token signature")
        try:
            claims: dict[str, Any] = json.loads(_unb64(parts[1]))
        except ValueError as exc:
            raise TokenError("malformed token") from exc
        if not isinstance(claims, dict):
            raise TokenError("malformed token")
        return claims

    def _sign(self, header: str, body: str) -> str:
        return _b64(hmac.new(self._key, f"{header}.{body}".encode(), hashlib.sha256).digest())


def allows(claims: dict[str, Any], provider: str) -> bool:
    """Whether the token's lease permissions cover this provider."""
    leases = claims.get("leases") or {}
    if leases.get("access") == "full":
        return True
    permissions = leases.get("permissions") or []
    return any(isinstance(p, dict) and p.get("provider") == provider for p in permissions)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise TokenError("malformed token") from exc
