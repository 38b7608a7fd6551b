"""The emulated network: market, activities and payments tied together, plus their timers."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

from devnets.golem.activity import Activity
from devnets.golem.faults import Faults
from devnets.golem.http import ApiError
from devnets.golem.market import ENDED_STATES, Agreement, Market
from devnets.golem.payments import DebitNote, Payments
from devnets.golem.pricing import linear_cost
from devnets.golem.settings import GolemDevnetSettings

INTERVAL_KEY = "golem.com.scheme.payu.debit-note.interval-sec?"
ACCEPT_TIMEOUT_KEY = "golem.com.payment.debit-notes.accept-timeout?"


class GolemNetwork:
    """State and behaviour behind the three API roots and the control endpoint."""

    def __init__(self, settings: GolemDevnetSettings, work_dir: Path) -> None:
        self.settings = settings
        self.work_dir = work_dir
        self.faults = Faults()
        self.market = Market(settings, lambda: self.faults, self._spawn)
        self.payments = Payments(settings)
        self.activities: dict[str, Activity] = {}
        self._live: dict[str, Activity] = {}  # not seen terminated yet: what the sampler reads
        self._destroyed: dict[str, None] = {}  # ids in the order destroyed (an ordered set)
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the usage sampler."""
        self._spawn(self._sample_loop())

    async def shutdown(self) -> None:
        """Cancel timers and stop every process."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(a.destroy("devnet shut down") for a in self.activities.values()))

    # --- activities --------------------------------------------------------------------------

    def create_activity(self, agreement_id: str) -> Activity:
        """Start an exe-unit for an approved agreement; debit notes begin."""
        agreement = self.market.agreement(agreement_id)
        if agreement.state in ENDED_STATES:
            raise ApiError(410, f"Agreement {agreement_id} is {agreement.state}")
        if agreement.state != "Approved":
            raise ApiError(409, f"Agreement {agreement_id} is {agreement.state}, not Approved")
        activity = Activity(agreement, self.work_dir, self.settings, lambda: self.faults)
        self.activities[activity.activity_id] = self._live[activity.activity_id] = activity
        self._spawn(self._debit_loop(activity))
        return activity

    def activity(self, activity_id: str) -> Activity:
        """An activity by id, or 404."""
        found = self.activities.get(activity_id)
        if found is None:
            raise ApiError(404, f"Activity {activity_id} not found")
        return found

    async def destroy_activity(self, activity_id: str) -> None:
        """The requestor destroys an activity: processes stopped, counters frozen."""
        activity = self.activity(activity_id)
        if activity.terminated and activity.reason == "destroyed by the requestor":
            raise ApiError(410, f"Activity {activity_id} already destroyed")
        await activity.destroy("destroyed by the requestor")
        self._forget_destroyed([activity])

    # --- agreements --------------------------------------------------------------------------

    async def terminate_agreement(self, agreement_id: str, message: str) -> None:
        """The requestor terminates: 409 before approval, 410 once ended."""
        agreement = self.market.agreement(agreement_id)
        if agreement.state in ENDED_STATES:
            raise ApiError(410, f"Agreement {agreement_id} is {agreement.state}")
        if agreement.state != "Approved":
            raise ApiError(409, f"Agreement {agreement_id} is {agreement.state}: cancel it")
        await self._end_agreement(agreement, "Requestor", message)

    async def break_agreement(self, agreement_id: str, message: str) -> None:
        """The provider terminates an approved agreement mid-run (control endpoint)."""
        agreement = self.market.agreement(agreement_id)
        if agreement.state != "Approved":
            raise ApiError(409, f"Agreement {agreement_id} is {agreement.state}, not Approved")
        await self._end_agreement(agreement, "Provider", message)

    async def _end_agreement(self, agreement: Agreement, terminator: str, message: str) -> None:
        mine = self._activities_of(agreement)
        # State first: debit-note timers and new activity calls see the end at once.
        self.market.end(agreement, "Terminated", terminator, message)
        await asyncio.gather(*(a.destroy(f"agreement terminated: {message}") for a in mine))
        self._forget_destroyed(mine)
        amount = sum((linear_cost(agreement.provider, a.usage_vector()) for a in mine), Decimal(0))
        self.payments.issue_invoice(
            agreement.agreement_id,
            [a.activity_id for a in mine],
            agreement.provider.node_id,
            amount,
        )

    def _forget_destroyed(self, destroyed: list[Activity]) -> None:
        """Keep only the latest `ended_retention` destroyed activities queryable."""
        for activity in destroyed:
            self._destroyed[activity.activity_id] = None
        while len(self._destroyed) > self.settings.ended_retention:
            oldest = next(iter(self._destroyed))
            del self._destroyed[oldest]
            self.activities.pop(oldest, None)

    def _activities_of(self, agreement: Agreement) -> list[Activity]:
        return [a for a in self.activities.values() if a.agreement is agreement]

    # --- debit notes -------------------------------------------------------------------------

    async def _debit_loop(self, activity: Activity) -> None:
        interval = self._interval(activity.agreement)
        while True:
            await asyncio.sleep(interval)
            if activity.terminated or activity.agreement.state != "Approved":
                return
            activity.sample()
            usage = activity.usage_vector()
            note = self.payments.issue_debit_note(
                activity.agreement.agreement_id,
                activity.activity_id,
                activity.agreement.provider.node_id,
                linear_cost(activity.agreement.provider, usage),
                usage,
            )
            self._spawn(self._acceptance_deadline(activity.agreement, note))

    async def _acceptance_deadline(self, agreement: Agreement, note: DebitNote) -> None:
        await asyncio.sleep(self._accept_timeout(agreement))
        if note.status == "RECEIVED" and agreement.state == "Approved":
            message = f"Debit note {note.debit_note_id} was not accepted in time"
            await self._end_agreement(agreement, "Provider", message)

    def _interval(self, agreement: Agreement) -> float:
        if self.settings.debit_note_interval_seconds is not None:
            return self.settings.debit_note_interval_seconds
        default = self.settings.default_debit_note_interval_seconds
        return _seconds(agreement.demand.properties.get(INTERVAL_KEY), default)

    def _accept_timeout(self, agreement: Agreement) -> float:
        default = self.settings.default_debit_note_accept_timeout_seconds
        return _seconds(agreement.demand.properties.get(ACCEPT_TIMEOUT_KEY), default)

    async def _sample_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.usage_sample_seconds)
            # Only live ones: destroyed activities stay queryable, the sampler must not walk them.
            for activity_id, activity in list(self._live.items()):
                if activity.terminated:
                    del self._live[activity_id]
                else:
                    activity.sample()

    # --- control -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Open demands, agreements, activities, allocations and live processes (leak checks)."""
        return {
            "demands": [
                {"subscriptionId": d.subscription_id}
                for d in self.market.demands.values()
                if d.active
            ],
            "agreements": [
                {
                    "agreementId": a.agreement_id,
                    "state": a.state,
                    "providerId": a.provider.node_id,
                    "providerName": a.provider.name,
                }
                for a in self.market.open_agreements()
            ],
            "activities": [
                {
                    "activityId": a.activity_id,
                    "agreementId": a.agreement.agreement_id,
                    "state": a.state,
                }
                for a in self.activities.values()
                if not a.terminated
            ],
            "processes": [p for a in self.activities.values() for p in a.live_processes()],
            "allocations": [a.to_json() for a in self.payments.allocations.values()],
            "faults": self.faults.model_dump(by_alias=True),
        }

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _seconds(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return default
    return float(value)
