"""`cortex run provider-render`: runs jobs as one-off jobs on render.com."""

from __future__ import annotations

from cortex_provider_render.bootstrap import build
from cortex_provider_render.settings import RenderSettings
from runtime.service import run_service


def main() -> None:
    run_service(RenderSettings(), build)


if __name__ == "__main__":
    main()
