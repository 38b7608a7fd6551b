"""The latest price of every network, kept current from the `cortex-prices` bucket."""

from __future__ import annotations

from contracts import subjects
from contracts.reports import NetworkPrice
from runtime.kv import KeyValueMirror


class PriceBook(KeyValueMirror[NetworkPrice]):
    def __init__(self) -> None:
        super().__init__(subjects.PRICES_BUCKET, NetworkPrice.model_validate_json)
