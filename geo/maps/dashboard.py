"""The planners' dashboard: compounds coloured by walking minutes, gaps, isochrones.

Pure functions: a :class:`~geo.analysis.study.Study` and its coverage in, a folium map out.
The web service, ``lifecircle map`` and the notebooks all call these; the renovation map is
in :mod:`geo.maps.renovation`.

What the page does in the browser is in ``static/dashboard.js`` (a large study's loader);
this module gives it its settings as JSON data (:func:`geo.maps.base.add_config`).
"""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.capacity import Capacity, capacity
from geo.analysis.coverage import analyze_areas, in_subdistrict, summarize
from geo.analysis.isochrones import gap_zones, isochrones
from geo.analysis.params import PROFILES, WalkParams
from geo.analysis.study import Study
from geo.maps.base import (
    GLYPHS,
    LABELS,
    STATUS_COLOURS,
    TILES,
    Extra,
    add_config,
    add_points,
    add_polygons,
    add_static,
    base_map,
    display_frame,
    label,
    raw_html,
    text,
    use_assets,
)
from geo.maps.streets import OSM_CREDIT, add_streets, from_openstreetmap, street_lines
from geo.maps.workbench import add_workbench
from geo.schema import CATALOGUE_LAYER, FACILITY_LAYERS

__all__ = [
    "BINS",
    "BIN_COLOURS",
    "INLINE_LIMIT",
    "ISOCHRONE_MINUTES",
    "Computed",
    "Results",
    "coverage_map",
    "dashboard_map",
]

#: Walking-minute classes of the dashboard, and their colour-blind-safe colours (Okabe–Ito).
BINS = (5, 10, 15)
BIN_COLOURS = ("#009E73", "#56B4E9", "#F0E442", "#D55E00")
UNREACHABLE = "#999999"
#: Above this many residential areas a served page fetches the areas of the view from the
#: API (and gap zones and isochrones when switched on) instead of carrying them: a 20,000-area
#: city would otherwise be a page of tens of megabytes.
INLINE_LIMIT = 3000
#: The isochrones the dashboard offers, minutes.
ISOCHRONE_MINUTES = (5.0, 10.0, 15.0)

_BIN_LABELS = (("≤5 分钟", "≤5 min"), ("≤10 分钟", "≤10 min"), ("≤15 分钟", "≤15 min"),
               (">15 分钟", ">15 min"), ("不可达", "unreachable"))  # fmt: skip


def _bin_colour(minutes: float | None) -> str:
    if minutes is None or not np.isfinite(minutes):
        return UNREACHABLE
    return BIN_COLOURS[int(np.searchsorted(BINS, minutes, side="left"))]


def _area_extra(result: pd.DataFrame, profile: str, lang: str) -> Extra:
    index = 1 if lang == "en" else 0

    def extra(key: Any) -> list[tuple[str, str]]:
        rows = []
        for kind in FACILITY_LAYERS:
            minutes = result.at[key, f"{kind}_minutes_{profile}"]
            name = result.at[key, f"{kind}_name"]
            shown = "—" if pd.isna(minutes) else f"{minutes:g} 分钟 / min"
            if isinstance(name, str):
                shown += f"（{name}）"
            rows.append((f"{LABELS[kind][index]}", shown))
        return rows

    return extra


