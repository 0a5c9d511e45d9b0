"""Walking routes as lines: the path of each walk :meth:`Study.nearest` measured.

Built on :func:`geo.network.paths.walking_path`, whose line is as long as the reported walk.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.analysis.params import WalkParams
from geo.analysis.study import Study
from geo.crs import to_wgs84
from geo.network.paths import walking_path
from geo.network.snapping import Snap

__all__ = ["walking_paths"]


def walking_paths(
    study: Study, points: Any, kind: str, table: pd.DataFrame, params: WalkParams | None = None
) -> gpd.GeoDataFrame:
    """Route lines (WGS-84) for the rows of :meth:`geo.analysis.study.Study.nearest`.

    Parameters
    ----------
    study : Study
    points : (lon, lat) or array of them
        As they were given to ``nearest``, in ``params.crs``.
    kind : str
        The facility layer.
    table : pandas.DataFrame
        ``point``, ``rank``, ``facility_id``, ``walk_m`` of the walks to draw.
    params : WalkParams, optional
        As given to ``nearest`` (its ``crs`` is that of ``points``).

    Returns
    -------
    geopandas.GeoDataFrame
        One line per walk found, with ``point``, ``rank``, ``facility_id``, ``walk_m``.
    """
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    crs = params.crs if params is not None else "wgs84"
    lon, lat = to_wgs84(xy[:, 0], xy[:, 1], crs)
    x, y = study.project(lon, lat)
    facilities = study.facilities(kind)
    fx, fy = study.facility_xy(kind)
    rows, lines = [], []
    net = study.network
    snapped = study.snap(x, y) if net is not None else None  # each point once, not per route
    fsnap = study.facility_snap(kind) if net is not None else None
    fields = ("edge", "offset", "distance", "ok", "reason")
    for record in table[table["facility_id"].notna()].itertuples():
        position = facilities.index.get_loc(record.facility_id)
        p = int(record.point)
        if net is None or snapped is None or fsnap is None:
            line = shapely.LineString([(x[p], y[p]), (fx[position], fy[position])])
        else:
            origin = Snap(*(getattr(snapped, f)[p : p + 1] for f in fields))
            one = Snap(*(getattr(fsnap, f)[position : position + 1] for f in fields))
            line = walking_path(net, (x[p], y[p]), origin, (fx[position], fy[position]), one)
        if line is None:
            continue
        rows.append(
            {
                "point": p,
                "rank": record.rank,
                "facility_id": record.facility_id,
                "route": True,
                "walk_m": record.walk_m,
                "method": study.method,
            }
        )
        lines.append(line)
    to_lonlat = pyproj.Transformer.from_crs(study.crs, "EPSG:4326", always_xy=True)
    geoms = [
        shapely.transform(g, lambda c: np.column_stack(to_lonlat.transform(*c.T))) for g in lines
    ]
    return gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))
