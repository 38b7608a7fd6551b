"""The market side of a deployment: offers to our demand, counter-proposals and their answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cortex_provider_golem.adapters.yagna import YagnaClient
from cortex_provider_golem.domain.pricing import LinearPrice, PriceError
from cortex_provider_golem.domain.properties import prop
from runtime.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Offer:
    """A provider's proposal to our demand, with its price."""

    proposal_id: str
    issuer_id: str
    name: str
    properties: dict[str, Any]
    price: LinearPrice

    @classmethod
    def of(cls, proposal: dict[str, Any]) -> Offer:
        props = proposal.get("properties") or {}
        return cls(
            proposal_id=str(proposal["proposalId"]),
            issuer_id=str(proposal.get("issuerId", "")),
            name=str(prop(props, "golem.node.id.name", proposal.get("issuerId", ""))),
            properties=props,
            price=LinearPrice.of_offer(props),
        )


class DemandInbox:
    """The demand's event feed, sorted into new offers and answers to our counter-proposals."""

    def __init__(self, yagna: YagnaClient, demand_id: str, poll_timeout: float) -> None:
        self._yagna, self.demand_id, self._poll = yagna, demand_id, poll_timeout
        self.offers: list[Offer] = []
        self.unpriced = 0  # offers we could not price (another model or counters)
        self._answers: dict[str, dict[str, Any] | str] = {}  # counter id → Draft or reason

    async def pull(self, timeout: float) -> None:
        """Wait up to `timeout` for events and sort them."""
        for event in await self._yagna.demand_events(self.demand_id, max(timeout, 0.0)):
            kind = event.get("eventType")
            if kind == "ProposalEvent":
                self._proposal(event["proposal"])
            elif kind == "ProposalRejectedEvent":
                reason = event.get("reason") or {}
                message = reason.get("message") if isinstance(reason, dict) else str(reason)
                self._answers[str(event.get("proposalId"))] = str(message or "rejected")

    def _proposal(self, proposal: dict[str, Any]) -> None:
        previous = proposal.get("prevProposalId")
        if proposal.get("state") == "Draft" and previous:
            self._answers[str(previous)] = proposal
            return
        try:
            self.offers.append(Offer.of(proposal))
        except (PriceError, KeyError, ValueError, TypeError) as exc:
            self.unpriced += 1
            log.info("golem.offer_unpriced", proposal=proposal.get("proposalId"), error=str(exc))

    async def collect(
        self, timeout: float, window: float, acceptable: Callable[[Offer], bool]
    ) -> list[Offer]:
        """Acceptable offers: wait up to `timeout` for the first, then `window` for more."""
        deadline = time.monotonic() + timeout
        first: float | None = None
        while True:
            found = [o for o in self.offers if acceptable(o)]
            if found and first is None:
                first = time.monotonic()
                deadline = min(deadline, first + window)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return found
            await self.pull(min(remaining, self._poll))

    async def answer(self, counter_id: str, timeout: float) -> dict[str, Any] | str:
        """The provider's Draft for our counter-proposal, or why not (rejection, no answer)."""
        deadline = time.monotonic() + timeout
        while counter_id not in self._answers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return f"no answer to the counter-proposal within {timeout:g} s"
            await self.pull(min(remaining, self._poll))
        return self._answers.pop(counter_id)
