"""Templates and cron schedules: tenant-owned job configurations the scheduler keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contracts import events
from contracts.batches import next_due
from contracts.errors import ApiError, ErrorCode
from contracts.job import JobSpec, new_job_id
from contracts.merge import deep_merge
from contracts.timefmt import format_time, utcnow
from contracts.validation import parse_model
from cortex_scheduler.domain import views
from cortex_scheduler.domain.resources import Schedule, Template
from cortex_scheduler.service_layer.handlers import CreateRequest, Scheduler
from cortex_scheduler.service_layer.unit_of_work import UnitOfWork
from runtime.logging import get_logger

log = get_logger(__name__)
# At most this many due times of one schedule are fired in one pass (a long outage with a
# per-second cron must not become one enormous transaction); the rest follow next pass.
MAX_RUNS_PER_PASS = 100


@dataclass(frozen=True)
class TemplateInput:
    name: str
    description: str
    config: dict[str, Any]


@dataclass(frozen=True)
class ScheduleInput:
    name: str
    cron: str
    timezone: str
    template_id: str | None
    overrides: dict[str, Any] | None
    config: dict[str, Any] | None


class Catalog:
    """Use cases of templates and schedules; jobs are made through the Scheduler."""

    def __init__(self, scheduler: Scheduler, catch_up_window: float) -> None:
        self._scheduler = scheduler
        self._window = timedelta(seconds=catch_up_window)

    async def create_template(
        self, tenant: str, template_id: str, given: TemplateInput
    ) -> dict[str, Any]:
        now = utcnow()
        template = Template(
            template_id, tenant, given.name, given.description, given.config, now, now
        )
        async with self._scheduler.uow() as uow:
            await uow.templates.add(template)
            self._announce_template(uow, template, events.TEMPLATE_CREATED)
            await uow.commit()
        return template.view()

    async def get_template(self, tenant: str, template_id: str) -> dict[str, Any]:
        async with self._scheduler.uow() as uow:
            template = await uow.templates.get(template_id, tenant)
        if template is None:
            raise template_not_found(template_id)
        return template.view()

    async def list_templates(self, tenant: str, page: int, limit: int) -> dict[str, Any]:
        async with self._scheduler.uow() as uow:
            templates, total = await uow.templates.page(tenant, page, limit)
        return {"items": [t.view() for t in templates], "total": total}

    async def update_template(
        self, tenant: str, template_id: str, given: TemplateInput
    ) -> dict[str, Any]:
        async with self._scheduler.uow() as uow:
            template = await uow.templates.get(template_id, tenant, lock=True)
            if template is None:
                raise template_not_found(template_id)
            template.name, template.description = given.name, given.description
            template.config, template.updated_at = given.config, utcnow()
            await uow.templates.save(template)
            self._announce_template(uow, template, events.TEMPLATE_UPDATED)
            await uow.commit()
        return template.view()

    async def delete_template(self, tenant: str, template_id: str) -> dict[str, Any]:
        async with self._scheduler.uow() as uow:
            template = await uow.templates.get(template_id, tenant, lock=True)
            if template is None:
                raise template_not_found(template_id)
            await uow.templates.delete(template_id)
            self._announce_template(uow, template, events.TEMPLATE_DELETED)
            await uow.commit()
        return {"id": template_id, "deleted": True}

    @staticmethod
    def _announce_template(uow: UnitOfWork, template: Template, event_type: str) -> None:
        data = {"template": template.view()}
        uow.announce_resource("template", template.id, template.tenant, event_type, data)

    async def create_schedule(
        self, tenant: str, schedule_id: str, given: ScheduleInput
    ) -> dict[str, Any]:
        now = utcnow()
        schedule = Schedule(
            schedule_id, tenant, given.name, given.cron, given.timezone, given.template_id,
            given.overrides, given.config, False, next_due(given.cron, given.timezone, now),
            None, now, now,
        )  # fmt: skip
        async with self._scheduler.uow() as uow:
            await self._check_template(uow, tenant, given.template_id)
            await uow.schedules.add(schedule)
            self._announce_schedule(uow, schedule, events.SCHEDULE_CREATED)
            await uow.commit()
        return schedule.view()

    async def get_schedule(self, tenant: str, schedule_id: str) -> dict[str, Any]:
        async with self._scheduler.uow() as uow:
            schedule = await uow.schedules.get(schedule_id, tenant)
        if schedule is None:
            raise schedule_not_found(schedule_id)
        return schedule.view()

    async def list_schedules(self, tenant: str, page: int, limit: int) -> dict[str, Any]:
        async with self._scheduler.uow() as uow:
            schedules, total = await uow.schedules.page(tenant, page, limit)
        return {"items": [s.view() for s in schedules], "total": total}

    async def update_schedule(
        self, tenant: str, schedule_id: str, given: ScheduleInput
    ) -> dict[str, Any]:
        """Replace the schedule; its next run is computed afresh from now."""
        async with self._scheduler.uow() as uow:
            schedule = await self._locked_schedule(uow, tenant, schedule_id)
            await self._check_template(uow, tenant, given.template_id)
            now = utcnow()
            schedule.name, schedule.cron, schedule.timezone = given.name, given.cron, given.timezone
            schedule.template_id, schedule.overrides = given.template_id, given.overrides
            schedule.config, schedule.updated_at = given.config, now
            schedule.next_due_at = next_due(schedule.cron, schedule.timezone, now)
            await uow.schedules.save(schedule)
            self._announce_schedule(uow, schedule, events.SCHEDULE_UPDATED)
            await uow.commit()
        return schedule.view()

    async def delete_schedule(self, tenant: str, schedule_id: str) -> dict[str, Any]:
        async with self._scheduler.uow() as uow:
            schedule = await self._locked_schedule(uow, tenant, schedule_id)
            await uow.schedules.delete(schedule_id)
            self._announce_schedule(uow, schedule, events.SCHEDULE_DELETED)
            await uow.commit()
        return {"id": schedule_id, "deleted": True}

    async def set_paused(self, tenant: str, schedule_id: str, paused: bool) -> dict[str, Any]:
        """Pause, or resume from now on: times that passed while paused are not caught up."""
        async with self._scheduler.uow() as uow:
            schedule = await self._locked_schedule(uow, tenant, schedule_id)
            if schedule.paused != paused:
                now = utcnow()
                schedule.paused, schedule.updated_at = paused, now
                if not paused:
                    schedule.next_due_at = next_due(schedule.cron, schedule.timezone, now)
                await uow.schedules.save(schedule)
                kind = events.SCHEDULE_PAUSED if paused else events.SCHEDULE_RESUMED
                self._announce_schedule(uow, schedule, kind)
            await uow.commit()
        return schedule.view()

    async def fire_due(self, limit: int = 50) -> int:
        """Create one job per due time of every due schedule; returns the jobs created.

        The row lock (SKIP LOCKED) keeps two replicas off one schedule, and the primary key
        of `schedule_runs` keeps a due time from firing twice, even across restarts. Due
        times older than the catch-up window are skipped.
        """
        now = utcnow()
        created = 0
        async with self._scheduler.uow() as uow:
            for schedule in await uow.schedules.lock_due(now, limit):
                created += await self._fire(uow, schedule, now)
            await uow.commit()
        return created

    async def _fire(self, uow: UnitOfWork, schedule: Schedule, now: datetime) -> int:
        due, created, runs = schedule.next_due_at, 0, 0
        window_start = now - self._window
        if due < window_start:
            # Down for longer than the window: what is older is skipped, not caught up.
            log.warning("schedule.missed", schedule_id=schedule.id, since=_z(due))
            due = next_due(
                schedule.cron, schedule.timezone, window_start - timedelta(microseconds=1)
            )
        while due <= now and runs < MAX_RUNS_PER_PASS:
            if await uow.schedules.add_run(schedule.id, due):
                created += await self._run(uow, schedule, due)
                runs += 1
            schedule.last_due_at = due
            due = next_due(schedule.cron, schedule.timezone, due)
        schedule.next_due_at = due
        await uow.schedules.save(schedule)
        return created

    async def _run(self, uow: UnitOfWork, schedule: Schedule, due: datetime) -> int:
        """One due time: the job, or the reason there is none (template gone, spec invalid)."""
        try:
            spec_json = await self._resolve(uow, schedule)
            spec = parse_model(JobSpec, spec_json, self._scheduler.limits, "scheduled job spec")
        except ApiError as exc:
            await uow.schedules.finish_run(schedule.id, due, None, exc.message)
            data = {"schedule": schedule.view(), "dueAt": _z(due), "error": exc.message}
            uow.announce_resource(
                "schedule", schedule.id, schedule.tenant, events.SCHEDULE_FAILED, data
            )
            return 0
        request = CreateRequest(
            new_job_id(),
            schedule.tenant,
            spec,
            spec_json=spec.model_dump(mode="json", by_alias=True, exclude_none=True),
            template_id=schedule.template_id,
            schedule_id=schedule.id,
        )
        job = self._scheduler.new_job(request)
        await self._scheduler.insert_jobs(uow, [job], [None])
        await uow.schedules.finish_run(schedule.id, due, job.id, None)
        data = {"schedule": schedule.view(), "dueAt": _z(due), "jobId": job.id}
        data["job"] = views.summary(job, utcnow())
        uow.announce_resource(
            "schedule", schedule.id, schedule.tenant, events.SCHEDULE_TRIGGERED, data
        )
        return 1

    async def _resolve(self, uow: UnitOfWork, schedule: Schedule) -> dict[str, Any]:
        if schedule.template_id is None:
            assert schedule.config is not None
            return schedule.config
        template = await uow.templates.get(schedule.template_id, schedule.tenant)
        if template is None:
            raise template_not_found(schedule.template_id)
        return deep_merge(template.config, schedule.overrides or {})

    @staticmethod
    async def _check_template(uow: UnitOfWork, tenant: str, template_id: str | None) -> None:
        if template_id is not None and await uow.templates.get(template_id, tenant) is None:
            raise template_not_found(template_id)

    @staticmethod
    async def _locked_schedule(uow: UnitOfWork, tenant: str, schedule_id: str) -> Schedule:
        schedule = await uow.schedules.get(schedule_id, tenant, lock=True)
        if schedule is None:
            raise schedule_not_found(schedule_id)
        return schedule

    @staticmethod
    def _announce_schedule(uow: UnitOfWork, schedule: Schedule, event_type: str) -> None:
        data = {"schedule": schedule.view()}
        uow.announce_resource("schedule", schedule.id, schedule.tenant, event_type, data)


def _z(value: datetime) -> str:
    return format_time(value) or ""


def template_not_found(template_id: str) -> ApiError:
    return ApiError(
        ErrorCode.TEMPLATE_NOT_FOUND, f"Template {template_id} not found", {"id": template_id}
    )


def schedule_not_found(schedule_id: str) -> ApiError:
    return ApiError(
        ErrorCode.SCHEDULE_NOT_FOUND, f"Schedule {schedule_id} not found", {"id": schedule_id}
    )
