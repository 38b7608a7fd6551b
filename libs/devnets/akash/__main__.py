"""`python -m devnets.akash`: serve the Akash devnet until SIGINT/SIGTERM."""

from __future__ import annotations

from devnets.akash.app import start_akash_devnet
from devnets.akash.settings import AkashDevnetSettings
from devnets.serving import devnet_arg_parser, run_devnet_cli


def parse_args(argv: list[str] | None = None) -> AkashDevnetSettings:
    """Settings from the command line."""
    parser = devnet_arg_parser("akash", __doc__, "--api-key", AkashDevnetSettings().api_key)
    parser.add_argument("--zero-delay", action="store_true", help="providers bid at once")
    parser.add_argument("--block-seconds", type=float, default=None)
    parser.add_argument("--acceleration", type=float, default=1.0)
    parser.add_argument("--finite-funds", action="store_true", help="leases can run out of funds")
    args = parser.parse_args(argv)
    options = {
        "host": args.host,
        "port": args.port,
        "api_key": args.api_key,
        "work_dir": args.work_dir,
        "zero_delay": args.zero_delay,
        "acceleration": args.acceleration,
        "finite_funds": args.finite_funds,
    }
    if args.block_seconds is not None:
        options["block_seconds"] = args.block_seconds
    return AkashDevnetSettings.model_validate(options)


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    run_devnet_cli("akash", parse_args(argv), start_akash_devnet)


if __name__ == "__main__":
    main()
