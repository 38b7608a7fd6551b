"""Emulated render.com REST API (services, deploys, one-off jobs, logs, metrics) on loopback."""

from devnets.render.app import RenderDevnet, start_render_devnet
from devnets.render.settings import Plan, RenderDevnetSettings, default_plans

__all__ = ["Plan", "RenderDevnet", "RenderDevnetSettings", "default_plans", "start_render_devnet"]
