from cortex_cli.main import main

main()
