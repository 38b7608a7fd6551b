"""The partial index batch admission relies on names exactly the terminal statuses."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import cortex_scheduler
from contracts.status import TERMINAL_STATUSES
from cortex_scheduler.adapters.resources import BatchRepository

MIGRATION = Path(cortex_scheduler.__file__).parent / "migrations" / "0013_batch_active.sql"
NOT_IN = re.compile(r"status NOT IN \(([^)]*)\)")


def _statuses(text: str) -> set[str]:
    match = NOT_IN.search(text)
    assert match is not None
    return {s.strip().strip("'") for s in match.group(1).replace('"', "").split(",")}


def test_index_and_query_name_the_terminal_statuses() -> None:
    terminal = {s.value for s in TERMINAL_STATUSES}
    assert _statuses(MIGRATION.read_text()) == terminal
    # The query must repeat the index's predicate for the planner to use the index.
    assert _statuses(inspect.getsource(BatchRepository.active)) == terminal
