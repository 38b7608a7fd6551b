"""The bare-aiohttp ceiling: parse a JSON POST, answer 201 JSON; nothing else."""

from __future__ import annotations

import argparse
import json

from aiohttp import web


async def accept(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response({"success": True, "data": {"id": "job_x", **body}}, status=201)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    app = web.Application()
    app.router.add_post("/api/plugin-core/jobs", accept)
    print(json.dumps({"listening": args.port}), flush=True)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
