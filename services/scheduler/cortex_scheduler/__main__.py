"""`cortex run scheduler`: the job lifecycle owner."""

from __future__ import annotations

from cortex_scheduler.bootstrap import build
from cortex_scheduler.settings import SchedulerSettings
from runtime.service import run_service


def main() -> None:
    run_service(SchedulerSettings(), build)


if __name__ == "__main__":
    main()
