"""Emulated Golem network: the yagna requestor REST API (market, activity, payment) on loopback."""

from devnets.golem.app import GolemDevnet, start_golem_devnet
from devnets.golem.packages import KNOWN_IMAGES, resolve_package, task_package
from devnets.golem.settings import GolemDevnetSettings, GolemProviderSettings

__all__ = [
    "KNOWN_IMAGES",
    "GolemDevnet",
    "GolemDevnetSettings",
    "GolemProviderSettings",
    "resolve_package",
    "start_golem_devnet",
    "task_package",
]
