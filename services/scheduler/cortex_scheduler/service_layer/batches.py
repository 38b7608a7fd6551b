"""Batch admission: release waiting jobs in submission order while slots are free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts import events
from contracts.timefmt import utcnow
from cortex_scheduler.domain.resources import batch_view

if TYPE_CHECKING:
    from cortex_scheduler.service_layer.unit_of_work import UnitOfWork


async def admit(uow: UnitOfWork, batch_id: str, skip_locked: bool = False) -> int:
    """Fill the batch's free slots and announce its completion; returns jobs released.

    Runs with the batch row locked, in the transaction that ended a job (or in the sweep), so
    two replicas never both see the same free slot. A job released but not yet ended counts
    against the limit: until the network reports it, it is still `pending`.
    """
    batch = await uow.batches.lock(batch_id, skip_locked)
    if batch is None:
        return 0
    waiting = await uow.batches.waiting(batch_id)
    # Without waiting jobs, all that matters is whether any job is still active.
    active = await uow.batches.active(batch_id, up_to=batch.concurrency if waiting else 1)
    released = 0
    if batch.cancelled_at is None and waiting and active < batch.concurrency:
        now = utcnow()
        jobs = await uow.batches.lock_waiting(batch_id, batch.concurrency - active)
        await uow.batches.release([j.id for j in jobs], now)
        for job in jobs:
            job.released_at = now
            uow.send_deploy(job)
        released = len(jobs)
    if not waiting and active == 0 and batch.completed_at is None:
        batch.completed_at = utcnow()
        await uow.batches.mark(batch)
        counts, _ = await uow.batches.counts(batch_id)
        view = batch_view(batch, counts, 0)
        uow.announce_resource("batch", batch.id, batch.tenant, events.BATCH_COMPLETED, view)
    return released


async def sweep(uow: UnitOfWork, limit: int = 100) -> int:
    """Re-run admission for batches with waiting jobs (after a crash, or a lost race)."""
    released = 0
    for batch_id in await uow.batches.with_waiting_jobs(limit):
        released += await admit(uow, batch_id, skip_locked=True)
    return released
