"""Delay distributions, drawn by inverse transform from a uniform number.

Why inverse transform: every incident carries its uniforms, drawn once from the incident stream, and each
delay is ``quantile(u)``. Two policies facing the same incident then see the same luck (common random
numbers) even where they dispatch different units, and a paired difference measures the policy alone.

Specs (config mappings): ``{dist: lognormal, median_s, p90_s}`` (the shape PARAMETERS.md uses),
``{dist: fixed, value_s}``, ``{dist: exponential, mean_s}``, ``{dist: uniform, low_s, high_s}``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

from sim.errors import ConfigError

Z90 = 1.2815515655446004  # standard normal 90th percentile


@functools.cache
def _ndtri():
    """scipy's normal quantile, imported at the first draw: validating a config must not wait for scipy."""
    from scipy.special import ndtri

    return ndtri


@dataclass(frozen=True)
class Delay:
    dist: Literal["lognormal", "fixed", "exponential", "uniform"]
    median_s: float | None = None
    p90_s: float | None = None
    value_s: float | None = None
    mean_s: float | None = None
    low_s: float | None = None
    high_s: float | None = None

    def check(self, key: str) -> None:
        """Raise ConfigError naming ``key`` if the parameters do not fit the distribution."""
        need = {
            "lognormal": ("median_s", "p90_s"),
            "fixed": ("value_s",),
            "exponential": ("mean_s",),
            "uniform": ("low_s", "high_s"),
        }[self.dist]
        for name in need:
            value = getattr(self, name)
            if value is None or value < 0:
                raise ConfigError(
                    f"config key '{key}.{name}': {self.dist} delays need {', '.join(need)} "
                    f"as seconds >= 0, got {value!r}"
                )
        if self.dist == "lognormal" and self.p90_s < self.median_s:
            raise ConfigError(
                f"config key '{key}.p90_s': must be >= median_s ({self.median_s}), got {self.p90_s}"
            )
        if self.dist == "uniform" and self.high_s < self.low_s:
            raise ConfigError(
                f"config key '{key}.high_s': must be >= low_s ({self.low_s}), got {self.high_s}"
            )

    def quantile(self, u: float) -> float:
        """The delay at probability ``u`` in (0, 1), seconds."""
        if self.dist == "lognormal":
            if not self.median_s:
                return 0.0
            return self.median_s * math.exp(self._sigma * float(_ndtri()(u)))
        if self.dist == "fixed":
            return float(self.value_s)
        if self.dist == "exponential":
            return -float(self.mean_s) * math.log1p(-u)
        return float(self.low_s) + u * (float(self.high_s) - float(self.low_s))

    @functools.cached_property
    def _sigma(self) -> float:
        """The lognormal's shape, from its median and 90th percentile (computed once, used per draw)."""
        return math.log(self.p90_s / self.median_s) / Z90 if self.median_s else 0.0

    @functools.cached_property
    def median_s_value(self) -> float:
        """The median delay, seconds (used where a plan needs a typical value, not a draw)."""
        return self.quantile(0.5)
