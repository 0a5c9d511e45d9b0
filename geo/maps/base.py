"""Interactive maps (folium): frames in, a map out.

- :func:`overview_map`: the layers with a layer switcher.
- :func:`geo.maps.dashboard.coverage_map` / :func:`geo.maps.renovation.renovation_map` (the planners'
  dashboard and the 加装电梯地图) build on the helpers here.

Every piece of text taken from data is HTML-escaped before it reaches a popup or tooltip,
so a compound named ``<img src=x onerror=alert(1)>`` shows as text. Leaflet and its
marker-cluster plugin are bundled in ``geo/maps/static`` (BSD-2 / MIT licences beside them) so a
map works without internet: the service serves them at ``/static``, a standalone file
inlines them; ``assets="cdn"`` keeps folium's CDN links.

The pages' own styles and scripts are files there too (``lifecircle.css``, ``dashboard.js``,
``renovation.js``, see :func:`add_static`); Python gives a script its settings as JSON data in
the page (:func:`add_config`), never as code.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import geometries_from_wgs84
from geo.schema import ENUM_LABELS, STAGE_LABELS, get_layer

__all__ = [
    "GLYPHS",
    "LABELS",
    "LAYER_COLOURS",
    "OTHER_COLOURS",
    "STATIC",
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "TILES",
    "Extra",
    "Row",
    "Style",
    "add_config",
    "add_points",
    "add_polygons",
    "add_static",
    "base_map",
    "display_frame",
    "label",
    "popup_html",
    "raw_html",
    "text",
    "use_assets",
]

#: A feature's properties, as a popup or a style function sees them.
Row = dict[str, Any]
#: Leaflet path options for a feature.
Style = Callable[[Row], dict[str, Any]]
#: Extra (label, value) rows of a feature's popup, by feature id.
Extra = Callable[[Any], list[tuple[str, str]]]

STATIC = Path(__file__).resolve().parent / "static"

#: Layer titles, Chinese first.
LABELS = {
    "residential_areas": ("小区", "Residential areas"),
    "neighbor_centers": ("睦邻中心", "Neighbour centres"),
    "clinics": ("社区卫生服务中心/站", "Clinics"),
    "charging_points": ("充电桩", "Charging points"),
    "renovation_projects": ("改造项目", "Renovation projects"),
    "facilities": ("其他设施（设施目录）", "Other facilities (catalogue)"),
}
# Okabe–Ito palette: distinguishable with the common kinds of colour blindness.
LAYER_COLOURS = {"neighbor_centers": "#0072B2", "clinics": "#CC79A7", "charging_points": "#009E73"}
#: The dots of the catalogue's other kinds (the ``facilities`` layer): no glyph of their own.
OTHER_COLOURS = {"facilities": "#E69F00"}
#: One glyph per facility type, so types differ by shape as well as colour.
GLYPHS = {"clinics": "✚", "neighbor_centers": "⌂", "charging_points": "⚡"}
#: The stages from light to dark as a project advances (ColorBrewer RdPu, which orders by
#: lightness, so it reads in grey and with colour blindness): pinks and purples, a hue the
#: coverage bands (green, sky blue, yellow, vermillion; grey unreachable) do not use, so a
#: stage never reads as a walking-time class.
STATUS_COLOURS = {
    "planned": "#FDE0DD",
    "survey": "#FCC5C0",
    "consultation": "#FA9FB5",
    "signed": "#F768A1",
    "tendering": "#DD3497",
    "awaiting_start": "#AE017E",
    "under_construction": "#7A0177",
    "completed": "#49006A",
}
#: The stages' names, Chinese first (the schema's words).
STATUS_LABELS = STAGE_LABELS
#: Basemaps: (tile URL template, attribution, coordinate system of the tiles).
TILES = {
    "openstreetmap": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "© OpenStreetMap contributors",
        "wgs84",
    ),
    "cartodb": (
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        "© OpenStreetMap contributors © CARTO",
        "wgs84",
    ),
    "gaode": (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "© 高德地图 AutoNavi",
        "gcj02",
    ),
    "none": ("", "", "wgs84"),
}
_FIELD_LABELS = {
    "name": ("名称", "Name"),
    "subdistrict": ("街道", "Subdistrict"),
    "households": ("户数", "Households"),
    "population": ("人口", "Population"),
    "elderly": ("60岁以上", "Aged 60+"),
    "built": ("建成", "Built"),
    "tenure": ("房屋性质", "Tenure"),
    "kind": ("类型", "Kind"),
    "health_station": ("卫生站点", "Health station"),
    "level": ("级别", "Level"),
    "beds": ("床位", "Beds"),
    "address": ("地址", "Address"),
    "vehicle": ("车辆", "Vehicle"),
    "ports": ("充电口", "Ports"),
    "status": ("阶段", "Stage"),
    "start": ("开工", "Start"),
    "end": ("完工", "End"),
    "hours": ("开放时间", "Hours"),
    "operator": ("运营方", "Operator"),
    "category": ("类别", "Category"),
    "capacity": ("容量", "Capacity"),
}
POPUP_FIELDS = {
    "residential_areas": ["subdistrict", "households", "population", "elderly", "built", "tenure"],
    "neighbor_centers": ["subdistrict", "kind", "health_station", "hours", "address"],
    "clinics": ["level", "beds", "subdistrict", "address"],
    "charging_points": ["vehicle", "ports", "status", "operator"],
    "renovation_projects": ["kind", "status", "start", "end", "households"],
    "facilities": ["category", "capacity", "subdistrict", "address"],
}


def label(pair: tuple[str, str], lang: str) -> str:
    """A bilingual title, the language of ``lang`` first.

    Parameters
    ----------
    pair : tuple of (str, str)
        The Chinese and the English words, in that order (as in :data:`LABELS`).
    lang : {"zh", "en"}
        ``"en"`` puts the English first; anything else, the Chinese.

    Returns
    -------
    str
        Both, separated by a space, e.g. ``"小区 Residential areas"``; not escaped.
    """
    zh, en = pair
    return f"{en} {zh}" if lang == "en" else f"{zh} {en}"


def text(value: Any) -> str:
    """A value as escaped HTML text ('' for missing).

    Parameters
    ----------
    value : object
        Any value; None and NaN are missing.

    Returns
    -------
    str
        ``str(value)`` HTML-escaped, a whole float written as an integer (``3.0`` → ``3``).
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return html.escape(str(value))


