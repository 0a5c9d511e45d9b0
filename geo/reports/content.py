"""What a 街道 report says: its cover, key figures, tables and maps, gathered once.

:func:`build_report` runs the same ``geo`` functions as ``lifecircle analyze`` and the API —
:func:`~geo.analysis.coverage.analyze_areas` and :func:`~geo.analysis.coverage.summarize` for
both walkers, :func:`~geo.analysis.coverage.gaps`, :func:`~geo.analysis.isochrones.gap_zones`,
:func:`~geo.analysis.isochrones.opportunities`, :func:`~geo.analysis.planning.recommend_sites`
and :func:`~geo.analysis.progress.progress` — so a report's numbers are the analysis's. The
renderers (:mod:`geo.reports.render`) only lay the content out as HTML, PDF or Excel.

Tables are kept with stable column keys; :data:`COLUMNS` gives each its Chinese and English
header with the unit, so every format labels a number the same way.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.analysis.capacity import SPECS, capacity, under_served
from geo.analysis.completeness import completeness, lacking
from geo.analysis.coverage import ALL_TYPES, analyze_areas, gaps, in_subdistrict, summarize
from geo.analysis.isochrones import gap_zones
from geo.analysis.opportunities import opportunities
from geo.analysis.params import PROFILES, Profile, WalkParams
from geo.analysis.planning import Scenario, compare, recommend_sites
from geo.analysis.progress import progress, progress_series
from geo.analysis.retrofits import retrofit_candidates
from geo.analysis.study import Study
from geo.layers.store import Location, open_store
from geo.schema import ENUM_LABELS, FACILITY_LAYERS, LAYER_NAMES, LAYERS, STAGE_LABELS
from geo.version import __version__

__all__ = ["COLUMNS", "TYPE_LABELS", "Report", "build_report", "header", "word"]

#: Facility types and "all types at once", Chinese first.
TYPE_LABELS = {
    "neighbor_centers": ("睦邻中心", "neighbour centres"),
    "clinics": ("社区卫生服务中心/站", "clinics"),
    "charging_points": ("充电桩", "charging points"),
    ALL_TYPES: ("全部三类", "all three types"),
}
#: Every table column's header, Chinese and English, with its unit.
COLUMNS: dict[str, tuple[str, str]] = {
    "walker": ("步行者", "walker"),
    "type": ("设施类型", "facility type"),
    "areas": ("小区数（个）", "compounds"),
    "areas_covered": ("覆盖小区（个）", "compounds covered"),
    "share_areas": ("小区覆盖率（%）", "compounds covered (%)"),
    "households_covered": ("覆盖户数（户）", "households covered"),
    "share_households": ("户数覆盖率（%）", "households covered (%)"),
    "population_covered": ("覆盖人口（人）", "people covered"),
    "share_population": ("人口覆盖率（%）", "people covered (%)"),
    "elderly_covered": ("覆盖老人（人）", "elderly covered"),
    "share_elderly": ("老人覆盖率（%）", "elderly covered (%)"),
    "rank": ("序号", "rank"),
    "name": ("名称", "name"),
    "subdistrict": ("街道", "subdistrict"),
    "households": ("户数（户）", "households"),
    "population": ("人口（人）", "people"),
    "elderly": ("60岁以上老人（人）", "people aged 60+"),
    "missing": ("缺少的设施", "missing services"),
    "people_affected": ("受影响人数（人）", "people affected"),
    "project": ("改造项目", "renovation project"),
    "kind": ("项目类型", "kind"),
    "status": ("阶段", "stage"),
    "compound": ("所在小区", "compound"),
    "site": ("推荐位置", "recommended site"),
    "new_population": ("新增覆盖人口（人）", "people newly covered"),
    "new_elderly": ("新增覆盖老人（人）", "elderly newly covered"),
    "stage": ("阶段", "stage"),
    "projects_at": ("当前阶段项目（个）", "projects at stage"),
    "projects_reached": ("累计项目（个）", "projects reached"),
    "units_at": ("当前阶段数量", "units at stage"),
    "units_reached": ("累计数量", "units reached"),
    "unit": ("单位", "unit"),
    "period": ("季度", "quarter"),
    "signed": ("累计签约", "signed"),
    "under_construction": ("累计开工", "started"),
    "completed": ("累计完工", "completed"),
    "population_before": ("现状覆盖人口（人）", "people covered now"),
    "population_after": ("方案覆盖人口（人）", "people covered in the scenario"),
    "population_change": ("人口变化（人）", "change in people"),
    "elderly_before": ("现状覆盖老人（人）", "elderly covered now"),
    "elderly_after": ("方案覆盖老人（人）", "elderly covered in the scenario"),
    "elderly_change": ("老人变化（人）", "change in elderly"),
    "share_population_after": ("方案人口覆盖率（%）", "people covered in the scenario (%)"),
    "storeys": ("层数", "storeys"),
    "elderly_share": ("老人比例（%）", "elderly share (%)"),
    "retrofit_units": ("已启动加装电梯（台）", "elevators begun"),
    "units_completed": ("已完工（台）", "elevators completed"),
    "supply": ("供给量（床位张 / m² / 充电口个，按类型）", "supply (beds, m² or ports, by type)"),
    "supply_reached": ("有人步行可达的供给量（同上）", "supply someone can walk to (as above)"),
    "demand": ("需求（老人 / 居民 / 户，按类型）", "demand (aged 60+, residents or households)"),
    "ratio": ("研究区人均可达供给", "supply per demand, study-wide"),
    "ratio_unit": ("单位", "unit"),
    "areas_under_served": ("本街道供不足小区（个）", "under-served compounds here"),
    "areas_supply_unknown": (
        "本街道可达设施未填供给的小区（个）",
        "compounds here reaching a facility with no supply recorded",
    ),
    "facilities_overloaded": ("超负荷设施（个）", "overloaded facilities"),
    "facilities_with_supply": ("有供给数据的设施（个）", "facilities with a supply"),
    "standard": ("人均配置标准", "per-capita standard"),
    "walk_m": ("最近设施步行距离（米）", "walk to the nearest (m)"),
    "access": ("可达供给", "supply within reach"),
    "service": ("设施类别", "kind of facility"),
    "tier": ("层级", "tier"),
    "minutes": ("阈值（分钟）", "threshold (min)"),
    "areas_without": ("未达小区（个）", "compounds not reaching it"),
    "residents_without": ("未达人口（人）", "residents not reaching it"),
    "share_without": ("未达人口比例（%）", "residents not reaching it (%)"),
    "facilities": ("研究区内设施（个）", "facilities in the study"),
}


def header(key: str, lang: str = "zh") -> str:
    """The header of column ``key`` in ``lang`` (the key itself when unknown).

    Parameters
    ----------
    key : str
        A column of a report table.
    lang : {"zh", "en"}
        The language.

    Returns
    -------
    str
    """
    words = COLUMNS.get(key)
    return (words[1] if lang == "en" else words[0]) if words else key


def word(words: tuple[str, str], lang: str) -> str:
    """The Chinese or the English of ``words``.

    Parameters
    ----------
    words : tuple of (str, str)
        Chinese, English.
    lang : {"zh", "en"}
        The report's language.

    Returns
    -------
    str
    """
    return words[1] if lang == "en" else words[0]


@dataclass
class Report:
    """A 街道 report's content, ready to lay out; ``tables`` keep column keys of :data:`COLUMNS`."""

    title: str
    subdistrict: str | None
    district: str
    made_on: str
    lang: str
    params: WalkParams
    version: str
    layers: list[dict[str, Any]]
    thresholds: list[dict[str, Any]]
    tables: dict[str, pd.DataFrame]
    captions: dict[str, str]
    summary: pd.DataFrame
    coverage: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame | None
    study: Study
    series: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _sources(store: Any) -> dict[str, str]:
    """Each layer's row of the data folder's README table ("real" / "drawn"), if there is one."""
    try:
        readme = Path(store.location("residential_areas")).parent / "README.md"
        text = readme.read_text(encoding="utf-8")
    except (OSError, TypeError, ValueError):
        return {}
    found = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3:
            match = re.fullmatch(r"`?([a-z_]+)\.geojson`?", cells[0])
            if match and match.group(1) in LAYER_NAMES:
                plain = re.sub(r"[*`]", "", " | ".join(cells[2:]))
                found[match.group(1)] = plain if len(plain) <= 240 else plain[:239] + "…"
    return found


