"""Accept debit notes and invoices of our agreements, for the whole service.

A provider terminates an agreement whose debit note is not accepted within the agreed
timeout, and is paid only for accepted documents: one loop per document kind follows yagna's
event feed and accepts every document of an agreement we track, in full, against the
job's allocation. Documents of agreements not (yet) tracked wait until one is.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from cortex_provider_golem.adapters.yagna import YagnaClient, YagnaError
from provider_runtime.network import backoff
from runtime.background import wait_set
from runtime.logging import get_logger

log = get_logger(__name__)
KINDS = {
    "debitNotes": ("debitNoteEvents", "debitNoteId"),
    "invoices": ("invoiceEvents", "invoiceId"),
}
MAX_WAITING = 1000  # untracked documents remembered (others' agreements, or from before)


class PaymentDesk:
    def __init__(self, yagna: YagnaClient, poll_timeout: float) -> None:
        self._yagna = yagna
        self._poll = poll_timeout
        self._allocations: dict[str, str] = {}  # agreement id → allocation id
        self._waiting: OrderedDict[str, tuple[str, str, str]] = (
            OrderedDict()
        )  # doc id → kind, agreement, amount
        self._invoiced: dict[str, asyncio.Event] = {}  # agreement id → its invoice was accepted
        self._tasks: list[asyncio.Task[None]] = []

    def use(self, yagna: YagnaClient) -> None:
        """Talk through `yagna` from the next call on (new endpoint or key)."""
        self._yagna = yagna

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._follow(kind)) for kind in KINDS]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def track(self, agreement_id: str, allocation_id: str) -> None:
        """Pay this agreement's documents from this allocation (and any that already came)."""
        self._allocations[agreement_id] = allocation_id
        self._invoiced.setdefault(agreement_id, asyncio.Event())
        for doc_id, (kind, agreement, amount) in list(self._waiting.items()):
            if agreement == agreement_id:
                del self._waiting[doc_id]
                await self._accept(kind, doc_id, agreement, amount)

    def forget(self, agreement_id: str) -> None:
        self._allocations.pop(agreement_id, None)
        self._invoiced.pop(agreement_id, None)

    async def invoice_accepted(self, agreement_id: str, timeout: float) -> bool:
        """Wait until the agreement's final invoice has been accepted (False after `timeout`)."""
        event = self._invoiced.setdefault(agreement_id, asyncio.Event())
        return await wait_set(event, timeout)

    async def _follow(self, kind: str) -> None:
        feed, key = KINDS[kind]
        after: str | None = None
        attempt = 0
        while True:
            try:
                for event in await self._yagna.events(feed, after, self._poll):
                    if key in event:
                        await self._receive(kind, str(event[key]))
                    after = str(event.get("eventDate") or after)  # only once handled
                attempt = 0
            except YagnaError as exc:
                attempt += 1
                log.info("golem.payment_events_failed", kind=kind, error=exc.message)
                await asyncio.sleep(backoff(attempt, base=0.1, cap=5.0))

    async def _receive(self, kind: str, doc_id: str) -> None:
        document = await self._yagna.document(kind, doc_id)
        if document.get("status") in ("ACCEPTED", "SETTLED", "CANCELLED", "REJECTED"):
            return
        agreement = str(document.get("agreementId"))
        amount = str(document.get("totalAmountDue" if kind == "debitNotes" else "amount"))
        if agreement in self._allocations:
            await self._accept(kind, doc_id, agreement, amount)
            return
        self._waiting[doc_id] = (kind, agreement, amount)
        while len(self._waiting) > MAX_WAITING:
            self._waiting.popitem(last=False)

    async def _accept(self, kind: str, doc_id: str, agreement: str, amount: str) -> None:
        allocation = self._allocations[agreement]
        try:
            await self._yagna.accept(kind, doc_id, amount, allocation)
        except YagnaError as exc:
            # e.g. the allocation cannot cover it (budget exhausted): the provider will end it.
            log.warning("golem.accept_failed", kind=kind, agreement=agreement, error=exc.message)
            return
        log.info("golem.accepted", kind=kind, agreement=agreement, amount=amount)
        if kind == "invoices":
            self._invoiced.setdefault(agreement, asyncio.Event()).set()
