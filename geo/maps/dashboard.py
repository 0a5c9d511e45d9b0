"""The planners' pages: the coverage dashboard and the renovation (加装电梯) map.

Pure functions: a :class:`~geo.analysis.study.Study` and its coverage in, a folium map out. The web
service, ``lifecircle map`` and the notebooks all call these.
"""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.coverage import analyze_areas, summarize
from geo.analysis.isochrones import gap_zones, isochrones
from geo.analysis.params import PROFILES, WalkParams
from geo.analysis.study import Study
from geo.errors import QueryError
from geo.layers.geojson import to_feature_collection
from geo.maps.base import (
    GLYPH_CSS,
    GLYPHS,
    LABELS,
    STATUS_COLOURS,
    STATUS_LABELS,
    TILES,
    add_points,
    add_polygons,
    base_map,
    display_frame,
    label,
    text,
    use_assets,
)
from geo.schema import FACILITY_LAYERS

__all__ = [
    "BINS",
    "BIN_COLOURS",
    "INLINE_LIMIT",
    "ISOCHRONE_MINUTES",
    "Computed",
    "Results",
    "coverage_map",
    "dashboard_map",
    "renovation_map",
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


def _bin_colour(minutes: float) -> str:
    if minutes is None or not np.isfinite(minutes):
        return UNREACHABLE
    return BIN_COLOURS[int(np.searchsorted(BINS, minutes, side="left"))]


def _area_extra(result: pd.DataFrame, profile: str, lang: str):
    index = 1 if lang == "en" else 0

    def extra(key) -> list[tuple[str, str]]:
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
    if subdistrict:
        known = sorted(areas["subdistrict"].dropna().unique()) if "subdistrict" in areas else []
        if subdistrict not in known:
            raise QueryError(
                f"没有街道 '{subdistrict}' / no subdistrict '{subdistrict}'; "
                f"可选 / choose from: {', '.join(known) or '—'}"
            )
        areas = areas[areas["subdistrict"] == subdistrict]
    large = served and len(areas) > INLINE_LIMIT
    shown = {name: display_frame(frame, shift) for name, frame in layers.items()
             if name != "residential_areas"}  # fmt: skip
    # Open on the subdistrict asked for, else on the one with the most compounds: a sample
    # spanning districts would otherwise open too far out to see a compound.
    focus = areas
    if not subdistrict and len(focus):
        focus = focus[focus["subdistrict"] == focus["subdistrict"].value_counts().index[0]]
    if not large:
        shown["residential_areas"] = display_frame(areas, shift)
        focus = shown["residential_areas"].loc[focus.index]
    else:
        focus = display_frame(focus, shift)
    fmap = base_map([focus] if len(focus) else list(shown.values()), tiles, assets)
    fmap.get_root().header.add_child(folium.Element(GLYPH_CSS))
    column = f"{kind}_minutes_{profile}"

    group = folium.FeatureGroup(name=label(LABELS["residential_areas"], lang), show=True)
    gaps = folium.FeatureGroup(name=label(("盲区小区", "Gap areas"), lang), show=True)
    toggles = {
        "zones": (gap_zones, ("盲区范围", "Gap zones"), "#D55E00"),
        "isochrones": (isochrones, ("等时圈", "Isochrones"), "#0072B2"),
    }
    groups = {key: folium.FeatureGroup(name=label(name, lang), show=False)
              for key, (_, name, _) in toggles.items()}  # fmt: skip
    if not large:

        def style(row: dict) -> dict:
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
    for layer in (group, gaps, *groups.values()):
        layer.add_to(fmap)
    if large:
        script = _loader(fmap, group, gaps, groups, kind, profile, lang, shift)
        fmap.get_root().script.add_child(folium.Element(script))

    for layer in FACILITY_LAYERS:
        facilities = folium.FeatureGroup(name=label(LABELS[layer], lang), show=True)
        parent = facilities
        if layer == "charging_points":
            parent = MarkerCluster().add_to(facilities)
            use_assets(parent, assets)
        add_points(shown[layer], layer, lang, parent, glyph=GLYPHS[layer])
        facilities.add_to(fmap)

    projects = folium.FeatureGroup(name=label(LABELS["renovation_projects"], lang), show=True)
    _add_projects(shown["renovation_projects"], lang, projects)
    projects.add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    summary = summarize(areas, result.loc[areas.index])
    fmap.get_root().html.add_child(
        folium.Element(_panel(summary, kind, profile, lang, subdistrict, links, tiles))
    )
    return fmap


class Results(Protocol):
    """Where the dashboard's numbers come from: :class:`Computed` computes them on the spot
    (``lifecircle map``), the web service's cache (``api.deps.StudyCache``) keeps them."""

    def coverage(self, params: WalkParams) -> tuple[Study, pd.DataFrame]: ...

    def gap_zones(self, params: WalkParams) -> gpd.GeoDataFrame: ...

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
        result = analyze_areas(self.study, params)
        self.bar.update()
        return self.study, result

    def gap_zones(self, params: WalkParams) -> gpd.GeoDataFrame:
        zones = gap_zones(self.study, params)
        self.bar.update()
        return zones

    def isochrones(
        self, kind: str, minutes: tuple[float, ...], params: WalkParams
    ) -> gpd.GeoDataFrame:
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
    lang, tiles, assets, subdistrict, links, served
        As :func:`coverage_map`.

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
    zones = isochrone_layer = None
    inline = not served or len(study.layers["residential_areas"]) <= INLINE_LIMIT
    if study.network is not None and inline:
        zones = results.gap_zones(params)
        isochrone_layer = results.isochrones(kind, ISOCHRONE_MINUTES, params)
    return coverage_map(
        study.layers, result, kind, params.profile.name, lang, tiles, assets, subdistrict,
        zones, isochrone_layer, links=links, served=served,
    )  # fmt: skip


def _add_projects(frame, lang, parent) -> None:
    def colour(row):
        return STATUS_COLOURS.get(row.get("status"), "#999999")

    points = (frame.geom_type == "Point").to_numpy()
    add_polygons(frame[~points], "renovation_projects", lang, parent,
                 lambda row: {"color": "#333333", "weight": 1, "fillOpacity": 0.5,
                              "fillColor": colour(row)})  # fmt: skip
    add_points(frame[points], "renovation_projects", lang, parent, colour)


def _loader(fmap, group, gaps, groups, kind: str, profile: str, lang: str, crs: str) -> str:
    """JavaScript for a large study: the areas of the view from ``/coverage`` as the map
    moves (only ``MAX_VIEW`` at a time, with a note to zoom in when there are more), and gap
    zones and isochrones fetched the first time they are switched on. Text from the data is
    set with ``textContent``, never parsed as HTML."""
    index = 1 if lang == "en" else 0
    words = {
        "types": [[k, label(LABELS[k], lang)] for k in FACILITY_LAYERS],
        "fields": [[f, label(n, lang)] for f, n in (("households", ("户数", "households")),
                   ("population", ("人口", "residents")), ("elderly", ("老人", "aged 60+")))],
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
    view = urlencode({"properties": ",".join(shown)})
    # on "load": folium declares the map in a script after this one
    return f"""
window.addEventListener("load", function() {{
  var map = {fmap.get_name()}, group = {group.get_name()}, gaps = {gaps.get_name()};
  var zones = {groups["zones"].get_name()}, iso = {groups["isochrones"].get_name()};
  var colours = {json.dumps(list(BIN_COLOURS))}, bins = {json.dumps(list(BINS))};
  var words = {json.dumps(words, ensure_ascii=False)}, MAX_VIEW = 5000;
  var column = "{kind}_minutes_{profile}", query = "{query}";
  var note = L.control({{position: "bottomleft"}});
  note.onAdd = function() {{ this.div = L.DomUtil.create("div", "lc-note"); return this.div; }};
  note.addTo(map);
  note.div.style.cssText = "background:white;padding:2px 6px;font:12px sans-serif";
  function say(message) {{
    note.div.textContent = message || "";
    note.div.style.display = message ? "" : "none";
  }}
  function colour(m) {{
    if (m === null || m === undefined) return "{UNREACHABLE}";
    for (var i = 0; i < bins.length; i++) if (m <= bins[i]) return colours[i];
    return colours[colours.length - 1];
  }}
  function line(parent, text, bold) {{
    var div = document.createElement("div");
    if (bold) div.style.fontWeight = "bold";
    div.textContent = text;
    parent.appendChild(div);
  }}
  function popup(p) {{
    var box = document.createElement("div");
    line(box, p.name, true);
    words.fields.forEach(function(f) {{ line(box, f[1] + ": " + p[f[0]]); }});
    words.types.forEach(function(t) {{
      var m = p[t[0] + "_minutes_{profile}"], name = p[t[0] + "_name"];
      line(box, t[1] + ": " + (m === null || m === undefined ? "—" : m + " 分钟 / min")
                + (name ? "（" + name + "）" : ""));
    }});
    return box;
  }}
  var serial = 0;
  function load() {{
    var b = map.getBounds(), mine = ++serial;
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(",");
    say(words.loading);
    fetch("/coverage?" + query + "&{view}&limit=" + MAX_VIEW + "&bbox=" + bbox)
      .then(function(r) {{ if (!r.ok) throw new Error(r.status); return r.json(); }})
      .then(function(data) {{
        if (mine !== serial) return;  // a later view has been asked for
        group.clearLayers();
        gaps.clearLayers();
        L.geoJSON(data, {{
          style: function(f) {{ return {{color: "#333", weight: 1, fillOpacity: 0.6,
                                          fillColor: colour(f.properties[column])}}; }},
          onEachFeature: function(f, layer) {{
            layer.bindPopup(function() {{ return popup(f.properties); }});
            var tip = document.createElement("span");
            tip.textContent = f.properties.name;
            layer.bindTooltip(tip);
          }}
        }}).addTo(group);
        L.geoJSON({{type: "FeatureCollection", features: data.features.filter(
          function(f) {{ return f.properties.all_covered === false; }})}}, {{interactive: false,
          style: {{color: "#000", weight: 3, dashArray: "6 4", fill: false}}}}).addTo(gaps);
        say(data.numberMatched > data.numberReturned ? words.zoom
          .replace("{{n}}", data.numberReturned).replace("{{m}}", data.numberMatched) : "");
      }})
      .catch(function(e) {{ say(words.failed + " (" + e.message + ")"); }});
  }}
  function lazy(layer, url, colour) {{
    var asked = false;
    map.on("overlayadd", function(e) {{
      if (e.layer !== layer || asked) return;
      asked = true;
      say(words.loading);
      fetch(url).then(function(r) {{ return r.json(); }}).then(function(data) {{
        var mine = data.features.filter(function(f) {{
          return !f.properties.type || f.properties.type === "{kind}"; }});
        L.geoJSON({{type: "FeatureCollection", features: mine}}, {{interactive: false,
          style: {{color: colour, weight: 1, fillOpacity: 0.15}}}}).addTo(layer);
        say("");
      }}).catch(function(e) {{ asked = false; say(words.failed + " (" + e.message + ")"); }});
    }});
  }}
  lazy(zones, "/gaps?zones=true&" + query, "#D55E00");
  lazy(iso, "/isochrones?type={kind}&" + query, "#0072B2");
  map.on("moveend", load);
  map.whenReady(load);
}});
"""


def _panel(summary, kind, profile, lang, subdistrict, links, tiles) -> str:
    index = 1 if lang == "en" else 0
    scope = subdistrict or "全部 / all"
    rows = []
    for row in summary[summary["subdistrict"] == ("全部 / all")].itertuples():
        name = label(("全部类型", "all types"), lang) if row.type == "all_types" else label(
            LABELS[row.type], lang)  # fmt: skip
        rows.append(f"<tr><td>{text(name)}</td><td>{(row.share_population or 0):.0%}</td>"
                    f"<td>{(row.share_elderly or 0):.0%}</td></tr>")  # fmt: skip
    legend = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;background:{c}">'
        f"</span> {_BIN_LABELS[i][index]}</div>"
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
        '<div id="lc-summary" style="position:fixed;top:12px;left:56px;z-index:9999;'
        "background:white;padding:8px 10px;border-radius:4px;font:12px sans-serif;"
        'box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:320px">'
        f"<b>{text(title)}</b><div>{text(scope)} · {text(label(LABELS[kind], lang))} · "
        f"{walker.speed_kmh} km/h</div>{switch}"
        f"<table><tr><th></th><th>{'residents' if index else '人口'}</th>"
        f"<th>{'aged 60+' if index else '老人'}</th></tr>{''.join(rows)}</table>"
        f"<div><i>{text(heading)}</i></div>{legend}</div>"
    )


def renovation_map(
    projects: gpd.GeoDataFrame,
    lang: str = "zh",
    tiles: str = "openstreetmap",
    assets: str = "cdn",
    statuses: list[str] | None = None,
) -> Any:
    """The 加装电梯地图: every renovation project by kind and stage, with stage checkboxes
    and a time slider over start dates (a project shows from the month it started; one
    without a start date always shows).

    Examples
    --------
    >>> from geo.layers.store import read_layer
    >>> page = renovation_map(read_layer("renovation_projects")).get_root().render()
    >>> "lc-slider" in page and "elevator_retrofit" in page
    True
    """
    import folium

    if statuses:
        projects = projects[projects["status"].isin(statuses)]
    shown = display_frame(projects, TILES[tiles][2])
    fmap = base_map([shown], tiles, assets)
    group = folium.FeatureGroup(name=label(LABELS["renovation_projects"], lang), show=True)
    group.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    keep = [c for c in ("name", "kind", "status", "start", "end", "households") if c in shown]
    data = json.loads(to_feature_collection(shown[[*keep, shown.geometry.name]]))
    dates = pd.to_datetime(pd.concat([shown.get("start", pd.Series()), shown.get("end",
                           pd.Series())]), errors="coerce").dropna()  # fmt: skip
    months = (
        [str(p) for p in pd.period_range(dates.min().to_period("M"), dates.max().to_period("M"))]
        if len(dates) else ["-"]
    )  # fmt: skip
    fmap.get_root().html.add_child(folium.Element(_timeline(fmap, group, data, months, lang)))
    return fmap


def _timeline(fmap, group, data, months, lang) -> str:
    index = 1 if lang == "en" else 0
    boxes = "".join(
        f'<label style="display:block"><input type="checkbox" class="lc-stage" value="{k}" '
        f'checked> <span style="display:inline-block;width:10px;height:10px;background:{c}">'
        f"</span> {STATUS_LABELS[k][index]}</label>"
        for k, c in STATUS_COLOURS.items()
    )
    fields = {"kind": ("类型", "kind"), "status": ("阶段", "stage"), "start": ("开工", "start"),
              "end": ("完工", "end"), "households": ("户数", "households")}  # fmt: skip
    labels = {k: v[index] for k, v in fields.items()}
    stage_names = {k: v[index] for k, v in STATUS_LABELS.items()}
    payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    caption = label(("开工时间", "started by"), lang)
    return f"""
<div id="lc-timeline" style="position:fixed;bottom:24px;left:12px;z-index:9999;background:white;
 padding:8px 10px;border-radius:4px;font:12px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)">
 {boxes}{text(caption)}: <span id="lc-month">{months[-1]}</span><br>
 <input id="lc-slider" type="range" min="0" max="{len(months) - 1}" value="{len(months) - 1}"
  style="width:260px">
</div>
<script>
window.addEventListener("load", function() {{
  var map = {fmap.get_name()}, group = {group.get_name()};
  var data = {payload};
  var months = {json.dumps(months)}, colours = {json.dumps(STATUS_COLOURS)};
  var labels = {json.dumps(labels, ensure_ascii=False)};
  var stages = {json.dumps(stage_names, ensure_ascii=False)};
  var slider = document.getElementById("lc-slider");
  function popup(p) {{
    var box = document.createElement("div"), title = document.createElement("b");
    title.textContent = p.name || ""; box.appendChild(title);
    Object.keys(labels).forEach(function(k) {{
      if (p[k] === undefined || p[k] === null) return;
      var line = document.createElement("div");
      line.textContent = labels[k] + ": " + (k === "status" ? (stages[p[k]] || p[k]) : p[k]);
      box.appendChild(line);
    }});
    return box;
  }}
  function draw() {{
    var month = months[slider.value];
    document.getElementById("lc-month").textContent = month;
    var on = {{}};
    document.querySelectorAll(".lc-stage").forEach(function(b) {{ on[b.value] = b.checked; }});
    group.clearLayers();
    L.geoJSON(data, {{
      filter: function(f) {{
        var p = f.properties;
        return on[p.status] && (!p.start || month === "-" || p.start.slice(0, 7) <= month);
      }},
      style: function(f) {{ return {{color: "#333", weight: 1, fillOpacity: 0.6,
                                      fillColor: colours[f.properties.status] || "#999"}}; }},
      pointToLayer: function(f, latlng) {{
        return L.circleMarker(latlng, {{radius: 7, color: "#333", weight: 1, fillOpacity: 0.9,
                                        fillColor: colours[f.properties.status] || "#999"}});
      }},
      onEachFeature: function(f, layer) {{ layer.bindPopup(popup(f.properties)); }}
    }}).addTo(group);
  }}
  slider.addEventListener("input", draw);
  document.querySelectorAll(".lc-stage").forEach(function(b) {{
    b.addEventListener("change", draw); }});
  draw();
}});
</script>
"""
