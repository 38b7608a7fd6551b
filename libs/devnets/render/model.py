"""Records the platform keeps: services, their deploys and their one-off jobs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from devnets.render.settings import Plan

DeployStatus = Literal["created", "build_in_progress", "live", "build_failed", "deactivated"]
JobStatus = Literal["pending", "running", "succeeded", "failed", "canceled"]
JOB_ENDED: tuple[JobStatus, ...] = ("succeeded", "failed", "canceled")


@dataclass
class Deploy:
    """One deploy of a service's image."""

    id: str
    image_path: str
    created_at: datetime
    status: DeployStatus = "created"
    updated_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass
class Service:
    """A background worker carrying the image and env vars that jobs snapshot."""

    id: str
    name: str
    owner_id: str
    image_path: str
    env: dict[str, str]
    plan: Plan
    region: str
    num_instances: int
    docker_command: str | None
    created_at: datetime
    updated_at: datetime
    suspended: bool = False
    deploys: list[Deploy] = field(default_factory=list)  # newest last

    def live_deploy(self) -> Deploy | None:
        """The latest successful deploy (what a job runs), if any."""
        return next((d for d in reversed(self.deploys) if d.status == "live"), None)


@dataclass
class Job:
    """A one-off job; billing fields are devnet extensions (the real object has none)."""

    id: str
    service_id: str
    start_command: str
    plan: Plan
    created_at: datetime
    status: JobStatus = "pending"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None  # kept for the exit-status log line, not in the JSON

    @property
    def ended(self) -> bool:
        """True once succeeded, failed or canceled."""
        return self.status in JOB_ENDED

    def billed_seconds(self, at: datetime) -> int:
        """Whole seconds billed so far (started ones count): start to finish, or to `at`."""
        if self.started_at is None:
            return 0
        end = self.finished_at or at
        return max(math.ceil((end - self.started_at).total_seconds()), 1)
