"""The 加装电梯地图: renovation projects by kind and stage on any month, with their counts.

What the page does in the browser is in ``static/renovation.js`` (and ``renovation.css``);
this module gives it its data and words as JSON (:func:`geo.maps.base.add_config`):

- **the stage of every project at every step of the time slider**, computed here by
  :func:`geo.analysis.progress.stages_as_of` (the replay of the stage dates) and sent as the
  steps where it changes: ``[stage at the first step, step, new stage, step, new stage …]``,
  stage ``-1`` not yet begun and ``-2`` undated (no stage dates: only today's stage is
  known). The legend's counts are sums of these stages and the projects' ``units``, the sums
  :func:`geo.analysis.progress.progress` makes, so for the same kind, 街道 and date the page
  shows the numbers ``GET /renovation/progress`` gives;
- the compounds for context and, for elevator retrofits, the compound view: the candidates
  of :func:`geo.analysis.retrofits.retrofit_candidates` (4+ storeys, no lift) coloured by their
  elderly share (:data:`ELDERLY_COLOURS`);
- the walking network's lines (:func:`geo.maps.streets.add_streets`), as a toggle.

The slider's steps are months, from the month of the earliest stage date to this month; a
past month is read on its last day, this month today (which is each project's ``status``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.progress import stages_as_of
from geo.analysis.retrofits import (
    ELDERLY_SHARE_BINS,
    LIFT_STOREYS,
    MIN_STOREYS,
    lift_status,
    retrofit_candidates,
)
from geo.maps.base import (
    LABELS,
    STATUS_COLOURS,
    TILES,
    add_config,
    add_static,
    base_map,
    display_frame,
    label,
    raw_html,
)
from geo.maps.streets import STREETS_LABEL, add_streets, from_openstreetmap, street_lines
from geo.network.graph import WalkNetwork
from geo.schema import (
    ENUM_LABELS,
    PROJECT_KINDS,
    PROJECT_STATUSES,
    PROJECT_UNITS,
    STAGE_DATE_FIELDS,
)

__all__ = ["CANDIDATES_LABEL", "ELDERLY_COLOURS", "renovation_map", "slider_steps"]

#: The compound view's fill by elderly share class (:data:`geo.analysis.retrofits.ELDERLY_SHARE_BINS`):
#: browns (ColorBrewer BrBG), a hue the coverage bands (green, sky blue, yellow, vermillion,
#: grey) and the stages (pink to purple, :data:`geo.maps.base.STATUS_COLOURS`) do not use.
ELDERLY_COLOURS = ("#F6E8C3", "#DFC27D", "#BF812D", "#8C510A")
CANDIDATES_LABEL = ("加装电梯候选小区", "Lift retrofit candidates")
_NOT_BEGUN, _UNDATED = -1, -2

_WORDS = {
    "kinds": ("类型", "Kinds"),
    "subdistrict": ("街道", "Subdistrict"),
    "all": ("全部街道", "All subdistricts"),
    "as_of": ("截至", "As of"),
    "today": ("今天", "today"),
    "stage": ("阶段", "Stage"),
    "exclusive": ("当前阶段", "At stage"),
    "cumulative": ("累计（含后续阶段）", "Reached (cumulative)"),
    "projects": ("项目", "projects"),
    "units": ("数量", "units"),
    "total": ("合计", "Total"),
    "not_begun": ("个项目尚未开始（不显示）", "projects not begun yet (hidden)"),
    "undated": ("个项目无阶段日期，只知今天的阶段（过去日期不显示）",
                "projects without stage dates: only today's stage is known (hidden in the past)"),
    "units_missing": ("个项目未填数量", "projects without units"),
    "kind": ("类型", "Kind"),
    "stage_on": ("阶段", "Stage"),
    "stage_now": ("今天的阶段", "Stage today"),
    "units_of": ("数量", "Units"),
    "households": ("受益户数", "Households"),
    "compound": ("小区", "Compound"),
    "dates": ("阶段日期", "Stage dates"),
    "population": ("常住人口", "Residents"),
    "elderly": ("60岁及以上", "Aged 60+"),
    "elderly_share": ("老人占比", "Elderly share"),
    "storeys": ("层数", "Storeys"),
    "tenure": ("房屋性质", "Tenure"),
    "lift": ("电梯", "Lift"),
    "lift_yes": ("有", "yes"),
    "lift_no": ("无", "no"),
    "inferred": (f"按层数推断：{LIFT_STOREYS}层及以上有电梯（GB 50096）",
                 f"inferred from storeys ({LIFT_STOREYS}+ have lifts, GB 50096)"),
    "retrofits": ("加装电梯进度", "Lift retrofits"),
    "no_retrofits": ("尚无加装电梯项目", "no retrofit project yet"),
    "compound_view": ("小区视图：加装电梯候选小区", "Compound view: lift retrofit candidates"),
    "candidates_note": (f"{MIN_STOREYS}层及以上、无电梯的小区，按60岁及以上老人占比着色",
                        f"compounds of {MIN_STOREYS}+ storeys without a lift, by share aged 60+"),
    "unjudged": ("个小区无层数与电梯信息，未判断", "compounds without storeys or lift data, not judged"),
    "symbols": ("图例", "Symbols"),
    "dot": ("项目（点，颜色为阶段）", "project (dot, colour = stage)"),
    "shape": ("项目范围（面）", "project area (polygon)"),
    "area": ("小区", "compound"),
    "streets": STREETS_LABEL,
    "show": ("加装电梯地图 · 图例与筛选", "Renovation map · legend and filters"),
}  # fmt: skip


def slider_steps(projects: pd.DataFrame, today: date | None = None) -> list[tuple[str, date]]:
    """The time slider's steps: every month from the earliest stage date to today's month,
    each with the date it is read on (a past month's last day; this month, today).

    Parameters
    ----------
    projects : pandas.DataFrame
        Renovation projects with stage date fields.
    today : datetime.date, optional
        What counts as today; default the calendar's.

    Returns
    -------
    list of (str, datetime.date)
        ``("2023-02", date(2023, 2, 28))`` …; only today's month when there are no dates.

    Examples
    --------
    >>> rows = pd.DataFrame({"start": ["2023-01-09"], "end": [None]})
    >>> slider_steps(rows, date(2023, 3, 15))[-2:]
    [('2023-02', datetime.date(2023, 2, 28)), ('2023-03', datetime.date(2023, 3, 15))]
    """
    today = today or date.today()
    fields = [f for f in STAGE_DATE_FIELDS.values() if f in projects]
    values = projects[fields].stack() if fields else pd.Series(dtype=object)
    dates = pd.to_datetime(values, errors="coerce").dropna()
    first = min(dates.min(), pd.Timestamp(today)) if len(dates) else pd.Timestamp(today)
    months = pd.period_range(first.to_period("M"), pd.Timestamp(today).to_period("M"), freq="M")
    return [(str(m), min(m.end_time.date(), today)) for m in months]


def _paths(projects: pd.DataFrame, steps: list[tuple[str, date]], today: date) -> list[list[int]]:
    """Each project's stage over the steps, as ``stages_as_of`` replays it, run-length coded:
    ``[stage at step 0, step, stage, …]`` (stage indexes of PROJECT_STATUSES, -1 not begun,
    -2 undated)."""
    names = np.array([*PROJECT_STATUSES, "undated", "not_begun"], dtype=object)
    codes = np.array([*range(len(PROJECT_STATUSES)), _UNDATED, _NOT_BEGUN])
    # the dates parsed once, not at every step
    fields = [f for f in STAGE_DATE_FIELDS.values() if f in projects]
    parsed = pd.DataFrame({f: pd.to_datetime(projects[f], errors="coerce") for f in fields})
    parsed["status"] = projects["status"].to_numpy()
    lookup = pd.Index(names)
    table = np.empty((len(projects), len(steps)), int)
    for column, (_, when) in enumerate(steps):
        table[:, column] = codes[lookup.get_indexer(stages_as_of(parsed, when, today))]
    paths = []
    for row in table:
        changes = np.flatnonzero(np.diff(row)) + 1
        path = [int(row[0])]
        for step in changes:
            path += [int(step), int(row[step])]
        paths.append(path)
    return paths


def _plain(value: Any) -> Any:
    """A frame's value as JSON has it (None for missing, Python numbers)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, (int, float, bool)) else str(value)


def _geometry(geom: Any) -> Any:
    """A point as ``[lon, lat]``, anything else as GeoJSON (points are most projects)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "Point":
        return [geom.x, geom.y]
    import json

    return json.loads(shapely.to_geojson(geom))


def _codes(values: pd.Series, choices: list[str]) -> list[int]:
    """Each value's position in ``choices`` (-1 when not there): a number, not a repeated name."""
    return [int(i) for i in pd.Index(choices).get_indexer(values.astype(object))]


def _projects_data(
    shown: gpd.GeoDataFrame, steps: list[tuple[str, date]], today: date, subdistricts: list[str]
) -> dict[str, Any]:
    """The projects as the page's columns, a row per project: kind, 街道 and status as
    positions in PROJECT_KINDS, ``subdistricts`` and PROJECT_STATUSES; stage dates as
    ``[stage, days since 1970-01-01, …]``."""
    column = {f: [_plain(v) for v in shown[f]] if f in shown else [None] * len(shown)
              for f in ("name", "units", "households", "residential_area_id")}  # fmt: skip
    epoch = np.datetime64("1970-01-01", "D")
    days = np.stack(
        [pd.to_datetime(shown[f], errors="coerce").to_numpy("datetime64[D]") if f in shown
         else np.full(len(shown), np.datetime64("NaT"), "datetime64[D]")
         for f in STAGE_DATE_FIELDS.values()], axis=1,
    ) if len(shown) else np.empty((0, len(STAGE_DATE_FIELDS)), "datetime64[D]")  # fmt: skip
    dates = [
        [int(x) for stage, day in enumerate(row) if not np.isnat(day)
         for x in (stage, (day - epoch).astype(int))]
        for row in days
    ]  # fmt: skip
    return {
        "name": column["name"],
        "kind": _codes(
            shown.get("kind", pd.Series("other", index=shown.index)), list(PROJECT_KINDS)
        ),
        "subdistrict": _codes(
            shown.get("subdistrict", pd.Series(None, index=shown.index)), subdistricts
        ),
        "status": _codes(shown["status"], list(PROJECT_STATUSES)),
        "units": column["units"],
        "households": column["households"],
        "area": column["residential_area_id"],
        "geometry": [_geometry(g) for g in shown.geometry.values],
        "dates": dates,
        "path": _paths(shown, steps, today),
    }


def _areas_data(areas: gpd.GeoDataFrame, candidates: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Every compound (for context) with what its popup and the compound view need."""
    index = 1 if lang == "en" else 0
    tenure = areas.get("tenure", pd.Series(None, index=areas.index, dtype=object))
    lifts = lift_status(areas)
    population = pd.to_numeric(areas.get("population"), errors="coerce")
    elderly = pd.to_numeric(areas.get("elderly"), errors="coerce")
    share = elderly / population.where(population > 0)
    chosen = areas.index.isin(candidates.index)
    classes = candidates["elderly_class"].reindex(areas.index)
    column = {f: [_plain(v) for v in areas[f]] if f in areas else [None] * len(areas)
              for f in ("name", "subdistrict", "households", "population", "elderly")}  # fmt: skip
    return {
        "id": [str(i) for i in areas.index],
        **column,
        "tenure": [ENUM_LABELS[v][index] if v in ENUM_LABELS else _plain(v) for v in tenure],
        "share": [None if pd.isna(v) else round(float(v), 4) for v in share],
        "storeys": [_plain(v) for v in lifts["storeys"]],
        "lift": [_plain(v) for v in lifts["has_lift"]],
        "inferred": [bool(v) for v in lifts["lift_inferred"]],
        "candidate": [bool(v) for v in chosen],
        "class": [None if pd.isna(v) else int(v) for v in classes],
        "geometry": [_geometry(g) for g in areas.geometry.values],
        "unjudged": int(lifts["has_lift"].isna().sum()),
    }


def renovation_map(
    projects: gpd.GeoDataFrame,
    lang: str = "zh",
    tiles: str = "openstreetmap",
    assets: str = "cdn",
    statuses: list[str] | None = None,
    areas: gpd.GeoDataFrame | None = None,
    network: WalkNetwork | None = None,
    today: date | None = None,
) -> Any:
    """The 加装电梯地图: every renovation project at its stage on the slider's month, with
    counts per stage (current and cumulative, projects and 台/个/户) in the legend, filters by
    kind and 街道, the compounds and streets for context and the compound view of lift
    retrofit candidates.

    Parameters
    ----------
    projects : geopandas.GeoDataFrame
        The renovation projects, in WGS 84.
    lang : {"zh", "en"}
        The language of the page's words.
    tiles : str
        A basemap of :data:`geo.maps.base.TILES`.
    assets : {"service", "inline", "cdn"}
        As :func:`geo.maps.base.use_assets`.
    statuses : list of str, optional
        The stages drawn when the page opens (all by default); every stage is counted.
    areas : geopandas.GeoDataFrame, optional
        The residential areas, WGS 84: context and the compound view.
    network : WalkNetwork, optional
        The study's walking network: its streets are drawn (up to
        :data:`geo.maps.streets.STREETS_LIMIT` edges), credited to OpenStreetMap when it
        comes from there.
    today : datetime.date, optional
        What counts as today; default the calendar's.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from geo.layers.store import read_layer
    >>> page = renovation_map(read_layer("renovation_projects")).get_root().render()
    >>> "lc-slider" in page and "elevator_retrofit" in page
    True
    """
    import folium

    today = today or date.today()
    crs = TILES[tiles][2] if tiles in TILES else "wgs84"
    shown = display_frame(projects, crs)
    context = display_frame(areas, crs) if areas is not None else None
    fmap = base_map([shown] if len(shown) or context is None else [context], tiles, assets)
    streets = street_lines(network)
    if streets is not None:
        layers = {"renovation_projects": projects, **({} if areas is None else {"areas": areas})}
        add_streets(
            fmap,
            streets,
            lang,
            crs,
            from_openstreetmap(layers, network.source if network else None),
        )
    groups = {
        "areas": folium.FeatureGroup(name=label(LABELS["residential_areas"], lang), show=True),
        "candidates": folium.FeatureGroup(name=label(CANDIDATES_LABEL, lang), show=False),
        "projects": folium.FeatureGroup(name=label(LABELS["renovation_projects"], lang), show=True),
    }
    for group in groups.values():
        group.add_to(fmap)
    control = folium.LayerControl(collapsed=False)
    control.add_to(fmap)
    steps = slider_steps(projects, today)
    candidates = (
        retrofit_candidates(areas, projects, today=today, as_of=today)
        if areas is not None else pd.DataFrame(columns=["elderly_class"])
    )  # fmt: skip
    fmap.get_root().html.add_child(raw_html(_panel(lang)))
    legend = _legend(projects, areas, statuses, lang)
    add_config(fmap, "lc-renovation-config", {
        "map": fmap.get_name(),
        "control": control.get_name(),
        "layers": {k: g.get_name() for k, g in groups.items()},
        "lang": lang,
        "steps": [m for m, _ in steps],
        "as_of": [d.isoformat() for _, d in steps],
        "projects": _projects_data(shown, steps, today, legend["subdistricts"]),
        "areas": _areas_data(context, candidates, lang) if context is not None else None,
        **legend,
    })  # fmt: skip
    add_static(fmap, "renovation.css", assets)
    add_static(fmap, "renovation.js", assets)
    return fmap


def _legend(
    projects: pd.DataFrame, areas: pd.DataFrame | None, statuses: list[str] | None, lang: str
) -> dict[str, Any]:
    """The words, colours and choices of the panel."""
    index = 1 if lang == "en" else 0
    present = set(projects["kind"]) if "kind" in projects else set()
    subdistricts = pd.concat(
        [f.get("subdistrict", pd.Series(dtype=object)) for f in (projects, areas) if f is not None]
    ).dropna().astype(str)  # fmt: skip
    return {
        "stages": [[s, STATUS_COLOURS[s], ENUM_LABELS[s][index]] for s in PROJECT_STATUSES],
        "ticked": [s for s in PROJECT_STATUSES if not statuses or s in statuses],
        "all_kinds": list(PROJECT_KINDS),
        "kinds": [
            [k, ENUM_LABELS[k][index], PROJECT_UNITS[k][index]]
            for k in PROJECT_KINDS if k in present
        ],
        "subdistricts": sorted(set(subdistricts)),
        "elderly": {
            "bins": list(ELDERLY_SHARE_BINS),
            "colours": list(ELDERLY_COLOURS),
        },
        "words": {k: v[index] for k, v in _WORDS.items()},
    }  # fmt: skip


def _panel(lang: str) -> str:
    """The panel's frame (``static/renovation.js`` fills it): collapsible, so on a phone it
    folds away from the popups and the layer switcher."""
    title = _WORDS["show"][1 if lang == "en" else 0]
    return (
        '<div id="lc-renovation" class="lc-renovation">'
        f'<details id="lc-renovation-details" open><summary>{title}</summary>'
        '<div id="lc-renovation-body"></div></details></div>'
    )
