"""`cortex run notifier`: webhooks and their deliveries."""

from __future__ import annotations

from cortex_notifier.bootstrap import build
from cortex_notifier.settings import NotifierSettings
from runtime.service import run_service


def main() -> None:
    run_service(NotifierSettings(), build)


if __name__ == "__main__":
    main()
