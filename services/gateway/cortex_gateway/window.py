"""`?period=&resolution=`: a time window and its bucket size, checked the same everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cortex_gateway.responses import validation


@dataclass(frozen=True)
class Windows:
    """The periods and resolutions an endpoint offers (seconds), and its point limit."""

    periods: Mapping[str, int]
    resolutions: Mapping[str, int]
    max_points: int
    default_period: str
    default_resolution: str

    def parse(self, query: Mapping[str, str]) -> tuple[str, str]:
        """(period, resolution) from the query, or a 400 naming the parameter."""
        unknown = sorted(set(query) - {"period", "resolution"})
        if unknown:
            raise validation(
                f"Unknown query parameter {unknown[0]!r}; allowed: period, resolution",
                unknown[0],
                "unknown_parameter",
            )
        period = query.get("period", self.default_period)
        resolution = query.get("resolution", self.default_resolution)
        if period not in self.periods:
            raise validation(f"period must be one of {', '.join(self.periods)}", "period", "enum")
        if resolution not in self.resolutions:
            raise validation(
                f"resolution must be one of {', '.join(self.resolutions)}", "resolution", "enum"
            )
        if self.resolutions[resolution] > self.periods[period]:
            raise validation("resolution must not be longer than period", "resolution", "range")
        points = self.periods[period] // self.resolutions[resolution]
        if points > self.max_points:
            raise validation(
                f"period={period} at resolution={resolution} would be {points} points per "
                f"series; at most {self.max_points}: choose a coarser resolution",
                "resolution",
                "max_points",
            )
        return period, resolution