def _key_figures(summary: dict[Profile, pd.DataFrame], group: str, lang: str) -> pd.DataFrame:
    rows = []
    for walker, table in summary.items():
        chosen = table[table["subdistrict"] == group]
        for row in chosen.to_dict("records"):
            out: dict[str, Any] = {
                "walker": f"{word((walker.zh, walker.en), lang)} {walker.speed_kmh:g} km/h"
            }
            out["type"] = word(TYPE_LABELS[row["type"]], lang)
            for key in ("areas", "areas_covered", "households_covered", "population_covered",
                        "elderly_covered"):  # fmt: skip
                out[key] = row[key]
            for key in ("share_areas", "share_households", "share_population", "share_elderly"):
                out[key] = None if row[key] is None else round(100 * row[key], 1)
            rows.append(out)
    order = ["walker", "type", "areas", "areas_covered", "share_areas", "households_covered",
             "share_households", "population_covered", "share_population", "elderly_covered",
             "share_elderly"]  # fmt: skip
    return pd.DataFrame(rows, columns=order)


def _gap_table(areas: gpd.GeoDataFrame, result: pd.DataFrame, lang: str) -> pd.DataFrame:
    ranked = gaps(areas, result)
    households = pd.to_numeric(areas.loc[ranked.index, "households"], errors="coerce")
    return pd.DataFrame(
        {
            "rank": range(1, len(ranked) + 1),
            "name": ranked["name"].astype(str),
            "subdistrict": ranked["subdistrict"].astype(str),
            "households": households.fillna(0).astype(int).to_numpy(),
            "population": ranked["population"].to_numpy(),
            "elderly": ranked["elderly"].to_numpy(),
            "missing": [
                "、".join(word(TYPE_LABELS[k], lang) for k in m) for m in ranked["missing"]
            ],
            "people_affected": ranked["people_affected"].to_numpy(),
        }
    )


