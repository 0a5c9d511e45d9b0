"""OpenStreetMap XML (``.osm``) files as walking networks, read with pyosmium.

An "Export" from openstreetmap.org, JOSM's saved files and Overpass answers are ``.osm``
XML. pyosmium (``pip install osmium``) reads them, gives every way its node ids and node
positions, and also reads ``.osm.pbf`` and ``.osm.gz``; so this reader keeps OSM's own
topology exactly as `geo.network.osm.read_osm_pbf` does: ways connect where they share a
node, a footway under a road without a shared node stays apart, and no geometric noding
is guessed. (GDAL's OSM driver would also read the file, but it hands out lines without
node ids, which would have to be noded again like a drawn line layer.)

Walkable ways are chosen by `geo.network.osm.walkable_mask`; each way is cut into one edge
per pair of consecutive nodes, as pyrosm does for ``.osm.pbf``. Nodes the file does not
hold (a way running out of an export's box keeps its ids, not always its nodes) end the way
there. Each edge keeps its way's level (`geo.network.tags.edge_level`, from ``layer``,
``bridge`` and ``tunnel``).

A closed way tagged ``area=yes`` (``highway=pedestrian`` + ``area=yes``: a square, a plaza)
is left out, as osmnx and pyrosm leave it out: its ring is the outline of a paved area, not
a path. Walking round the outline would make a crossing of the square as long as half its
perimeter and would join every footway that merely touches its edge; OSM maps the ways
across a square as footways of their own. (The 五角场 extract has seven such squares, the
sunken 五角场广场 among them.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.errors import NetworkError, SourceReadError
from geo.network.graph import WalkNetwork
from geo.network.osm import network_from_topology, walkable_mask
from geo.network.tags import edge_level, unknown_tag_values

__all__ = ["read_osm_xml"]


def read_osm_xml(path: str | os.PathLike[str]) -> WalkNetwork:
    """The walking network of an OpenStreetMap XML file (walkable ways only).

    Parameters
    ----------
    path : path-like
        The ``.osm`` file (pyosmium also takes ``.osm.gz``, ``.osm.bz2`` and ``.osm.pbf``).

    Returns
    -------
    WalkNetwork
        In the UTM zone of the data, with street names where OSM has them; ways connect
        where they share a node.

    Raises
    ------
    NetworkError
        pyosmium is not installed, or the file holds no walkable ways.
    SourceReadError
        pyosmium cannot read the file.
    """
    try:
        import osmium
    except ImportError as exc:
        raise NetworkError(
            "读取 .osm 需要 pyosmium / reading .osm XML needs pyosmium: pip install osmium"
        ) from exc
    highway: list[Any] = []
    foot: list[Any] = []
    access: list[Any] = []
    names: list[Any] = []
    tagged: dict[str, list[Any]] = {"bridge": [], "tunnel": [], "layer": []}
    area: list[bool] = []
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    way_of: list[int] = []
    try:
        ways = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        item: Any
        for item in ways:
            tags = item.tags
            highway.append(tags.get("highway"))
            foot.append(tags.get("foot"))
            access.append(tags.get("access"))
            names.append(tags.get("name"))
            for key, values in tagged.items():
                values.append(tags.get(key))
            nodes = item.nodes
            area.append(
                tags.get("area") == "yes" and len(nodes) > 2 and nodes[0].ref == nodes[-1].ref
            )
            for node in item.nodes:
                valid = node.location.valid()
                refs.append(node.ref)
                lons.append(node.lon if valid else np.nan)
                lats.append(node.lat if valid else np.nan)
                way_of.append(len(highway) - 1)
    except RuntimeError as exc:  # libosmium's parse and I/O errors
        raise SourceReadError(
            f"无法读取 OSM 文件 / cannot read the OSM file {path}: {exc}"
        ) from exc
    walkable = walkable_mask(highway, foot, access) if highway else np.zeros(0, dtype=bool)
    walkable &= ~np.asarray(area, dtype=bool)  # squares' outlines: see the module's note
    way_tags = pd.DataFrame(tagged)
    way = np.asarray(way_of, dtype=np.int64)
    ref = np.asarray(refs, dtype=np.int64)
    lon, lat = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    # one edge per consecutive pair of nodes of the same walkable way, both positions known
    pair = np.flatnonzero(
        (way[1:] == way[:-1]) & walkable[way[:-1]] if len(way) else np.zeros(0, dtype=bool)
    )
    pair = pair[np.isfinite(lon[pair]) & np.isfinite(lon[pair + 1]) & (ref[pair] != ref[pair + 1])]
    if not len(pair):
        raise NetworkError(f"OSM 文件中没有可步行道路 / no walkable ways in {path}")
    ids, first = np.unique(ref, return_index=True)
    keep = np.isfinite(lon[first])
    ids, first = ids[keep], first[keep]
    segments = shapely.linestrings(
        np.stack(
            [
                np.column_stack([lon[pair], lat[pair]]),
                np.column_stack([lon[pair + 1], lat[pair + 1]]),
            ],
            axis=1,
        )
    )
    return network_from_topology(
        ids,
        lon[first],
        lat[first],
        ref[pair],
        ref[pair + 1],
        segments,
        np.asarray(names, dtype=object)[way[pair]],
        crs="EPSG:4326",
        source=f"OpenStreetMap {Path(path).name}",
        level=edge_level(way_tags)[way[pair]],
        unknown_tags=unknown_tag_values(way_tags[walkable]),
    )
