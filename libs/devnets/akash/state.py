"""The on-chain model: deployments, bids, leases and escrow, with their state machines."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from devnets.akash.sdl import Group

DeploymentState = Literal["active", "closed"]
BidState = Literal["open", "active", "lost", "closed"]
LeaseState = Literal["active", "insufficient_funds", "closed"]
EscrowState = Literal["open", "closed", "overdrawn"]
FIRST_DSEQ = 21_000_000


class MarketError(Exception):
    """A request the chain would reject; `status`/`error` map it onto the Console API."""

    status = 400
    error = "BadRequestError"


class NotFound(MarketError):
    """Unknown (or foreign) deployment, bid or lease."""

    status = 404
    error = "NotFoundError"


class Conflict(MarketError):
    """The request clashes with the current state."""

    status = 409
    error = "ConflictError"


@dataclass
class Escrow:
    """The deployment's escrow account, in micro-denom."""

    denom: str
    funds: Decimal
    transferred: Decimal = Decimal(0)
    settled_at: int = 0
    state: EscrowState = "open"

    @property
    def balance(self) -> Decimal:
        """Funds not yet paid out."""
        return self.funds - self.transferred


@dataclass
class Bid:
    """A provider's offer for one order (dseq/gseq/oseq)."""

    dseq: int
    gseq: int
    oseq: int
    provider: str
    bseq: int
    price: Decimal  # per block
    denom: str
    created_at: int  # block height
    state: BidState = "open"


@dataclass
class Lease:
    """An accepted bid: the provider runs the order until someone closes it."""

    dseq: int
    gseq: int
    oseq: int
    provider: str
    price: Decimal
    denom: str
    created_at: int
    created_time: datetime
    state: LeaseState = "active"
    closed_on: int = 0
    reason: str | None = None

    @property
    def key(self) -> tuple[int, int, int]:
        """dseq, gseq, oseq."""
        return (self.dseq, self.gseq, self.oseq)


@dataclass
class Deployment:
    """A deployment with its groups (orders), bids, leases and escrow."""

    dseq: int
    owner: str
    name: str | None
    sdl: str
    groups: list[Group]
    created_at: int
    escrow: Escrow
    runtime_limit_hours: int | None = None
    state: DeploymentState = "active"
    bids: list[Bid] = field(default_factory=list)
    leases: list[Lease] = field(default_factory=list)

    @property
    def hash(self) -> str:
        """Version hash of the SDL, as the chain stores it."""
        return hashlib.sha256(self.sdl.encode()).hexdigest()

    def group(self, gseq: int) -> Group:
        """The placement group with this gseq (1-based)."""
        if not 0 < gseq <= len(self.groups):
            raise NotFound(f"order {self.dseq}/{gseq} not found")
        return self.groups[gseq - 1]