def popup_html(
    row: dict[str, Any], layer: str, lang: str, extra: Sequence[tuple[Any, Any]] = ()
) -> str:
    """A popup table: the feature's name, its fields, then ``extra`` (label, value) rows.

    Parameters
    ----------
    row : dict
        The feature's columns.
    layer : str
        Its layer, which says the fields shown (and the words of their allowed values).
    lang : {"zh", "en", "both"}
        The language of the field names and allowed values; ``both``: each in
        ``<span class="lc-zh">`` and ``<span class="lc-en">``, so a page switches by its
        ``<html lang>`` (lifecircle.css).
    extra : list of tuple
        More (label, value) rows, escaped here like the fields.

    Returns
    -------
    str
        HTML, every value from data escaped.
    """
    index = 1 if lang == "en" else 0

    def words(pair: Sequence[str]) -> str:
        if lang == "both":
            return f'<span class="lc-zh">{text(pair[0])}</span><span class="lc-en">{text(pair[1])}</span>'
        return text(pair[index])

    rows = []
    for field in POPUP_FIELDS[layer]:
        value = row.get(field)
        declared = get_layer(layer).field(field)
        shown = text(value)
        if declared is not None and declared.enum and value in ENUM_LABELS:
            shown = words(ENUM_LABELS[value])  # 加装电梯, not elevator_retrofit
        if shown:
            rows.append(f"<tr><th>{words(_FIELD_LABELS[field])}</th><td>{shown}</td></tr>")
    rows += [f"<tr><th>{text(name)}</th><td>{text(value)}</td></tr>" for name, value in extra]
    return f"<b>{text(row.get('name'))}</b><table>{''.join(rows)}</table>"


