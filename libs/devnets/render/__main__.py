"""`python -m devnets.render`: serve the Render devnet until SIGINT/SIGTERM."""

from __future__ import annotations

from devnets.render.app import start_render_devnet
from devnets.render.settings import RenderDevnetSettings
from devnets.serving import devnet_arg_parser, run_devnet_cli


def parse_args(argv: list[str] | None = None) -> RenderDevnetSettings:
    """Settings from the command line."""
    parser = devnet_arg_parser("render", __doc__, "--api-key", RenderDevnetSettings().api_key)
    parser.add_argument(
        "--zero-delay", action="store_true", help="deploys go live and jobs start at once"
    )
    args = parser.parse_args(argv)
    return RenderDevnetSettings(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        work_dir=args.work_dir,
        zero_delay=args.zero_delay,
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    run_devnet_cli("render", parse_args(argv), start_render_devnet)


if __name__ == "__main__":
    main()
