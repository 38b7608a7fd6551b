"""The market: demand subscriptions, provider proposals, negotiation and agreement states."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from devnets.feed import Feed
from devnets.golem import constraints
from devnets.golem.constraints import Filter
from devnets.golem.faults import Faults
from devnets.golem.http import ApiError, iso, now
from devnets.golem.longpoll import wait_until
from devnets.golem.offers import offer_constraints, offer_properties
from devnets.golem.settings import GolemDevnetSettings, GolemProviderSettings

EVENT_CAPACITY = 10_000
OPEN_STATES = ("Proposal", "Pending", "Approved")
ENDED_STATES = ("Cancelled", "Rejected", "Expired", "Terminated")

ProposalState = Literal["Initial", "Draft", "Rejected", "Accepted", "Expired"]
AgreementState = Literal[
    "Proposal", "Pending", "Cancelled", "Rejected", "Approved", "Expired", "Terminated"
]


@dataclass
class Proposal:
    """A proposal: a provider's offer/draft, or the requestor's counter-proposal."""

    proposal_id: str
    issuer_id: str
    properties: dict[str, Any]
    constraints: str
    state: ProposalState
    prev_proposal_id: str | None
    provider: GolemProviderSettings | None  # None = issued by the requestor
    timestamp: datetime = field(default_factory=now)

    def to_json(self) -> dict[str, Any]:
        """ya-client's Proposal."""
        return {
            "proposalId": self.proposal_id,
            "issuerId": self.issuer_id,
            "properties": self.properties,
            "constraints": self.constraints,
            "state": self.state,
            "prevProposalId": self.prev_proposal_id,
            "timestamp": iso(self.timestamp),
        }


@dataclass
class Demand:
    """A demand subscription and its queue of proposal events."""

    subscription_id: str
    properties: dict[str, Any]
    constraints: str
    filters: list[Filter]
    events: Feed[dict[str, Any]] = field(default_factory=lambda: Feed(EVENT_CAPACITY))
    cursor: int = 0  # events up to this sequence number were handed out
    proposals: dict[str, Proposal] = field(default_factory=dict)
    active: bool = True
    timestamp: datetime = field(default_factory=now)


@dataclass
class Agreement:
    """An agreement between the requestor's demand and a provider's draft proposal."""

    agreement_id: str
    demand: Demand
    offer: Proposal
    valid_to: datetime
    state: AgreementState = "Proposal"
    approved_at: datetime | None = None
    reason: str | None = None
    terminator: str | None = None
    changed: Feed[str] = field(default_factory=lambda: Feed(EVENT_CAPACITY))
    timestamp: datetime = field(default_factory=now)

    @property
    def provider(self) -> GolemProviderSettings:
        """The provider that issued the offer."""
        assert self.offer.provider is not None
        return self.offer.provider

    def set_state(self, state: AgreementState, reason: str | None = None) -> None:
        """Move to a state and wake `wait` callers."""
        self.state = state
        self.reason = reason
        self.changed.append(state)

    def to_json(self) -> dict[str, Any]:
        """ya-client's Agreement."""
        return {
            "agreementId": self.agreement_id,
            "demand": {
                "properties": self.demand.properties,
                "constraints": self.demand.constraints,
                "demandId": self.demand.subscription_id,
                "requestorId": "",
                "timestamp": iso(self.demand.timestamp),
            },
            "offer": {
                "properties": self.offer.properties,
                "constraints": self.offer.constraints,
                "offerId": self.offer.proposal_id,
                "providerId": self.offer.issuer_id,
                "timestamp": iso(self.offer.timestamp),
            },
            "validTo": iso(self.valid_to),
            "approvedDate": iso(self.approved_at) if self.approved_at else None,
            "state": self.state,
            "timestamp": iso(self.timestamp),
            "appSessionId": None,
        }


