"""`cortex up`: NATS, PostgreSQL, the emulated networks and every service, on one machine."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import sys
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from cortex_cli.logs import error_lines, read_since, wait_for_line
from cortex_cli.services import DEVNETS, enabled_devnets, enabled_services
from cortex_cli.supervisor import Supervised
from embedded.nats import NatsServer
from embedded.ports import free_port
from embedded.postgres import PostgresServer
from embedded.process import ServerStartError
from runtime.secretbox import KEY_SETTING, generate_key

DEVNET_TIMEOUT = 30.0
ALLOW_PRIVATE = "CORTEX_WEBHOOK_ALLOW_PRIVATE_URLS"


def ready_timeout() -> float:
    """Seconds to wait for the gateway's /healthz; `CORTEX_UP_READY_TIMEOUT` (tests) or 60."""
    return float(os.environ.get("CORTEX_UP_READY_TIMEOUT", "60"))


class StartupError(RuntimeError):
    """Something did not come up; the message says what and where to look."""


@dataclass
class Devnet:
    name: str
    url: str
    api_key: str
    process: Supervised


@dataclass
class Deployment:
    """Everything `cortex up` started, for cortex.json and for stopping."""

    data_dir: Path
    port: int
    nats: NatsServer
    postgres: PostgresServer
    devnets: list[Devnet] = field(default_factory=list)
    services: list[Supervised] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_manifest(self) -> None:
        """cortex.json: where everything is. Never the API key."""
        manifest = {
            "apiUrl": self.api_url,
            "natsUrl": self.nats.url,
            "databaseUrl": self.postgres.dsn(),
            "services": {s.name: {"pid": s.pid} for s in self.services},
            "devnets": {d.name: {"url": d.url} for d in self.devnets},
        }
        path = self.data_dir / "cortex.json"
        tmp = path.with_suffix(".tmp")  # readers never see a half-written file
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
        tmp.replace(path)


def admin_key(data_dir: Path, given: str | None) -> str:
    """`--api-key`, else the key saved by an earlier start, else a new one (saved, 0600)."""
    path = data_dir / "admin-key"
    if given:
        key = given
    elif path.exists():
        return path.read_text().strip()
    else:
        key = "ctx_" + secrets.token_urlsafe(24)  # 24 bytes = 32 url-safe characters
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(key + "\n")
    return key


def secrets_key(data_dir: Path) -> str:
    """`CORTEX_SECRETS_KEY` if set, else the key saved by an earlier start, else a new one
    (saved, 0600): secrets sealed before a restart must open after it."""
    given = os.environ.get(KEY_SETTING)
    if given:
        return given
    path = data_dir / "secrets-key"
    if path.exists():
        return path.read_text().strip()
    key = generate_key()
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(key + "\n")
    return key


def allow_private_urls() -> bool:
    """Local development: webhooks may target this machine unless the caller said otherwise."""
    return os.environ.get(ALLOW_PRIVATE, "true").lower() in ("1", "true", "yes")


def _start_servers(data_dir: Path) -> tuple[NatsServer, PostgresServer]:
    """NATS, then PostgreSQL; NATS is stopped again if PostgreSQL fails."""
    nats = NatsServer.start(data_dir / "nats")
    try:
        return nats, PostgresServer.start(data_dir / "postgres")
    except BaseException:
        nats.stop()
        raise


async def _start_devnet(name: str, data_dir: Path) -> Devnet:
    port, api_key = free_port(), secrets.token_hex(16)  # hex: never starts with "-"
    argv = DEVNETS[name](port, api_key)
    log = data_dir / "logs" / f"devnet-{name}.log"
    process = Supervised(f"devnet-{name}", argv, dict(os.environ), log)
    await process.start()
    url = f"http://127.0.0.1:{port}"
    devnet = Devnet(name, url, api_key, process)
    try:
        await wait_for_line(log, process.log_offset, f"listening on {url}", DEVNET_TIMEOUT)
    except TimeoutError:
        process.terminate()
        await process.wait_stopped(2.0)
        tail = "\n".join(read_since(log, process.log_offset).splitlines()[-20:])
        raise StartupError(f"{name} devnet not ready after {DEVNET_TIMEOUT:g} s:\n{tail}") from None
    return devnet