def use_assets(element: Any, assets: str) -> None:
    """Point a folium element's scripts and styles at the bundled copies.

    Parameters
    ----------
    element : folium.Map or folium.plugins.MarkerCluster
        An element with folium's ``default_js`` and ``default_css`` links.
    assets : {"service", "inline", "cdn"}
        ``"service"``: ``/static/…`` URLs (the web service serves them); ``"inline"``: data
        URLs, for one standalone offline file; ``"cdn"``: folium's own links, unchanged.
    """
    if assets == "cdn":
        return
    names = {
        "jquery": "jquery.min.js",  # folium builds popups with $(...)
        "leaflet": "leaflet.js",
        "leaflet_css": "leaflet.css",
        "markerclusterjs": "leaflet.markercluster.js",
        "markerclustercss": "MarkerCluster.css",
        "markerclusterdefaultcss": "MarkerCluster.Default.css",
    }

    def url(file: str) -> str:
        if assets == "service":
            return f"/static/{file}"
        kind = "text/javascript" if file.endswith(".js") else "text/css"
        data = base64.b64encode((STATIC / file).read_bytes()).decode()
        return f"data:{kind};base64,{data}"

    # Bootstrap and Font Awesome are not needed: markers here are drawn without them.
    element.default_js = [(k, url(names[k])) for k, _ in element.default_js if k in names]
    element.default_css = [(k, url(names[k])) for k, _ in element.default_css if k in names]


def raw_html(markup: str) -> Any:
    """A page element that is ``markup`` as it is.

    A ``folium.Element``'s text is a Jinja template: data in one (a compound named
    ``{{ 7*7 }}``) would be evaluated when the page renders. Substituted into the template as
    a value, it is not.

    Parameters
    ----------
    markup : str
        HTML, already escaped where it holds text from data.

    Returns
    -------
    folium.Element
    """
    import folium

    element = folium.Element("{{ this.lc_html }}")
    setattr(element, "lc_html", markup)  # noqa: B010 (folium's Element declares no such field)
    return element


def add_static(fmap: Any, file: str, assets: str) -> None:
    """Put one of the pages' own files of ``geo/maps/static`` on the page of ``fmap``.

    A stylesheet goes in the header, a script at the end of the body, after Leaflet (which
    folium links in the header). ``"service"``: a ``/static/…`` URL with the file's hash, so a
    browser never runs an old script against a new page's settings; ``"inline"`` and
    ``"cdn"``: the file's text in a ``<style>`` or ``<script>``, as no CDN has our files. Adding
    a file twice puts it on the page once.

    Parameters
    ----------
    fmap : folium.Map
        The page's map.
    file : str
        A ``.css`` or ``.js`` file of ``geo/maps/static``, e.g. ``"dashboard.js"``.
    assets : {"service", "inline", "cdn"}
        As :func:`use_assets`.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        For a file that is neither CSS nor JavaScript, or whose text would end its own
        ``<style>``/``<script>`` element early.
    """
    path = STATIC / file
    if file.endswith(".css"):
        tag, where = "style", fmap.get_root().header
    elif file.endswith(".js"):
        tag, where = "script", fmap.get_root().html
    else:
        raise ValueError(f"不是 CSS 或 JavaScript 文件 / not a .css or .js file: {file}")
    if assets == "service":
        version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        url = f"/static/{file}?v={version}"
        markup = (f'<link rel="stylesheet" href="{url}">' if tag == "style"
                  else f'<script src="{url}"></script>')  # fmt: skip
    else:
        body = path.read_text(encoding="utf-8")
        if f"</{tag}" in body.lower():
            raise ValueError(f"{file} 含 </{tag}，无法内嵌 / contains </{tag}: cannot inline it")
        # sourceURL names the inline file in the browser's devtools, as a linked one is
        source = f"/*# sourceURL={file} */" if tag == "style" else f"//# sourceURL={file}"
        markup = f"<{tag}>\n{body}\n{source}\n</{tag}>"
    where.add_child(raw_html(markup), name=f"lc_static_{file}")


