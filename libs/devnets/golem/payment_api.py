"""`/payment-api/v1`: allocations, demand decorations, debit notes and invoices."""

from __future__ import annotations

from aiohttp import web

from devnets.golem.events import events_after
from devnets.golem.http import json_object
from devnets.golem.keys import NETWORK
from devnets.golem.payments import Payments

ROOT = "/payment-api/v1"


def add_routes(app: web.Application) -> None:
    """Register the payment routes."""
    r = app.router
    r.add_post(f"{ROOT}/allocations", create_allocation)
    r.add_get(f"{ROOT}/allocations", list_allocations)
    r.add_get(f"{ROOT}/allocations/{{id}}", get_allocation)
    r.add_delete(f"{ROOT}/allocations/{{id}}", release_allocation)
    r.add_get(f"{ROOT}/demandDecorations", demand_decorations)
    r.add_get(f"{ROOT}/debitNoteEvents", debit_note_events)
    r.add_get(f"{ROOT}/debitNotes", list_debit_notes)
    r.add_get(f"{ROOT}/debitNotes/{{id}}", get_debit_note)
    r.add_post(f"{ROOT}/debitNotes/{{id}}/accept", accept_debit_note)
    r.add_get(f"{ROOT}/invoiceEvents", invoice_events)
    r.add_get(f"{ROOT}/invoices", list_invoices)
    r.add_get(f"{ROOT}/invoices/{{id}}", get_invoice)
    r.add_post(f"{ROOT}/invoices/{{id}}/accept", accept_invoice)


def _pay(request: web.Request) -> Payments:
    return request.app[NETWORK].payments


async def create_allocation(request: web.Request) -> web.Response:
    """POST /allocations {totalAmount, paymentPlatform?, address?, timeout?, makeDeposit}."""
    allocation = _pay(request).allocate(await json_object(request))
    return web.json_response(allocation.to_json(), status=201)


async def list_allocations(request: web.Request) -> web.Response:
    """GET /allocations."""
    return web.json_response([a.to_json() for a in _pay(request).allocations.values()])


async def get_allocation(request: web.Request) -> web.Response:
    """GET /allocations/{id}."""
    return web.json_response(_pay(request).allocation(request.match_info["id"]).to_json())


async def release_allocation(request: web.Request) -> web.Response:
    """DELETE /allocations/{id}."""
    _pay(request).release(request.match_info["id"])
    return web.Response(status=200)


async def demand_decorations(request: web.Request) -> web.Response:
    """GET /demandDecorations?allocationIds=a,b → {properties: [{key, value}], constraints}."""
    raw = request.query.getall("allocationIds", [])
    ids = [part for value in raw for part in value.split(",") if part]
    return web.json_response(_pay(request).decorations(ids))


async def debit_note_events(request: web.Request) -> web.Response:
    """GET /debitNoteEvents?timeout=&afterTimestamp=&maxEvents=."""
    return web.json_response(await events_after(_pay(request).debit_note_events, request))


async def list_debit_notes(request: web.Request) -> web.Response:
    """GET /debitNotes."""
    return web.json_response([n.to_json() for n in _pay(request).debit_notes.values()])


async def get_debit_note(request: web.Request) -> web.Response:
    """GET /debitNotes/{id}."""
    return web.json_response(_pay(request).debit_note(request.match_info["id"]).to_json())


async def accept_debit_note(request: web.Request) -> web.Response:
    """POST /debitNotes/{id}/accept {totalAmountAccepted, allocationId}."""
    payments = _pay(request)
    payments.accept(payments.debit_note(request.match_info["id"]), await json_object(request))
    return web.Response(status=200)


async def invoice_events(request: web.Request) -> web.Response:
    """GET /invoiceEvents?timeout=&afterTimestamp=&maxEvents=."""
    return web.json_response(await events_after(_pay(request).invoice_events, request))


async def list_invoices(request: web.Request) -> web.Response:
    """GET /invoices."""
    return web.json_response([i.to_json() for i in _pay(request).invoices.values()])


async def get_invoice(request: web.Request) -> web.Response:
    """GET /invoices/{id}."""
    return web.json_response(_pay(request).invoice(request.match_info["id"]).to_json())


async def accept_invoice(request: web.Request) -> web.Response:
    """POST /invoices/{id}/accept {totalAmountAccepted, allocationId}."""
    payments = _pay(request)
    payments.accept(payments.invoice(request.match_info["id"]), await json_object(request))
    return web.Response(status=200)
