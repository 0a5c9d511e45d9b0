"""The 加装电梯地图: every renovation project by kind and stage, stages and a time slider.

What the page does in the browser is in ``static/renovation.js``; this module gives it the
projects and its words as JSON data (:func:`geo.maps.base.add_config`).
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.layers.geojson import to_feature_collection
from geo.maps.base import (
    LABELS,
    STATUS_COLOURS,
    STATUS_LABELS,
    TILES,
    add_config,
    add_static,
    base_map,
    display_frame,
    label,
    raw_html,
    text,
)

__all__ = ["renovation_map"]


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
        Only projects at these stages.

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
    fmap.get_root().html.add_child(raw_html(_timeline(months, lang)))
    add_config(fmap, "lc-renovation-config", _timeline_config(group, data, months, lang))
    add_static(fmap, "renovation.js", assets)
    return fmap


def _timeline(months: list[str], lang: str) -> str:
    """The stage checkboxes and the time slider (``static/renovation.js`` makes them work)."""
    index = 1 if lang == "en" else 0
    boxes = "".join(
        f'<label><input type="checkbox" class="lc-stage" value="{k}" checked> '
        f'<span class="lc-swatch" style="background:{c}"></span> {STATUS_LABELS[k][index]}</label>'
        for k, c in STATUS_COLOURS.items()
    )
    caption = label(("开工时间", "started by"), lang)
    last = len(months) - 1
    return (
        f'<div id="lc-timeline">{boxes}{text(caption)}: '
        f'<span id="lc-month">{text(months[-1])}</span><br>'
        f'<input id="lc-slider" type="range" min="0" max="{last}" value="{last}"></div>'
    )


def _timeline_config(
    group: Any, data: dict[str, Any], months: list[str], lang: str
) -> dict[str, Any]:
    """The settings of ``static/renovation.js``: folium's name of the projects' layer group,
    the projects, the months of the slider, the stages' colours and the words."""
    index = 1 if lang == "en" else 0
    fields = {"kind": ("类型", "kind"), "status": ("阶段", "stage"), "start": ("开工", "start"),
              "end": ("完工", "end"), "households": ("户数", "households")}  # fmt: skip
    return {
        "layer": group.get_name(),
        "data": data,
        "months": months,
        "colours": STATUS_COLOURS,
        "labels": {k: v[index] for k, v in fields.items()},
        "stages": {k: v[index] for k, v in STATUS_LABELS.items()},
    }
