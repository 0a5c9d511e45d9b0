"""The overview map: the layers with a layer switcher and a legend."""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from geo.maps.base import (
    GLYPHS,
    LABELS,
    LAYER_COLOURS,
    STATUS_COLOURS,
    TILES,
    add_points,
    add_polygons,
    base_map,
    display_frame,
    label,
    raw_html,
    use_assets,
)
from geo.schema import LAYERS

__all__ = ["overview_map"]


def overview_map(
    layers: dict[str, gpd.GeoDataFrame],
    lang: str = "zh",
    tiles: str = "openstreetmap",
    assets: str = "cdn",
) -> Any:
    """A folium map of the layers with a layer switcher and a legend.

    Parameters
    ----------
    layers : dict of str to geopandas.GeoDataFrame
        Layers by name; a missing one is an empty entry of the switcher.
    lang : {"zh", "en"}
        Which language comes first.
    tiles : str
        A basemap of :data:`TILES`.
    assets : {"service", "inline", "cdn"}
        As :func:`use_assets`.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import json
    >>> from geo.layers.store import read_layers
    >>> page = overview_map(read_layers()).get_root().render()
    >>> json.dumps("小区 Residential areas") in page  # as the layer switcher holds it
    True
    """
    import folium
    from folium.plugins import MarkerCluster

    shift = TILES[tiles][2]
    frames = {name: display_frame(frame, shift) for name, frame in layers.items()}
    fmap = base_map(list(frames.values()), tiles, assets)
    for layer in LAYERS:
        frame = frames.get(layer)
        group = folium.FeatureGroup(name=label(LABELS[layer], lang), show=True)
        if frame is not None and len(frame):
            if layer == "residential_areas":
                add_polygons(
                    frame,
                    layer,
                    lang,
                    group,
                    lambda row: {
                        "color": "#333333",
                        "weight": 1,
                        "fillColor": "#56B4E9",
                        "fillOpacity": 0.45,
                    },
                )
            elif layer == "renovation_projects":
                points = (frame.geom_type == "Point").to_numpy()
                add_polygons(
                    frame[~points],
                    layer,
                    lang,
                    group,
                    lambda row: {
                        "color": "#333333",
                        "weight": 1,
                        "fillOpacity": 0.5,
                        "fillColor": STATUS_COLOURS.get(str(row.get("status")), "#999999"),
                    },
                )
                add_points(
                    frame[points],
                    layer,
                    lang,
                    group,
                    lambda row: STATUS_COLOURS.get(str(row.get("status")), "#999999"),
                )
            else:
                parent: Any = group
                if layer == "charging_points":
                    parent = MarkerCluster(name=None).add_to(group)
                    use_assets(parent, assets)
                add_points(frame, layer, lang, parent, glyph=GLYPHS.get(layer))
        group.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(raw_html(_legend(lang)))
    return fmap


def _legend(lang: str) -> str:
    title = label(("15分钟社区生活圈", "15-minute community life circle"), lang)
    items = "".join(
        f'<div><span class="lc-glyph" style="background:{colour}">{GLYPHS[layer]}</span> '
        f"{label(LABELS[layer], lang)}</div>"
        for layer, colour in LAYER_COLOURS.items()
    )
    return f'<div id="lc-legend"><b>{title}</b>{items}</div>'