class Market:
    """Demands, proposals and agreements; providers answer on their own timers."""

    def __init__(
        self,
        settings: GolemDevnetSettings,
        faults: Callable[[], Faults],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        self.settings = settings
        self.demands: dict[str, Demand] = {}
        self.agreements: dict[str, Agreement] = {}
        self.agreement_events: Feed[dict[str, Any]] = Feed(EVENT_CAPACITY)
        self._faults = faults
        self._spawn = spawn
        self._owner_id = settings.requestor_address

    # --- demands and proposals ---------------------------------------------------------------

    def subscribe(self, properties: dict[str, Any], constraint_text: str | list[str]) -> Demand:
        """Publish a demand; each matching provider offers after its delay."""
        try:
            filters = constraints.parse_all(constraint_text)
        except constraints.ConstraintError as exc:
            raise ApiError(400, f"invalid constraints: {exc}") from None
        joined = constraint_text if isinstance(constraint_text, str) else _and(constraint_text)
        demand = Demand(_id(), constraints.flatten(properties), joined, filters)
        self.demands[demand.subscription_id] = demand
        for provider in self.settings.providers:
            self._spawn(self._offer_later(demand, provider))
        return demand

    def unsubscribe(self, subscription_id: str) -> None:
        """Withdraw a demand (410 when already withdrawn)."""
        demand = self.demand(subscription_id, allow_inactive=True)
        if not demand.active:
            raise ApiError(410, f"Subscription {subscription_id} already unsubscribed")
        demand.active = False
        demand.events.close()

    def demand(self, subscription_id: str, *, allow_inactive: bool = False) -> Demand:
        """A subscription by id, or 404."""
        demand = self.demands.get(subscription_id)
        if demand is None or not (demand.active or allow_inactive):
            raise ApiError(404, f"Subscription {subscription_id} not found")
        return demand

    async def collect_events(
        self, subscription_id: str, timeout: float, limit: int
    ) -> list[dict[str, Any]]:
        """Unseen proposal events, waiting up to `timeout` for the first one."""
        demand = self.demand(subscription_id)
        await wait_until(demand.events, lambda: demand.events.next_seq - 1 > demand.cursor, timeout)
        batch = demand.events.after(demand.cursor)[:limit]
        demand.cursor += len(batch)
        return batch

    def counter(self, subscription_id: str, proposal_id: str, body: dict[str, Any]) -> Proposal:
        """The requestor's counter-proposal; the provider answers with a Draft (or rejects)."""
        demand = self.demand(subscription_id)
        theirs = self._provider_proposal(demand, proposal_id)
        if theirs.state not in ("Initial", "Draft"):
            raise ApiError(410, f"Proposal {proposal_id} is {theirs.state}")
        properties = constraints.flatten(_dict(body.get("properties", demand.properties)))
        text = body.get("constraints", demand.constraints)
        ours = Proposal(_id(), self._owner_id, properties, _text(text), "Draft", proposal_id, None)
        demand.proposals[ours.proposal_id] = ours
        assert theirs.provider is not None
        self._answer_counter(demand, theirs.provider, ours)
        return ours

    def reject(self, subscription_id: str, proposal_id: str) -> None:
        """The requestor rejects a provider's proposal."""
        proposal = self._provider_proposal(self.demand(subscription_id), proposal_id)
        proposal.state = "Rejected"

    def proposal(self, subscription_id: str, proposal_id: str) -> Proposal:
        """Any proposal of a demand, or 404."""
        found = self.demand(subscription_id).proposals.get(proposal_id)
        if found is None:
            raise ApiError(404, f"Proposal {proposal_id} not found")
        return found

    # --- agreements --------------------------------------------------------------------------

    def create_agreement(self, proposal_id: str, valid_to: datetime) -> Agreement:
        """An agreement from a provider's Draft proposal (409 for an Initial one: counter first)."""
        proposal, demand = self._find_proposal(proposal_id)
        if proposal.provider is None:
            raise ApiError(409, f"Proposal {proposal_id} was issued by the requestor")
        if proposal.state == "Initial":
            raise ApiError(409, f"Proposal {proposal_id} is Initial: counter it first")
        if proposal.state != "Draft":
            raise ApiError(410, f"Proposal {proposal_id} is {proposal.state}")
        if valid_to <= now():
            raise ApiError(400, "validTo is in the past")
        proposal.state = "Accepted"
        agreement = Agreement(_id(), demand, proposal, valid_to)
        self.agreements[agreement.agreement_id] = agreement
        return agreement

    def agreement(self, agreement_id: str) -> Agreement:
        """An agreement by id, or 404."""
        found = self.agreements.get(agreement_id)
        if found is None:
            raise ApiError(404, f"Agreement {agreement_id} not found")
        return found

    def confirm(self, agreement_id: str) -> None:
        """Send the agreement to the provider, who approves it after a delay."""
        agreement = self.agreement(agreement_id)
        if agreement.state != "Proposal":
            raise ApiError(409, f"Agreement {agreement_id} is {agreement.state}")
        agreement.set_state("Pending")
        self._spawn(self._decide_later(agreement))

    async def wait_approval(self, agreement_id: str, timeout: float) -> AgreementState:
        """Wait until the agreement leaves Proposal/Pending or the timeout passes."""
        agreement = self.agreement(agreement_id)
        self._expire_if_due(agreement)
        await wait_until(
            agreement.changed, lambda: agreement.state not in ("Proposal", "Pending"), timeout
        )
        return agreement.state

    def cancel(self, agreement_id: str) -> None:
        """The requestor withdraws an agreement that is not approved yet."""
        agreement = self.agreement(agreement_id)
        if agreement.state not in ("Proposal", "Pending"):
            raise ApiError(409, f"Agreement {agreement_id} is {agreement.state}")
        self.end(agreement, "Cancelled", "Requestor", "Cancelled by the requestor")

    def end(
        self, agreement: Agreement, state: AgreementState, terminator: str, message: str
    ) -> None:
        """Record that an agreement ended and publish the matching agreement event."""
        agreement.terminator = terminator
        agreement.set_state(state, message)
        self._agreement_event(f"Agreement{state}Event", agreement, terminator, message)

    def open_agreements(self) -> list[Agreement]:
        """Agreements not ended yet."""
        return [a for a in self.agreements.values() if a.state in OPEN_STATES]

    # --- provider behaviour ------------------------------------------------------------------

    async def _offer_later(self, demand: Demand, provider: GolemProviderSettings) -> None:
        delay = self._faults().offer_delay_seconds
        if delay is None:
            delay = self.settings.delay(provider.offer_delay_seconds)
        if delay > 0:
            await asyncio.sleep(delay)
        if not demand.active or self._faults().no_offers or not self._matches(demand, provider):
            return
        offer = Proposal(
            _id(),
            provider.node_id,
            offer_properties(provider, self.settings.payment_platform),
            offer_constraints(provider),
            "Initial",
            None,
            provider,
        )
        demand.proposals[offer.proposal_id] = offer
        demand.events.append(_proposal_event(offer))

    def _answer_counter(
        self, demand: Demand, provider: GolemProviderSettings, counter: Proposal
    ) -> None:
        filters = constraints.parse_all(counter.constraints)
        offered = offer_properties(provider, self.settings.payment_platform)
        if not constraints.satisfied(filters, offered) or not self._has_room(provider):
            counter.state = "Rejected"
            reason = {"message": "No capacity or constraints not met", "golem.proposal.code": 1}
            demand.events.append(
                {
                    "eventType": "ProposalRejectedEvent",
                    "eventDate": iso(now()),
                    "proposalId": counter.proposal_id,
                    "reason": reason,
                }
            )
            return
        draft = Proposal(
            _id(),
            provider.node_id,
            offered,
            offer_constraints(provider),
            "Draft",
            counter.proposal_id,
            provider,
        )
        demand.proposals[draft.proposal_id] = draft
        demand.events.append(_proposal_event(draft))

    async def _decide_later(self, agreement: Agreement) -> None:
        delay = self.settings.delay(self.settings.approve_delay_seconds)
        if delay > 0:
            await asyncio.sleep(delay)
        if agreement.state != "Pending" or self._expire_if_due(agreement):
            return
        if self._faults().reject_agreements or not self._has_room(agreement.provider):
            self.end(agreement, "Rejected", "Provider", "Provider rejected the agreement")
            return
        agreement.approved_at = now()
        agreement.set_state("Approved")
        self._agreement_event("AgreementApprovedEvent", agreement, None, None)

    def _expire_if_due(self, agreement: Agreement) -> bool:
        if agreement.state in ("Proposal", "Pending") and agreement.valid_to <= now():
            self.end(agreement, "Expired", "Provider", "Agreement expired before approval")
            return True
        return False

    def _matches(self, demand: Demand, provider: GolemProviderSettings) -> bool:
        offered = offer_properties(provider, self.settings.payment_platform)
        theirs = constraints.parse_all(offer_constraints(provider))
        return (
            constraints.satisfied(demand.filters, offered)
            and constraints.satisfied(theirs, demand.properties)
            and self._has_room(provider)
        )

    def _has_room(self, provider: GolemProviderSettings) -> bool:
        held = sum(
            1
            for a in self.agreements.values()
            if a.state == "Approved" and a.provider.node_id == provider.node_id
        )
        return held < provider.max_agreements

    def _provider_proposal(self, demand: Demand, proposal_id: str) -> Proposal:
        proposal = demand.proposals.get(proposal_id)
        if proposal is None or proposal.provider is None:
            raise ApiError(404, f"Proposal {proposal_id} not found")
        return proposal

    def _find_proposal(self, proposal_id: str) -> tuple[Proposal, Demand]:
        for demand in self.demands.values():
            if proposal_id in demand.proposals:
                return demand.proposals[proposal_id], demand
        raise ApiError(404, f"Proposal {proposal_id} not found")

    def _agreement_event(
        self, kind: str, agreement: Agreement, terminator: str | None, message: str | None
    ) -> None:
        event: dict[str, Any] = {
            "eventType": kind,
            "eventDate": iso(now()),
            "agreementId": agreement.agreement_id,
        }
        if kind == "AgreementTerminatedEvent":
            event |= {"terminator": terminator, "reason": {"message": message}, "signature": ""}
        elif message is not None:
            event["reason"] = {"message": message}
        self.agreement_events.append(event)


def _proposal_event(proposal: Proposal) -> dict[str, Any]:
    return {"eventType": "ProposalEvent", "eventDate": iso(now()), "proposal": proposal.to_json()}


def _id() -> str:
    return secrets.token_hex(32)


def _and(texts: list[str]) -> str:
    parts = [t.strip() for t in texts if t.strip()]
    return parts[0] if len(parts) == 1 else "(&" + "".join(parts) + ")"


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(400, "properties must be an object")
    return value


def _text(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return _and(value)
    if not isinstance(value, str):
        raise ApiError(400, "constraints must be a string")
    try:
        constraints.parse(value)
    except constraints.ConstraintError as exc:
        raise ApiError(400, f"invalid constraints: {exc}") from None
    return value
