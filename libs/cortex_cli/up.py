"""`cortex up`: NATS, PostgreSQL, the emulated networks and every service, on one machine."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from cortex_cli.services import DEVNETS, enabled_devnets, enabled_services
from cortex_cli.supervisor import Supervised
from embedded.nats import NatsServer
from embedded.ports import free_port
from embedded.postgres import PostgresServer

READY_TIMEOUT = 90.0
DEVNET_TIMEOUT = 30.0


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
        manifest = {
            "apiUrl": self.api_url,
            "natsUrl": self.nats.url,
            "databaseUrl": self.postgres.dsn(),
            "services": {s.name: {"pid": s.pid} for s in self.services},
            "devnets": {d.name: {"url": d.url} for d in self.devnets},
        }
        path = self.data_dir / "cortex.json"
        tmp = path.with_suffix(".tmp")
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
        key = "ctx_" + secrets.token_urlsafe(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


async def _start_devnet(name: str, data_dir: Path) -> Devnet:
    port, api_key = free_port(), secrets.token_hex(16)  # hex: never starts with "-"
    argv = DEVNETS[name](port, api_key, data_dir / "devnets" / name)
    log = data_dir / "logs" / f"devnet-{name}.log"
    process = Supervised(f"devnet-{name}", argv, dict(os.environ), log, lambda _: None)
    await process.start()
    url = f"http://127.0.0.1:{port}"
    await _wait_http(url + "/control/state", DEVNET_TIMEOUT, f"{name} devnet", log)
    return Devnet(name, url, api_key, process)


def _service_env(d: Deployment, name: str, key: str) -> dict[str, str]:
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
        }
    )
    for devnet in d.devnets:
        env[f"CORTEX_{devnet.name.upper()}_API_URL"] = devnet.url
        env[f"CORTEX_{devnet.name.upper()}_API_KEY"] = devnet.api_key
    return env


async def _wait_http(url: str, timeout: float, what: str, log: Path) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as r:
                    if r.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"{what} not ready after {timeout:g} s; see {log}")
            await asyncio.sleep(0.2)


async def _stop(d: Deployment) -> None:
    """Services first (they drain), then the networks, then PostgreSQL and NATS: < 10 s."""
    for service in d.services:
        service.terminate()
    await asyncio.gather(*(s.wait_stopped(5.0) for s in d.services))
    for devnet in d.devnets:
        devnet.process.terminate()
    await asyncio.gather(*(n.process.wait_stopped(2.0) for n in d.devnets))
    await asyncio.to_thread(d.postgres.stop, 2.0)
    await asyncio.to_thread(d.nats.stop, 1.0)


async def up(data_dir: Path, port: int, api_key: str | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"cortex: starting in {data_dir}", flush=True)
    key = admin_key(data_dir, api_key)
    nats = await asyncio.to_thread(NatsServer.start, data_dir / "nats")
    postgres = await asyncio.to_thread(PostgresServer.start, data_dir / "postgres")
    d = Deployment(data_dir, port, nats, postgres)
    try:
        for name in enabled_devnets():
            d.devnets.append(await _start_devnet(name, data_dir))
        for name in enabled_services():
            argv = [sys.executable, "-m", "cortex_cli", "run", name]
            log = data_dir / "logs" / f"{name}.log"
            service = Supervised(
                name, argv, _service_env(d, name, key), log, lambda _: d.write_manifest()
            )
            await service.start()
            d.services.append(service)
        d.write_manifest()
        waiting = loop.create_task(
            _wait_http(d.api_url + "/healthz", READY_TIMEOUT, "Cortex", data_dir / "logs")
        )
        stopped = loop.create_task(stop.wait())
        done, _ = await asyncio.wait({waiting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if waiting in done:
            waiting.result()
            print(f"Cortex ready at {d.api_url}", flush=True)
            print(f"API key: {key}", flush=True)
            print(f"Logs in {data_dir / 'logs'}; Ctrl-C stops everything.", flush=True)
            await stop.wait()
        else:
            waiting.cancel()
        print("cortex: stopping", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"cortex: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        await _stop(d)
        print("cortex: stopped", flush=True)
