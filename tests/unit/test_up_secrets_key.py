"""`cortex up` keeps one secrets key per data dir, so sealed secrets open after a restart."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cortex_cli.up import allow_private_urls, secrets_key
from runtime.secretbox import SecretBox


def test_generated_once_then_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORTEX_SECRETS_KEY", raising=False)
    first = secrets_key(tmp_path)
    sealed = SecretBox(first).seal("whsec_x")
    assert secrets_key(tmp_path) == first
    assert SecretBox(secrets_key(tmp_path)).open(sealed) == "whsec_x"
    assert stat.S_IMODE((tmp_path / "secrets-key").stat().st_mode) == 0o600


def test_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORTEX_SECRETS_KEY", "given")
    assert secrets_key(tmp_path) == "given"
    assert not (tmp_path / "secrets-key").exists()


def test_private_urls_allowed_unless_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORTEX_WEBHOOK_ALLOW_PRIVATE_URLS", raising=False)
    assert allow_private_urls()
    monkeypatch.setenv("CORTEX_WEBHOOK_ALLOW_PRIVATE_URLS", "false")
    assert not allow_private_urls()
