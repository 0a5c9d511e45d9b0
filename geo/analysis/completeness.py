"""Life-circle completeness: how many of the catalogue's kinds each compound reaches on foot.

Coverage asks "does this compound reach a clinic?"; completeness asks it of every kind in
the catalogue (:mod:`geo.catalogue`: kindergartens, schools, markets, parks, canteens …)
at once, each with its own threshold, for the standard and the elderly walker, and counts
the kinds reached per tier (基础保障 basic, 品质提升 quality, after TD/T 1062-2021).

The walks are coverage's own (:func:`geo.analysis.coverage.analyze_areas`): one
multi-source search per kind, from the compounds' gates or streets to the nearest facility
of that kind. A walk's length does not depend on the walker, so each kind is searched once
and judged twice: a compound reaches kind ``K`` for walker ``w`` when its nearest ``K`` is
within ``K``'s minutes for ``w`` at ``w``'s speed. A kind with no facility in the study is
reached by nobody — the score says what is missing, including data that is missing.

Examples
--------
On the drawn neighbourhood (:mod:`geo.testing`) with a kindergarten 20 m off street A at
its 300 m mark: the gated compound's gate is 30 m off A at 150 m, so it walks 30 + 150 + 20
= 200 m — 3.0 minutes for the standard walker and 4.0 for the elderly, both within the
kindergarten's 5 minutes; its clinic (300 m) is within 15 minutes for both.

>>> from geo.testing import drawn_study, facility_frame
>>> study = drawn_study()
>>> kindergarten = facility_frame([("k1", "幼儿园", 300, 20)]).assign(category="kindergarten")
>>> study = study.with_layers({**study.layers, "facilities": kindergarten})
>>> table = completeness(study)
>>> row = table.loc["gated"]
>>> float(row["kindergarten_walk_m"]), bool(row["kindergarten_standard"]), bool(row["kindergarten_elderly"])
(200.0, True, True)
>>> int(table.loc["gated", "basic_standard"]), int(table.loc["remote", "basic_standard"])
(2, 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.coverage import analyze_areas
from geo.analysis.params import PROFILES, WalkParams
from geo.analysis.study import Study
from geo.catalogue import CATALOGUE, TIERS, Kind

__all__ = ["WALKERS", "completeness", "completeness_summary", "completeness_table", "lacking"]

#: The walkers every score is given for.
WALKERS = ("standard", "elderly")
_TIER_KEYS = {tier: en for tier, en in TIERS.items()}


def completeness(study: Study, catalogue: Mapping[str, Kind] = CATALOGUE) -> pd.DataFrame:
    """Per compound: which catalogue kinds it reaches, and how many per tier, per walker.

    Parameters
    ----------
    study : Study
        Its ``facilities`` layer holds the catalogue's categories (may be empty or absent);
        ``clinics`` and ``neighbor_centers`` are their own layers.
    catalogue : mapping of str to Kind
        The kinds to count; default the bundled catalogue (:data:`geo.catalogue.CATALOGUE`).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``residential_areas``. For each kind ``K``: ``K_walk_m`` (to the
        nearest, NaN when none is reached), ``K_name``, and ``K_standard``, ``K_elderly``
        (reached within ``K``'s minutes for that walker). For each walker ``w``:
        ``basic_w`` and ``quality_w`` (kinds reached per tier), ``kinds_w`` (their sum),
        ``share_w`` (``kinds_w`` / kinds in the catalogue, 0–1) and ``missing_w`` (the keys of
        the kinds not reached, comma-separated). ``attrs`` holds the kinds' tiers and
        thresholds (``kinds``) and how many facilities of each the study has
        (``facilities``: 0 means the data has none, not that none exist).
    """
    kinds = tuple(catalogue)
    areas = study.layers["residential_areas"]
    out = pd.DataFrame(index=areas.index)
    if not kinds:
        return out
    standard = PROFILES["standard"]
    largest = {k: max(catalogue[k].minutes_for(w) * PROFILES[w].metres_per_minute for w in WALKERS)
               for k in kinds}  # fmt: skip
    # one search per kind; the threshold only bounds the "within" count, so give the largest
    params = WalkParams(
        standard, MappingProxyType({k: m / standard.metres_per_minute for k, m in largest.items()})
    )
    walks = analyze_areas(study, params, types=kinds)
    for key in kinds:
        metres = walks[f"{key}_walk_m"].to_numpy(dtype=float)
        out[f"{key}_walk_m"] = metres
        out[f"{key}_name"] = walks[f"{key}_name"]
        for walker in WALKERS:
            limit = catalogue[key].minutes_for(walker) * PROFILES[walker].metres_per_minute
            out[f"{key}_{walker}"] = np.nan_to_num(metres, nan=np.inf) <= limit + 1e-9
    for walker in WALKERS:
        reached = out[[f"{k}_{walker}" for k in kinds]].to_numpy(dtype=bool)
        for tier, en in _TIER_KEYS.items():
            in_tier = np.array([catalogue[k].tier == tier for k in kinds])
            out[f"{en}_{walker}"] = reached[:, in_tier].sum(axis=1).astype(int)
        out[f"kinds_{walker}"] = reached.sum(axis=1).astype(int)
        out[f"share_{walker}"] = np.round(reached.sum(axis=1) / len(kinds), 4)
        out[f"missing_{walker}"] = [
            ",".join(k for k, hit in zip(kinds, row, strict=True) if not hit) for row in reached
        ]
    out.attrs.update(
        kinds={
            k: {"tier": catalogue[k].tier, "minutes": dict(catalogue[k].minutes)} for k in kinds
        },
        facilities={k: len(study.facilities(k)) for k in kinds},
        method=study.method,
    )
    return out


def _groups(areas: gpd.GeoDataFrame) -> list[tuple[str, pd.Index]]:
    return [("全部 / all", areas.index)] + [
        (str(name), index) for name, index in areas.groupby("subdistrict", sort=True).groups.items()
    ]


def completeness_summary(
    areas: gpd.GeoDataFrame, table: pd.DataFrame, catalogue: Mapping[str, Kind] = CATALOGUE
) -> pd.DataFrame:
    """Per 街道 (and ``全部 / all``) and walker: the mean completeness and full coverage.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Residential areas with ``subdistrict`` and ``population``.
    table : pandas.DataFrame
        :func:`completeness` of those areas.
    catalogue : mapping of str to Kind
        The kinds ``table`` was computed for.

    Returns
    -------
    pandas.DataFrame
        One row per group and walker: ``subdistrict``, ``walker``, ``areas``, ``kinds``
        (in the catalogue), ``basic_kinds``, ``quality_kinds`` (per tier), the mean per
        compound ``mean_basic``, ``mean_quality``, ``mean_kinds`` (2 places),
        ``mean_share_residents`` (the share weighted by population, 0–1) and
        ``areas_basic_complete`` (compounds reaching every basic kind).
    """
    population = pd.to_numeric(areas["population"], errors="coerce").fillna(0)
    basic_total = sum(1 for k in catalogue.values() if k.tier == "基础保障")
    rows = []
    for group, index in _groups(areas):
        for walker in WALKERS:
            part = table.loc[index]
            weight = population.loc[index]
            share = part[f"share_{walker}"]
            weighted = float((share * weight).sum() / weight.sum()) if weight.sum() else None
            rows.append(
                {
                    "subdistrict": group,
                    "walker": walker,
                    "areas": len(index),
                    "kinds": len(catalogue),
                    "basic_kinds": basic_total,
                    "quality_kinds": len(catalogue) - basic_total,
                    "mean_basic": round(float(part[f"basic_{walker}"].mean()), 2) if len(index) else None,
                    "mean_quality": round(float(part[f"quality_{walker}"].mean()), 2) if len(index) else None,
                    "mean_kinds": round(float(part[f"kinds_{walker}"].mean()), 2) if len(index) else None,
                    "mean_share_residents": round(weighted, 4) if weighted is not None else None,
                    "areas_basic_complete": int((part[f"basic_{walker}"] == basic_total).sum()),
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def lacking(
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    walker: str = "elderly",
    catalogue: Mapping[str, Kind] = CATALOGUE,
) -> pd.DataFrame:
    """What each 街道 lacks most: per 街道 and kind, the residents who do not reach it.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Residential areas with ``subdistrict``, ``population`` and ``elderly``.
    table : pandas.DataFrame
        :func:`completeness` of those areas.
    walker : str
        ``standard`` or ``elderly``.
    catalogue : mapping of str to Kind
        The kinds ``table`` was computed for.

    Returns
    -------
    pandas.DataFrame
        ``subdistrict``, ``kind``, ``zh``, ``en``, ``tier``, ``minutes``, ``areas_without``,
        ``residents_without`` (population of the compounds not reaching it),
        ``share_without`` (of the 街道's residents, 0–1), ``facilities`` (of that kind in
        the whole study; 0 = the data has none) and ``rank`` (1 = lacked by the most
        residents in that 街道; kinds the data has none of rank after every kind it has,
        basic kinds first on a tie), every kind of every 街道.
    """
    population = pd.to_numeric(areas["population"], errors="coerce").fillna(0).to_numpy()
    counts = table.attrs.get("facilities", {})
    # each kind's column once, in the areas' order (pandas lookups per 街道 and kind were
    # 0.5 s for a city of 20,000 compounds)
    reached = {
        key: table.loc[areas.index, f"{key}_{walker}"].astype(bool).to_numpy() for key in catalogue
    }
    rows = []
    for group, index in _groups(areas)[1:]:
        at = areas.index.get_indexer(index)
        total = float(population[at].sum())
        for key, kind in catalogue.items():
            without = ~reached[key][at]
            people = float(population[at][without].sum())
            rows.append(
                {
                    "subdistrict": group,
                    "kind": key,
                    "zh": kind.zh,
                    "en": kind.en,
                    "tier": kind.tier,
                    "minutes": kind.minutes_for(walker),
                    "areas_without": int(without.sum()),
                    "residents_without": int(people),
                    "share_without": round(people / total, 4) if total else 0.0,
                    "facilities": int(counts.get(key, 0)),
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame.assign(rank=pd.Series(dtype=int))
    frame["_basic"] = frame["tier"] != "基础保障"
    frame["_none"] = frame["facilities"] == 0
    frame = frame.sort_values(
        ["subdistrict", "_none", "share_without", "_basic", "kind"],
        ascending=[True, True, False, True, True],
    )
    frame["rank"] = frame.groupby("subdistrict").cumcount() + 1
    return frame.drop(columns=["_basic", "_none"]).reset_index(drop=True)


def completeness_table(
    areas: gpd.GeoDataFrame, table: pd.DataFrame, catalogue: Mapping[str, Kind] = CATALOGUE
) -> pd.DataFrame:
    """:func:`completeness` with bilingual headers (Chinese first), for CSV and Excel.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Residential areas with ``name`` and ``subdistrict``.
    table : pandas.DataFrame
        :func:`completeness` of those areas.
    catalogue : mapping of str to Kind
        The kinds ``table`` was computed for.

    Returns
    -------
    pandas.DataFrame
        One row per compound: id, name, 街道; per walker the kinds reached per tier, in all,
        and those missing (Chinese names); per kind the walk to the nearest (m) and whether
        each walker reaches it within the kind's minutes.
    """
    out = pd.DataFrame(
        {
            "编号 / ID": table.index.astype(str),
            "小区 / compound": areas["name"].reindex(table.index).to_numpy(),
            "街道 / subdistrict": areas["subdistrict"].reindex(table.index).to_numpy(),
        }
    )
    zh = {k: v.zh for k, v in catalogue.items()}
    for walker in WALKERS:
        who = f"{PROFILES[walker].zh} / {PROFILES[walker].en}"
        out[f"基础保障类可达数 / basic kinds reached · {who}"] = table[f"basic_{walker}"].to_numpy()
        out[f"品质提升类可达数 / quality kinds reached · {who}"] = table[
            f"quality_{walker}"
        ].to_numpy()
        out[f"可达类数 / kinds reached · {who}"] = table[f"kinds_{walker}"].to_numpy()
        out[f"缺少 / missing · {who}"] = [
            "、".join(zh[k] for k in text.split(",") if k) for text in table[f"missing_{walker}"]
        ]
    for key, kind in catalogue.items():
        out[f"{kind.zh} 步行距离 m / {kind.en} walk m"] = table[f"{key}_walk_m"].to_numpy()
        for walker in WALKERS:
            minutes = kind.minutes_for(walker)
            out[f"{kind.zh} {minutes:g}分钟内·{PROFILES[walker].zh} / {kind.en} within "
                f"{minutes:g} min, {walker}"] = table[f"{key}_{walker}"].to_numpy()  # fmt: skip
    return out