def coverage_map(
    layers: dict[str, gpd.GeoDataFrame],
    result: pd.DataFrame,
    kind: str = "clinics",
    profile: str = "standard",
    lang: str = "zh",
    tiles: str = "openstreetmap",
    assets: str = "cdn",
    subdistrict: str | None = None,
    gap_zones: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    links: bool = True,
    served: bool = False,
    streets: gpd.GeoDataFrame | None = None,
    osm: bool | None = None,
    workbench: bool = False,
) -> Any:
    """The dashboard: areas coloured by walking minutes to the nearest ``kind``.

    Gap areas (not covered by every type) are outlined; gap zones and isochrones are
    toggles; facilities are glyph markers (charging points clustered); renovation projects
    are coloured by stage; a summary panel gives the shares of residents and elderly
    covered per type for ``subdistrict`` (or all); ``links`` adds type switches.

    A ``served`` page (one the web service answers) with more than :data:`INLINE_LIMIT`
    areas loads the areas of the view from ``/coverage`` as the map moves, and gap zones
    and isochrones from ``/gaps`` and ``/isochrones`` when switched on; a standalone page
    carries everything.

    Parameters
    ----------
    layers : dict of str to geopandas.GeoDataFrame
        The study's layers, in WGS 84.
    result : pandas.DataFrame
        :func:`~geo.analysis.coverage.analyze_areas` of the study, one row per area.
    kind : str
        The facility type the areas are coloured by.
    profile : str
        The walker whose minutes are shown (:data:`~geo.analysis.params.PROFILES`).
    lang : {"zh", "en"}
        Which language comes first.
    tiles : str
        A basemap of :data:`geo.maps.base.TILES`.
    assets : {"service", "inline", "cdn"}
        As :func:`geo.maps.base.use_assets`.
    subdistrict : str, optional
        Only this subdistrict's areas and summary.
    gap_zones, isochrones : geopandas.GeoDataFrame, optional
        Drawn into the page as toggles when given.
    links : bool
        Links to the same page for the other types.
    served : bool
        The web service answers the page, so a large study's areas can be fetched.
    streets : geopandas.GeoDataFrame, optional
        The walking network's lines, WGS-84 (:func:`geo.maps.streets.street_lines`): drawn
        under the areas as the toggle 步行路网 / Walking network, except on a page that
        fetches its areas (it would carry the whole network).
    osm : bool, optional
        Credit "© OpenStreetMap contributors (ODbL)" in the legend (and the attribution
        while the streets are shown); default: when a layer's ``note`` names OpenStreetMap
        (:func:`geo.maps.streets.from_openstreetmap`).
    workbench : bool
        The planner's workbench (:mod:`geo.maps.workbench`), for a ``served`` page: a side
        panel with controls applied without reloading, colours relative to the threshold,
        a legend and the gap list; ``subdistrict`` then only opens the page on it (the
        other compounds stay, dimmed). Without it, the summary box of a standalone file.

    Returns
    -------
    folium.Map

    Raises
    ------
    ValueError
        For an unknown ``kind``.
    QueryError
        For a ``subdistrict`` the study does not have.

    Examples
    --------
    >>> from geo.analysis.study import Study
    >>> from geo.analysis.coverage import analyze_areas
    >>> study = Study.load()
    >>> page = coverage_map(study.layers, analyze_areas(study)).get_root().render()
    >>> "lc-summary" in page and "#D55E00" in page
    True
    """
    import folium
    from folium.plugins import MarkerCluster

    if kind not in FACILITY_LAYERS:
        raise ValueError(f"type must be one of {', '.join(FACILITY_LAYERS)}")
    shift = TILES[tiles][2]
    areas = layers["residential_areas"]
    scope = in_subdistrict(areas, subdistrict)  # a bilingual error for an unknown one
    if not workbench:
        areas = scope
    large = served and len(areas) > INLINE_LIMIT
    shown = {name: display_frame(frame, shift) for name, frame in layers.items()
             if name != "residential_areas"}  # fmt: skip
    # Open on the subdistrict asked for, else on the one with the most compounds: a sample
    # spanning districts would otherwise open too far out to see a compound.
    focus = scope
    if not subdistrict and len(focus):
        focus = focus[focus["subdistrict"] == focus["subdistrict"].value_counts().index[0]]
    if not large:
        shown["residential_areas"] = display_frame(areas, shift)
        focus = shown["residential_areas"].loc[focus.index]
    else:
        focus = display_frame(focus, shift)
    fmap = base_map([focus] if len(focus) else list(shown.values()), tiles, assets)
    column = f"{kind}_minutes_{profile}"
    credit = from_openstreetmap(layers) if osm is None else osm
    if streets is not None and not large:
        add_streets(fmap, streets, lang, shift, credit)

    group = folium.FeatureGroup(name=label(LABELS["residential_areas"], lang), show=True)
    gaps = folium.FeatureGroup(name=label(("盲区小区", "Gap areas"), lang), show=True)
    toggles = {
        "zones": (gap_zones, ("盲区范围", "Gap zones"), "#D55E00"),
        "isochrones": (isochrones, ("等时圈", "Isochrones"), "#0072B2"),
    }
    groups = {key: folium.FeatureGroup(name=label(name, lang), show=False)
              for key, (_, name, _) in toggles.items()}  # fmt: skip
    if not large:

        def style(row: dict[str, Any]) -> dict[str, Any]:
            return {"color": "#333333", "weight": 1, "fillOpacity": 0.6,
                    "fillColor": _bin_colour(row.get(column))}  # fmt: skip

        frame = shown["residential_areas"].join(result[[column]])
        add_polygons(frame, "residential_areas", lang, group, style,
                     _area_extra(result, profile, lang))  # fmt: skip
        uncovered = shown["residential_areas"][~result.loc[areas.index, "all_covered"].astype(bool)]
        outlines = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(g))}
            for g in uncovered.geometry.boundary.values]}  # fmt: skip
        if outlines["features"]:
            folium.GeoJson(outlines, interactive=False,
                           style_function=lambda _f: {"color": "#000000", "weight": 3,
                                                      "dashArray": "6 4"}).add_to(gaps)  # fmt: skip
        for key, (frame, _, colour) in toggles.items():
            if frame is None or not len(frame):
                continue
            selected = frame[frame["type"] == kind] if "type" in frame.columns else frame
            selected = display_frame(selected, shift)
            minutes = selected["minutes"] if "minutes" in selected else [None] * len(selected)
            features = [
                {"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)),
                 "properties": {"tip": f"{text(m)} min", "style": {"color": colour, "weight": 1,
                                                                   "fillOpacity": 0.15}}}
                for geom, m in zip(selected.geometry.values, minutes, strict=True)
            ]  # fmt: skip
            folium.GeoJson(
                {"type": "FeatureCollection", "features": features},
                tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
            ).add_to(groups[key])
    for overlay in (group, gaps, *groups.values()):
        overlay.add_to(fmap)
    if large:
        colours = {key: colour for key, (_, _, colour) in toggles.items()}
        config = _loader_config(fmap, group, gaps, groups, colours, kind, profile, lang, shift)
        add_config(fmap, "lc-dashboard-config", config)
        add_static(fmap, "dashboard.js", assets)

    # the workbench switches language in place: its facilities' popups carry both
    words = "both" if served else lang
    for layer in FACILITY_LAYERS:
        facilities = folium.FeatureGroup(name=label(LABELS[layer], lang), show=True)
        parent: Any = facilities
        if layer == "charging_points":
            parent = MarkerCluster().add_to(facilities)
            use_assets(parent, assets)
        add_points(shown[layer], layer, words, parent, glyph=GLYPHS[layer])
        facilities.add_to(fmap)

    others = shown.get(CATALOGUE_LAYER)
    if others is not None and len(others):  # the catalogue's other kinds, as dots
        extra = folium.FeatureGroup(name=label(LABELS[CATALOGUE_LAYER], lang), show=True)
        add_points(others, CATALOGUE_LAYER, words, extra)
        extra.add_to(fmap)

    projects = folium.FeatureGroup(name=label(LABELS["renovation_projects"], lang), show=True)
    _add_projects(shown["renovation_projects"], words, projects)
    projects.add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    summary = summarize(scope, result.loc[scope.index])
    panel = _panel(summary, kind, profile, lang, subdistrict, links, tiles, credit)
    if not workbench:
        fmap.get_root().html.add_child(raw_html(panel))
        return fmap
    names = {"map": fmap.get_name(), "areas": group.get_name(), "gaps": gaps.get_name(),
             **{key: layer.get_name() for key, layer in groups.items()}}  # fmt: skip
    state = {"type": kind, "profile": profile, "lang": lang, "tiles": tiles,
             "subdistrict": subdistrict, "crs": shift, "large": large}  # fmt: skip
    shown_areas = display_frame(areas, shift) if large else shown["residential_areas"]
    add_workbench(fmap, names, state, shown_areas, None if large else result, panel, assets)
    return fmap


