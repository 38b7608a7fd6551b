"""Scratch space for a devnet's workloads: RAM-backed when the machine has room for it.

Every workload gets a fresh directory (its container's writable layer) that is removed once
it stops. Made and removed on this machine's journalled disk, a directory costs ~0.1 ms of
CPU and the mkdir waits on the journal in the devnet's event loop; on tmpfs it costs a fifth
of that (decision 67). Nothing in it outlives the devnet process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

RAM_ROOTS = (Path("/dev/shm"),)
MIN_FREE_BYTES = 1 << 30  # a small /dev/shm (a container's 64 MB) would fill up: use disk
PREFIX = "cortex-devnet-"


def make_scratch_dir(
    name: str, roots: tuple[Path, ...] = RAM_ROOTS, min_free: int = MIN_FREE_BYTES
) -> Path:
    """A new directory for devnet `name`'s workloads, on the first RAM root with `min_free`
    bytes available (else in the system temp dir); directories left by devnets that died
    without cleaning up are removed first."""
    root = next((r for r in roots if _has_room(r, min_free)), None)
    parent = root or Path(tempfile.gettempdir())
    remove_orphans(parent)
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{name}-{os.getpid()}-", dir=parent))


def remove_orphans(parent: Path) -> list[Path]:
    """Remove scratch dirs under `parent` whose devnet process no longer exists."""
    removed = []
    for path in parent.glob(f"{PREFIX}*"):
        pid = _owner(path.name)
        if pid is not None and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _has_room(root: Path, min_free: int) -> bool:
    try:
        stats = os.statvfs(root)
    except OSError:
        return False
    return os.access(root, os.W_OK) and stats.f_bavail * stats.f_frsize >= min_free


def _owner(dir_name: str) -> int | None:
    """`cortex-devnet-akash-1234-x9k2` → 1234."""
    parts = dir_name.removeprefix(PREFIX).split("-")
    return int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
