"""Shared machinery for one chunk of practices: the time window, populations, people,
and vectorised sampling helpers. Everything is drawn from one numpy Generator per chunk,
so a seed and a chunk number fix every value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from statistics import NormalDist

import numpy as np

from carepath.model import codes
from carepath.synth import anchors
from carepath.synth.geography import Geography
from carepath.synth.planted import Planted

END_FY = 2024  # the last financial year generated is 2024/25
DAYS_PER_YEAR = 365
N_SEX = len(codes.SEX)
BAND_START = np.array(codes.AGE_BAND_STARTS)
OLDEST_EXTRA_YEARS = 12  # ages in the open 90+ band reach about 102
PRACTICE_CELL_NOISE = 0.06  # persistent practice-specific deviation from the age profile


@dataclass(frozen=True)
class Window:
    """Financial years END_FY-years+1 .. END_FY, inclusive."""

    years: int

    @property
    def first_fy(self) -> int:
        return END_FY - self.years + 1

    @property
    def start(self) -> np.datetime64:
        return np.datetime64(date(self.first_fy, 4, 1))

    @property
    def end(self) -> np.datetime64:
        return np.datetime64(date(END_FY + 1, 3, 31))

    def fy_start(self, y: np.ndarray | int) -> np.ndarray:
        """Start date of window year index y (0-based); vectorised."""
        starts = np.array([np.datetime64(date(self.first_fy + i, 4, 1))
                           for i in range(self.years + 1)])
        return starts[y]

    def quarter_starts(self) -> np.ndarray:
        out = []
        for i in range(self.years):
            fy = self.first_fy + i
            out += [date(fy, 4, 1), date(fy, 7, 1), date(fy, 10, 1), date(fy + 1, 1, 1)]
        return np.array(out, dtype="datetime64[D]")


def age_profile(tilt: np.ndarray) -> np.ndarray:
    """Per-practice share by (sex, band): England blended towards the young or old
    profile (derived from real PCN age structures)."""
    eng = anchors.AGE_PROFILE_ENGLAND / anchors.AGE_PROFILE_ENGLAND.sum()
    old = anchors.AGE_PROFILE_OLD / anchors.AGE_PROFILE_OLD.sum()
    young = anchors.AGE_PROFILE_YOUNG / anchors.AGE_PROFILE_YOUNG.sum()
    t = tilt[:, None, None]
    prof = eng + np.where(t > 0, t * (old - eng), -t * (young - eng))
    return prof / prof.sum(axis=(1, 2), keepdims=True)


def ages_in_band(rng: np.random.Generator, band: np.ndarray) -> np.ndarray:
    """Whole-year ages uniformly within each band; the 90+ band tails off."""
    age = BAND_START[band] + rng.integers(0, 5, len(band))
    top = band == len(BAND_START) - 1
    age[top] = 90 + np.minimum(rng.geometric(0.25, top.sum()) - 1, OLDEST_EXTRA_YEARS)
    return age


def expand(rng: np.random.Generator, expected: np.ndarray) -> tuple[np.ndarray, ...]:
    """Poisson counts per cell of an n-d array of expectations, then one row per event:
    returns the cell coordinates of every event."""
    counts = rng.poisson(np.maximum(expected, 0.0))
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    return np.unravel_index(flat, counts.shape)


def categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) probability matrix (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    # The first category whose running total passes u, never one of probability 0: a row
    # of tiny weights (a total of 5e-324) made u 0, and "below u" picked the first
    # category, impossible there (a property test). The last possible one caps it.
    last = probs.shape[1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
    return np.minimum((cum <= u[:, None]).sum(axis=1), last)


def lognormal_days(rng: np.random.Generator, n: int, within: float, days: int,
                   sigma: float) -> np.ndarray:
    """Delays in days, log-normal with P(delay <= days) = within."""
    mu = np.log(days + 1.0) - NormalDist().inv_cdf(within) * sigma  # floor(x) <= days iff x < days + 1
    return np.floor(rng.lognormal(mu, sigma, n)).astype(np.int64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def days(n: np.ndarray) -> np.ndarray:
    return np.asarray(n, dtype="timedelta64[D]")


@dataclass
class People:
    """Patients created in a chunk; person-level tables refer to them by number."""

    first_id: int
    practice: list[np.ndarray] = field(default_factory=list)
    sex: list[np.ndarray] = field(default_factory=list)
    yob: list[np.ndarray] = field(default_factory=list)
    seen: list[np.ndarray] = field(default_factory=list)
    count: int = 0

    def new(self, rng: np.random.Generator, practice: np.ndarray, sex: np.ndarray,
            age: np.ndarray, when: np.ndarray) -> np.ndarray:
        """Make people of this age on this date; returns their numbers."""
        n = len(practice)
        year = when.astype("datetime64[Y]").astype(int) + 1970
        self.practice.append(practice)
        self.sex.append(sex)
        self.yob.append(year - age - (rng.random(n) < 0.5))
        self.seen.append(when)
        ids = self.first_id + self.count + np.arange(n, dtype=np.int64)
        self.count += n
        return ids

    def concat(self) -> dict[str, np.ndarray]:
        if not self.practice:
            empty = np.zeros(0, dtype=np.int64)
            return {"practice": empty, "sex": empty, "yob": empty,
                    "seen": np.zeros(0, dtype="datetime64[D]")}
        return {"practice": np.concatenate(self.practice), "sex": np.concatenate(self.sex),
                "yob": np.concatenate(self.yob),
                "seen": np.concatenate(self.seen).astype("datetime64[D]")}


@dataclass
class Chunk:
    """A set of practices simulated together (the county, or one ICB of England)."""

    rng: np.random.Generator
    geo: Geography
    planted: Planted
    window: Window
    idx: np.ndarray  # global practice indices in this chunk
    people: People
    pop_q: np.ndarray = field(init=False)  # [practice, quarter, sex, band] counts
    pop_y: np.ndarray = field(init=False)  # [practice, year, sex, band] mean of quarters

    def __post_init__(self) -> None:
        p = self.geo.practices
        n_q = 4 * self.window.years
        prof = age_profile(p.tilt[self.idx])
        noise = np.exp(self.rng.normal(0.0, PRACTICE_CELL_NOISE, prof.shape))
        prof = prof * noise / (prof * noise).sum(axis=(1, 2), keepdims=True)
        quarters_back = (n_q - 1 - np.arange(n_q)) / 4.0
        size = p.list_size[self.idx][:, None] * (
            1.0 + p.growth[self.idx][:, None]) ** (-quarters_back[None, :])
        self.pop_q = np.round(size[:, :, None, None] * prof[:, None, :, :]).astype(np.int64)
        self.pop_y = self.pop_q.reshape(len(self.idx), self.window.years, 4, N_SEX, -1).mean(
            axis=2)

    def event_dates(self, year: np.ndarray) -> np.ndarray:
        """A uniformly random day within each window year index."""
        return self.window.fy_start(year) + days(self.rng.integers(0, DAYS_PER_YEAR, len(year)))
