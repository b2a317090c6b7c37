"""Organisations and their hierarchy: the county of Wessex, or a synthetic England.

Wessex follows issue 2: about 780,000 registered people in about 90 practices (list sizes
1,500-30,000), 13 localities in 3 sub-ICB locations, one ICB in a cancer alliance and a
region, two acute trusts, a hospice, a community provider and a voluntary-sector
provider. England has 42 ICBs, about 106 sub-ICBs, 1,250 PCNs and 6,300 practices
(63 million people), grouped into 21 cancer alliances and 7 regions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from carepath.synth import anchors

SCALES = ("county", "england")
GEO_VALID_FROM = date(2013, 4, 1)
PCN_VALID_FROM = date(2019, 7, 1)  # PCNs began in July 2019

COUNTY_POPULATION = 780_000
COUNTY_PRACTICES = 90
# Localities per sub-ICB and PCNs per locality for Wessex (13 localities, 20 PCNs).
COUNTY_SUB_ICBS = (("North Wessex", ("Christminster", "Alfredston", "Kennetbridge",
                                     "Melchester")),
                   ("Mid Wessex", ("Shaston", "Sherton Abbas", "Stourcastle",
                                   "Wintoncester", "Chaseborough")),
                   ("South Wessex", ("Casterbridge", "Budmouth", "Sandbourne", "Anglebury")))
COUNTY_TRUSTS = (("RWX", "Casterbridge Hospitals NHS Foundation Trust"),
                 ("RWY", "Melchester University Hospitals NHS Trust"))

ENGLAND_POPULATION = 63_000_000
ENGLAND_ICBS = 42
ENGLAND_SUB_ICBS = 106
ENGLAND_PCNS = 1250
ENGLAND_PRACTICES = 6300
ENGLAND_REGIONS = 7
ENGLAND_ALLIANCES = 21
LOCALITIES_PER_SUB_ICB = 3
TRUSTS_PER_ICB = 3

RURALITY = ("urban", "town", "rural")
PRACTICE_WORDS = ("Abbey", "Bridge", "Castle", "Church", "Elm", "Friary", "Green", "Grove",
                  "Harbour", "Heath", "High Street", "Hill", "Kings", "Manor", "Market",
                  "Meadow", "Mill", "Minster", "North", "Oak", "Orchard", "Park", "Priory",
                  "Quay", "Riverside", "St Mary's", "St Peter's", "Station", "Tower", "Vale",
                  "West", "Willow")
PRACTICE_KINDS = ("Surgery", "Medical Centre", "Health Centre", "Medical Practice",
                  "Family Practice")


@dataclass
class Practices:
    """One entry per practice; integer columns index the lists of Geography."""

    code: list[str]
    name: list[str]
    list_size: np.ndarray  # registered people at the end of the window
    growth: np.ndarray  # yearly list growth
    pcn: np.ndarray
    locality: np.ndarray
    sub_icb: np.ndarray
    icb: np.ndarray
    trust: np.ndarray  # main acute trust (index into Geography.trusts)
    imd_score: np.ndarray
    imd_quintile: np.ndarray  # 1 = most deprived
    tilt: np.ndarray  # age structure: -1 young (university/inner city) .. +1 old (coastal)
    rurality: np.ndarray

    def __len__(self) -> int:
        return len(self.code)


@dataclass
class Geography:
    scale: str
    practices: Practices
    pcns: list[tuple[str, str]]
    localities: list[tuple[str, str]]
    sub_icbs: list[tuple[str, str]]
    icbs: list[tuple[str, str]]
    alliances: list[tuple[str, str]]
    regions: list[tuple[str, str]]
    trusts: list[tuple[str, str]]
    icb_region: list[int]
    icb_alliance: list[int]
    hospices: list[tuple[str, str]]  # one per ICB
    community: list[tuple[str, str]]  # one per ICB
    voluntary: list[tuple[str, str]]  # one per ICB
    councils: list[tuple[str, str]]  # one per ICB: pays a share of community services
    pcn_moves: list[tuple[int, int, date]] = field(default_factory=list)  # practice, new PCN

    @property
    def trust_codes(self) -> list[str]:
        return [c for c, _ in self.trusts]


def build_geography(scale: str, rng: np.random.Generator) -> Geography:
    if scale == "county":
        return _county(rng)
    if scale == "england":
        return _england(rng)
    raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")


def _list_sizes(rng: np.random.Generator, n: int, total: float) -> np.ndarray:
    """Log-normal list sizes (QOF fit) scaled to the target total, within the bounds."""
    raw = rng.lognormal(anchors.LIST_SIZE_LOG_MEAN, anchors.LIST_SIZE_LOG_SD, n)
    sizes = np.clip(raw * total / raw.sum(), anchors.LIST_SIZE_MIN, anchors.LIST_SIZE_MAX)
    return np.round(sizes * total / sizes.sum())


def _practice_traits(rng: np.random.Generator, locality: np.ndarray, n_loc: int) -> dict:
    """Deprivation, age structure and rurality, correlated within localities: deprived
    practices are younger and urban, affluent rural ones older."""
    loc_depr = rng.normal(0.0, 0.7, n_loc)[locality]
    depr = loc_depr + rng.normal(0.0, 0.7, len(locality))
    imd = np.clip(anchors.IMD_SCORE_MEAN + anchors.IMD_SCORE_SD * depr, 2.0, 75.0)
    loc_age = rng.normal(0.0, 0.35, n_loc)[locality]
    tilt = loc_age - 0.25 * depr + rng.normal(0.0, 0.3, len(locality))
    # Centred, so the area as a whole has about England's age structure and the national
    # rates in the calibration table apply to it.
    tilt = np.clip(tilt - tilt.mean(), -1.0, 1.0)
    rural_score = tilt - 0.5 * depr + rng.normal(0.0, 0.4, len(locality))
    rurality = np.digitize(rural_score, (-0.2, 0.35))  # 0 urban, 1 town, 2 rural
    quintile = 1 + np.digitize(-imd, [-c for c in anchors.IMD_QUINTILE_CUTS])
    return {"imd_score": np.round(imd, 2), "imd_quintile": quintile, "tilt": tilt,
            "rurality": rurality}


def _names(rng: np.random.Generator, towns: list[str]) -> list[str]:
    names, seen = [], set()
    for town in towns:
        for _ in range(20):
            name = (f"{PRACTICE_WORDS[rng.integers(len(PRACTICE_WORDS))]} "
                    f"{PRACTICE_KINDS[rng.integers(len(PRACTICE_KINDS))]}, {town}")
            if name not in seen:
                break
        seen.add(name)
        names.append(name)
    return names


def _split(rng: np.random.Generator, n: int, groups: int) -> np.ndarray:
    """Assign n items to groups, every group at least one, sizes varying."""
    weights = rng.gamma(4.0, 1.0, groups)
    counts = np.maximum(1, np.round(weights / weights.sum() * n)).astype(int)
    while counts.sum() > n:
        counts[np.argmax(counts)] -= 1
    while counts.sum() < n:
        counts[np.argmin(counts)] += 1
    return np.repeat(np.arange(groups), counts)


# The county is one of the South West region's: the region's figures in its workspace are
# the county's part of it (carepath.toml's partial_areas).
COUNTY_REGION = ("Y58", "South West")
COUNTY_PARTIAL_AREAS = (COUNTY_REGION[0],)


def _county(rng: np.random.Generator) -> Geography:
    sub_icbs = [(f"WX{i + 1}", f"NHS Wessex ICB - {name}") for i, (name, _) in
                enumerate(COUNTY_SUB_ICBS)]
    localities, loc_sub = [], []
    for s, (_, towns) in enumerate(COUNTY_SUB_ICBS):
        for town in towns:
            localities.append((f"WXL{len(localities) + 1:02d}", f"{town} Locality"))
            loc_sub.append(s)
    n_loc = len(localities)
    # 20 PCNs: the larger towns have two.
    pcn_loc = np.sort(np.concatenate([np.arange(n_loc), rng.choice(n_loc, 7, replace=False)]))
    pcns = []
    for i, loc in enumerate(pcn_loc):
        town = localities[loc][1].removesuffix(" Locality")
        part = "" if np.sum(pcn_loc == loc) == 1 else (
            " North" if i == 0 or pcn_loc[i - 1] != loc else " South")
        pcns.append((f"UWX{i + 1:03d}", f"{town}{part} PCN"))
    practice_pcn = np.sort(_split(rng, COUNTY_PRACTICES, len(pcns)))
    locality = pcn_loc[practice_pcn]
    traits = _practice_traits(rng, locality, n_loc)
    sub_icb = np.asarray(loc_sub)[locality]
    # North Wessex uses Melchester; South uses Casterbridge; Mid Wessex splits by locality.
    trust = np.where(sub_icb == 0, 1, np.where(sub_icb == 2, 0, locality % 2))
    towns = [localities[loc][1].removesuffix(" Locality") for loc in locality]
    practices = Practices(
        code=[f"W9{i + 1:04d}" for i in range(COUNTY_PRACTICES)], name=_names(rng, towns),
        list_size=_list_sizes(rng, COUNTY_PRACTICES, COUNTY_POPULATION),
        growth=rng.normal(anchors.LIST_GROWTH_PER_YEAR, 0.012, COUNTY_PRACTICES),
        pcn=practice_pcn, locality=locality, sub_icb=sub_icb,
        icb=np.zeros(COUNTY_PRACTICES, dtype=int), trust=trust, **traits)
    return Geography(
        scale="county", practices=practices, pcns=pcns, localities=localities,
        sub_icbs=sub_icbs, icbs=[("QWX", "NHS Wessex Integrated Care Board")],
        alliances=[("WXCA", "Wessex Cancer Alliance")], regions=[COUNTY_REGION],
        trusts=list(COUNTY_TRUSTS), icb_region=[0], icb_alliance=[0],
        hospices=[("NWX01", "Egdon Heath Hospice")],
        community=[("RWZ", "Wessex Community Health NHS Trust")],
        voluntary=[("VWX01", "Wessex Cancer Support")],
        councils=[("LA-QWX", "Wessex County Council")])


def _england(rng: np.random.Generator) -> Geography:
    icbs = [(f"Q{i + 1:02d}", f"NHS Synthetic ICB {i + 1:02d}") for i in range(ENGLAND_ICBS)]
    sub_icb_icb = np.sort(_split(rng, ENGLAND_SUB_ICBS, ENGLAND_ICBS))
    sub_icbs = [(f"S{i + 1:03d}", f"Sub-ICB location {i + 1:03d}")
                for i in range(ENGLAND_SUB_ICBS)]
    loc_sub = np.repeat(np.arange(ENGLAND_SUB_ICBS), LOCALITIES_PER_SUB_ICB)
    localities = [(f"L{i + 1:04d}", f"Locality {i + 1:04d}") for i in range(len(loc_sub))]
    pcn_loc = np.sort(_split(rng, ENGLAND_PCNS, len(localities)))
    pcns = [(f"U{i + 1:05d}", f"PCN {i + 1:05d}") for i in range(ENGLAND_PCNS)]
    practice_pcn = np.sort(_split(rng, ENGLAND_PRACTICES, ENGLAND_PCNS))
    locality = pcn_loc[practice_pcn]
    sub_icb = loc_sub[locality]
    icb = sub_icb_icb[sub_icb]
    traits = _practice_traits(rng, locality, len(localities))
    trusts = [(f"R{i // TRUSTS_PER_ICB + 1:02d}{'ABC'[i % TRUSTS_PER_ICB]}",
               f"Synthetic Hospitals Trust {i + 1:03d}")
              for i in range(ENGLAND_ICBS * TRUSTS_PER_ICB)]
    trust = icb * TRUSTS_PER_ICB + sub_icb % TRUSTS_PER_ICB
    n = ENGLAND_PRACTICES
    practices = Practices(
        code=[f"P{i + 1:05d}" for i in range(n)], name=[f"Practice {i + 1:05d}" for i in range(n)],
        list_size=_list_sizes(rng, n, ENGLAND_POPULATION),
        growth=rng.normal(anchors.LIST_GROWTH_PER_YEAR, 0.012, n),
        pcn=practice_pcn, locality=locality, sub_icb=sub_icb, icb=icb, trust=trust, **traits)
    return Geography(
        scale="england", practices=practices, pcns=pcns, localities=localities,
        sub_icbs=sub_icbs, icbs=icbs,
        alliances=[(f"CA{i + 1:02d}", f"Synthetic Cancer Alliance {i + 1:02d}")
                   for i in range(ENGLAND_ALLIANCES)],
        regions=[(f"Y{i + 1:02d}", f"Region {i + 1}") for i in range(ENGLAND_REGIONS)],
        trusts=trusts, icb_region=[i * ENGLAND_REGIONS // ENGLAND_ICBS for i in range(ENGLAND_ICBS)],
        icb_alliance=[i * ENGLAND_ALLIANCES // ENGLAND_ICBS for i in range(ENGLAND_ICBS)],
        hospices=[(f"H{i + 1:02d}", f"Synthetic Hospice {i + 1:02d}") for i in range(ENGLAND_ICBS)],
        community=[(f"C{i + 1:02d}", f"Synthetic Community Trust {i + 1:02d}")
                   for i in range(ENGLAND_ICBS)],
        voluntary=[(f"V{i + 1:02d}", f"Synthetic Cancer Charity {i + 1:02d}")
                   for i in range(ENGLAND_ICBS)],
        councils=[(f"LA-Q{i + 1:02d}", f"Synthetic County Council {i + 1:02d}")
                  for i in range(ENGLAND_ICBS)])


def organisation_rows(geo: Geography) -> tuple[list[tuple], list[tuple]]:
    """Rows for `organisations` and `org_hierarchy` (schema column order)."""
    p = geo.practices
    orgs = [("ENG", "England", "england", GEO_VALID_FROM, None, None, None, None)]
    hier: list[tuple] = []

    def add(items, org_type, valid_from=GEO_VALID_FROM):
        orgs.extend((c, n, org_type, valid_from, None, None, None, None) for c, n in items)

    add(geo.regions, "region")
    add(geo.alliances, "cancer_alliance")
    add(geo.icbs, "icb")
    add(geo.sub_icbs, "sub_icb")
    add(geo.localities, "locality")
    add(geo.pcns, "pcn", PCN_VALID_FROM)
    for i in range(len(p)):
        orgs.append((p.code[i], p.name[i], "practice", GEO_VALID_FROM, None,
                     f"{geo.localities[p.locality[i]][0]} {i % 9 + 1}AB",
                     RURALITY[p.rurality[i]], float(p.imd_score[i])))
    add(geo.trusts, "trust")
    add(geo.hospices, "hospice")
    add(geo.community, "community")
    add(geo.voluntary, "voluntary")
    add(geo.councils, "local_authority")

    def link(child, parent, ptype, valid_from=GEO_VALID_FROM, valid_to=None):
        hier.append((child, parent, ptype, valid_from, valid_to))

    for r, _ in geo.regions:
        link(r, "ENG", "england")
    for i, (icb, _) in enumerate(geo.icbs):
        link(icb, geo.regions[geo.icb_region[i]][0], "region")
        link(icb, geo.alliances[geo.icb_alliance[i]][0], "cancer_alliance")
    for a, _ in geo.alliances:
        link(a, "ENG", "england")
    sub_icb_icb = {int(s): int(i) for s, i in zip(p.sub_icb, p.icb, strict=True)}
    loc_sub = {int(loc): int(s) for loc, s in zip(p.locality, p.sub_icb, strict=True)}
    for s, i in sorted(sub_icb_icb.items()):
        link(geo.sub_icbs[s][0], geo.icbs[i][0], "icb")
    for loc, s in sorted(loc_sub.items()):
        link(geo.localities[loc][0], geo.sub_icbs[s][0], "sub_icb")
    pcn_loc = {int(c): int(loc) for c, loc in zip(p.pcn, p.locality, strict=True)}
    for c, loc in sorted(pcn_loc.items()):
        link(geo.pcns[c][0], geo.localities[loc][0], "locality", PCN_VALID_FROM)
    moves = {m[0]: m for m in geo.pcn_moves}
    for i in range(len(p)):
        code = p.code[i]
        icb = p.icb[i]
        if i in moves:
            _, new_pcn, when = moves[i]
            link(code, geo.pcns[p.pcn[i]][0], "pcn", PCN_VALID_FROM,
                 date.fromordinal(when.toordinal() - 1))
            link(code, geo.pcns[new_pcn][0], "pcn", when)
        else:
            link(code, geo.pcns[p.pcn[i]][0], "pcn", PCN_VALID_FROM)
        link(code, geo.localities[p.locality[i]][0], "locality")
        link(code, geo.sub_icbs[p.sub_icb[i]][0], "sub_icb")
        link(code, geo.icbs[icb][0], "icb")
        link(code, geo.alliances[geo.icb_alliance[icb]][0], "cancer_alliance")
        link(code, geo.regions[geo.icb_region[icb]][0], "region")
        link(code, "ENG", "england")
    for t, (code, _) in enumerate(geo.trusts):
        link(code, geo.icbs[t * len(geo.icbs) // len(geo.trusts)][0], "icb")
    for group in (geo.hospices, geo.community, geo.voluntary):
        for i, (code, _) in enumerate(group):
            link(code, geo.icbs[i][0], "icb")
    return orgs, hier
