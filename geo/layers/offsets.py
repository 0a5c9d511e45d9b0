"""Is a layer in GCJ-02 or BD-09 although it says WGS-84? Measured against the store.

Gaode/Amap outlines and POIs, and Baidu's, are often saved with a WGS-84 label (a ``.prj``
that says so, a GeoJSON that cannot say otherwise). They then sit 450–550 m (GCJ-02) or
about 1.1 km (BD-09) from where they are in Shanghai, and nothing else notices.

:func:`judge_layer` tests it: it measures how far the features' coordinates (points,
polygon and line vertices) are from the nearest reference geometry, as they are and
after each conversion (GCJ-02 → WGS-84, BD-09 → WGS-84), and compares the medians.

**Reference** (:func:`choose_reference`): layers that stand inside compounds
(:data:`INSIDE`: charging points, renovation projects) against the store's
``residential_areas`` when it has some; else the store's streets; else its other layers.

**Rule** (:func:`offset_warning`): a conversion is advised only when, over the
coordinates within :data:`SEARCH_RADIUS_M` of the reference,

* the median as-is is at least :data:`MIN_OFF_M` (25 m), and
* the best conversion's median is at most :data:`IMPROVEMENT` (half) of the as-is median
  **and** of the other conversion's median — so it is never a near tie between GCJ-02 and
  BD-09 that picks the advice;
* outlines and lines need :data:`MIN_FEATURES` (3) features and :data:`MIN_COORDINATES`
  (5) coordinates; a layer of points needs :data:`MIN_POINTS_INSIDE` (8) points against
  the compounds they stand in, :data:`MIN_POINTS` (20) against streets or other layers,
  and then a margin of :data:`POINT_IMPROVEMENT` (a quarter) on both comparisons.

Why, measured (medians in metres, ``as-is / from GCJ-02 / from BD-09``):

* The real 五角场 study (``data/studies/wujiaochang``, OSM walkable ways): true compound
  vertices 10 m from a street; shifted to GCJ-02 42 / **10** / 183; to BD-09 55 / 47 /
  **10** — both found, with the right advice. Points against its streets: true clinics
  72 / 70 / 184 (7 points), as GCJ-02 41 / 72 / 260, as BD-09 32 / 87 / 72; true
  charging points 53 / 28 / 64, as BD-09 53 / *21* / 53 — half the as-is, the wrong
  advice under the old rule (points ≥ 3, half of the as-is only). A Monte-Carlo draw of
  points inside 五角场's compounds, measured against its streets, gave the old rule 21 %
  false alarms on true points and 19 % ``gcj02`` advice on BD-09 points (8 points; 11 %
  and 15 % with 20), and it found a shift at most 45 % of the time: streets say little
  about points. With 20 points and the quarter margin: 0.0 % false alarms and 0.0 % wrong
  advice over 1,000 draws each (points anywhere in the area: ≤ 0.2 %), at the price of
  rarely advising at all; the bundled sample's clinics, which stand on their streets
  (23 points: 8 / 165 / 399), are still found shifted (as GCJ-02 197 / **8** / 186, as BD-09 304 / 413 / **8**).
* Against the compounds they stand in, points are judged well: the study's true charging
  points 0 / 117 / 230, as BD-09 229 / 310 / **0** (found, right advice); as GCJ-02 they
  happen to land in other compounds, 0 / 0 / 193, and no advice is given. The draw (8
  points inside compounds): 0 % false alarms, GCJ-02 found 95 %, BD-09 100 %, no wrong
  advice; points that do *not* stand in compounds (the failure case) raise a false
  alarm in 5 % of 8-point draws, under 1 % from 20 points.
* The bundled sample (``data/layers``, parallel streets at most ~190 m apart): true
  compound vertices 14 m; as GCJ-02 41 / **14** / 102; as BD-09 187 / 215 / **14**.

The check is a warning: it never blocks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
    "INSIDE",
    "MIN_COORDINATES",
    "MIN_FEATURES",
    "MIN_OFF_M",
    "MIN_POINTS",
    "MIN_POINTS_INSIDE",
    "POINT_IMPROVEMENT",
    "SEARCH_RADIUS_M",
    "Reference",
    "choose_reference",
    "judge_layer",
    "layer_offset_warnings",
    "offset_warning",
    "read_streets",
    "reference_geometries",
]

#: The as-is median distance (m) below which a layer is taken to be where it says.
MIN_OFF_M = 25.0
#: The best conversion must bring the median to at most this share of the as-is median
#: and of the other conversion's median.
IMPROVEMENT = 0.5
#: The same share for a layer of points (points say less than outlines).
POINT_IMPROVEMENT = 0.25
#: Fewer features than this are not judged (one clinic may sit anywhere).
MIN_FEATURES = 3
#: Fewer coordinates near the reference than this are not judged.
MIN_COORDINATES = 5
#: A layer of points is judged against the compounds it stands in from this many points.
MIN_POINTS_INSIDE = 8
#: ... and against streets or other layers from this many.
MIN_POINTS = 20
#: Coordinates farther than this from every reference geometry (m) say nothing.
SEARCH_RADIUS_M = 2000.0
#: At most this many coordinates are measured (evenly spread over the layer).
MAX_COORDINATES = 5000
#: Layers whose features stand inside compounds, and the layer they stand in.
INSIDE = {"charging_points": "residential_areas", "renovation_projects": "residential_areas"}

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
    name = os.fspath(location)
    # an OpenStreetMap file (the streets a folder store may keep as they are): its ways
    layer = "lines" if name.lower().endswith((".osm", ".osm.pbf", ".pbf")) else None
    try:
        if layer is None and len(pyogrio.list_layers(name)) > 1:
            layer = str(pyogrio.list_layers(name)[0][0])  # the first, said explicitly
        declared = pyogrio.read_info(name, layer=layer).get("crs") or "EPSG:4326"
        degrees = "4326" in declared or "CRS84" in declared
        box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad) if degrees else None
        frame = gpd.read_file(name, engine="pyogrio", bbox=box, layer=layer)
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
    *,
    min_features: int = MIN_FEATURES,
    improvement: float = IMPROVEMENT,
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
    min_features : int
        Fewer present features than this are not judged.
    improvement : float
        The best conversion's median must be at most this share of the as-is median and
        of the other conversion's median.

    Returns
    -------
    Problem or None
        A warning naming the CRS, the three medians and what to do; None when the layer
        lines up as it is, the conversions tie, or there is too little to judge (see the
        module docstring).
    """
    present = _present(np.asarray(getattr(geoms, "values", geoms), dtype=object))
    if reference is None or len(present) < max(min_features, 1):
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
    found = sorted((float(np.median(_distances(tree, coords, c))), c, n) for c, n in _CONVERSIONS)
    (after, crs, name), (other, other_crs, _) = found
    if after > improvement * before or after > improvement * other:
        return None
    zh, en = what
    return Problem(
        source,
        None,
        "geometry",
        f"坐标疑似 {name}而非 WGS-84：到{zh}的距离中位数按现状为 {before:.0f} 米，按 {crs} 转换后"
        f"为 {after:.0f} 米（按 {other_crs} 为 {other:.0f} 米） / the coordinates look like "
        f"{name.split('（')[0]}, not WGS-84: their median distance to {en} is {before:.0f} m "
        f"as they are, {after:.0f} m converted from {crs} ({other:.0f} m from {other_crs})",
        hint.format(crs=crs),
        "warning",
    )


