"""Encrypt secrets at rest (webhook secrets, provider credentials) with one key from settings."""

from __future__ import annotations

import hashlib

from cryptography.fernet import Fernet, InvalidToken

KEY_SETTING = "CORTEX_SECRETS_KEY"


class SecretBoxError(Exception):
    """No usable key, or a sealed value this key cannot open."""


def generate_key() -> str:
    """A new key: 32 random bytes, url-safe base64 (what `CORTEX_SECRETS_KEY` holds)."""
    return Fernet.generate_key().decode()


def fingerprint(secret: str) -> str:
    """`sha256:<first 16 hex digits>`: names a secret without revealing it."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16]


class SecretBox:
    """`seal` text into an authenticated ciphertext (Fernet: AES-128-CBC + HMAC-SHA256) and
    `open` it again; a tampered or foreign ciphertext raises SecretBoxError."""

    def __init__(self, key: str | None) -> None:
        if not key:
            # Refuse rather than store secrets in plain text.
            raise SecretBoxError(
                f"{KEY_SETTING} is not set; generate one with "
                "`python -c 'from runtime.secretbox import generate_key; print(generate_key())'`"
            )
        try:
            self._fernet = Fernet(key.encode())
        except ValueError:
            raise SecretBoxError(
                f"{KEY_SETTING} must be 32 bytes in url-safe base64 (44 characters)"
            ) from None

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretBoxError(
                "sealed value was not made with this key, or was altered"
            ) from None
