"""Providers API admin calls (request/reply): a network's configuration, read and changed live."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from contracts import subjects
from contracts.errors import ApiError, ErrorCode
from provider_runtime.config import REDACTED, ProviderConfig
from runtime.logging import get_logger
from runtime.messaging import publish_event, serve_rpc

log = get_logger(__name__)
Apply = Callable[[], Awaitable[None]]


def config_changed(network: str) -> str:
    """Core NATS subject every replica of a provider service listens on (no queue group)."""
    return f"cortex.control.provider.{network}.config"


class ConfigAdmin:
    def __init__(self, nc: NATS, network: str, config: ProviderConfig, apply: Apply) -> None:
        self._nc, self._network, self._config, self._apply = nc, network, config, apply

    async def serve(self) -> list[Subscription]:
        group = f"provider-{self._network}"
        subs = [
            await serve_rpc(self._nc, subjects.provider_rpc(self._network, verb), handler, group)
            for verb, handler in (
                ("config.get", self.get),
                ("config.create", self.create),
                ("config.update", self.update),
                ("config.delete", self.delete),
            )
        ]
        subs.append(await self._nc.subscribe(config_changed(self._network), cb=self._reload))
        return subs

    async def get(self, body: dict[str, Any]) -> Any:
        return await self._view()

    async def create(self, body: dict[str, Any]) -> Any:
        if await self._config.stored() is not None:
            raise ApiError(
                ErrorCode.PROVIDER_CONFLICT,
                f"Provider {self._network} is already configured; use PUT to change it",
                {"id": self._network},
            )
        await self._change(_object(body), "provider.added")
        return await self._view()

    async def update(self, body: dict[str, Any]) -> Any:
        """Merge: given fields replace, `null` removes an override, a secret sent back as
        `[REDACTED]` keeps the stored one."""
        stored = await self._config.stored() or {}
        merged = dict(stored)
        for field, value in _object(body).items():
            if value is None:
                merged.pop(field, None)
            elif value != REDACTED:
                merged[field] = value
        await self._change(merged, "provider.updated")
        return await self._view()

    async def delete(self, body: dict[str, Any]) -> Any:
        """Back to the deployment's own settings (environment)."""
        if await self._config.delete():
            await self._announce_and_apply("provider.removed", {})
        return await self._view()

    async def _change(self, overrides: dict[str, Any], event_type: str) -> None:
        await self._config.save(overrides)
        await self._announce_and_apply(event_type, overrides)

    async def _announce_and_apply(self, event_type: str, overrides: dict[str, Any]) -> None:
        await self._apply()
        await self._nc.publish(config_changed(self._network), b"")
        changed = sorted(overrides)
        data = {"provider": self._network, "changedFields": changed}
        subject = subjects.provider_event(self._network, event_type)
        await publish_event(self._nc.jetstream(), subject, event_type, data)
        log.info("provider.reconfigured", network=self._network, fields=changed)

    async def _reload(self, msg: Msg) -> None:
        """Another replica changed the configuration: take it too (idempotent)."""
        try:
            await self._apply()
        except Exception:
            log.exception("provider.reload_failed", network=self._network)

    async def _view(self) -> dict[str, Any]:
        stored = await self._config.stored()
        settings = await self._config.effective()
        return {
            "id": self._network,
            "configured": stored is not None,
            "overrides": sorted(stored or {}),
            "config": self._config.view(settings),
        }


def _object(body: dict[str, Any]) -> dict[str, Any]:
    config = body.get("config")
    if not isinstance(config, dict):
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            "config must be an object of the provider's settings",
            [{"field": "config", "rule": "type", "message": "must be an object"}],
        )
    return config