def add_config(fmap: Any, element_id: str, config: dict[str, Any]) -> None:
    """Give a page's script its settings: ``config`` as JSON in
    ``<script type="application/json" id="element_id">`` in the body, read on "load".

    ``<`` is written ``\\u003c``, so a ``</script>`` in the data cannot end the element.

    Parameters
    ----------
    fmap : folium.Map
        The page's map.
    element_id : str
        The element's id, where the script looks, e.g. ``"lc-dashboard-config"``.
    config : dict
        Plain JSON data: folium's variable names of the map and layers, words, colours, data.

    Returns
    -------
    None
    """
    payload = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    markup = f'<script type="application/json" id="{element_id}">{payload}</script>'
    fmap.get_root().html.add_child(raw_html(markup), name=element_id)


def display_frame(frame: gpd.GeoDataFrame, crs: str = "wgs84") -> gpd.GeoDataFrame:
    """Geometry made light for a browser: simplified to ~1 m, coordinates rounded to 6
    decimals (~10 cm), and shifted to GCJ-02 when drawn over Gaode tiles.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        A layer in WGS 84.
    crs : {"wgs84", "gcj02"}
        The coordinate system of the basemap's tiles (:data:`TILES`).

    Returns
    -------
    geopandas.GeoDataFrame
        The same rows and columns, lighter geometry.
    """
    if not len(frame):
        return frame
    geoms = np.asarray(frame.geometry.values, dtype=object)
    geoms = shapely.simplify(geoms, 1e-5, preserve_topology=True)
    if crs != "wgs84":
        geoms = geometries_from_wgs84(geoms, crs)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, 6))
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs="EPSG:4326"))


def base_map(frames: list[gpd.GeoDataFrame], tiles: str = "openstreetmap",
             assets: str = "cdn") -> Any:  # fmt: skip
    """An empty map fitted to the frames, with the basemap ``tiles`` and the pages' styles.

    Parameters
    ----------
    frames : list of geopandas.GeoDataFrame
        What the map opens on (all of them); with none, central Yangpu.
    tiles : str
        A basemap of :data:`TILES`.
    assets : {"service", "inline", "cdn"}
        Where the page's scripts and styles come from (:func:`use_assets`).

    Returns
    -------
    folium.Map

    Raises
    ------
    ValueError
        For a basemap not in :data:`TILES`.
    """
    import folium

    if tiles not in TILES:
        raise ValueError(f"unknown basemap '{tiles}'; use {', '.join(TILES)}")
    fmap = folium.Map(tiles=None, control_scale=True)
    fmap.options["maxZoom"] = 19  # marker clustering needs it even with no basemap
    use_assets(fmap, assets)
    add_static(fmap, "lifecircle.css", assets)
    # no favicon request: a page that works offline makes no request it cannot answer
    root: Any = fmap.get_root()
    root.header.add_child(folium.Element('<link rel="icon" href="data:,">'))
    url, attribution, _ = TILES[tiles]
    if url:
        folium.TileLayer(
            tiles=url,
            attr=attribution,
            name=tiles,
            subdomains="1234" if tiles == "gaode" else "abc",
        ).add_to(fmap)
    bounds = [f.total_bounds for f in frames if len(f)]
    if bounds:
        stacked = np.vstack(bounds)
        fmap.fit_bounds([[stacked[:, 1].min(), stacked[:, 0].min()],
                         [stacked[:, 3].max(), stacked[:, 2].max()]])  # fmt: skip
    else:
        fmap.location = [31.2985, 121.545]
        fmap.options["zoom"] = 14
    return fmap


