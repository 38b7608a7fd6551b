"""`cortex run gateway`: the HTTP API."""

from __future__ import annotations

from cortex_gateway.bootstrap import build
from cortex_gateway.settings import GatewaySettings
from runtime.service import run_service


def main() -> None:
    run_service(GatewaySettings(), build)


if __name__ == "__main__":
    main()
