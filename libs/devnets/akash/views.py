"""JSON shapes of the Console API (kept in one module: the real API's shapes drift)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from devnets.akash.network import AkashNetwork
from devnets.akash.state import Bid, Deployment, Escrow, Lease


def coin(denom: str, amount: Decimal) -> dict[str, str]:
    """A Cosmos coin with a decimal-string amount."""
    return {"denom": denom, "amount": _amount(amount)}


def bid_view(network: AkashNetwork, deployment: Deployment, bid: Bid) -> dict[str, Any]:
    """One item of GET /v1/bids."""
    bid_id: dict[str, Any] = {
        "owner": deployment.owner,
        "dseq": str(bid.dseq),
        "gseq": bid.gseq,
        "oseq": bid.oseq,
        "provider": bid.provider,
    }
    id_field = network.settings.bid_id_field
    if id_field == "id":
        bid_id["bseq"] = bid.bseq
    group = deployment.group(bid.gseq)
    offer = [
        {
            "resources": {
                "id": index,
                "cpu": {"units": {"val": str(svc.cpu_millicores)}, "attributes": []},
                "memory": {"quantity": {"val": str(svc.memory_bytes)}, "attributes": []},
                "storage": [
                    {
                        "name": "default",
                        "quantity": {"val": str(svc.storage_bytes)},
                        "attributes": [],
                    }
                ],
                "gpu": {"units": {"val": "0"}, "attributes": []},
                "endpoints": [
                    {
                        "kind": "SHARED_HTTP" if e.as_port == 80 else "RANDOM_PORT",
                        "sequence_number": 0,
                    }
                    for e in svc.expose
                    if e.is_global
                ],
            },
            "count": svc.count,
        }
        for index, svc in enumerate(group.services, start=1)
    ]
    xid = f"{deployment.owner}/{bid.dseq}/{bid.gseq}/{bid.oseq}/{bid.provider}"
    return {
        "bid": {
            id_field: bid_id,
            "state": bid.state,
            "price": {"denom": bid.denom, "amount": _amount(bid.price, precision=18)},
            "created_at": str(bid.created_at),
            "resources_offer": offer,
        },
        "escrow_account": {
            "id": {"scope": "bid", "xid": xid},
            "owner": bid.provider,
            "state": "open" if bid.state in ("open", "active") else "closed",
            "balance": {"denom": bid.denom, "amount": "500000.000000000000000000"},
            "transferred": {"denom": bid.denom, "amount": "0.000000000000000000"},
            "settled_at": str(bid.created_at),
            "depositor": bid.provider,
            "funds": {"denom": bid.denom, "amount": "0.000000000000000000"},
        },
    }


def lease_view(network: AkashNetwork, lease: Lease) -> dict[str, Any]:
    """A lease with the provider's status when it is active."""
    run = network.run_for(lease)
    view: dict[str, Any] = {
        "id": {
            "owner": network.market.owner,
            "dseq": str(lease.dseq),
            "gseq": lease.gseq,
            "oseq": lease.oseq,
            "provider": lease.provider,
        },
        "state": lease.state,
        "price": {"denom": lease.denom, "amount": _amount(lease.price, precision=18)},
        "created_at": str(lease.created_at),
        "closed_on": str(lease.closed_on),
        "status": run.status() if run else None,
    }
    if lease.reason:
        view["reason"] = lease.reason
    return view


def deployment_view(network: AkashNetwork, deployment: Deployment) -> dict[str, Any]:
    """GET /v1/deployments/{dseq} data (also one item of the list)."""
    return {
        "deployment": {
            "id": {"owner": deployment.owner, "dseq": str(deployment.dseq)},
            "state": deployment.state,
            "hash": deployment.hash,
            "created_at": str(deployment.created_at),
            "name": deployment.name,
        },
        "leases": [lease_view(network, lease) for lease in deployment.leases],
        "escrow_account": escrow_view(deployment, deployment.escrow),
    }


def escrow_view(deployment: Deployment, escrow: Escrow) -> dict[str, Any]:
    """The deployment escrow account."""
    return {
        "id": {"scope": "deployment", "xid": f"{deployment.owner}/{deployment.dseq}"},
        "state": {
            "owner": deployment.owner,
            "state": escrow.state,
            "funds": [coin(escrow.denom, escrow.balance)],
            "deposits": [coin(escrow.denom, escrow.funds)],
            "transferred": [coin(escrow.denom, escrow.transferred)],
            "settled_at": str(escrow.settled_at),
        },
    }


def _amount(value: Decimal, precision: int = 6) -> str:
    return f"{value:.{precision}f}"