@dataclass(frozen=True)
class Reference:
    """What a layer is measured against, and how strictly.

    Parameters
    ----------
    geoms : numpy.ndarray
        Geometries in metres (UTM 51N).
    what : tuple of (str, str)
        What they are, in Chinese and English, for the message.
    min_features : int
        Fewer features than this are not judged.
    improvement : float
        The margin the best conversion must beat the as-is and the other conversion by.
    """

    geoms: np.ndarray
    what: tuple[str, str]
    min_features: int = MIN_FEATURES
    improvement: float = IMPROVEMENT


def choose_reference(
    layer: str,
    geoms: Any,
    streets: np.ndarray | None,
    others: Mapping[str, gpd.GeoDataFrame],
) -> Reference | None:
    """The geometries a layer is measured against, with the thresholds that fit them.

    Parameters
    ----------
    layer : str
        The layer judged.
    geoms : array-like
        Its WGS-84 geometries: a layer of points only is judged more strictly.
    streets : numpy.ndarray or None
        The store's streets in metres (:func:`read_streets`).
    others : mapping of str to geopandas.GeoDataFrame
        The store's other layers, WGS-84 (only :data:`INSIDE`'s is needed while there
        are streets).

    Returns
    -------
    Reference or None
        The compounds for a layer of :data:`INSIDE` when the store has some, else the
        streets, else the other layers; None when there is nothing to measure against.
    """
    present = _present(np.asarray(getattr(geoms, "values", geoms), dtype=object))
    points = bool(len(present)) and bool(
        np.isin(shapely.get_type_id(present), (0, 4)).all()  # Point, MultiPoint
    )
    container = others.get(INSIDE.get(layer, ""))
    if container is not None and len(container):
        inside = reference_geometries([container])
        if inside is not None:
            what = ("其他图层（所在的小区 residential_areas）", "the other layers (residential_areas, "
                    "the compounds they stand in)")  # fmt: skip
            if points:
                return Reference(inside, what, MIN_POINTS_INSIDE, POINT_IMPROVEMENT)
            return Reference(inside, what)
    reference, what = streets, ("街道", "the streets")
    if reference is None:
        rest = [f for name, f in others.items() if name != layer]
        reference, what = reference_geometries(rest), ("其他图层", "the other layers")
    if reference is None:
        return None
    if points:
        return Reference(reference, what, MIN_POINTS, POINT_IMPROVEMENT)
    return Reference(reference, what)


