"""asyncpg pool with JSON codecs, retried until PostgreSQL answers."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from runtime import codec
from runtime.logging import get_logger

log = get_logger(__name__)


class _Connection(asyncpg.Connection):  # type: ignore[misc]
    """No session reset between pool users: our code keeps no session state (advisory locks
    are transaction-scoped, no LISTEN, no SET, no cursors outside transactions), and the reset
    is one extra round trip on every pooled query."""

    def get_reset_query(self) -> str:
        return ""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            encoder=lambda v: codec.dumps(v).decode(),
            decoder=codec.loads,
            schema="pg_catalog",
        )


async def create_pool(dsn: str, min_size: int = 2, max_size: int = 10, wait: float = 30.0) -> Any:
    """Open a pool, waiting up to `wait` seconds for the server (it may still be starting)."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            return await asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                init=_init_connection,
                connection_class=_Connection,
            )
        except (OSError, asyncpg.CannotConnectNowError, asyncpg.PostgresError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.info("database.waiting", error=str(exc))
            await asyncio.sleep(0.5)


async def close_pool(pool: Any, timeout: float = 5.0) -> None:
    """Close gracefully; a connection still busy after `timeout` is cut off."""
    try:
        await asyncio.wait_for(pool.close(), timeout=timeout)
    except TimeoutError:
        log.warning("database.close_timeout")
        pool.terminate()
