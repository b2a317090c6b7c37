"""Practice profiles for the web app, with the shared parts cached.

``profiles.practice_profile`` recomputes the practice distribution (quartiles over every
practice) and scans the comparators with pandas on every page view; on an England workspace
that is most of a page's time. Here the distribution and the published aggregates are built
once per data version (``carepath.web.cache``) and a profile reads only its own rows. ``rows`` returns exactly what ``practice_profile`` returns (a
test compares the two), so the pages stay on the shared read model's definition.
"""

from __future__ import annotations

import duckdb

from carepath.domain.benchmarking import profiles
from carepath.web.cache import VersionedCache

PARENT_LEVELS = ("locality", "icb")


# Columns of a practice's own rows that a profile shows.
_MINE = ("indicator_id", "period", "period_end", "value", "lower95", "upper95", "lower998",
         "upper998", "numerator", "denominator", "value_state", "value_note",
         "compared_to_national", "trend")


class ProfileIndex:
    """The parts every profile shares (practice distribution, published aggregates), built
    once per data version; a profile then reads only its practice's rows."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.dist = profiles.practice_distribution(con).to_dict("index")
        rows = con.execute(
            f"""{profiles._LATEST}
            SELECT v.indicator_id, v.area_type, v.area_code, v.value
            FROM indicator_values v JOIN latest USING (indicator_id, period_end)
            WHERE v.breakdown = 'all' AND v.area_type != 'practice'
              AND v.value_state = 'published' AND v.value IS NOT NULL""").fetchall()
        self.published = {(i, t, c): float(v) for i, t, c, v in rows}

    @staticmethod
    def _mine(con: duckdb.DuckDBPyConnection, code: str) -> dict[str, dict]:
        rows = con.execute(
            f"""{profiles._LATEST}
            SELECT {', '.join('v.' + c for c in _MINE)}
            FROM indicator_values v JOIN latest USING (indicator_id, period_end)
            WHERE v.breakdown = 'all' AND v.area_type = 'practice' AND v.area_code = ?""",
            [code]).fetchall()
        return {r[0]: dict(zip(_MINE, r, strict=True)) for r in rows}

    def rows(self, con: duckdb.DuckDBPyConnection, practice_code: str,
             meta: dict[str, dict]) -> list[dict]:
        mine = self._mine(con, practice_code)
        if not mine:
            return []
        on = max(r["period_end"] for r in mine.values())
        parents = {lvl: profiles.parent_of(con, practice_code, lvl, on)
                   for lvl in PARENT_LEVELS}
        out = []
        for ind_id, m in meta.items():
            if ind_id not in mine or ind_id not in self.dist:
                continue
            out.append(profiles.spine_row(ind_id, m, mine[ind_id], self.dist[ind_id], parents,
                                          self.published))
        return out


def profile_rows(cache: VersionedCache, con: duckdb.DuckDBPyConnection, practice_code: str,
                 meta: dict[str, dict]) -> list[dict]:
    index = cache.get("profile_index", con, ProfileIndex)
    return index.rows(con, practice_code, meta)
