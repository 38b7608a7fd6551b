"""`python -m devnets.golem`: serve the Golem devnet until SIGINT/SIGTERM."""

from __future__ import annotations

from devnets.golem.app import start_golem_devnet
from devnets.golem.settings import GolemDevnetSettings
from devnets.serving import devnet_arg_parser, run_devnet_cli


def parse_args(argv: list[str] | None = None) -> GolemDevnetSettings:
    """Settings from the command line."""
    parser = devnet_arg_parser("golem", __doc__, "--app-key", GolemDevnetSettings().app_key)
    parser.add_argument(
        "--zero-delay", action="store_true", help="offers, approvals and deploys happen at once"
    )
    parser.add_argument(
        "--debit-note-interval",
        type=float,
        default=None,
        help="seconds between debit notes (default: the demand's interval-sec, else 120)",
    )
    args = parser.parse_args(argv)
    return GolemDevnetSettings(
        host=args.host,
        port=args.port,
        app_key=args.app_key,
        work_dir=args.work_dir,
        zero_delay=args.zero_delay,
        debit_note_interval_seconds=args.debit_note_interval,
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    run_devnet_cli("golem", parse_args(argv), start_golem_devnet)


if __name__ == "__main__":
    main()
