"""Is a layer in GCJ-02 or BD-09 although it says WGS-84? Measured against the streets.

Gaode/Amap outlines and POIs, and Baidu's, are often saved with a WGS-84 label (a ``.prj``
that says so, a GeoJSON that cannot say otherwise). They then sit 450–550 m (GCJ-02) or
about 1.1 km (BD-09) from where they are in Shanghai, and nothing else notices.

:func:`offset_warning` tests it: it measures how far the features' coordinates (points,
polygon and line vertices) are from the nearest reference geometry, as they are and
after each conversion (GCJ-02 → WGS-84, BD-09 → WGS-84). The reference is the store's
streets, else the store's other layers. **Rule**: a conversion is reported when, over
at least :data:`MIN_FEATURES` features and :data:`MIN_COORDINATES` coordinates within
:data:`SEARCH_RADIUS_M` of the reference,

* the median distance as-is is at least :data:`MIN_OFF_M` (25 m), and
* the median after the conversion is at most :data:`IMPROVEMENT` (half) of it.

Why these numbers, measured on the bundled sample (``data/layers``, its street grid has
parallel streets at most ~190 m apart): true WGS-84 compound vertices lie a median 14 m
from a street, the same outlines shifted to GCJ-02 41 m, in BD-09 190 m; clinics 8 m as
they are, 197 m shifted. The worst false lead among the sample's correct layers is a
conversion to 0.62 of the as-is median (charging points, which stand inside compounds),
so the bar is half; and a layer that is already within 25 m of its streets is not
questioned at all. A dense real street network (OpenStreetMap footways) only makes the
as-is medians of true data smaller. The check is a warning: it never blocks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geo.crs import convert_geometries
from geo.errors import Problem

__all__ = [
    "IMPROVEMENT",
    "MIN_COORDINATES",
    "MIN_FEATURES",
    "MIN_OFF_M",
    "SEARCH_RADIUS_M",
    "layer_offset_warnings",
    "offset_warning",
    "read_streets",
    "reference_geometries",
]

#: The as-is median distance (m) below which a layer is taken to be where it says.
MIN_OFF_M = 25.0
#: A conversion must bring the median to at most this share of the as-is median.
IMPROVEMENT = 0.5
#: Fewer features than this are not judged (one clinic may sit anywhere).
MIN_FEATURES = 3
#: Fewer coordinates near the reference than this are not judged.
MIN_COORDINATES = 5
#: Coordinates farther than this from every reference geometry (m) say nothing.
SEARCH_RADIUS_M = 2000.0
#: At most this many coordinates are measured (evenly spread over the layer).
MAX_COORDINATES = 5000

_METRIC_CRS = "EPSG:32651"  # UTM 51N covers all of Shanghai
_CONVERSIONS = (("gcj02", "GCJ-02（高德/腾讯 Gaode/Tencent）"), ("bd09", "BD-09（百度 Baidu）"))


def read_streets(location: Path | str | None, around: Any) -> np.ndarray | None:
    """The street lines within :data:`SEARCH_RADIUS_M` of ``around``, in metres (UTM 51N).

    Parameters
    ----------
    location : pathlib.Path, str or None
        :meth:`geo.layers.store.LayerStore.streets`: a file or a GDAL data source.
    around : numpy.ndarray
        WGS-84 geometries; only streets near their bounding box are read.

    Returns
    -------
    numpy.ndarray or None
        Line geometries in metres; None when there are no streets or they cannot be
        read (the check is advisory and then skipped).
    """
    if location is None:
        return None
    geoms = _present(around)
    if not len(geoms):
        return None
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    pad = SEARCH_RADIUS_M / 100_000.0 * 1.5  # degrees, generous at Shanghai's latitude
    try:
        declared = pyogrio.read_info(os.fspath(location)).get("crs") or "EPSG:4326"
        degrees = "4326" in declared or "CRS84" in declared
        box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad) if degrees else None
        frame = gpd.read_file(os.fspath(location), engine="pyogrio", bbox=box)
        metric = frame.to_crs(_METRIC_CRS) if len(frame) and frame.crs is not None else frame
    except Exception:  # advisory: an unreadable network is reported by its own readers
        return None
    lines = _present(np.asarray(metric.geometry.values, dtype=object), degrees=False)
    return lines if len(lines) else None


def reference_geometries(frames: Iterable[gpd.GeoDataFrame]) -> np.ndarray | None:
    """Other layers' geometries in metres, the reference when a store has no streets.

    Parameters
    ----------
    frames : iterable of geopandas.GeoDataFrame
        WGS-84 layers.

    Returns
    -------
    numpy.ndarray or None
        Their geometries in metres (UTM 51N); None when there are none.
    """
    parts = [_present(np.asarray(f.geometry.values, dtype=object)) for f in frames if len(f)]
    geoms = np.concatenate(parts) if parts else np.array([], dtype=object)
    return _metric(geoms) if len(geoms) else None


def offset_warning(
    geoms: Any,
    reference: np.ndarray | None,
    source: str,
    what: tuple[str, str],
    hint: str,
) -> Problem | None:
    """A warning when ``geoms`` line up with ``reference`` clearly better converted.

    Parameters
    ----------
    geoms : array-like
        The layer's WGS-84 geometries (None where missing).
    reference : numpy.ndarray or None
        Geometries in metres (:func:`read_streets`, :func:`reference_geometries`).
    source : str
        The file the problem is said to be in.
    what : tuple of (str, str)
        What the reference is, in Chinese and English: ``("街道", "the streets")``.
    hint : str
        What to do, with ``{crs}`` where the CRS name goes (``--crs {crs}``).

    Returns
    -------
    Problem or None
        A warning naming the CRS, both medians and what to do; None when the layer lines
        up as it is, or there is too little to judge (see the module docstring).
    """
    present = _present(np.asarray(getattr(geoms, "values", geoms), dtype=object))
    if reference is None or len(present) < MIN_FEATURES:
        return None
    coords = _coordinates(present)
    if len(coords) < MIN_COORDINATES:
        return None
    tree = shapely.STRtree(reference)
    as_is = _distances(tree, coords, "wgs84")
    near = as_is <= SEARCH_RADIUS_M
    if near.sum() < MIN_COORDINATES:
        return None
    coords, as_is = coords[near], as_is[near]
    before = float(np.median(as_is))
    if before < MIN_OFF_M:
        return None
    found = [(float(np.median(_distances(tree, coords, c))), c, n) for c, n in _CONVERSIONS]
    after, crs, name = min(found)
    if after > IMPROVEMENT * before:
        return None
    zh, en = what
    return Problem(
        source,
        None,
        "geometry",
        f"坐标疑似 {name}而非 WGS-84：到{zh}的距离中位数按现状为 {before:.0f} 米，按 {crs} 转换后"
        f"为 {after:.0f} 米 / the coordinates look like {name.split('（')[0]}, not WGS-84: their "
        f"median distance to {en} is {before:.0f} m as they are, {after:.0f} m converted "
        f"from {crs}",
        hint.format(crs=crs),
        "warning",
    )


def _present(geoms: np.ndarray, degrees: bool = True) -> np.ndarray:
    if not len(geoms):
        return geoms
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    kept = geoms[ok]
    if not len(kept) or not degrees:
        return kept
    x0, y0, x1, y1 = shapely.bounds(kept).T
    inside = (x0 >= -180) & (x1 <= 180) & (y0 >= -90) & (y1 <= 90)
    return kept[inside]


def _metric(geoms: np.ndarray) -> np.ndarray:
    return np.asarray(
        gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(_METRIC_CRS).values, dtype=object
    )


def _coordinates(geoms: np.ndarray) -> np.ndarray:
    """WGS-84 points of the layer: points, and vertices of outlines (not holes) and lines."""
    outlines = np.array(
        [shapely.get_exterior_ring(g) if g.geom_type == "Polygon" else g for g in _parts(geoms)],
        dtype=object,
    )
    coords = shapely.get_coordinates(outlines)
    coords = np.unique(np.round(coords, 7), axis=0)  # closing vertices, shared corners
    if len(coords) > MAX_COORDINATES:
        coords = coords[np.linspace(0, len(coords) - 1, MAX_COORDINATES).astype(int)]
    return coords


def _parts(geoms: np.ndarray) -> np.ndarray:
    parts, _ = shapely.get_parts(geoms, return_index=True)
    return np.asarray(parts, dtype=object)


def _distances(tree: shapely.STRtree, coords: np.ndarray, crs: str) -> np.ndarray:
    points = convert_geometries(shapely.points(coords), crs, True)
    metric = _metric(np.asarray(points, dtype=object))
    index, distance = tree.query_nearest(metric, return_distance=True, all_matches=False)
    out = np.full(len(coords), np.inf)
    out[index[0]] = distance
    return out


def layer_offset_warnings(
    frames: dict[str, gpd.GeoDataFrame], streets: Path | str | None, where: dict[str, str]
) -> list[Problem]:
    """:func:`offset_warning` for every stored layer: against the streets, else the others.

    Parameters
    ----------
    frames : dict of str to geopandas.GeoDataFrame
        The store's layers, WGS-84.
    streets : pathlib.Path, str or None
        :meth:`geo.layers.store.LayerStore.streets`.
    where : dict of str to str
        Each layer's location, for messages.

    Returns
    -------
    list of Problem
        One warning per layer that lines up clearly better converted.
    """
    every = [np.asarray(f.geometry.values, dtype=object) for f in frames.values() if len(f)]
    if not every:
        return []
    lines = read_streets(streets, np.concatenate(every))
    problems = []
    for layer, frame in frames.items():
        reference, what = lines, ("街道", "the streets")
        if reference is None:
            others = [f for name, f in frames.items() if name != layer]
            reference, what = reference_geometries(others), ("其他图层", "the other layers")
        hint = (
            f"用原始文件加 --crs {{crs}} 重新导入 / import the original file again with --crs "
            f"{{crs}}: lifecircle import {layer} FILE --crs {{crs}} --mode replace"
        )
        found = offset_warning(frame.geometry, reference, where[layer], what, hint)
        if found is not None:
            problems.append(found)
    return problems