def _opportunity_table(study: Study, result: pd.DataFrame, lang: str) -> pd.DataFrame:
    found = opportunities(study, result)
    return pd.DataFrame(
        {
            "project": found["name"].astype(str) if len(found) else [],
            "kind": [word(ENUM_LABELS.get(k, (k, k)), lang) for k in found.get("kind", [])],
            "status": [word(STAGE_LABELS.get(s, (s, s)), lang) for s in found.get("status", [])],
            "compound": found["area_name"].astype(str) if len(found) else [],
            "missing": ["、".join(word(TYPE_LABELS[k], lang) for k in m) for m in found["missing"]],
        }
    )


def _site_table(study: Study, params: WalkParams, lang: str, k: int) -> pd.DataFrame:
    rows = []
    for kind in FACILITY_LAYERS:
        chosen = recommend_sites(study, kind, k=k, params=params)
        for site in chosen.sites.to_dict("records"):
            rows.append({"type": word(TYPE_LABELS[kind], lang), "rank": site["rank"],
                         "site": str(site["name"]),
                         "new_population": int(site["population_newly_covered"]),
                         "new_elderly": int(site["elderly_newly_covered"])})  # fmt: skip
    columns = ["type", "rank", "site", "new_population", "new_elderly"]
    return pd.DataFrame(rows, columns=columns)


def _scenario_table(
    study: Study,
    areas: gpd.GeoDataFrame,
    scenario: Scenario,
    params: WalkParams,
    group: str,
    lang: str,
) -> pd.DataFrame:
    """Coverage now and with ``scenario`` in ``group``, per type: people and elderly."""
    result = compare(study, scenario, params)
    now = summarize(areas, result.before)
    then = summarize(areas, result.after)
    now, then = now[now["subdistrict"] == group], then[then["subdistrict"] == group]
    rows = []
    for before, after in zip(now.to_dict("records"), then.to_dict("records"), strict=True):
        share = after["share_population"]
        rows.append({"type": word(TYPE_LABELS[before["type"]], lang),
                     "population_before": before["population_covered"],
                     "population_after": after["population_covered"],
                     "population_change": after["population_covered"] - before["population_covered"],
                     "elderly_before": before["elderly_covered"],
                     "elderly_after": after["elderly_covered"],
                     "elderly_change": after["elderly_covered"] - before["elderly_covered"],
                     "share_population_after": None if share is None else round(100 * share, 1)})  # fmt: skip
    return pd.DataFrame(rows, columns=["type", "population_before", "population_after",
                                       "population_change", "elderly_before", "elderly_after",
                                       "elderly_change", "share_population_after"])  # fmt: skip


