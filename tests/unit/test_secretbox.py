"""runtime.secretbox: sealed values open with the same key only; no key, no box."""

from __future__ import annotations

import pytest

from runtime.secretbox import SecretBox, SecretBoxError, fingerprint, generate_key


def test_seal_then_open_round_trips_and_hides_the_text() -> None:
    box = SecretBox(generate_key())
    sealed = box.seal("whsec_top-secret")
    assert "top-secret" not in sealed
    assert box.open(sealed) == "whsec_top-secret"
    assert box.seal("x") != box.seal("x")  # random IV: equal secrets do not look equal


def test_other_key_or_tampering_is_refused() -> None:
    sealed = SecretBox(generate_key()).seal("secret")
    with pytest.raises(SecretBoxError):
        SecretBox(generate_key()).open(sealed)
    box = SecretBox(generate_key())
    good = box.seal("secret")
    with pytest.raises(SecretBoxError):
        box.open(good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"))


@pytest.mark.parametrize("key", [None, "", "not-a-fernet-key"])
def test_missing_or_malformed_key_is_refused(key: str | None) -> None:
    with pytest.raises(SecretBoxError, match="CORTEX_SECRETS_KEY"):
        SecretBox(key)


def test_fingerprint_is_stable_and_short() -> None:
    assert fingerprint("a") == fingerprint("a") != fingerprint("b")
    assert fingerprint("a").startswith("sha256:") and len(fingerprint("a")) == 7 + 16
