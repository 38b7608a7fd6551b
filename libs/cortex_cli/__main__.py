"""`python -m cortex_cli`: how `cortex up` starts each service as its own process."""

from cortex_cli.main import main

main()
