"""Interactive maps of the layers (folium): frames in, a map out.

Every piece of text taken from data is HTML-escaped before it reaches a popup or tooltip,
so a compound named ``<img src=x onerror=alert(1)>`` shows as text.
"""

from __future__ import annotations

import html
import json
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.schema import LAYERS

__all__ = ["LABELS", "STATUS_COLOURS", "overview_map"]

#: Layer titles, Chinese first.
LABELS = {
    "residential_areas": ("小区", "Residential areas"),
    "neighbor_centers": ("睦邻中心", "Neighbour centres"),
    "clinics": ("社区卫生服务中心/站", "Clinics"),
    "charging_points": ("充电桩", "Charging points"),
    "renovation_projects": ("改造项目", "Renovation projects"),
}
# Okabe–Ito palette: distinguishable with the common kinds of colour blindness.
_LAYER_COLOURS = {
    "neighbor_centers": "#0072B2",
    "clinics": "#D55E00",
    "charging_points": "#009E73",
}
STATUS_COLOURS = {
    "planned": "#999999",
    "survey": "#999999",
    "consultation": "#F0E442",
    "signed": "#E69F00",
    "tendering": "#E69F00",
    "awaiting_start": "#CC79A7",
    "under_construction": "#D55E00",
    "completed": "#009E73",
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
    "status": ("状态", "Stage"),
    "start": ("开工", "Start"),
    "end": ("完工", "End"),
    "hours": ("开放时间", "Hours"),
}
_POPUP_FIELDS = {
    "residential_areas": ["subdistrict", "households", "population", "elderly", "built", "tenure"],
    "neighbor_centers": ["subdistrict", "kind", "health_station", "hours", "address"],
    "clinics": ["level", "beds", "subdistrict", "address"],
    "charging_points": ["vehicle", "ports", "status"],
    "renovation_projects": ["kind", "status", "start", "end", "households"],
}


def _label(pair: tuple[str, str], lang: str) -> str:
    zh, en = pair
    return f"{en} {zh}" if lang == "en" else f"{zh} {en}"


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return html.escape(str(value))


def _popup_html(row: dict[str, Any], layer: str, lang: str) -> str:
    index = 1 if lang == "en" else 0
    title = _text(row.get("name"))
    rows = []
    for field in _POPUP_FIELDS[layer]:
        value = _text(row.get(field))
        if value:
            rows.append(f"<tr><th>{_FIELD_LABELS[field][index]}</th><td>{value}</td></tr>")
    return f"<b>{title}</b><table>{''.join(rows)}</table>"


def overview_map(
    layers: dict[str, gpd.GeoDataFrame], lang: str = "zh", tiles: str = "openstreetmap"
) -> Any:
    """A folium map of the five layers with a layer switcher and a legend.

    Parameters
    ----------
    layers
        Frames keyed by layer name (WGS-84); missing or empty layers are skipped.
    lang
        ``"zh"`` (Chinese first) or ``"en"`` (English first).
    tiles
        A folium tile name, or ``"none"`` for no basemap (offline use).

    Examples
    --------
    >>> from geo.store import read_layers
    >>> page = overview_map(read_layers()).get_root().render()
    >>> import json
    >>> json.dumps("小区 Residential areas") in page  # as the layer switcher holds it
    True
    """
    try:
        import folium
        from folium.plugins import MarkerCluster
    except ImportError as exc:  # pragma: no cover - folium is a dependency
        raise ImportError("需要 folium / folium is required: pip install folium") from exc

    bounds = [f.total_bounds for f in layers.values() if len(f)]
    fmap = folium.Map(tiles=None if tiles == "none" else tiles, control_scale=True)
    if bounds:
        stacked = np.vstack(bounds)
        fmap.fit_bounds(
            [
                [stacked[:, 1].min(), stacked[:, 0].min()],
                [stacked[:, 3].max(), stacked[:, 2].max()],
            ]
        )
    else:
        fmap.location = [31.2985, 31.545]
        fmap.options["zoom"] = 14

    for layer in LAYERS:
        frame = layers.get(layer)
        group = folium.FeatureGroup(name=_label(LABELS[layer], lang), show=True)
        if frame is not None and len(frame):
            if layer == "charging_points":
                cluster = MarkerCluster().add_to(group)
                _add_points(frame, layer, lang, cluster)
            elif layer == "residential_areas":
                _add_polygons(frame, layer, lang, group, lambda row: "#56B4E9")
            elif layer == "renovation_projects":
                colour = lambda row: STATUS_COLOURS.get(row.get("status"), "#999999")  # noqa: E731
                points = frame.geom_type == "Point"
                _add_polygons(frame[~points], layer, lang, group, colour)
                _add_points(frame[points], layer, lang, group, colour)
            else:
                _add_points(frame, layer, lang, group)
        group.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(_legend(lang)))
    return fmap


def _records(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return frame.drop(columns=frame.geometry.name).to_dict(orient="records")


def _add_points(frame, layer, lang, parent, colour=None) -> None:
    import folium

    xs, ys = shapely.get_x(frame.geometry.values), shapely.get_y(frame.geometry.values)
    for row, x, y in zip(_records(frame), xs, ys, strict=True):
        fill = colour(row) if colour else _LAYER_COLOURS[layer]
        folium.CircleMarker(
            location=[float(y), float(x)],
            radius=7 if layer == "clinics" else 6,
            color="#333333",
            weight=1,
            fill=True,
            fill_color=fill,
            fill_opacity=0.9,
            popup=folium.Popup(_popup_html(row, layer, lang), max_width=320),
            tooltip=_text(row.get("name")),
        ).add_to(parent)


def _add_polygons(frame, layer, lang, parent, colour) -> None:
    import folium

    for row, geom in zip(_records(frame), frame.geometry.values, strict=True):
        fill = colour(row)
        shape = folium.GeoJson(
            json.loads(shapely.to_geojson(geom)),
            style_function=lambda _f, fill=fill: {
                "color": "#333333",
                "weight": 1,
                "fillColor": fill,
                "fillOpacity": 0.45,
            },
            tooltip=_text(row.get("name")),
        )
        folium.Popup(_popup_html(row, layer, lang), max_width=320).add_to(shape)
        shape.add_to(parent)


def _legend(lang: str) -> str:
    title = _label(("15分钟社区生活圈", "15-minute community life circle"), lang)
    items = "".join(
        f'<div><span style="display:inline-block;width:10px;height:10px;border-radius:5px;'
        f'background:{colour};margin-right:4px"></span>{_label(LABELS[layer], lang)}</div>'
        for layer, colour in _LAYER_COLOURS.items()
    )
    return (
        '<div id="lc-legend" style="position:fixed;bottom:24px;left:12px;z-index:9999;'
        "background:white;padding:8px 10px;border-radius:4px;font:12px sans-serif;"
        f'box-shadow:0 1px 4px rgba(0,0,0,.3)"><b>{title}</b>{items}</div>'
    )
