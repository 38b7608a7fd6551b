"""`cortex run provider-golem`: runs jobs on the Golem network through a yagna daemon."""

from __future__ import annotations

from cortex_provider_golem.bootstrap import build
from cortex_provider_golem.settings import GolemSettings
from runtime.service import run_service


def main() -> None:
    run_service(GolemSettings(), build)


if __name__ == "__main__":
    main()