class Results(Protocol):
    """Where the dashboard's numbers come from: :class:`Computed` computes them on the spot
    (``lifecircle map``), the web service's cache (``api.deps.StudyCache``) keeps them."""

    def coverage(self, params: WalkParams) -> tuple[Study, pd.DataFrame]: ...

    def gap_zones(self, params: WalkParams) -> gpd.GeoDataFrame: ...

    def capacity(self, params: WalkParams) -> Capacity: ...

    def isochrones(
        self, kind: str, minutes: tuple[float, ...], params: WalkParams
    ) -> gpd.GeoDataFrame: ...


class Computed:
    """:class:`Results` computed when asked, with a progress bar for a person waiting.

    Parameters
    ----------
    study : Study
    progress : bool
        Show a bar with one step per result (``close()`` ends it).
    """

    def __init__(self, study: Study, progress: bool = False) -> None:
        from tqdm import tqdm

        self.study = study
        steps = 3 if study.network is not None else 1
        self.bar = tqdm(total=steps, desc="地图 / map", unit="step", disable=not progress)

    def coverage(self, params: WalkParams) -> tuple[Study, pd.DataFrame]:
        """The coverage of every area.

        Parameters
        ----------
        params : WalkParams

        Returns
        -------
        tuple of (Study, pandas.DataFrame)
            The study and :func:`~geo.analysis.coverage.analyze_areas` of it.
        """
        result = analyze_areas(self.study, params)
        self.bar.update()
        return self.study, result

    def capacity(self, params: WalkParams) -> Capacity:
        """Each facility's supply shared among the compounds that reach it.

        Parameters
        ----------
        params : WalkParams

        Returns
        -------
        Capacity
            :func:`~geo.analysis.capacity.capacity` of the study.
        """
        return capacity(self.study, params)

    def gap_zones(self, params: WalkParams) -> gpd.GeoDataFrame:
        """The ground no facility of a type reaches in time.

        Parameters
        ----------
        params : WalkParams

        Returns
        -------
        geopandas.GeoDataFrame
            :func:`~geo.analysis.isochrones.gap_zones` of the study.
        """
        zones = gap_zones(self.study, params)
        self.bar.update()
        return zones

    def isochrones(
        self, kind: str, minutes: tuple[float, ...], params: WalkParams
    ) -> gpd.GeoDataFrame:
        """The ground within ``minutes`` of the facilities of ``kind``.

        Parameters
        ----------
        kind : str
            A facility type.
        minutes : tuple of float
            One isochrone per walking time.
        params : WalkParams

        Returns
        -------
        geopandas.GeoDataFrame
            :func:`~geo.analysis.isochrones.isochrones` of the study.
        """
        iso = isochrones(self.study, kind, minutes, params)
        self.bar.update()
        return iso

    def close(self) -> None:
        self.bar.close()


