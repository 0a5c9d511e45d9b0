"""Where features are: geometry checks of layer data, every problem in one pass.

Part of :func:`geo.layers.validate.validate_layer`: empty, invalid or wrongly typed
geometry, coordinates outside WGS-84 or with longitude and latitude swapped, features far
outside Shanghai, gates far from their compound (a typo, or a GCJ-02 position), and likely
duplicates (the same name within a few metres). Pure: frames in, problems out.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from geo.errors import Problem
from geo.settings import SHANGHAI_BOUNDS

__all__ = [
    "DUPLICATE_RADIUS_M",
    "SHANGHAI_BOUNDS",
    "check_geometry",
    "check_near_duplicates",
]

#: Two features of a layer with the same name closer than this are likely one feature twice.
DUPLICATE_RADIUS_M = 5.0
#: Metric CRS for distance checks: UTM zone 51N covers all of Shanghai.
_METRIC_CRS = "EPSG:32651"


def check_geometry(
    frame: gpd.GeoDataFrame,
    labels: list[str],
    allowed: tuple[str, ...],
    source: str,
    region: tuple[float, float, float, float],
    outside: str = "warning",
) -> list[Problem]:
    """Problems with where the features are and what shape they have.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer, WGS-84.
    labels : list of str
        One name per row for messages (:func:`geo.layers.validate.labels_of`).
    allowed : tuple of str
        The layer's geometry types.
    source : str
        The file or request the problems are said to be in.
    region : tuple of float
        (lon_min, lat_min, lon_max, lat_max): where features may lie, the study region
        with its margin (:meth:`geo.settings.Settings.study_box`).
    outside : {"warning", "error"}
        The severity of a feature not wholly inside ``region``: an error refuses it
        (import without ``--allow-outside``, an edit), a warning reports it (validate).

    Returns
    -------
    list of Problem
        Errors (missing, invalid, wrong type, impossible coordinates) and warnings (a
        gate far from its compound), and a feature outside ``region`` as ``outside`` says.
    """
    problems: list[Problem] = []
    if len(frame) == 0:
        return problems
    geoms = np.asarray(frame.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    type_names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ]
    )
    valid = shapely.is_valid(geoms)
    bounds = shapely.bounds(geoms)  # NaN for missing geometries
    lon_min, lat_min, lon_max, lat_max = SHANGHAI_BOUNDS  # to tell a swapped pair
    box_x0, box_y0, box_x1, box_y1 = region
    for position, label in enumerate(labels):
        if missing[position]:
            problems.append(
                Problem(
                    source,
                    label,
                    "geometry",
                    "几何为空 / geometry is missing or empty",
                    "补上坐标 / give the feature its position",
                )
            )
            continue
        kind = type_names[types[position]]
        if kind not in allowed:
            problems.append(
                Problem(
                    source,
                    label,
                    "geometry",
                    f"几何类型 {kind} 不允许 / geometry type {kind} not allowed here",
                    f"应为 / expected {' or '.join(allowed)}",
                )
            )
        x0, y0, x1, y1 = bounds[position]
        if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
            swapped = x0 >= -90 and x1 <= 90 and y0 >= -180 and y1 <= 180
            problems.append(
                Problem(
                    source,
                    label,
                    "geometry",
                    "坐标超出经纬度范围 / coordinates outside WGS-84 lon/lat ranges",
                    "经纬度可能填反 / lon and lat look swapped: put longitude first"
                    if swapped
                    else "可能是投影坐标（米）：导入时用 --crs EPSG:xxxx / projected metres? "
                    "import with --crs EPSG:xxxx",
                )
            )
            continue
        if lat_min <= x0 and x1 <= lat_max and lon_min <= y0 and y1 <= lon_max:
            problems.append(
                Problem(
                    source,
                    label,
                    "geometry",
                    f"经纬度填反 / longitude and latitude swapped ({x0:.4f}, {y0:.4f})",
                    "GeoJSON 要求 [经度, 纬度] / GeoJSON wants [lon, lat]; 导入 CSV 时用 "
                    "--lon-col/--lat-col / when importing CSV use --lon-col/--lat-col",
                )
            )
            continue
        if not valid[position]:
            reason = shapely.is_valid_reason(geoms[position])
            problems.append(
                Problem(
                    source,
                    label,
                    "geometry",
                    f"几何无效 / invalid geometry: {reason}",
                    "在 QGIS 中用“修复几何”或 shapely.make_valid 修正 / fix it with QGIS "
                    "'Fix geometries' or shapely.make_valid",
                )
            )
        if x0 < box_x0 or x1 > box_x1 or y0 < box_y0 or y1 > box_y1:
            problems.append(
                Problem(
                    source,
                    label,
                    "geometry",
                    f"在研究区之外 / outside the study region: "
                    f"({x0:.4f}, {y0:.4f}); 研究区 / region: {box_x0:.2f}–{box_x1:.2f} E, "
                    f"{box_y0:.2f}–{box_y1:.2f} N",
                    "检查坐标系与位置；确属研究区外时导入加 --allow-outside，或调整 "
                    "LIFECIRCLE_STUDY_REGION / check the position and the source CRS; if it "
                    "really lies outside, import with --allow-outside or widen "
                    "LIFECIRCLE_STUDY_REGION",
                    outside,
                )
            )
    problems += _check_entrances(frame, labels, geoms, missing, source)
    return problems


def _check_entrances(
    frame: gpd.GeoDataFrame,
    labels: list[str],
    geoms: np.ndarray,
    missing: np.ndarray,
    source: str,
) -> list[Problem]:
    """Gates must lie at their compound: a gate 100 m away is a typo or a GCJ-02 position."""
    if "entrances" not in frame.columns:
        return []
    problems = []
    to_metric = Transformer.from_crs("EPSG:4326", _METRIC_CRS, always_xy=True)
    for position, (label, gates) in enumerate(zip(labels, frame["entrances"], strict=True)):
        if missing[position] or not isinstance(gates, list) or not gates:
            continue
        try:
            xy = np.asarray(gates, dtype=float).reshape(-1, 2)
        except (TypeError, ValueError):  # not pairs of numbers: said by coerce_layer
            continue
        bad = ~(np.isfinite(xy).all(axis=1) & (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90))
        # Shanghai's latitude (~31) where a longitude (~121) belongs: the pair was swapped
        swapped = (np.abs(xy[:, 0]) <= 90) & (np.abs(xy[:, 1]) > 90)
        for gate_number in np.flatnonzero(bad | swapped).tolist():
            lon, lat = xy[gate_number]
            problems.append(
                Problem(
                    source,
                    label,
                    "entrances",
                    f"第 {gate_number + 1} 个出入口坐标无效 ({lon:g}, {lat:g}) / gate "
                    f"{gate_number + 1} has impossible coordinates ({lon:g}, {lat:g})",
                    "经纬度可能填反：先经度后纬度 / lon and lat look swapped: longitude first"
                    if swapped[gate_number]
                    else "经度 −180–180、纬度 −90–90 / longitude in −180–180, latitude in −90–90",
                )
            )
        if (bad | swapped).any():
            continue
        polygon = shapely.transform(
            geoms[position], lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1]))
        )
        points = shapely.points(np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])))
        far = shapely.distance(polygon, points)
        for gate_number, metres in enumerate(far):
            if metres > 50:
                problems.append(
                    Problem(
                        source,
                        label,
                        "entrances",
                        f"第 {gate_number + 1} 个出入口距小区 {metres:.0f} 米 / gate "
                        f"{gate_number + 1} is {metres:.0f} m from the compound",
                        "出入口应在小区边界上；若来自高德请先转换 GCJ-02 / gates lie on "
                        "the boundary; convert GCJ-02 positions first",
                        "warning",
                    )
                )
    return problems


def check_near_duplicates(frame: gpd.GeoDataFrame, labels: list[str], source: str) -> list[Problem]:
    """Warnings for features with the same name within :data:`DUPLICATE_RADIUS_M`.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer, WGS-84, with ``name``.
    labels : list of str
        One name per row for messages.
    source : str
        The file or request the problems are said to be in.

    Returns
    -------
    list of Problem
        One warning per likely duplicate, naming the first of the pair.
    """
    if "name" not in frame.columns or len(frame) < 2:
        return []
    geoms = np.asarray(frame.geometry.values, dtype=object)
    usable = (
        ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & frame["name"].notna().to_numpy()
    )
    if usable.sum() < 2:
        return []
    positions = np.flatnonzero(usable)
    try:
        metric = gpd.GeoSeries(geoms[positions], crs="EPSG:4326").to_crs(_METRIC_CRS).values
    except Exception:
        return []
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="dwithin", distance=DUPLICATE_RADIUS_M)
    names = frame["name"].to_numpy()[positions]
    problems = []
    for a, b in zip(left, right, strict=True):
        if a < b and names[a] == names[b]:
            first, second = labels[positions[a]], labels[positions[b]]
            problems.append(
                Problem(
                    source,
                    second,
                    "name",
                    f"疑似重复：与 {first} 同名且相距不到 {DUPLICATE_RADIUS_M:g} 米 / likely "
                    f"duplicate of {first} (same name within {DUPLICATE_RADIUS_M:g} m)",
                    "确认后删除其一 / delete one if they are the same place",
                    "warning",
                )
            )
    return problems
