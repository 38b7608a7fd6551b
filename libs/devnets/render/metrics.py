"""Usage samples of running jobs and the `/metrics/*` time series built from them."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from devnets.render.clock import iso
from devnets.render.settings import Plan

SAMPLE_CAPACITY = 20_000  # per job; at 1 s that is over 5 hours
Aggregation = Literal["AVG", "MAX", "MIN"]


@dataclass(frozen=True)
class Sample:
    """One reading of a job's process tree: CPU in cores (averaged since the last one), RSS."""

    timestamp: datetime
    cpu_cores: float
    memory_bytes: int


@dataclass
class InstanceSamples:
    """Samples of one job, which runs as one instance of its service."""

    service_id: str
    job_id: str
    plan: Plan
    samples: deque[Sample]

    @classmethod
    def empty(cls, service_id: str, job_id: str, plan: Plan) -> InstanceSamples:
        """No samples yet."""
        return cls(service_id, job_id, plan, deque(maxlen=SAMPLE_CAPACITY))


# metric name -> (unit, value of one sample given the job's plan); CPU is in cores.
METRICS: dict[str, tuple[str, Callable[[Sample, Plan], float]]] = {
    "cpu": ("cpu", lambda s, p: s.cpu_cores),
    "memory": ("bytes", lambda s, p: float(s.memory_bytes)),
    "cpu-limit": ("cpu", lambda s, p: p.cpu),
    "memory-limit": ("bytes", lambda s, p: float(p.memory_bytes)),
    "instance-count": ("instances", lambda s, p: 1.0),
}


def time_series(
    metric: str,
    instances: Iterable[InstanceSamples],
    start: datetime,
    end: datetime,
    resolution: float,
    aggregation: Aggregation,
) -> list[dict[str, Any]]:
    """One `{labels, unit, values}` series per instance, bucketed from `start` by `resolution`."""
    unit, value_of = METRICS[metric]
    series = []
    for instance in instances:
        buckets: dict[int, list[float]] = {}
        for sample in instance.samples:
            if start <= sample.timestamp <= end:
                index = math.floor((sample.timestamp - start).total_seconds() / resolution)
                buckets.setdefault(index, []).append(value_of(sample, instance.plan))
        if not buckets:
            continue
        values = [
            {
                "timestamp": iso(start + timedelta(seconds=index * resolution)),
                "value": _aggregate(buckets[index], aggregation),
            }
            for index in sorted(buckets)
        ]
        labels = [
            {"field": "resource", "value": instance.service_id},
            {"field": "instance", "value": instance.job_id},
        ]
        series.append({"labels": labels, "unit": unit, "values": values})
    return series


def _aggregate(values: list[float], method: Aggregation) -> float:
    if method == "MAX":
        return max(values)
    if method == "MIN":
        return min(values)
    return sum(values) / len(values)
