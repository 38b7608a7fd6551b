"""`/market-api/v1`: demands, proposal events, negotiation, agreements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from devnets.golem.events import events_after
from devnets.golem.http import ApiError, json_object, max_events, poll_timeout
from devnets.golem.keys import NETWORK
from devnets.golem.network import GolemNetwork

ROOT = "/market-api/v1"
DEFAULT_VALIDITY = timedelta(hours=1)


def add_routes(app: web.Application) -> None:
    """Register the market routes."""
    r = app.router
    r.add_post(f"{ROOT}/demands", subscribe)
    r.add_get(f"{ROOT}/demands", list_demands)
    r.add_delete(f"{ROOT}/demands/{{sub}}", unsubscribe)
    r.add_get(f"{ROOT}/demands/{{sub}}/events", demand_events)
    r.add_post(f"{ROOT}/demands/{{sub}}/proposals/{{pid}}", counter)
    r.add_get(f"{ROOT}/demands/{{sub}}/proposals/{{pid}}", get_proposal)
    r.add_post(f"{ROOT}/demands/{{sub}}/proposals/{{pid}}/reject", reject)
    r.add_post(f"{ROOT}/agreements", create_agreement)
    r.add_get(f"{ROOT}/agreements/{{aid}}", get_agreement)
    r.add_post(f"{ROOT}/agreements/{{aid}}/confirm", confirm)
    r.add_post(f"{ROOT}/agreements/{{aid}}/wait", wait)
    r.add_post(f"{ROOT}/agreements/{{aid}}/cancel", cancel)
    r.add_post(f"{ROOT}/agreements/{{aid}}/terminate", terminate)
    r.add_get(f"{ROOT}/agreementEvents", agreement_events)


def _net(request: web.Request) -> GolemNetwork:
    return request.app[NETWORK]


async def subscribe(request: web.Request) -> web.Response:
    """POST /demands {properties, constraints} → 201 subscription id."""
    body = await json_object(request)
    properties = body.get("properties", {})
    constraints = body.get("constraints", "")
    if not isinstance(properties, dict):
        raise ApiError(400, "properties must be an object")
    if not isinstance(constraints, str | list):
        raise ApiError(400, "constraints must be a string")
    demand = _net(request).market.subscribe(properties, constraints)
    return web.json_response(demand.subscription_id, status=201)


async def list_demands(request: web.Request) -> web.Response:
    """GET /demands: active subscriptions."""
    demands = [
        {"demandId": d.subscription_id, "properties": d.properties, "constraints": d.constraints}
        for d in _net(request).market.demands.values()
        if d.active
    ]
    return web.json_response(demands)


async def unsubscribe(request: web.Request) -> web.Response:
    """DELETE /demands/{sub} → 204 (410 when already gone)."""
    _net(request).market.unsubscribe(request.match_info["sub"])
    return web.Response(status=204)


async def demand_events(request: web.Request) -> web.Response:
    """GET /demands/{sub}/events?timeout=&maxEvents=: long-poll for proposal events."""
    events = await _net(request).market.collect_events(
        request.match_info["sub"], poll_timeout(request), max_events(request, 10)
    )
    return web.json_response(events)


async def counter(request: web.Request) -> web.Response:
    """POST /demands/{sub}/proposals/{pid}: counter-proposal → 201 its id."""
    ours = _net(request).market.counter(
        request.match_info["sub"], request.match_info["pid"], await json_object(request)
    )
    return web.json_response(ours.proposal_id, status=201)


async def get_proposal(request: web.Request) -> web.Response:
    """GET /demands/{sub}/proposals/{pid}."""
    proposal = _net(request).market.proposal(request.match_info["sub"], request.match_info["pid"])
    return web.json_response(proposal.to_json())


async def reject(request: web.Request) -> web.Response:
    """POST /demands/{sub}/proposals/{pid}/reject {message} → 204."""
    _net(request).market.reject(request.match_info["sub"], request.match_info["pid"])
    return web.Response(status=204)


async def create_agreement(request: web.Request) -> web.Response:
    """POST /agreements {proposalId, validTo} → 201 agreement id."""
    body = await json_object(request)
    proposal_id = body.get("proposalId")
    if not isinstance(proposal_id, str):
        raise ApiError(400, "proposalId is required")
    agreement = _net(request).market.create_agreement(proposal_id, _valid_to(body.get("validTo")))
    return web.json_response(agreement.agreement_id, status=201)


async def get_agreement(request: web.Request) -> web.Response:
    """GET /agreements/{id}."""
    return web.json_response(_net(request).market.agreement(request.match_info["aid"]).to_json())


async def confirm(request: web.Request) -> web.Response:
    """POST /agreements/{id}/confirm → 204; the provider decides after its delay."""
    _net(request).market.confirm(request.match_info["aid"])
    return web.Response(status=204)


async def wait(request: web.Request) -> web.Response:
    """POST /agreements/{id}/wait?timeout=: 204 approved, 408 not yet, 410 ended."""
    agreement_id = request.match_info["aid"]
    market = _net(request).market
    state = await market.wait_approval(agreement_id, poll_timeout(request))
    if state == "Approved":
        return web.Response(status=204)
    if state in ("Proposal", "Pending"):
        raise ApiError(408, f"Agreement {agreement_id} is still {state}")
    reason = market.agreement(agreement_id).reason
    raise ApiError(410, f"Agreement {agreement_id} {state}: {reason}")


async def cancel(request: web.Request) -> web.Response:
    """POST /agreements/{id}/cancel → 204 (only before approval)."""
    _net(request).market.cancel(request.match_info["aid"])
    return web.Response(status=204)


async def terminate(request: web.Request) -> web.Response:
    """POST /agreements/{id}/terminate {message}: activities stopped, invoice issued."""
    body = await json_object(request)
    message = str(body.get("message") or "Terminated by the requestor")
    await _net(request).terminate_agreement(request.match_info["aid"], message)
    return web.Response(status=200)


async def agreement_events(request: web.Request) -> web.Response:
    """GET /agreementEvents?timeout=&afterTimestamp=&maxEvents=."""
    return web.json_response(await events_after(_net(request).market.agreement_events, request))


def _valid_to(value: Any) -> datetime:
    if value is None:
        return datetime.now(UTC) + DEFAULT_VALIDITY
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"validTo must be RFC 3339, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
