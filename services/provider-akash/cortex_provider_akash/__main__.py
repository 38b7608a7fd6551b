"""`cortex run provider-akash`: runs jobs on the Akash network."""

from __future__ import annotations

from cortex_provider_akash.bootstrap import build
from cortex_provider_akash.settings import AkashSettings
from runtime.service import run_service


def main() -> None:
    run_service(AkashSettings(), build)


if __name__ == "__main__":
    main()