def dashboard_map(
    results: Results,
    kind: str,
    params: WalkParams,
    *,
    lang: str = "zh",
    tiles: str = "openstreetmap",
    assets: str = "cdn",
    subdistrict: str | None = None,
    links: bool = True,
    served: bool = False,
    workbench: bool = False,
) -> Any:
    """The dashboard for one facility type: the one recipe of ``/`` and ``lifecircle map``.

    Gap zones and isochrones are drawn into the page unless it is ``served`` for a study
    of more than :data:`INLINE_LIMIT` areas, which fetches them when they are switched on.

    Parameters
    ----------
    results : Results
        Where coverage, gap zones and isochrones come from.
    kind : str
        The facility type the compounds are coloured by.
    params : WalkParams
        The walker and thresholds.
    lang, tiles, assets, subdistrict, links, served, workbench
        As :func:`coverage_map`; a workbench fetches gap zones and isochrones when they are
        switched on (they follow its controls).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from geo.analysis.study import Study
    >>> page = dashboard_map(Computed(Study.load()), "clinics", WalkParams()).get_root()
    >>> "lc-summary" in page.render()
    True
    """
    study, result = results.coverage(params)
    if workbench:  # the panel's capacity colouring, in the page's first state
        result = result.join(results.capacity(params).areas)
    zones = isochrone_layer = None
    inline = not served or len(study.layers["residential_areas"]) <= INLINE_LIMIT
    if study.network is not None and inline and not workbench:
        zones = results.gap_zones(params)
        isochrone_layer = results.isochrones(kind, ISOCHRONE_MINUTES, params)
    network = study.network
    osm = from_openstreetmap(study.layers, network.source if network is not None else None)
    return coverage_map(
        study.layers, result, kind, params.profile.name, lang, tiles, assets, subdistrict,
        zones, isochrone_layer, links=links, served=served,
        streets=street_lines(network) if inline else None, osm=osm, workbench=workbench,
    )  # fmt: skip


def _add_projects(frame: gpd.GeoDataFrame, lang: str, parent: Any) -> None:
    def colour(row: dict[str, Any]) -> str:
        return STATUS_COLOURS.get(str(row.get("status")), "#999999")

    # every project a diamond at a point of it, in its stage's colour: a shape of its own,
    # never confused with a compound's walking-time colour
    if not len(frame):
        return
    points = frame.set_geometry(frame.geometry.representative_point())
    status = points["status"].astype(str) if "status" in points else pd.Series("", points.index)
    for _, stage in points.groupby(status, sort=True):
        add_points(stage, "renovation_projects", lang, parent, colour, shape="lc-diamond")


