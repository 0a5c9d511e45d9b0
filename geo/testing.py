"""A small drawn neighbourhood whose walking answers can be computed by hand.

For tests and for examples that show a number you can check with a ruler: the doctests of
:mod:`geo.analysis.coverage` use it. Metric coordinates in UTM 51N (Shanghai) relative to
``X0, Y0``; the layers are in WGS-84, as a store holds them.

    street A: (0,0) ── 1000 m ── (1000,0)      street B: (1000,0) ── 800 m ── (1000,800)
    island street C: (3000,0) ── (3200,0)      (not connected to A/B)

    clinic c1 20 m off A at 400 m · centre n1 inside the remote compound · shed p1 inside
    the gated compound
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from geo.analysis.study import Study
from geo.network.lines import from_lines

__all__ = ["TO_LONLAT", "X0", "Y0", "drawn_study", "facility_frame", "lonlat", "square", "to_wgs"]

X0, Y0 = 355_000.0, 3_460_000.0
TO_LONLAT = Transformer.from_crs("EPSG:32651", "EPSG:4326", always_xy=True)


def lonlat(x: float, y: float) -> list[float]:
    """WGS-84 ``[lon, lat]`` of the drawn point ``(x, y)`` metres from ``(X0, Y0)``.

    Parameters
    ----------
    x, y : float
        Metres east and north of the drawing's origin.

    Returns
    -------
    list of float
    """
    lon, lat = TO_LONLAT.transform(X0 + x, Y0 + y)
    return [lon, lat]


def to_wgs(geom: shapely.Geometry) -> shapely.Geometry:
    """A geometry drawn in metres from ``(X0, Y0)``, in WGS-84.

    Parameters
    ----------
    geom : shapely.Geometry
        Drawn in metres east and north of the drawing's origin.

    Returns
    -------
    shapely.Geometry
        The same shape in WGS-84 lon/lat.
    """
    return shapely.transform(
        geom, lambda c: np.column_stack(TO_LONLAT.transform(X0 + c[:, 0], Y0 + c[:, 1]))
    )


def square(x0: float, y0: float, x1: float, y1: float) -> shapely.Geometry:
    """A drawn rectangle (metres from the origin) in WGS-84.

    Parameters
    ----------
    x0, y0, x1, y1 : float
        Opposite corners, metres east and north of the drawing's origin.

    Returns
    -------
    shapely.Geometry
        A polygon, WGS-84.
    """
    return to_wgs(shapely.box(x0, y0, x1, y1))


def facility_frame(rows: list[tuple[str, str, float, float]]) -> gpd.GeoDataFrame:
    """Facilities from ``(id, name, x, y)`` rows (metres from the origin), WGS-84.

    Parameters
    ----------
    rows : list of (str, str, float, float)
        Id, name and position in metres east and north of the drawing's origin.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id`` and ``name``, point geometry in WGS-84, indexed by id.
    """
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=[to_wgs(shapely.Point(r[2], r[3])) for r in rows],
        crs="EPSG:4326",
        index=[r[0] for r in rows],
    )


def drawn_study() -> Study:
    """The drawn neighbourhood as a :class:`~geo.analysis.study.Study`.

    Returns
    -------
    Study

    Examples
    --------
    The gated compound's gate is 30 m from street A at its 150 m mark; the clinic 20 m
    from A at 400 m: 30 + 250 + 20 = 300 m.

    >>> from geo.analysis.coverage import analyze_areas
    >>> float(analyze_areas(drawn_study()).at["gated", "clinics_walk_m"])
    300.0
    """
    streets = gpd.GeoDataFrame(
        {"name": ["A", "B", "C"]},
        geometry=[
            shapely.LineString([(X0, Y0), (X0 + 1000, Y0)]),
            shapely.LineString([(X0 + 1000, Y0), (X0 + 1000, Y0 + 800)]),
            shapely.LineString([(X0 + 3000, Y0), (X0 + 3200, Y0)]),
        ],
        crs="EPSG:32651",
    )
    areas = gpd.GeoDataFrame(
        {
            "id": ["gated", "touching", "remote", "island", "across"],
            "name": ["有门小区", "临街小区", "远离道路", "孤岛", "河对岸"],
            "subdistrict": ["甲街道", "甲街道", "乙街道", "乙街道", "乙街道"],
            "households": [100, 200, 50, 80, 40],
            "population": [250, 500, 120, 200, 100],
            "elderly": [100, 150, 60, 50, 40],
            "entrances": [[lonlat(150, 30)], None, None, [lonlat(3100, 10)], [lonlat(500, -330)]],
        },
        geometry=[
            square(100, 30, 200, 130),
            square(950, 500, 990, 600),
            square(2000, 2000, 2100, 2100),
            square(3050, 10, 3150, 110),
            square(450, -430, 550, -330),
        ],
        crs="EPSG:4326",
        index=["gated", "touching", "remote", "island", "across"],
    )
    layers = {
        "residential_areas": areas,
        "clinics": facility_frame([("c1", "卫生站", 400, 20)]),
        "neighbor_centers": facility_frame([("n1", "睦邻中心", 2050, 2050)]),
        "charging_points": facility_frame([("p1", "车棚", 150, 80)]),
        "renovation_projects": gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
    }
    return Study(layers, from_lines(streets))
