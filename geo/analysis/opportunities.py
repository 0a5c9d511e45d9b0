"""Renovation opportunities: projects in compounds that lack a facility type.

A renovation (a lift retrofit, 美丽家园, an old compound's overhaul) is the moment to add a
neighbour centre's room or a charging shed, so a project in a compound that misses a type is
a chance worth listing. Read by ``lifecircle analyze`` (``opportunities.geojson``), the
service's ``/opportunities`` and the 街道 report.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.study import Study

__all__ = ["opportunities"]


def opportunities(study: Study, result: pd.DataFrame) -> gpd.GeoDataFrame:
    """Renovation projects in compounds that miss a facility type: a chance to add it.

    A project belongs to a compound by ``residential_area_id``, else by lying inside it.
    ``missing`` lists the uncovered types there.

    Parameters
    ----------
    study : Study
        Its ``renovation_projects`` and ``residential_areas`` layers are used.
    result : pandas.DataFrame
        :func:`~geo.analysis.coverage.analyze_areas` of the study's areas; the types are
        read from its ``T_covered`` columns.

    Returns
    -------
    geopandas.GeoDataFrame
        The projects (WGS-84, their own columns) whose compound misses at least one type,
        with ``missing``, ``area_id`` and ``area_name`` added; projects in no compound are
        left out. Empty (with ``missing`` and ``area_name``) when there are no projects or
        no areas.
    """
    projects = study.layers["renovation_projects"]
    areas = study.layers["residential_areas"]
    kinds = [
        c[: -len("_covered")]
        for c in result.columns
        if c.endswith("_covered") and c != "all_covered"
    ]
    if not len(projects) or not len(areas):
        return projects.iloc[0:0].assign(missing=[], area_name=[])
    linked = projects.get(
        "residential_area_id", pd.Series(None, index=projects.index, dtype=object)
    )
    area_of = linked.where(linked.isin(areas.index))
    unlinked = area_of.isna()
    if unlinked.any():
        points = projects.geometry[unlinked].representative_point()
        hit_point, hit_area = shapely.STRtree(areas.geometry.values).query(
            points.values, predicate="within"
        )
        area_of.iloc[np.flatnonzero(unlinked)[hit_point]] = areas.index[hit_area]
    missing = [
        [k for k in kinds if not bool(result.at[a, f"{k}_covered"])] if isinstance(a, str) else []
        for a in area_of
    ]
    out = projects.assign(
        missing=missing,
        area_id=area_of,
        area_name=[areas.at[a, "name"] if isinstance(a, str) else None for a in area_of],
    )
    return out[out["missing"].map(len) > 0]
