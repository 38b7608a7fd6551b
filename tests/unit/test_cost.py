from datetime import UTC, datetime, timedelta

from contracts.status import JobEventType, JobStatus
from cortex_scheduler.domain.model import Job

START = datetime(2026, 1, 1, tzinfo=UTC)


def running_job(rate: float, projected: float) -> Job:
    return Job(
        id="job_x",
        tenant="t",
        provider="akash",
        status=JobStatus.RUNNING,
        spec={"duration": 3600},
        created_at=START,
        projected_cost_usd=projected,
        hourly_rate_usd=rate,
        billing_started_at=START,
        started_at=START,
    )


def test_cost_accrues_from_the_lease_rate() -> None:
    job = running_job(rate=1.0, projected=1.0)
    assert job.cost_usd(START + timedelta(minutes=30)) == 0.5
    job.ended_at = START + timedelta(minutes=45)
    assert job.cost_usd(START + timedelta(hours=5)) == 0.75  # stops at the end


def test_each_threshold_is_announced_once_and_skipped_ones_fold_into_the_highest() -> None:
    job = running_job(rate=1.0, projected=1.0)
    thresholds = [0.5, 0.8, 1.0]
    assert job.crossed_cost_threshold(thresholds, START + timedelta(minutes=10)) is None
    first = job.crossed_cost_threshold(thresholds, START + timedelta(minutes=50))
    assert first is not None and first.type is JobEventType.COST_THRESHOLD
    assert first.data["threshold"] == 0.8  # 0.5 and 0.8 crossed at once: one event
    assert job.crossed_cost_threshold(thresholds, START + timedelta(minutes=55)) is None
    last = job.crossed_cost_threshold(thresholds, START + timedelta(minutes=61))
    assert last is not None and last.data["threshold"] == 1.0


def test_no_projection_no_threshold() -> None:
    job = running_job(rate=1.0, projected=0.0)
    assert job.crossed_cost_threshold([0.5], START + timedelta(hours=2)) is None
