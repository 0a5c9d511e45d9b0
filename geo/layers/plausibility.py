"""Is it plausible for Shanghai? Sizes, densities and distances no real layer has.

Part of :func:`geo.layers.validate.validate_layer`. Every check is a warning (the data may
be right, a person should look), naming file, feature and field and saying what to do:

* a compound larger than :data:`MAX_COMPOUND_KM2` (3 km²): Shanghai's largest single
  小区, the big suburban estates, are about 1–2 km² (issue 12, measured on real data);
  most are 0.02–0.3 km². A bigger polygon is usually a subdistrict or a whole
  neighbourhood drawn as one compound, or a shape in the wrong units;
* more than :data:`MAX_PERSONS_PER_HA` residents per hectare of compound (5000/ha):
  high-rise estates and old lane housing reach about 1000–2000/ha (the bundled sample's
  densest is 1900/ha), so this is 2.5× the densest; usually a missing digit in the
  outline or an extra one in the population;
* more than :data:`MAX_HOUSEHOLDS_PER_BUILDING` households per building (600): a
  33-storey tower with 8–10 flats a floor has 260–330; usually ``buildings`` holds
  something else (storeys, a code) or ``households`` is a population;
* a feature more than :data:`ISOLATED_KM` (50 km) from every other feature of its layer
  (layers of three or more features inside Shanghai's extent): a typo in a coordinate,
  or one row in another CRS.

Pure: frames in, problems out.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import Problem

__all__ = [
    "ISOLATED_KM",
    "MAX_COMPOUND_KM2",
    "MAX_HOUSEHOLDS_PER_BUILDING",
    "MAX_PERSONS_PER_HA",
    "check_plausibility",
]

#: A compound larger than this (km²) is probably not one compound.
MAX_COMPOUND_KM2 = 3.0
#: Residents per hectare of compound above which a number or the outline is wrong.
MAX_PERSONS_PER_HA = 5000.0
#: Households per building above which ``households`` or ``buildings`` is wrong.
MAX_HOUSEHOLDS_PER_BUILDING = 600.0
#: A feature this far (km) from every other feature of its layer is probably misplaced.
ISOLATED_KM = 50.0

_METRIC_CRS = "EPSG:32651"  # UTM 51N covers all of Shanghai


def check_plausibility(
    frame: gpd.GeoDataFrame, labels: list[str], layer: str, source: str
) -> list[Problem]:
    """Warnings for sizes, densities and distances no real Shanghai layer has.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer, WGS-84, values typed.
    labels : list of str
        One name per row for messages (:func:`geo.layers.validate.labels_of`).
    layer : str
        The layer's name.
    source : str
        The file or request the problems are said to be in.

    Returns
    -------
    list of Problem
        Warnings only; the thresholds are in the module docstring.
    """
    if len(frame) == 0:
        return []
    geoms = np.asarray(frame.geometry.values, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bounds = np.where(usable[:, None], shapely.bounds(geoms), np.nan)
    with np.errstate(invalid="ignore"):
        usable &= (bounds[:, 0] >= -180) & (bounds[:, 2] <= 180)
        usable &= (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90)
    metric = np.full(len(frame), None, dtype=object)
    if usable.any():
        # flat: a ring whose heights differ at its ends would not close once transformed
        flat = shapely.force_2d(geoms[usable])
        series = gpd.GeoSeries(flat, crs="EPSG:4326").to_crs(_METRIC_CRS)
        metric[usable] = np.asarray(series.values, dtype=object)
    problems: list[Problem] = []
    if layer == "residential_areas":
        problems += _compound_checks(frame, labels, metric, source)
    problems += _isolated(labels, metric, bounds, layer, source)
    return problems


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def _compound_checks(
    frame: pd.DataFrame, labels: list[str], metric: np.ndarray, source: str
) -> list[Problem]:
    problems = []
    column = {
        name: frame[name].tolist() if name in frame.columns else [None] * len(frame)
        for name in ("population", "households", "buildings")
    }
    for position, label in enumerate(labels):
        shape = metric[position]
        area = (
            float(shape.area) if shape is not None and shape.geom_type.endswith("Polygon") else 0.0
        )
        km2, hectares = area / 1e6, area / 1e4
        if km2 > MAX_COMPOUND_KM2:
            problems.append(
                Problem(
                    source,
                    label,
                    "geometry",
                    f"小区面积 {km2:.1f} 平方公里，超过上海最大的小区（约 1–2 平方公里）/ the compound "
                    f"covers {km2:.1f} km², more than Shanghai's largest compounds (about 1–2 km²)",
                    "检查是否把街道或整片社区画成了一个小区，或坐标单位有误；请只画小区围墙内 / "
                    "check it is not a subdistrict or a whole neighbourhood, or a shape in the "
                    "wrong units: draw the compound's own boundary",
                    "warning",
                )
            )
        population = _number(column["population"][position])
        if population is not None and hectares > 0:
            density = population / hectares
            if density > MAX_PERSONS_PER_HA:
                problems.append(
                    Problem(
                        source,
                        label,
                        "population",
                        f"每公顷 {density:.0f} 人（{population:.0f} 人 / {hectares:.2f} 公顷），远超上海"
                        f"最密的小区（约 2000 人/公顷）/ {density:.0f} residents per hectare "
                        f"({population:.0f} on {hectares:.2f} ha), far beyond Shanghai's densest "
                        "compounds (about 2000/ha)",
                        "检查人口是否多了一位，或小区边界是否画小了 / check the population for an "
                        "extra digit, or the outline for a missing part",
                        "warning",
                    )
                )
        households = _number(column["households"][position])
        buildings = _number(column["buildings"][position])
        if households is not None and buildings:
            per = households / buildings
            if per > MAX_HOUSEHOLDS_PER_BUILDING:
                problems.append(
                    Problem(
                        source,
                        label,
                        "households",
                        f"每栋楼 {per:.0f} 户（{households:.0f} 户 / {buildings:.0f} 栋），远超上海最"
                        f"高的住宅楼（约 300 户）/ {per:.0f} households per building "
                        f"({households:.0f} in {buildings:.0f}), far beyond Shanghai's largest "
                        "residential towers (about 300)",
                        "检查 buildings 是否填的是楼栋数、households 是否填成了人口 / check that "
                        "buildings counts buildings and households is not the population",
                        "warning",
                    )
                )
    return problems


def _isolated(
    labels: list[str], metric: np.ndarray, bounds: np.ndarray, layer: str, source: str
) -> list[Problem]:
    # Far outside Shanghai is said by geo.layers.geometry_checks already; judge the rest.
    from_wgs = np.isfinite(bounds).all(axis=1)
    with np.errstate(invalid="ignore"):
        inside = from_wgs & (bounds[:, 0] > 120.0) & (bounds[:, 2] < 123.0)
        inside &= (bounds[:, 1] > 30.0) & (bounds[:, 3] < 32.5)
    positions = np.flatnonzero(inside & (metric != None))  # noqa: E711 - object array
    if len(positions) < 3:
        return []
    shapes = metric[positions]
    tree = shapely.STRtree(shapes)
    index, distance = tree.query_nearest(
        shapes, return_distance=True, exclusive=True, all_matches=False
    )
    nearest = np.zeros(len(shapes))  # only equal shapes elsewhere: not isolated
    nearest[index[0]] = distance
    problems = []
    for index in np.flatnonzero(nearest > ISOLATED_KM * 1000.0).tolist():
        problems.append(
            Problem(
                source,
                labels[positions[index]],
                "geometry",
                f"与本图层其他要素都相距 {ISOLATED_KM:g} 公里以上 / more than {ISOLATED_KM:g} km "
                f"from every other feature of {layer}",
                "检查坐标是否输错或用了其他坐标系 / check the coordinates for a typo or "
                "another CRS",
                "warning",
            )
        )
    return problems
