"""What a provider does for a lease: run each service as a workload and report pod events."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from devnets.akash.sdl import Group, Service
from devnets.feed import Feed
from devnets.runner import ImagePullError, PortSpec, Workload, WorkloadSpec

EVENT_CAPACITY = 10_000
HTTP_PORT = 80  # global port 80 is served through the provider's ingress as a URI


@dataclass(frozen=True)
class KubeEvent:
    """A Kubernetes event about a service's pod."""

    type: Literal["Normal", "Warning"]
    reason: str
    note: str
    pod: str
    timestamp: datetime

    def to_json(self) -> dict[str, Any]:
        """The message the kubeevents websocket sends."""
        return {
            "type": self.type,
            "reason": self.reason,
            "note": self.note,
            "object": {"kind": "Pod", "name": self.pod},
            "lastTimestamp": self.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


class LeaseRun:
    """The workloads of one lease at one provider, plus their event stream."""

    def __init__(
        self,
        key: tuple[int, int, int],
        group: Group,
        work_dir: Path,
        *,
        enforce_memory_limit: bool,
        stop_grace: float,
    ) -> None:
        self.key = key
        self.group = group
        self.events: Feed[KubeEvent] = Feed(EVENT_CAPACITY)
        self.pods = {svc.name: pod_name(key, svc.name) for svc in group.services}
        self.workloads = {
            svc.name: Workload(
                _spec(svc, work_dir / _workload_dir(key, svc.name)),
                enforce_memory_limit=enforce_memory_limit,
                merge_output=True,  # a provider's log has no separate stderr
            )
            for svc in group.services
        }
        self._stop_grace = stop_grace
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        # Set once a service's start attempt is over, so stop() never misses a fresh process.
        self._start_done = {svc.name: asyncio.Event() for svc in group.services}

    def start(self) -> None:
        """Start every service in the background (pulling takes time on a real provider)."""
        for svc in self.group.services:
            self._tasks.append(asyncio.create_task(self._run(svc)))

    async def stop(self) -> None:
        """Stop every workload, then end the event stream."""
        self._stopping = True
        if not self._tasks:  # never started
            self.events.close()
            return
        await asyncio.gather(*(done.wait() for done in self._start_done.values()))
        running = [name for name, w in self.workloads.items() if w.state == "running"]
        for name in running:
            self._event("Normal", "Killing", f"Stopping container {name}", name)
        await asyncio.gather(*(self.workloads[name].stop(self._stop_grace) for name in running))
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.events.close()

    @property
    def work_dirs(self) -> list[Path]:
        """Each service's working directory."""
        return [workload.spec.workdir for workload in self.workloads.values()]

    def ready(self, service: str) -> int:
        """Ready replicas of a service (0 or 1)."""
        return 1 if self.workloads[service].state == "running" else 0

    def status(self) -> dict[str, Any]:
        """The provider's lease status document."""
        services: dict[str, Any] = {}
        forwarded: dict[str, list[dict[str, Any]]] = {}
        for svc in self.group.services:
            ready = self.ready(svc.name)
            ports = self.workloads[svc.name].forwarded_ports
            globals_ = [e for e in svc.expose if e.is_global and e.port in ports]
            services[svc.name] = {
                "name": svc.name,
                "available": ready,
                "total": svc.count,
                "uris": [f"127.0.0.1:{ports[e.port]}" for e in globals_ if e.as_port == HTTP_PORT],
                "observed_generation": 1,
                "replicas": svc.count,
                "updated_replicas": svc.count,
                "ready_replicas": ready,
                "available_replicas": ready,
            }
            entries = [
                {
                    "host": "127.0.0.1",
                    "port": e.port,
                    "externalPort": ports[e.port],
                    "proto": e.proto,
                    "name": svc.name,
                    "available": ready,
                }
                for e in globals_
                if e.as_port != HTTP_PORT
            ]
            if entries:
                forwarded[svc.name] = entries
        return {"services": services, "forwarded_ports": forwarded, "ips": None}

    async def _run(self, svc: Service) -> None:
        workload = self.workloads[svc.name]
        self._event("Normal", "Scheduled", f"Successfully assigned {self.pods[svc.name]}", svc.name)
        self._event("Normal", "Pulling", f'Pulling image "{svc.image}"', svc.name)
        try:
            await workload.start()
        except ImagePullError as exc:
            self._pull_failed(svc, exc.reason)
            return
        finally:
            self._start_done[svc.name].set()
        self._event("Normal", "Pulled", f'Successfully pulled image "{svc.image}"', svc.name)
        self._event("Normal", "Created", f"Created container {svc.name}", svc.name)
        self._event("Normal", "Started", f"Started container {svc.name}", svc.name)
        code = await workload.wait()
        if not self._stopping:
            self._exited(svc.name, code, workload.oom_killed)

    def _pull_failed(self, svc: Service, reason: str) -> None:
        self._event("Warning", "Failed", reason, svc.name)
        self._event("Warning", "Failed", "Error: ErrImagePull", svc.name)
        self._event("Normal", "BackOff", f'Back-off pulling image "{svc.image}"', svc.name)
        self._event("Warning", "Failed", "Error: ImagePullBackOff", svc.name)

    def _exited(self, service: str, code: int, oom: bool) -> None:
        note = f"container exited with code {code}"
        if oom:
            self._event("Warning", "OOMKilled", note, service)
        elif code == 0:
            self._event("Normal", "Completed", note, service)
        else:
            self._event("Warning", "Error", note, service)

    def _event(
        self, type_: Literal["Normal", "Warning"], reason: str, note: str, service: str
    ) -> None:
        self.events.append(KubeEvent(type_, reason, note, self.pods[service], datetime.now(UTC)))


def pod_name(key: tuple[int, int, int], service: str) -> str:
    """A stable Kubernetes-looking pod name: `<service>-<10 hex>-<5 hex>`."""
    digest = hashlib.sha1(f"{key}/{service}".encode()).hexdigest()
    return f"{service}-{digest[:10]}-{digest[10:15]}"


def _workload_dir(key: tuple[int, int, int], service: str) -> str:
    """`<dseq>-<gseq>-<oseq>-<service>`: one level under the devnet's work dir, so starting
    a workload costs one mkdir (a nested one cost three calls and a caught exception)."""
    dseq, gseq, oseq = key
    return f"{dseq}-{gseq}-{oseq}-{service}"


def _spec(svc: Service, workdir: Path) -> WorkloadSpec:
    return WorkloadSpec(
        image=svc.image,
        workdir=workdir,
        command=svc.command,
        args=svc.args,
        env=svc.env,
        ports=[PortSpec(e.port, e.is_global, e.proto) for e in svc.expose],
        cpu_millicores=svc.cpu_millicores,
        memory_bytes=svc.memory_bytes,
    )