def _features(
    frame: gpd.GeoDataFrame, layer: str, lang: str, extra: Extra | None, style: Style
) -> dict[str, Any]:
    """A FeatureCollection whose properties are only what the page shows: the popup and
    tooltip (escaped here, in Python) and the Leaflet style."""
    records = frame.drop(columns=frame.geometry.name).to_dict(orient="records")
    features = [
        {
            "type": "Feature",
            "id": str(key),  # how a page's script finds a feature again
            "geometry": json.loads(shapely.to_geojson(geom)),
            "properties": {
                "popup": popup_html(row, layer, lang, extra(key) if extra else ()),
                "tip": text(row.get("name")),
                "style": style(row),
            },
        }
        for key, row, geom in zip(frame.index, records, frame.geometry.values, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _geojson(data: dict[str, Any], marker: Any = None) -> Any:
    """ONE folium layer for a whole frame: a layer per feature costs folium a template
    compilation each, seconds for a thousand markers. Popup and tooltip HTML were escaped
    when the properties were built, so showing them as HTML shows data as text."""
    import folium

    return folium.GeoJson(
        data,
        marker=marker,
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, maxWidth=340),
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    )


def add_points(
    frame: gpd.GeoDataFrame,
    layer: str,
    lang: str,
    parent: Any,
    colour: Callable[[Row], str] | None = None,
    glyph: str | None = None,
    extra: Extra | None = None,
    shape: str | None = None,
) -> None:
    """Facilities as glyph markers (or dots coloured by ``colour(row)``) with escaped popups.

    All the frame's points go on ``parent`` as one GeoJSON layer; an empty frame adds
    nothing.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Point features, WGS-84 (or shifted for the basemap, :func:`display_frame`).
    layer : str
        Their layer: the fields of the popups, and the markers' colour.
    lang : {"zh", "en", "both"}
        The language of the popups' field names (:func:`popup_html`).
    parent : folium.Map, folium.FeatureGroup or folium.plugins.MarkerCluster
        Where the markers go.
    colour : callable, optional
        A dot's fill colour from its feature's properties; default the layer's colour.
        Used only without ``glyph``.
    glyph : str, optional
        A character drawn on a square in the layer's colour (:data:`GLYPHS`); without one,
        each feature is a dot.
    extra : callable, optional
        More (label, value) rows of a feature's popup, from its feature id.
    shape : str, optional
        A CSS class of ``lifecircle.css`` (``"lc-diamond"``): every point is that shape, in
        ``colour`` of the frame's first row; instead of ``glyph``.
    """
    import folium

    if not len(frame):
        return
    fill = LAYER_COLOURS.get(layer) or OTHER_COLOURS.get(layer, "#555555")
    if shape:
        first = frame.drop(columns=frame.geometry.name).iloc[0].to_dict()
        tint = colour(first) if colour else fill
        icon = folium.DivIcon(
            html=f'<div class="{shape}" style="background:{tint}"></div>',
            # smaller than a 5-pixel dot: the compound around it stays easy to click
            icon_size=(10, 10), icon_anchor=(5, 5), class_name=f"lc-marker lc-shaped {shape}-icon",
        )  # fmt: skip
        marker = folium.Marker(icon=icon)
    elif glyph:
        icon = folium.DivIcon(
            html=f'<div class="lc-glyph" style="background:{fill}">{glyph}</div>',
            icon_size=(22, 22), icon_anchor=(11, 11), class_name="lc-marker",
        )  # fmt: skip
        marker = folium.Marker(icon=icon)
    else:
        marker = folium.CircleMarker(radius=6)

    def style(row: Row) -> dict[str, Any]:
        return {"color": "#333333", "weight": 1, "fill": True, "fillOpacity": 0.9,
                "fillColor": colour(row) if colour else fill}  # fmt: skip

    _geojson(_features(frame, layer, lang, extra, style), marker).add_to(parent)


def add_polygons(
    frame: gpd.GeoDataFrame,
    layer: str,
    lang: str,
    parent: Any,
    style: Style,
    extra: Extra | None = None,
) -> None:
    """Polygons styled by ``style(row)``, with escaped popups, as one layer.

    An empty frame adds nothing.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Polygon features, WGS-84 (or shifted for the basemap, :func:`display_frame`).
    layer : str
        Their layer, which says the fields of the popups.
    lang : {"zh", "en"}
        The language of the popups' field names.
    parent : folium.Map or folium.FeatureGroup
        Where the layer goes.
    style : callable
        Leaflet path options of a feature, from its properties.
    extra : callable, optional
        More (label, value) rows of a feature's popup, from its feature id.
    """
    if len(frame):
        _geojson(_features(frame, layer, lang, extra, style)).add_to(parent)
