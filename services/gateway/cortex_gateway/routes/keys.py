"""`/api/auth/keys`: admin-only key management."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from contracts.errors import ApiError, ErrorCode
from contracts.validation import parse_model
from cortex_gateway.auth.keys import SCOPES
from cortex_gateway.context import GatewayContext, require
from cortex_gateway.responses import json_body, object_body, ok

_NAME = Annotated[StrictStr, Field(min_length=1, max_length=100)]


class CreateKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: _NAME
    tenant: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    scopes: Annotated[list[StrictStr], Field(min_length=1)]

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        bad = sorted(set(value) - SCOPES)
        if bad:
            raise ValueError(f"unknown scopes {', '.join(bad)}; known: {', '.join(sorted(SCOPES))}")
        return value


async def create_key(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    require(request, "admin")
    body = object_body(await json_body(request, ctx.settings.max_body_bytes))
    spec = parse_model(CreateKey, body)
    record, plain = await ctx.keys.create(spec.name, spec.tenant, frozenset(spec.scopes))
    # The only time the key is shown: it is stored as a hash.
    return ok({**record.to_dict(), "key": plain}, status=201)


async def list_keys(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    require(request, "admin")
    tenant = request.query.get("tenant")
    return ok([k.to_dict() for k in await ctx.keys.list(tenant)])


async def delete_key(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    require(request, "admin")
    key_id = request.match_info["key_id"]
    if not await ctx.keys.revoke(key_id):
        raise ApiError(ErrorCode.API_KEY_NOT_FOUND, f"API key {key_id} not found", {"id": key_id})
    return ok({"id": key_id, "deleted": True})
