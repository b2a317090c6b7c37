"""Planted variation: known, named outliers written to ``synth_manifest.json`` so later
features (indicators, funnels, outlier lists, packs) can prove they find them.

Effects are large enough to be detectable at a practice of median list size over the
generated years (e.g. emergency presentation about doubled on ~250 cancers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from carepath.synth.geography import Geography

MANIFEST_NAME = "synth_manifest.json"
MANIFEST_VERSION = 1

# Effect sizes (named so the manifest and the generator cannot disagree).
HIGH_EP_MULTIPLIER = 2.2  # emergency-presentation odds multiplier
LOW_EARLY_STAGE_SHIFT = -1.1  # logit shift in P(stage 1-2 | staged)
LOW_SCREENING_SHIFT = -0.16  # absolute drop in coverage, every programme
HIGH_USC_MULTIPLIER = 1.7
LOW_USC_MULTIPLIER = 0.55
LOW_HNA_SHIFT = -1.9  # logit shift in P(HNA offered) at the planted trust (~65% -> ~25%)
LOW_PREFERRED_PLACE_ACHIEVED = 0.30  # vs anchors.PREFERRED_PLACE_ACHIEVED elsewhere
LOW_EOL_REGISTER_MULTIPLIER = 0.35
PCN_MOVE_DATE = date(2023, 4, 1)
TRUST_HNA_SD = 0.3  # ordinary between-trust variation in HNA offer (logit scale)

# How many practices get each planted effect, per scale.
COUNTS = {
    "county": {"high_emergency_presentation": 3, "low_early_stage": 2, "low_screening": 3,
               "high_usc_referral": 1, "low_usc_referral": 1, "low_eol_register": 2},
    "england": {"high_emergency_presentation": 40, "low_early_stage": 30, "low_screening": 40,
                "high_usc_referral": 20, "low_usc_referral": 20, "low_eol_register": 30},
}


@dataclass
class Planted:
    """Per-practice multipliers and shifts, per-trust and per-locality effects."""

    ep_mult: np.ndarray
    early_shift: np.ndarray
    screening_shift: np.ndarray
    usc_mult: np.ndarray
    eol_register_mult: np.ndarray
    hna_trust_shift: np.ndarray
    pref_achieved_locality: np.ndarray  # probability of dying in the preferred place
    entries: list[dict] = field(default_factory=list)

    def manifest(self, *, seed: int, scale: str, years: int, first_fy: int) -> dict:
        return {"manifest_version": MANIFEST_VERSION, "generator": "carepath synth",
                "seed": seed, "scale": scale, "years": years,
                "period": f"{first_fy}/{(first_fy + years) % 100:02d} onwards",
                "planted": self.entries}


def plant(geo: Geography, rng: np.random.Generator, base_achieved: float) -> Planted:
    p = geo.practices
    n = len(p)
    out = Planted(
        ep_mult=np.ones(n), early_shift=np.zeros(n), screening_shift=np.zeros(n),
        usc_mult=np.ones(n), eol_register_mult=np.ones(n),
        hna_trust_shift=rng.normal(0.0, TRUST_HNA_SD, len(geo.trusts)),
        pref_achieved_locality=np.full(len(geo.localities), base_achieved))
    # Only practices of at least median size, so the effect is detectable; disjoint sets.
    eligible = np.flatnonzero(p.list_size >= np.median(p.list_size))
    counts = COUNTS[geo.scale]
    chosen = rng.choice(eligible, sum(counts.values()) + 1, replace=False)
    start = 0
    effects = {
        "high_emergency_presentation": ("ep_mult", HIGH_EP_MULTIPLIER, ("emergency "
                                        "presentation % markedly high"), "higher"),
        "low_early_stage": ("early_shift", LOW_EARLY_STAGE_SHIFT, ("early-stage (1-2) % of "
                            "staged cancers markedly low"), "lower"),
        "low_screening": ("screening_shift", LOW_SCREENING_SHIFT, ("cancer screening coverage "
                          "low in every programme"), "lower"),
        "high_usc_referral": ("usc_mult", HIGH_USC_MULTIPLIER, "USC referral rate high", "higher"),
        "low_usc_referral": ("usc_mult", LOW_USC_MULTIPLIER, "USC referral rate low", "lower"),
        "low_eol_register": ("eol_register_mult", LOW_EOL_REGISTER_MULTIPLIER, ("few deaths on "
                             "the EoL register beforehand"), "lower"),
    }
    for kind, how_many in counts.items():
        attr, value, what, direction = effects[kind]
        for i in chosen[start:start + how_many]:
            arr = getattr(out, attr)
            arr[i] = value if attr.endswith("mult") else arr[i] + value
            out.entries.append({"kind": kind, "org_type": "practice", "org_code": p.code[i],
                                "org_name": p.name[i], "what": what, "direction": direction,
                                "effect": {attr: value}})
        start += how_many
    _plant_trust_and_locality(geo, rng, out)
    _plant_pcn_move(geo, int(chosen[start]), out)
    return out


def _plant_trust_and_locality(geo: Geography, rng: np.random.Generator, out: Planted) -> None:
    t = 1 if len(geo.trusts) > 1 else 0
    out.hna_trust_shift[t] = LOW_HNA_SHIFT
    out.entries.append({"kind": "low_hna_trust", "org_type": "trust",
                        "org_code": geo.trusts[t][0], "org_name": geo.trusts[t][1],
                        "what": "holistic needs assessment offered to few patients",
                        "direction": "lower", "effect": {"hna_logit_shift": LOW_HNA_SHIFT}})
    loc = int(rng.integers(len(geo.localities)))
    out.pref_achieved_locality[loc] = LOW_PREFERRED_PLACE_ACHIEVED
    out.entries.append({"kind": "low_preferred_place_locality", "org_type": "locality",
                        "org_code": geo.localities[loc][0], "org_name": geo.localities[loc][1],
                        "what": "few people die in their preferred place", "direction": "lower",
                        "effect": {"preferred_place_achieved": LOW_PREFERRED_PLACE_ACHIEVED}})


def _plant_pcn_move(geo: Geography, practice: int, out: Planted) -> None:
    """A practice changes PCN within its locality: tests that queries use the hierarchy
    valid in each period."""
    p = geo.practices
    same_loc = sorted({int(c) for c in p.pcn[p.locality == p.locality[practice]]})
    others = [c for c in same_loc if c != p.pcn[practice]]
    if not others:
        others = [int(c) for c in sorted(set(p.pcn.tolist())) if c != p.pcn[practice]][:1]
    new = others[0]
    geo.pcn_moves.append((practice, new, PCN_MOVE_DATE))
    out.entries.append({"kind": "pcn_change", "org_type": "practice",
                        "org_code": p.code[practice], "org_name": p.name[practice],
                        "what": f"moves from {geo.pcns[p.pcn[practice]][0]} to "
                                f"{geo.pcns[new][0]} on {PCN_MOVE_DATE.isoformat()}",
                        "direction": "none", "effect": {"new_pcn": geo.pcns[new][0]}})
