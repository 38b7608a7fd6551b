"""A provider's configuration set through the Providers API, applied without a restart.

The settings class names what may change at run time (`RUNTIME_CONFIG`: API field →
(settings field, secret?)); values are validated by the settings model itself, secrets sealed
at rest and shown only as `[REDACTED]`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import ValidationError

from contracts.errors import ApiError, ErrorCode
from provider_runtime.settings import ProviderSettings
from runtime.secretbox import SecretBox

REDACTED = "[REDACTED]"


def _invalid(message: str, field: str, rule: str) -> ApiError:
    return ApiError(
        ErrorCode.VALIDATION_ERROR,
        message,
        [{"field": f"config.{field}", "rule": rule, "message": message}],
    )


class ProviderConfig:
    """Stored overrides ↔ effective settings for one network."""

    def __init__(self, pool: asyncpg.Pool, schema: str, base: ProviderSettings) -> None:
        self._pool, self._table, self._base = pool, f'"{schema}".config', base
        self._fields = type(base).RUNTIME_CONFIG
        key = base.secrets_key.get_secret_value() if base.secrets_key else None
        self._box = SecretBox(key) if key else None

    async def stored(self) -> dict[str, Any] | None:
        """The overrides (secrets opened), or None when none were set."""
        row = await self._pool.fetchrow(f"SELECT public, sealed FROM {self._table} WHERE id = 1")
        if row is None:
            return None
        values = dict(row["public"])
        if row["sealed"]:
            box = self._require_box()
            values.update({k: box.open(v) for k, v in row["sealed"].items()})
        return values

    async def effective(self) -> ProviderSettings:
        return self.merge(await self.stored() or {})

    def merge(self, overrides: dict[str, Any]) -> ProviderSettings:
        """The base settings with `overrides` (API fields) applied, validated by the model."""
        unknown = sorted(set(overrides) - set(self._fields))
        if unknown:
            allowed = ", ".join(sorted(self._fields))
            raise _invalid(
                f"unknown field {unknown[0]!r}; allowed: {allowed}", unknown[0], "unknown"
            )
        update = {self._fields[k][0]: v for k, v in overrides.items()}
        try:
            return type(self._base).model_validate(
                {**self._base.model_dump(), **update}, context=None
            )
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            setting = str(error["loc"][0]) if error["loc"] else ""
            field = next((k for k, (s, _) in self._fields.items() if s == setting), setting)
            raise _invalid(f"{field}: {error['msg']}", field, str(error["type"])) from None

    async def save(self, overrides: dict[str, Any]) -> None:
        self.merge(overrides)  # validate before anything is written
        secret = {k for k, (_, is_secret) in self._fields.items() if is_secret}
        public = {k: v for k, v in overrides.items() if k not in secret}
        sealed_plain = {k: str(v) for k, v in overrides.items() if k in secret}
        sealed = {k: self._require_box().seal(v) for k, v in sealed_plain.items()}
        await self._pool.execute(
            f"INSERT INTO {self._table} (id, public, sealed) VALUES (1, $1, $2) "
            "ON CONFLICT (id) DO UPDATE SET public = $1, sealed = $2, updated_at = now()",
            public,
            sealed,
        )

    async def delete(self) -> bool:
        return (
            await self._pool.fetchval(f"DELETE FROM {self._table} WHERE id = 1 RETURNING true")
            or False
        )

    def view(self, settings: ProviderSettings) -> dict[str, Any]:
        """Every runtime-configurable field's effective value; secrets as `[REDACTED]`."""
        view: dict[str, Any] = {}
        for name, (setting, is_secret) in sorted(self._fields.items()):
            value = getattr(settings, setting)
            if is_secret:
                value = REDACTED if value else None
            elif hasattr(value, "model_dump"):
                value = value.model_dump()
            elif isinstance(value, list):
                value = [v.model_dump() if hasattr(v, "model_dump") else v for v in value]
            view[name] = value
        return view

    def _require_box(self) -> SecretBox:
        if self._box is None:
            raise ApiError(
                ErrorCode.VALIDATION_ERROR,
                "This deployment has no CORTEX_SECRETS_KEY, so credentials cannot be stored "
                "encrypted; set it on the provider service",
                [{"field": "config", "rule": "secrets_key", "message": "no secrets key"}],
            )
        return self._box
