"""The walking network on a page, and the credit OpenStreetMap data needs.

The dashboard draws the streets the walks follow (the study's network edges, so what is shown
is what is walked) as a toggle under the compounds, and credits OpenStreetMap whenever the
study's data comes from it: the ODbL asks for "© OpenStreetMap contributors" wherever the
data is shown, whatever the basemap (also with ``tiles=none``).

Data counts as OpenStreetMap's when the network's ``source`` names OpenStreetMap (an
``.osm.pbf`` or a download) or when a feature's ``note`` does, which is how a study built
from OSM records where its features come from (``data/studies/wujiaochang``).
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo.maps.base import display_frame, label
from geo.network.graph import WalkNetwork

__all__ = [
    "OSM_CREDIT",
    "STREETS_LABEL",
    "STREETS_LIMIT",
    "STREETS_PANE",
    "add_streets",
    "from_openstreetmap",
    "street_lines",
]

#: Above this many edges the page carries no streets: each edge costs the page ~0.1 kB and the
#: browser an SVG path, so a district (tens of thousands of edges) would add megabytes and
#: slow every pan. The 五角场 study has ~1,400 edges, the 长白 sample ~300.
STREETS_LIMIT = 10_000
STREETS_LABEL = ("步行路网", "Walking network")
#: Under the compounds (Leaflet's overlay pane is at z-index 400), above the tiles (200).
STREETS_PANE = "lc-streets"
OSM_CREDIT = ("数据 © OpenStreetMap 贡献者（ODbL）", "Data © OpenStreetMap contributors (ODbL)")


def street_lines(network: WalkNetwork | None) -> gpd.GeoDataFrame | None:
    """The network's edges as WGS-84 lines, or None when there are none or too many.

    Parameters
    ----------
    network : WalkNetwork or None
        The study's network (None in straight-line mode).

    Returns
    -------
    geopandas.GeoDataFrame or None
        One line per edge with its ``name``; None without a network, without edges, or
        above :data:`STREETS_LIMIT` edges.
    """
    if network is None or not 0 < network.n_edges <= STREETS_LIMIT:
        return None
    names = network.name if network.name is not None else [None] * network.n_edges
    frame = gpd.GeoDataFrame(
        {"name": pd.Series(names, dtype=object)},
        geometry=list(network.edge_geometry),
        crs=network.crs,
    )
    return frame.to_crs("EPSG:4326")


def from_openstreetmap(layers: dict[str, gpd.GeoDataFrame], source: str | None = None) -> bool:
    """Whether a study's data comes (at least partly) from OpenStreetMap.

    Parameters
    ----------
    layers : dict of str to geopandas.GeoDataFrame
        The study's layers; a ``note`` naming OpenStreetMap marks OSM data.
    source : str, optional
        The network's ``source`` (``WalkNetwork.source``).

    Returns
    -------
    bool

    Examples
    --------
    >>> from_openstreetmap({}, "OpenStreetMap yangpu.osm.pbf"), from_openstreetmap({})
    (True, False)
    """
    if source and "openstreetmap" in source.lower():
        return True
    for frame in layers.values():
        if "note" in frame.columns and len(frame):
            notes = frame["note"].astype("string").str.contains("OpenStreetMap", regex=False)
            if bool(notes.fillna(False).any()):
                return True
    return False


def add_streets(fmap: Any, lines: gpd.GeoDataFrame, lang: str, crs: str, osm: bool) -> None:
    """Draw ``lines`` as a toggle under the compounds, not clickable.

    Parameters
    ----------
    fmap : folium.Map
        The page's map.
    lines : geopandas.GeoDataFrame
        WGS-84 street lines (:func:`street_lines`).
    lang : {"zh", "en"}
        The language of the toggle's name.
    crs : {"wgs84", "gcj02"}
        The basemap's coordinate system (:func:`geo.maps.base.display_frame`).
    osm : bool
        Credit OpenStreetMap in the map's attribution while the streets are shown.

    Returns
    -------
    None
    """
    import folium

    if not len(lines):
        return
    folium.map.CustomPane(STREETS_PANE, z_index=350, pointer_events=False).add_to(fmap)
    shown = display_frame(lines, crs)
    # One feature of all the streets, their pieces merged where they meet end to end: one
    # SVG path instead of one per street piece (五角场's 3,300 pieces took 0.3 s to add)
    every = shapely.line_merge(shapely.multilinestrings(shapely.get_parts(shown.geometry.values)))
    features = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(every))}
        ],
    }
    group = folium.FeatureGroup(name=label(STREETS_LABEL, lang), show=True)
    # Leaflet's attribution control rewrites its HTML for every layer added with a credit:
    # one feature, so once (not once per street piece)
    options: dict[str, Any] = {"pane": STREETS_PANE, "interactive": False}
    if osm:
        options["attribution"] = OSM_CREDIT[1]
    folium.GeoJson(
        features,
        style_function=lambda _f: {"color": "#6b6b6b", "weight": 1.5, "opacity": 0.7},
        **options,
    ).add_to(group)
    group.add_to(fmap)
