"""A job spec → the demand Golem providers offer to: properties and LDAP-style constraints."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from contracts.job import JobSpec

GIB = 2**30


@dataclass(frozen=True)
class Requirements:
    """What a provider must have for the job."""

    threads: int
    cores: int
    memory_gib: float
    storage_gib: float

    @classmethod
    def of(cls, spec: JobSpec) -> Requirements:
        threads = max(1, math.ceil(spec.cpu / 1000))
        return cls(
            threads=threads,
            cores=math.ceil(threads / 2),  # a core runs at most two hardware threads (SMT)
            memory_gib=_gib(spec.memory_bytes),
            storage_gib=_gib(spec.storage_bytes),
        )


@dataclass(frozen=True)
class DemandTerms:
    """Our side of the deal besides the resources: where, until when, how we pay."""

    subnet: str
    expiration_ms: int
    debit_note_interval: int
    debit_note_accept_timeout: int
    payment_timeout: int


def constraints(req: Requirements) -> str:
    """The demand's constraints on offers."""
    parts = [
        "(golem.runtime.name=vm)",
        "(golem.com.pricing.model=linear)",
        f"(golem.inf.cpu.threads>={req.threads})",
        f"(golem.inf.cpu.cores>={req.cores})",
        f"(golem.inf.mem.gib>={req.memory_gib:g})",
        f"(golem.inf.storage.gib>={req.storage_gib:g})",
    ]
    return "(&" + "".join(parts) + ")"


def properties(package: str, terms: DemandTerms, job_id: str | None) -> dict[str, Any]:
    """The demand's properties (flat dotted keys, as golem-js sends them)."""
    props: dict[str, Any] = {
        "golem.srv.comp.task_package": package,
        "golem.srv.comp.vm.package_format": "gvmkit-squash",
        "golem.srv.comp.expiration": terms.expiration_ms,
        "golem.node.debug.subnet": terms.subnet,
        "golem.srv.caps.multi-activity": True,
        "golem.com.scheme.payu.debit-note.interval-sec?": terms.debit_note_interval,
        "golem.com.payment.debit-notes.accept-timeout?": terms.debit_note_accept_timeout,
        "golem.com.scheme.payu.payment-timeout-sec?": terms.payment_timeout,
    }
    if job_id is not None:
        props[JOB_PROPERTY] = job_id  # finds the demand again if the answer to POST is lost
    return props


JOB_PROPERTY = "cortex.job-id"


def decorate(
    props: dict[str, Any], text: str, decorations: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """Merge the payment decorations of our allocation (`{properties, constraints}`)."""
    merged = dict(props)
    for item in decorations.get("properties", []):
        merged[str(item["key"])] = item["value"]
    extra = [str(c) for c in decorations.get("constraints", []) if str(c).strip()]
    if not extra:
        return merged, text
    inner = text[2:-1] if text.startswith("(&") else text
    return merged, "(&" + inner + "".join(extra) + ")"


def _gib(size: int) -> float:
    """Bytes → GiB, rounded up to a thousandth so the constraint never asks for less."""
    return math.ceil(size / GIB * 1000) / 1000
