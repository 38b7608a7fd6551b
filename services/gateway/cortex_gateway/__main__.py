"""`cortex run gateway`: the HTTP API."""

from __future__ import annotations

from runtime.service import run_service

from cortex_gateway.bootstrap import build
from cortex_gateway.settings import GatewaySettings


def main() -> None:
    run_service(GatewaySettings(), build)


if __name__ == "__main__":
    main()