def _service_env(d: Deployment, name: str, key: str, secrets: str) -> dict[str, str]:
    env = dict(os.environ)  # every CORTEX_* setting of the caller reaches the services
    env.update(
        {
            "CORTEX_NATS_URL": d.nats.url,
            "CORTEX_DATABASE_URL": d.postgres.dsn(),
            "CORTEX_HTTP_PORT": str(d.port),
            "CORTEX_METRICS_PORT": str(free_port()),
            "CORTEX_SERVICE_NAME": name,
            "CORTEX_BOOTSTRAP_API_KEY": key,
            "CORTEX_DATA_DIR": str(d.data_dir),
            "CORTEX_EXPECTED_SERVICES": ",".join(s for s in enabled_services() if s != "gateway"),
            KEY_SETTING: secrets,
            ALLOW_PRIVATE: str(allow_private_urls()).lower(),
        }
    )
    # The gateway accepts jobs for the networks whose provider service runs here.
    networks = [
        s.removeprefix("provider-") for s in enabled_services() if s.startswith("provider-")
    ]
    env.setdefault("CORTEX_PROVIDERS", ",".join(networks))
    for devnet in d.devnets:
        env[f"CORTEX_{devnet.name.upper()}_API_URL"] = devnet.url
        env[f"CORTEX_{devnet.name.upper()}_API_KEY"] = devnet.api_key
    return env


def replicas(service: str) -> int:
    """`CORTEX_<SERVICE>_REPLICAS` (e.g. CORTEX_SCHEDULER_REPLICAS=2), default 1."""
    variable = f"CORTEX_{service.upper().replace('-', '_')}_REPLICAS"
    return max(1, int(os.environ.get(variable, "1")))


async def _start_services(d: Deployment, key: str) -> None:
    secrets = secrets_key(d.data_dir)
    for service_name in enabled_services():
        for index in range(replicas(service_name)):
            # Replicas after the first are `scheduler-2`, … in cortex.json and the logs.
            name = service_name if index == 0 else f"{service_name}-{index + 1}"
            argv = [sys.executable, "-m", "cortex_cli", "run", service_name]
            log = d.data_dir / "logs" / f"{name}.log"
            env = _service_env(d, service_name, key, secrets)
            if index > 0:  # provider services share deployments by instance id: keep apart
                env["CORTEX_INSTANCE_ID"] = f"{socket.gethostname()}-{name}"
            service = Supervised(name, argv, env, log, lambda _: d.write_manifest())
            await service.start()
            d.services.append(service)
    d.write_manifest()


async def _healthy(url: str) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def _wait_healthy(d: Deployment) -> None:
    timeout = ready_timeout()
    try:
        async with asyncio.timeout(timeout):
            while True:
                if await _healthy(d.api_url + "/healthz"):
                    return
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise StartupError(
            f"{d.api_url}/healthz did not answer 200 within {timeout:g} s\n" + _error_report(d)
        ) from None


def _error_report(d: Deployment) -> str:
    """One paragraph per service that logged errors or was restarted in this run."""
    report = []
    for s in [*d.services, *(n.process for n in d.devnets)]:
        errors = error_lines(s.log_path, s.log_offset)
        if errors or s.restarts:
            lines = "\n".join(f"    {line}" for line in errors)
            report.append(f"  {s.name}: {s.restarts} restart(s), see {s.log_path}\n{lines}")
    return "\n".join(report) or "  no service logged an error"


async def _start(d: Deployment, key: str) -> None:
    for name in enabled_devnets():
        d.devnets.append(await _start_devnet(name, d.data_dir))
    await _start_services(d, key)
    await _wait_healthy(d)


async def _stop(d: Deployment) -> None:
    """Services first (they drain), then the networks, then PostgreSQL and NATS: < 10 s."""
    for service in d.services:
        service.terminate()
    await asyncio.gather(*(s.wait_stopped(5.0) for s in d.services))
    for devnet in d.devnets:
        devnet.process.terminate()
    await asyncio.gather(*(n.process.wait_stopped(2.0) for n in d.devnets))
    await asyncio.gather(
        asyncio.to_thread(d.postgres.stop, 1.5), asyncio.to_thread(d.nats.stop, 1.5)
    )


async def _unless_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run `work` until done (True) or until `stop` is set first (False, work cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    task.result()
    return True


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def up(data_dir: Path, port: int, api_key: str | None) -> int:
    """Start everything, report readiness, run until SIGINT/SIGTERM; the exit code."""
    stop = _stop_on_signals()
    print(f"cortex: starting in {data_dir}", flush=True)
    key = admin_key(data_dir, api_key)
    try:
        nats, postgres = await asyncio.to_thread(_start_servers, data_dir)
    except (ServerStartError, FileNotFoundError) as exc:
        print(f"cortex: {exc}", file=sys.stderr, flush=True)
        return 1
    d = Deployment(data_dir, port, nats, postgres)
    try:
        if await _unless_stopped(_start(d, key), stop):
            print(f"Cortex ready at {d.api_url}", flush=True)
            print(f"API key: {key}", flush=True)
            if allow_private_urls():
                print(
                    "Webhooks may target loopback and private addresses (local development; "
                    f"{ALLOW_PRIVATE}=false refuses them as in production).",
                    flush=True,
                )
            print(f"Logs in {data_dir / 'logs'}; Ctrl-C stops everything.", flush=True)
            await stop.wait()
        print("cortex: stopping", flush=True)
        return 0
    except StartupError as exc:
        print(f"cortex: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        await _stop(d)
        print("cortex: stopped", flush=True)
