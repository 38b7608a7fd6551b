"""aiohttp application keys shared by the route modules."""

from __future__ import annotations

from aiohttp import web

from devnets.golem.network import GolemNetwork

NETWORK = web.AppKey("network", GolemNetwork)