def _retrofit_table(areas: gpd.GeoDataFrame, projects: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Compounds of 4+ storeys without a lift, most elderly first, with their retrofits."""
    found = retrofit_candidates(areas, projects)
    share = (100 * pd.to_numeric(found["elderly_share"], errors="coerce")).round(1)
    storeys = pd.to_numeric(found["storeys"], errors="coerce")
    return pd.DataFrame(
        {
            "rank": range(1, len(found) + 1),
            "name": found["name"].astype(str).to_numpy(),
            "storeys": [None if pd.isna(v) else int(v) for v in storeys],
            "elderly": pd.to_numeric(found["elderly"], errors="coerce")
            .fillna(0)
            .astype(int)
            .to_numpy(),
            "elderly_share": [None if pd.isna(v) else float(v) for v in share],
            "retrofit_units": found["retrofit_units"].astype(int).to_numpy(),
            "units_completed": found["units_completed"].astype(int).to_numpy(),
        }
    )


def _capacity_tables(
    study: Study, params: WalkParams, chosen: gpd.GeoDataFrame, picked: pd.DataFrame, lang: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Supply shared among those who reach it (E2SFCA over the whole study: catchments cross
    街道 lines), and this 街道's compounds covered but under-served, lowest supply first."""
    result = capacity(study, params)
    rows = []
    for row in result.summary.to_dict("records"):
        spec = SPECS[row["type"]]
        unit = word(spec.unit, lang)
        here = result.areas.loc[chosen.index, f"{row['type']}_under_served"]
        unknown = result.areas.loc[chosen.index, f"{row['type']}_supply_unknown"]
        rows.append({"type": word(TYPE_LABELS[row["type"]], lang), "supply": row["supply"],
                     "supply_reached": row["supply_reached"], "demand": row["demand"],
                     "ratio": row["study_ratio"] if row["facilities_with_supply"] else None,
                     "ratio_unit": unit, "facilities_with_supply": row["facilities_with_supply"],
                     "facilities_overloaded": row["facilities_overloaded"],
                     "areas_under_served": int(here.sum()),
                     "areas_supply_unknown": int(unknown.sum()),
                     "standard": word(tuple(row["standard_note"].split(" / ", 1)), lang)
                     if row["standard"] is None else f"{row['standard']:g} {unit}"})  # fmt: skip
    summary = pd.DataFrame(rows, columns=["type", "supply", "supply_reached", "demand", "ratio",
                                          "ratio_unit", "facilities_with_supply",
                                          "facilities_overloaded", "areas_under_served",
                                          "areas_supply_unknown", "standard"])  # fmt: skip
    short = under_served(chosen, picked, result)
    table = pd.DataFrame(
        {
            "rank": range(1, len(short) + 1),
            "name": short["name"].astype(str).to_numpy(),
            "type": [word(TYPE_LABELS[k], lang) for k in short["type"]],
            "demand": pd.to_numeric(short["demand"], errors="coerce").fillna(0).astype(int),
            "walk_m": short["walk_m"].to_numpy(),
            "access": short["access"].to_numpy(),
            "ratio_unit": [word(SPECS[k].unit, lang) for k in short["type"]],
        }
    )
    return summary, table


#: Kinds listed per 街道 in "what each 街道 lacks most".
LACKING_TOP = 3


def _lacking_table(study: Study, chosen: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    """What each 街道 lacks most, for the elderly walker: the catalogue kinds the most of its
    residents cannot reach within the kind's minutes (kinds the data has none of after the
    rest, with their count 0 shown), :data:`LACKING_TOP` per 街道."""
    table = completeness(study).loc[chosen.index]
    ranked = lacking(chosen, table, "elderly")
    ranked = ranked[ranked["rank"] <= LACKING_TOP] if len(ranked) else ranked
    tiers = {"基础保障": ("基础保障", "basic"), "品质提升": ("品质提升", "quality")}
    return pd.DataFrame(
        {
            "subdistrict": ranked.get("subdistrict", pd.Series(dtype=str)).astype(str).to_numpy(),
            "rank": ranked.get("rank", pd.Series(dtype=int)).to_numpy(),
            "service": [word((r.zh, r.en), lang) for r in ranked.itertuples()],
            "tier": [word(tiers[t], lang) for t in ranked.get("tier", [])],
            "minutes": ranked.get("minutes", pd.Series(dtype=float)).to_numpy(),
            "areas_without": ranked.get("areas_without", pd.Series(dtype=int)).to_numpy(),
            "residents_without": ranked.get("residents_without", pd.Series(dtype=int)).to_numpy(),
            "share_without": (100 * ranked.get("share_without", pd.Series(dtype=float)))
            .round(1)
            .to_numpy(),
            "facilities": ranked.get("facilities", pd.Series(dtype=int)).to_numpy(),
        }
    )


def _progress_tables(
    projects: pd.DataFrame, subdistrict: str | None, lang: str
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    if subdistrict and not (projects.get("subdistrict") == subdistrict).any():
        projects = projects.iloc[0:0]
        subdistrict = None
    now = progress(projects, subdistrict)
    rows = []
    for kind, counts in now["by_kind"].items():
        for stage in now["stages"]:
            rows.append({"kind": word(ENUM_LABELS.get(kind, (kind, kind)), lang),
                         "stage": word(STAGE_LABELS[stage], lang),
                         "projects_at": counts["exclusive"][stage],
                         "projects_reached": counts["cumulative"][stage],
                         "units_at": counts["units_exclusive"][stage],
                         "units_reached": counts["units_cumulative"][stage],
                         "unit": counts["unit"][lang]})  # fmt: skip
    table = pd.DataFrame(rows, columns=["kind", "stage", "projects_at", "projects_reached",
                                        "units_at", "units_reached", "unit"])  # fmt: skip
    series = progress_series(projects, "quarter", subdistrict) if len(projects) else {"periods": []}
    quarters = []
    for period in series["periods"]:
        for kind, counts in period["by_kind"].items():
            quarters.append({"period": period["period"],
                             "kind": word(ENUM_LABELS.get(kind, (kind, kind)), lang),
                             **{s: counts["units_cumulative"][s]
                                for s in ("signed", "under_construction", "completed")},
                             "unit": counts["unit"][lang]})  # fmt: skip
    quarterly = pd.DataFrame(quarters, columns=["period", "kind", "signed", "under_construction",
                                                "completed", "unit"])  # fmt: skip
    return table, quarterly, series


def build_report(
    data: Location = None,
    params: WalkParams | None = None,
    subdistrict: str | None = None,
    lang: str = "zh",
    *,
    study: Study | None = None,
    sites: int = 3,
    scenario: Scenario | None = None,
) -> Report:
    """Gather everything a 街道 report shows, from the same code as ``lifecircle analyze``.

    Parameters
    ----------
    data : str or path, optional
        The store (default the settings'); its README's table says which layers are real.
    params : WalkParams, optional
        The walker the maps, gap list and sites use; key figures show both walkers.
    subdistrict : str, optional
        The 街道 (else the whole study); a bilingual error lists the ones there are.
    lang : {"zh", "en"}
        The language of the words in the tables.
    study : Study, optional
        An already loaded study of ``data`` (saves reading it again).
    sites : int
        Recommended sites per facility type.
    scenario : Scenario, optional
        A what-if (added, moved, removed facilities) to compare with today: the report gains
        a table of people and elderly covered now and with it, per type.

    Returns
    -------
    Report
    """
    params = params or WalkParams()
    store = open_store(data)
    study = study or Study.load(data)
    areas = study.layers["residential_areas"]
    chosen = in_subdistrict(areas, subdistrict)
    # key figures for both walkers of PROFILES, and for an own speed when one is given
    walkers = {p: replace(params, profile=p) for p in PROFILES.values()}
    walkers[params.profile] = params
    results = {profile: analyze_areas(study, p) for profile, p in walkers.items()}
    summaries = {profile: summarize(areas, r) for profile, r in results.items()}
    result = results[params.profile]
    group = subdistrict or "全部 / all"
    districts = sorted({str(d) for d in chosen.get("district", pd.Series()).dropna()})
    versions = {name: store.version(name) for name in LAYER_NAMES}
    digest = hashlib.sha256("".join(versions.values()).encode()).hexdigest()[:12]
    sources = _sources(store)
    layers = [{"layer": name, "label": word((LAYERS[name].zh, LAYERS[name].en), lang),
               "features": len(study.layers[name]), "version": versions[name][:12],
               "source": sources.get(name, "")} for name in LAYER_NAMES]  # fmt: skip
    thresholds = [{"type": word(TYPE_LABELS[k], lang), "limit": params.metres.get(k),
                   "minutes": params.minutes.get(k)} for k in FACILITY_LAYERS]  # fmt: skip
    progress_table, quarterly, series = _progress_tables(
        study.layers["renovation_projects"], subdistrict, lang
    )
    picked = result.loc[chosen.index]
    # sites for this 街道's compounds, from candidates in it (or anywhere when none is)
    projects = study.layers["renovation_projects"]
    if subdistrict and (projects.get("subdistrict") == subdistrict).any():
        projects = projects[projects["subdistrict"] == subdistrict]
    local = study.with_layers(
        {**study.layers, "residential_areas": chosen, "renovation_projects": projects}
    )
    tables = {
        "key_figures": _key_figures(summaries, group, lang),
        "gaps": _gap_table(chosen, picked, lang),
        "opportunities": _opportunity_table(local, picked, lang),
        "sites": _site_table(local, params, lang, sites) if study.network is not None else
        pd.DataFrame(columns=["type", "rank", "site", "new_population", "new_elderly"]),
        "progress": progress_table,
        "quarterly": quarterly,
    }  # fmt: skip
    tables["retrofits"] = _retrofit_table(chosen, study.layers["renovation_projects"], lang)
    tables["capacity"], tables["under_served"] = _capacity_tables(
        study, params, chosen, picked, lang
    )
    tables["lacking"] = _lacking_table(study, chosen, lang)
    if scenario is not None:
        tables["scenario"] = _scenario_table(study, areas, scenario, params, group, lang)
    place = subdistrict or word(("全部街道", "all subdistricts"), lang)
    title = word((f"{place} 15分钟社区生活圈报告", f"15-minute life circle report: {place}"), lang)
    captions = {
        "key_figures": word(("主要指标", "Key figures"), lang),
        "maps": word(("地图", "Maps"), lang),
        "gaps": word(("覆盖缺口小区（按受影响人数排序）", "Compounds with gaps, most people first"), lang),
        "opportunities": word(("缺口小区内的改造项目：可同步补齐的设施", "Renovation projects in gap "
                                "compounds: what they could add"), lang),
        "sites": word(("推荐新增设施位置", "Recommended sites"), lang),
        "progress": word(("改造进度", "Renovation progress"), lang),
        "scenario": word((f"方案“{scenario.name}”与现状比较", f"Scenario '{scenario.name}' "
                           "against today"), lang) if scenario else "",
        "retrofits": word(("加装电梯重点小区：4层及以上、无电梯，按老人比例排序",
                            "Where retrofits matter most: 4+ storeys, no lift, most elderly first"),
                           lang),
        "capacity": word(("容量：设施供给由步行可达的居民分享（E2SFCA，Luo & Qi 2009）",
                           "Capacity: supply shared among those who can walk to it (E2SFCA, "
                           "Luo & Qi 2009)"), lang),
        "under_served": word(("已覆盖但供不足的小区（人均可达供给低于研究区一半），按供给从低到高",
                               "Covered but under-served compounds (below half the study's "
                               "supply per person), lowest first"), lang),
        "lacking": word(("各街道最缺什么：老人步行（3 km/h）在阈值内到不了的设施类别，按未达人口排序"
                         "（研究区内无数据的类别排在最后，设施数为 0）",
                         "What each 街道 lacks most: the kinds of facility the elderly walker "
                         "(3 km/h) cannot reach within their thresholds, most residents first "
                         "(kinds the data has none of last, with 0 facilities)"), lang),
        "quarterly": word(("改造进度（按季度，累计数量）", "Renovation progress by quarter "
                            "(cumulative units)"), lang),
    }  # fmt: skip
    zones = gap_zones(study, params) if study.network is not None else None
    notes = []
    if study.network is None:
        notes.append(word(("没有路网：按直线距离×绕行系数估算", "no walking network: straight "
                            "lines times a detour factor"), lang))  # fmt: skip
    return Report(
        title=title,
        subdistrict=subdistrict,
        district="、".join(districts),
        made_on=date.today().isoformat(),
        lang=lang,
        params=params,
        version=f"{digest} (lifecircle {__version__})",
        layers=layers,
        thresholds=thresholds,
        tables=tables,
        captions=captions,
        summary=summaries[params.profile],
        coverage=chosen.join(picked),
        zones=zones,
        study=study,
        series=series,
        notes=notes,
    )  # fmt: skip