@dataclass
class Market:
    """All deployments of the devnet, keyed by dseq."""

    owner: str
    deployments: dict[int, Deployment] = field(default_factory=dict)
    next_dseq: int = FIRST_DSEQ
    # The open ones, kept apart: bidding and settling look only at these, and a devnet that
    # has run many jobs must not walk all of them for every bid.
    _open: dict[int, Deployment] = field(default_factory=dict, repr=False)
    # provider → (CPU millicores, memory, storage) its active leases hold: a bid checks
    # capacity in constant time instead of walking every open deployment.
    _held: dict[str, tuple[int, int, int]] = field(default_factory=dict, repr=False)
    # Closed dseqs in the order they closed: the oldest are forgotten first.
    _closed: dict[int, None] = field(default_factory=dict, repr=False)

    def create(
        self,
        sdl: str,
        groups: list[Group],
        name: str | None,
        runtime_limit_hours: int | None,
        funds: Decimal,
        height: int,
    ) -> Deployment:
        """Open a deployment; dseqs only grow."""
        dseq = max(self.next_dseq, height)
        self.next_dseq = dseq + 1
        escrow = Escrow(denom=groups[0].denom, funds=funds, settled_at=height)
        deployment = Deployment(
            dseq, self.owner, name, sdl, groups, height, escrow, runtime_limit_hours
        )
        self.deployments[dseq] = self._open[dseq] = deployment
        return deployment

    def get(self, dseq: int) -> Deployment:
        """A deployment by dseq, open or closed."""
        try:
            return self.deployments[dseq]
        except KeyError:
            raise NotFound(f"Deployment {dseq} not found") from None

    def add_bid(
        self, deployment: Deployment, gseq: int, provider: str, price: Decimal, height: int
    ) -> Bid:
        """Record a provider's bid on an order."""
        group = deployment.group(gseq)
        bid = Bid(deployment.dseq, gseq, 1, provider, 1, price, group.denom, height)
        deployment.bids.append(bid)
        return bid

    def accept(self, dseq: int, gseq: int, oseq: int, provider: str, height: int) -> Lease:
        """Turn an open bid into a lease; the order's other bids are lost."""
        deployment = self.get(dseq)
        if deployment.state != "active":
            raise NotFound(f"Deployment {dseq} is closed")
        if any(lease.gseq == gseq and lease.oseq == oseq for lease in deployment.leases):
            raise Conflict(
                f"A lease already exists for deployment {dseq} (gseq {gseq}, oseq {oseq})"
            )
        order_bids = [b for b in deployment.bids if (b.gseq, b.oseq) == (gseq, oseq)]
        chosen = next((b for b in order_bids if b.provider == provider and b.state == "open"), None)
        if chosen is None:
            raise NotFound(f"No open bid from {provider} on {dseq}/{gseq}/{oseq}")
        for bid in order_bids:
            bid.state = "active" if bid is chosen else "lost"
        lease = Lease(
            dseq, gseq, oseq, provider, chosen.price, chosen.denom, height, datetime.now(UTC)
        )
        deployment.leases.append(lease)
        self._hold(provider, deployment.group(gseq), 1)
        return lease

    def close_lease(
        self, lease: Lease, reason: str, height: int, state: LeaseState = "closed"
    ) -> None:
        """End a lease (and its bid); the deployment itself stays as it is."""
        if lease.state != "active":
            return
        lease.state = state
        lease.closed_on = height
        lease.reason = reason
        deployment = self.get(lease.dseq)
        self._hold(lease.provider, deployment.group(lease.gseq), -1)
        for bid in deployment.bids:
            if bid.provider == lease.provider and bid.state == "active":
                bid.state = "closed"

    def close(self, deployment: Deployment, height: int) -> list[Lease]:
        """Close a deployment by its owner; returns the leases that were still active."""
        if deployment.state == "closed":
            raise Conflict(f"Deployment {deployment.dseq} is already closed")
        ended = [lease for lease in deployment.leases if lease.state == "active"]
        for lease in ended:
            self.close_lease(lease, "lease_closed_owner", height)
        for bid in deployment.bids:
            if bid.state in ("open", "active"):
                bid.state = "closed"
        deployment.state = "closed"
        deployment.escrow.state = "closed"
        self._open.pop(deployment.dseq, None)
        self._closed[deployment.dseq] = None
        return ended

    def forget_closed(self, keep: int) -> None:
        """Drop all but the `keep` most recently closed deployments."""
        excess = len(self._closed) - keep
        for dseq in list(itertools.islice(self._closed, max(0, excess))):
            del self._closed[dseq]
            self.deployments.pop(dseq, None)

    def settle(self, height: int, top_up: Decimal | None) -> list[Lease]:
        """Pay every active lease up to `height`; returns leases whose escrow ran dry.

        `top_up` models the managed wallet's auto-funding: when set, a short escrow is refilled
        by at least that much instead of running dry.
        """
        dry: list[Lease] = []
        for deployment in self.active():
            escrow = deployment.escrow
            blocks = height - escrow.settled_at
            if blocks <= 0:
                continue
            active = [lease for lease in deployment.leases if lease.state == "active"]
            due = sum((lease.price * blocks for lease in active), Decimal(0))
            if due > escrow.balance and top_up is not None:
                escrow.funds += max(top_up, due - escrow.balance)
            if due > escrow.balance:
                escrow.transferred = escrow.funds
                escrow.state = "overdrawn"
                dry += active
            else:
                escrow.transferred += due
            escrow.settled_at = height
        return dry

    def active(self) -> list[Deployment]:
        """Deployments not yet closed."""
        return list(self._open.values())

    def held(self, provider: str) -> tuple[int, int, int]:
        """CPU millicores, memory and storage bytes of the provider's active leases."""
        return self._held.get(provider, (0, 0, 0))

    def _hold(self, provider: str, group: Group, sign: int) -> None:
        cpu, memory, storage = self.held(provider)
        self._held[provider] = (
            cpu + sign * group.cpu_millicores,
            memory + sign * group.memory_bytes,
            storage + sign * group.storage_bytes,
        )