def _loader_config(
    fmap: Any,
    group: Any,
    gaps: Any,
    groups: dict[str, Any],
    colours: dict[str, str],
    kind: str,
    profile: str,
    lang: str,
    crs: str,
) -> dict[str, Any]:
    """The settings of ``static/dashboard.js``, a large study's loader: folium's names of the
    map and its layer groups, the queries of ``/coverage``, ``/gaps`` and ``/isochrones``, the
    minute classes and their colours, and the words of the page's language."""
    index = 1 if lang == "en" else 0
    words = {
        "types": [[k, label(LABELS[k], lang)] for k in FACILITY_LAYERS],
        "fields": [[f, label(n, lang)] for f, n in (("households", ("户数", "households")),
                   ("population", ("人口", "residents")), ("elderly", ("老人", "aged 60+")))],
        "minutes": "分钟 / min",
        "zoom": ("范围内小区较多，已显示 {n} / {m}，请放大查看全部",
                 "{n} of {m} areas shown: zoom in to see all")[index],
        "loading": ("加载中…", "loading…")[index],
        "failed": ("加载失败", "could not load")[index],
    }  # fmt: skip
    query = urlencode({"profile": profile, "crs": crs})
    # what the colours, outlines and popups use: a third of the bytes of every property
    shown = [
        "name",
        *(f for f, _ in words["fields"]),
        "all_covered",
        *(f"{k}_{c}" for k in FACILITY_LAYERS for c in (f"minutes_{profile}", "name")),
    ]
    urls = {
        "zones": f"/gaps?zones=true&{query}",
        "isochrones": f"/isochrones?{urlencode({'type': kind})}&{query}",
    }
    return {
        "map": fmap.get_name(),
        "layers": {"areas": group.get_name(), "gaps": gaps.get_name()},
        "overlays": {
            key: {"layer": groups[key].get_name(), "url": url, "colour": colours[key]}
            for key, url in urls.items()
        },
        "kind": kind,
        "profile": profile,
        "query": query,
        "view": urlencode({"properties": ",".join(shown)}),
        "bins": list(BINS),
        "colours": list(BIN_COLOURS),
        "unreachable": UNREACHABLE,
        "words": words,
    }


def _panel(
    summary: pd.DataFrame,
    kind: str,
    profile: str,
    lang: str,
    subdistrict: str | None,
    links: bool,
    tiles: str,
    credit: bool = False,
) -> str:
    index = 1 if lang == "en" else 0
    scope = subdistrict or "全部 / all"
    rows = []
    for row in summary[summary["subdistrict"] == ("全部 / all")].itertuples():
        name = label(("全部类型", "all types"), lang) if row.type == "all_types" else label(
            LABELS[row.type], lang)  # fmt: skip
        rows.append(f"<tr><td>{text(name)}</td><td>{(row.share_population or 0):.0%}</td>"
                    f"<td>{(row.share_elderly or 0):.0%}</td></tr>")  # fmt: skip
    legend = "".join(
        f'<div><span class="lc-swatch" style="background:{c}"></span> {_BIN_LABELS[i][index]}</div>'
        for i, c in enumerate((*BIN_COLOURS, UNREACHABLE))
    )
    switch = ""
    query = {"profile": profile, "lang": lang, "tiles": tiles}
    if subdistrict:
        query["subdistrict"] = subdistrict
    if links:
        anchors = [
            f'<a class="lc-type{" lc-current" if k == kind else ""}" data-type="{k}" '
            f'href="?{text(urlencode(dict(query, type=k)))}">{text(label(LABELS[k], lang))}</a>'
            for k in FACILITY_LAYERS
        ]
        switch = "<div>" + " · ".join(anchors) + "</div>"
    walker = PROFILES[profile]
    title = label(("15分钟社区生活圈", "15-minute community life circle"), lang)
    heading = label(("覆盖人口", "share covered"), lang)
    return (
        f'<div id="lc-summary"><b>{text(title)}</b>'
        f"<div>{text(scope)} · {text(label(LABELS[kind], lang))} · "
        f"{walker.speed_kmh} km/h</div>{switch}"
        f"<table><tr><th></th><th>{'residents' if index else '人口'}</th>"
        f"<th>{'aged 60+' if index else '老人'}</th></tr>{''.join(rows)}</table>"
        f"<div><i>{text(heading)}</i></div>{legend}"
        + (f'<div class="lc-credit">{text(label(OSM_CREDIT, lang))}</div>' if credit else "")
        + "</div>"
    )
