"""Where a devnet puts its workloads' directories."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from devnets.scratch import make_scratch_dir, remove_orphans


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_ram_root_with_room_is_used(tmp_path: Path) -> None:
    ram = tmp_path / "ram"
    ram.mkdir()
    scratch = make_scratch_dir("akash", roots=(ram,), min_free=0)
    assert scratch.parent == ram and scratch.is_dir()
    assert scratch.name.startswith(f"cortex-devnet-akash-{os.getpid()}-")


def test_without_room_in_ram_the_system_temp_dir_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ram, disk = tmp_path / "ram", tmp_path / "disk"
    ram.mkdir()
    disk.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(disk))
    assert make_scratch_dir("golem", roots=(ram,), min_free=1 << 62).parent == disk
    assert make_scratch_dir("golem", roots=(tmp_path / "missing",), min_free=0).parent == disk


def test_only_dirs_of_devnets_that_are_gone_are_removed(tmp_path: Path) -> None:
    orphan = tmp_path / f"cortex-devnet-akash-{_dead_pid()}-x1"
    live = tmp_path / f"cortex-devnet-akash-{os.getpid()}-x2"
    unrelated = tmp_path / "cortex-devnet-notes"
    for path in (orphan, live, unrelated):
        (path / "sub").mkdir(parents=True)
    assert remove_orphans(tmp_path) == [orphan]
    assert not orphan.exists() and live.exists() and unrelated.exists()
    make_scratch_dir("akash", roots=(tmp_path,), min_free=0)  # sweeps on the way
    assert live.exists()
