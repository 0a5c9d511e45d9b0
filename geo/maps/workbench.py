"""The planner's workbench of the served dashboard: a side panel (a bottom sheet on a phone)
with the controls, the summary, the layers, a legend of every symbol and the gap list.

Python gives ``static/workbench.js`` its settings as JSON data (:func:`add_workbench`):
folium's names of the map and its layer groups, the state the page was built for, the words
of both languages, the legend's colours and, for a page that carries its compounds, their
coverage. The script applies every control by fetching JSON from the service (``/coverage``,
``/coverage/summary``, ``/gaps.json``) and repainting in place; the URL keeps the state.

Colours are relative to the threshold of the type shown (:data:`BANDS`): a charging point 8
minutes away is "beyond" its 5-minute threshold, a clinic 8 minutes away is "within".

The capacity colouring (``colour=capacity`` in the URL) paints a compound by its share of
the type's supply within reach, relative to the study's average (``T_access_share`` of
:mod:`geo.analysis.capacity`, :data:`CAPACITY_BANDS`), and marks the facilities whose load
is above 1.5 times the study's (``/capacity``) with a ring.

Own walking speed: ``/coverage`` takes only the named walkers, so the page asks it for the
standard walker (4 km/h) with each threshold scaled by speed / 4 — the same metres,
``threshold × speed × 1000 / 60`` — and shows minutes as ``walk_m / (speed × 1000 / 60)``.
``/gaps.json`` and the downloads take ``speed`` themselves.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.capacity import SPECS
from geo.analysis.params import DEFAULT_MINUTES, MAX_MINUTES, PROFILES
from geo.maps.base import (
    GLYPHS,
    LABELS,
    LAYER_COLOURS,
    STATIC,
    STATUS_COLOURS,
    STATUS_LABELS,
    add_config,
    add_static,
    label,
    raw_html,
    text,
)
from geo.maps.streets import STREETS_LABEL
from geo.schema import FACILITY_LAYERS

__all__ = [
    "BANDS",
    "BAND_COLOURS",
    "CAPACITY_BANDS",
    "CAPACITY_COLOURS",
    "COMPLETENESS_BANDS",
    "COMPLETENESS_COLOURS",
    "GAP_COLUMNS",
    "OVERLOADED",
    "UNREACHABLE",
    "WORDS",
    "add_workbench",
    "area_fields",
]

#: Colour bands as fractions of the threshold: ≤ ½, ≤ 1, ≤ 1½, beyond (then unreachable).
BANDS = (0.5, 1.0, 1.5)
#: Okabe–Ito, distinguishable with the common kinds of colour blindness.
BAND_COLOURS = ("#009E73", "#56B4E9", "#F0E442", "#D55E00")
UNREACHABLE = "#999999"
#: Capacity colour bands as multiples of the study's ratio: below ½ (under-served), below
#: 1, below 2, 2 or more; grey where nothing with a recorded supply is reachable.
CAPACITY_BANDS = (0.5, 1.0, 2.0)
CAPACITY_COLOURS = ("#D55E00", "#F0E442", "#56B4E9", "#009E73")
#: Completeness colour bands: the share of the catalogue's basic kinds (基础保障) a compound
#: reaches for the walker: below ¼, ½, ¾, below all, all of them.
COMPLETENESS_BANDS = (0.25, 0.5, 0.75, 1.0)
COMPLETENESS_COLOURS = ("#D55E00", "#E69F00", "#F0E442", "#56B4E9", "#009E73")
#: The ring round an overloaded facility.
OVERLOADED = "#CC0000"
#: The gap list's columns and their headers (Chinese, English): the panel and the downloads.
GAP_COLUMNS = (
    ("id", ("编号", "ID")),
    ("name", ("小区", "Compound")),
    ("subdistrict", ("街道", "Subdistrict")),
    ("households", ("户数", "Households")),
    ("population", ("人口", "Residents")),
    ("elderly", ("老人(60岁以上)", "Aged 60+")),
    ("walk_m", ("步行距离(米)", "Walk (m)")),
    ("minutes", ("步行时间(分钟)", "Walk (min)")),
    ("facility", ("最近设施", "Nearest facility")),
)
_AREA_FIELDS = ("name", "subdistrict", "households", "population", "elderly")

#: The panel's words, per language.
WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "15分钟社区生活圈",
        "type": "设施类型",
        "walker": "步行者",
        "standard": "一般 4 km/h",
        "elderly": "老人 3 km/h",
        "custom": "自定义速度",
        "speed": "速度 km/h",
        "threshold": "阈值（分钟）",
        "subdistrict": "街道",
        "all": "全部街道",
        "language": "语言",
        "summary": "覆盖人口",
        "residents": "人口",
        "aged": "老人",
        "all_types": "全部类型",
        "layers": "图层",
        "legend": "图例",
        "gaps": "盲区小区",
        "total": "合计",
        "compounds": "个小区",
        "csv": "下载 CSV",
        "xlsx": "下载 Excel",
        "report_pdf": "街道报告 PDF",
        "report_xlsx": "街道报告 Excel",
        "minutes": "分钟",
        "unreachable": "不可达",
        "within_half": "≤ ½ 阈值",
        "within": "≤ 阈值",
        "within_one_half": "≤ 1½ 阈值",
        "beyond": "> 1½ 阈值",
        "gap_outline": "虚线：未覆盖小区（所选类型）",
        "facilities": "设施",
        "stages": "改造项目阶段（◆）",
        "zones": "盲区范围（路网上超出阈值）",
        "isochrones": "等时圈（½、1、1½ 阈值）",
        "streets": "步行路网",
        "loading": "加载中…",
        "failed": "加载失败",
        "collapse": "收起/展开面板",
        "none": "没有盲区小区",
        "now": "当前阈值",
        "colour_by": "着色",
        "by_walk": "步行时间",
        "by_capacity": "容量（人均可达供给）",
        "by_completeness": "生活圈完整度（基础保障类）",
        "comp_legend": "生活圈完整度：可达的基础保障类设施",
        "comp_all": "全部",
        "comp_basic": "基础保障类",
        "comp_quality": "品质提升类",
        "comp_missing": "缺少",
        "comp_kinds": "类",
        "cap_legend": "容量：可达供给 ÷ 研究区平均",
        "cap_under": "< ½ 平均（供不足）",
        "cap_below": "½–1 倍平均",
        "cap_above": "1–2 倍平均",
        "cap_high": "≥ 2 倍平均",
        "cap_none": "无供给数据（或可达设施未填供给）",
        "overloaded": "超负荷设施（负荷 > 1.5 倍平均）",
        "access": "可达供给",
        "average": "平均",
        "load": "负荷",
    },
    "en": {
        "title": "15-minute community life circle",
        "type": "Facility type",
        "walker": "Walker",
        "standard": "standard 4 km/h",
        "elderly": "elderly 3 km/h",
        "custom": "own speed",
        "speed": "speed km/h",
        "threshold": "Threshold (min)",
        "subdistrict": "Subdistrict",
        "all": "all subdistricts",
        "language": "Language",
        "summary": "share covered",
        "residents": "residents",
        "aged": "aged 60+",
        "all_types": "all types",
        "layers": "Layers",
        "legend": "Legend",
        "gaps": "Gap compounds",
        "total": "Total",
        "compounds": "compounds",
        "csv": "Download CSV",
        "xlsx": "Download Excel",
        "report_pdf": "Report (PDF)",
        "report_xlsx": "Report (Excel)",
        "minutes": "min",
        "unreachable": "unreachable",
        "within_half": "≤ ½ threshold",
        "within": "≤ threshold",
        "within_one_half": "≤ 1½ threshold",
        "beyond": "> 1½ threshold",
        "gap_outline": "dashed: compound not covered (this type)",
        "facilities": "Facilities",
        "stages": "Renovation stages (◆)",
        "zones": "Gap zones (streets beyond the threshold)",
        "isochrones": "Isochrones (½, 1, 1½ threshold)",
        "streets": "Walking network",
        "loading": "loading…",
        "failed": "could not load",
        "collapse": "collapse/expand the panel",
        "none": "no gap compounds",
        "now": "threshold",
        "colour_by": "Colour by",
        "by_walk": "walking time",
        "by_capacity": "capacity (supply within reach)",
        "by_completeness": "life-circle completeness (basic kinds)",
        "comp_legend": "Completeness: basic kinds reached",
        "comp_all": "all",
        "comp_basic": "basic",
        "comp_quality": "quality",
        "comp_missing": "missing",
        "comp_kinds": "kinds",
        "cap_legend": "Capacity: supply within reach ÷ study average",
        "cap_under": "< ½ average (under-served)",
        "cap_below": "½–1 × average",
        "cap_above": "1–2 × average",
        "cap_high": "≥ 2 × average",
        "cap_none": "no supply data (or a facility within reach has none recorded)",
        "overloaded": "overloaded facility (load > 1.5 × average)",
        "access": "supply within reach",
        "average": "average",
        "load": "load",
    },
}


def area_fields(kinds: tuple[str, ...] = FACILITY_LAYERS) -> list[str]:
    """The properties of ``/coverage`` the workbench paints and writes popups from.

    Parameters
    ----------
    kinds : tuple of str
        The facility types.

    Returns
    -------
    list of str
        The compound's name, subdistrict and counts, then per type ``T_walk_m``,
        ``T_covered``, ``T_name`` (the nearest facility) and its capacity: ``T_access``,
        ``T_access_share`` and ``T_under_served``.
    """
    columns = ("walk_m", "covered", "name", "access", "access_share", "under_served")
    return [*_AREA_FIELDS, *(f"{k}_{c}" for k in kinds for c in columns)]


def _coverage_data(areas: gpd.GeoDataFrame, result: pd.DataFrame) -> dict[str, Any]:
    """The compounds' coverage as ``/coverage`` gives it, keyed by id: the page's first
    state needs no request."""
    fields = area_fields()
    frame = areas[[f for f in _AREA_FIELDS if f in areas]].join(
        result[[f for f in fields if f in result]]
    )
    frame = frame.astype(object).where(frame.notna(), None)
    data: dict[str, Any] = {}
    for key, row in zip(frame.index, frame.to_dict(orient="records"), strict=True):
        data[str(key)] = {
            k: (bool(v) if isinstance(v, np.bool_) else v.item() if hasattr(v, "item") else v)
            for k, v in row.items()
            if v is not None
        }
    return data


def _legend() -> dict[str, Any]:
    return {
        "bands": list(BAND_COLOURS),
        "unreachable": UNREACHABLE,
        "glyphs": [
            [k, GLYPHS[k], LAYER_COLOURS[k], LABELS[k][0], LABELS[k][1]] for k in FACILITY_LAYERS
        ],
        "stages": [[k, c, *STATUS_LABELS[k]] for k, c in STATUS_COLOURS.items()],
        "capacity": list(CAPACITY_COLOURS),
        "completeness": list(COMPLETENESS_COLOURS),
        "overloaded": OVERLOADED,
        "zones": "#D55E00",
        "isochrones": "#0072B2",
        "streets": "#6b6b6b",
    }


def add_workbench(
    fmap: Any,
    names: dict[str, Any],
    state: dict[str, Any],
    areas: gpd.GeoDataFrame,
    result: pd.DataFrame | None,
    summary_html: str,
    assets: str = "service",
) -> None:
    """Put the workbench on a served dashboard: the panel, its settings and its files.

    Parameters
    ----------
    fmap : folium.Map
        The dashboard's map.
    names : dict
        folium's names: ``map``, ``areas``, ``gaps``, ``zones``, ``isochrones`` (layer
        groups).
    state : dict
        What the page was built for: ``type``, ``profile``, ``lang``, ``tiles``,
        ``subdistrict`` (or None), ``crs`` (of the basemap) and ``large`` (the page fetches
        its compounds by view).
    areas : geopandas.GeoDataFrame
        Every compound, in the basemap's coordinates (for the subdistricts' extents).
    result : pandas.DataFrame or None
        Their coverage for the page's walker; None for a large page, which fetches it.
    summary_html : str
        The summary box (``#lc-summary``) for a browser without JavaScript; escaped.
    assets : {"service", "inline", "cdn"}
        As :func:`geo.maps.base.add_static`.

    Returns
    -------
    None
    """
    subdistricts = []
    if "subdistrict" in areas and len(areas):
        bounds = areas.geometry.bounds.groupby(areas["subdistrict"])
        extent = pd.concat([bounds["minx"].min(), bounds["miny"].min(), bounds["maxx"].max(),
                            bounds["maxy"].max(), bounds.size()], axis=1)  # fmt: skip
        for name, row in extent.iterrows():
            subdistricts.append([str(name), int(row.iloc[4]),
                                 [[row.iloc[1], row.iloc[0]], [row.iloc[3], row.iloc[2]]]])  # fmt: skip
    initial = None
    if result is not None:
        initial = {"profile": state["profile"], "data": _coverage_data(areas, result)}
    config = {
        **names,
        "state": state,
        "defaults": dict(DEFAULT_MINUTES),
        "maxMinutes": MAX_MINUTES,
        "speeds": {k: p.speed_kmh for k, p in PROFILES.items()},
        "types": [[k, *LABELS[k]] for k in FACILITY_LAYERS],
        "fields": area_fields(),
        "columns": [[k, *v] for k, v in GAP_COLUMNS],
        "bands": list(BANDS),
        "capacityBands": list(CAPACITY_BANDS),
        "capacityUnits": {k: [*SPECS[k].unit, *SPECS[k].load] for k in FACILITY_LAYERS},
        "completenessBands": list(COMPLETENESS_BANDS),
        "legend": _legend(),
        "subdistricts": subdistricts,
        "initial": initial,
        "words": WORDS,
        "labels": [[label(v, "zh"), label(v, "en")] for v in _switcher_names()],
    }
    add_config(fmap, "lc-workbench-config", config)
    if result is not None:
        # the map is narrower beside the panel: quarter zoom steps fit the 街道 to it snugly
        # (a page that loads its compounds by view keeps whole steps: fewer requests)
        fmap.options["zoomSnap"] = 0.25
    add_static(fmap, "workbench.css", assets)
    add_static(fmap, "workbench.js", assets)
    # the what-if editor's Leaflet-Geoman (add, drag, delete), before the panel that uses it
    add_static(fmap, "leaflet-geoman.css", assets)
    add_static(fmap, "leaflet-geoman.js", assets)
    # the panel's further sections, each a pair of files that register with workbench.js
    for extra in sorted(STATIC.glob("panel-*.css")) + sorted(STATIC.glob("panel-*.js")):
        add_static(fmap, extra.name, assets)
    words = WORDS["en" if state["lang"] == "en" else "zh"]
    fmap.get_root().html.add_child(raw_html(
        '<div id="lc-panel" class="lc-open" role="complementary">'
        f'<div class="lc-head"><b>{text(words["title"])}</b>'
        f'<button type="button" id="lc-toggle" aria-expanded="true" '
        f'title="{text(words["collapse"])}">▾</button></div>'
        '<div class="lc-body"><div id="lc-controls"></div>'
        f"{summary_html}"
        '<div id="lc-layers"></div><div id="lc-gaps"></div><div id="lc-key"></div>'
        "</div></div>"
    ))  # fmt: skip


def _switcher_names() -> list[tuple[str, str]]:
    """The layer switcher's names, for relabelling it when the language changes."""
    return [
        *(LABELS[k] for k in LABELS),
        ("盲区小区", "Gap areas"),
        ("盲区范围", "Gap zones"),
        ("等时圈", "Isochrones"),
        STREETS_LABEL,
    ]
