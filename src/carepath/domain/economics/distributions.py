"""Probability distributions for sensitivity analysis: validated parameters, sampling with a
seeded numpy Generator, and quantiles (for the one-way tornado)."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator
from scipy import stats

KINDS = ("uniform", "triangular", "normal", "lognormal", "gamma", "beta")


class Distribution(BaseModel):
    """uniform(low, high); triangular(low, mode, high); normal(mean, sd);
    lognormal(mean, sd) and gamma(mean, sd) on the natural scale; beta(alpha, beta)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["uniform", "triangular", "normal", "lognormal", "gamma", "beta"]
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None
    alpha: float | None = None
    beta: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Distribution:
        needed = {
            "uniform": ("low", "high"), "triangular": ("low", "mode", "high"),
            "normal": ("mean", "sd"), "lognormal": ("mean", "sd"), "gamma": ("mean", "sd"),
            "beta": ("alpha", "beta"),
        }[self.kind]
        given = {k for k in ("low", "mode", "high", "mean", "sd", "alpha", "beta")
                 if getattr(self, k) is not None}
        missing = [k for k in needed if k not in given]
        extra = sorted(given - set(needed))
        if missing:
            raise ValueError(f"{self.kind} needs {', '.join(needed)}; missing {', '.join(missing)}")
        if extra:
            raise ValueError(f"{self.kind} takes {', '.join(needed)}, not {', '.join(extra)}")
        if any(not math.isfinite(getattr(self, k)) for k in needed):
            raise ValueError(f"{self.kind} parameters must be finite numbers")
        self._check_values()
        return self

    def _check_values(self) -> None:
        k = self.kind
        if k in ("uniform", "triangular") and not self.low < self.high:
            raise ValueError(f"{k}: low ({self.low}) must be below high ({self.high})")
        if k == "triangular" and not self.low <= self.mode <= self.high:
            raise ValueError(f"triangular: mode ({self.mode}) must lie between low and high")
        if k in ("normal", "lognormal", "gamma") and not self.sd > 0:
            raise ValueError(f"{k}: sd must be above 0 (got {self.sd})")
        if k in ("lognormal", "gamma") and not self.mean > 0:
            raise ValueError(f"{k}: mean must be above 0 (got {self.mean})")
        if k == "beta" and not (self.alpha > 0 and self.beta > 0):
            raise ValueError(f"beta: alpha and beta must be above 0 (got {self.alpha}, "
                             f"{self.beta})")

    # ----- maths ----------------------------------------------------------------------------
    def support(self) -> tuple[float, float]:
        if self.kind in ("uniform", "triangular"):
            return self.low, self.high
        if self.kind == "normal":
            return -math.inf, math.inf
        if self.kind == "beta":
            return 0.0, 1.0
        return 0.0, math.inf

    def _lognormal_params(self) -> tuple[float, float]:
        # Moment matching: mean and sd given on the natural scale.
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    def _gamma_params(self) -> tuple[float, float]:
        shape = (self.mean / self.sd) ** 2
        return shape, self.sd**2 / self.mean

    def frozen(self):
        """The scipy distribution (for quantiles)."""
        k = self.kind
        if k == "uniform":
            return stats.uniform(self.low, self.high - self.low)
        if k == "triangular":
            width = self.high - self.low
            return stats.triang((self.mode - self.low) / width, loc=self.low, scale=width)
        if k == "normal":
            return stats.norm(self.mean, self.sd)
        if k == "lognormal":
            mu, sigma = self._lognormal_params()
            return stats.lognorm(sigma, scale=math.exp(mu))
        if k == "gamma":
            shape, scale = self._gamma_params()
            return stats.gamma(shape, scale=scale)
        return stats.beta(self.alpha, self.beta)

    def ppf(self, q: float) -> float:
        return float(self.frozen().ppf(q))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        k = self.kind
        if k == "uniform":
            return rng.uniform(self.low, self.high, n)
        if k == "triangular":
            return rng.triangular(self.low, self.mode, self.high, n)
        if k == "normal":
            return rng.normal(self.mean, self.sd, n)
        if k == "lognormal":
            mu, sigma = self._lognormal_params()
            return rng.lognormal(mu, sigma, n)
        if k == "gamma":
            shape, scale = self._gamma_params()
            return rng.gamma(shape, scale, n)
        return rng.beta(self.alpha, self.beta, n)
