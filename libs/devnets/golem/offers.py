"""What a simulated provider advertises: offer properties and constraints."""

from __future__ import annotations

from typing import Any

from devnets.golem.settings import GolemProviderSettings

RUNTIME_VERSION = "0.4.2"
DEFAULT_DEBIT_NOTE_INTERVAL = 120
DEFAULT_ACCEPT_TIMEOUT = 240
PAYMENT_TIMEOUT = 120

# Providers require the demand to be in their subnet and to say when it expires (golem-js does).
OFFER_CONSTRAINTS = "(&(golem.node.debug.subnet={subnet})(golem.srv.comp.expiration>0))"


def offer_properties(provider: GolemProviderSettings, platform: str) -> dict[str, Any]:
    """The flat property set of a provider's offer."""
    return {
        "golem.node.id.name": provider.name,
        "golem.node.debug.subnet": provider.subnet,
        "golem.inf.cpu.architecture": "x86_64",
        "golem.inf.cpu.threads": provider.cpu_threads,
        "golem.inf.cpu.cores": provider.cpu_threads,
        "golem.inf.mem.gib": provider.memory_gib,
        "golem.inf.storage.gib": provider.storage_gib,
        "golem.runtime.name": "vm",
        "golem.runtime.version": RUNTIME_VERSION,
        "golem.runtime.capabilities": ["vpn"],
        "golem.com.pricing.model": "linear",
        "golem.com.pricing.model.linear.coeffs": [float(c) for c in provider.coeffs()],
        "golem.com.usage.vector": list(provider.usage_vector),
        "golem.com.scheme": "payu",
        "golem.com.scheme.payu.debit-note.interval-sec?": DEFAULT_DEBIT_NOTE_INTERVAL,
        "golem.com.scheme.payu.payment-timeout-sec?": PAYMENT_TIMEOUT,
        "golem.com.payment.debit-notes.accept-timeout?": DEFAULT_ACCEPT_TIMEOUT,
        f"golem.com.payment.platform.{platform}.address": provider.node_id,
        "golem.com.payment.protocol.version": "3",
        "golem.srv.caps.multi-activity": True,
        "golem.activity.caps.transfer.protocol": ["http", "https", "gftp"],
    }


def offer_constraints(provider: GolemProviderSettings) -> str:
    """The provider's constraints on demands."""
    return OFFER_CONSTRAINTS.format(subnet=provider.subnet)