def judge_layer(
    layer: str,
    geoms: Any,
    streets: np.ndarray | None,
    others: Mapping[str, gpd.GeoDataFrame],
    source: str,
    hint: str,
) -> Problem | None:
    """:func:`offset_warning` against :func:`choose_reference`'s reference and thresholds.

    Parameters
    ----------
    layer : str
        The layer judged.
    geoms : array-like
        Its WGS-84 geometries.
    streets : numpy.ndarray or None
        The store's streets in metres (:func:`read_streets`).
    others : mapping of str to geopandas.GeoDataFrame
        The store's other layers, WGS-84.
    source : str
        The file the problem is said to be in.
    hint : str
        What to do, with ``{crs}`` where the CRS name goes.

    Returns
    -------
    Problem or None
        The warning, or None (the rule: the module docstring).
    """
    reference = choose_reference(layer, geoms, streets, others)
    if reference is None:
        return None
    return offset_warning(
        geoms, reference.geoms, source, reference.what, hint,
        min_features=reference.min_features, improvement=reference.improvement,
    )  # fmt: skip


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
    """:func:`judge_layer` for every stored layer.

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
        hint = (
            f"若整个图层来自同一个原始文件，加 --crs {{crs}} 重新导入并覆盖；若图层中还有其他"
            f"来源的要素，只删除偏移的那些再导入（--mode replace 会一并删除其他要素）/ if the "
            f"whole layer came from one original file, import it again with --crs {{crs}}: "
            f"lifecircle import {layer} FILE --crs {{crs}} --mode replace; if the layer also "
            "holds features from other sources, delete only the shifted ones and import them "
            "again with --mode append (replace would delete the others too)"
        )
        others = {name: f for name, f in frames.items() if name != layer}
        found = judge_layer(layer, frame.geometry, lines, others, where[layer], hint)
        if found is not None:
            problems.append(found)
    return problems
