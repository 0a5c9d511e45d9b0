"""Where the next elevator retrofits matter most: walk-up compounds and their elderly.

A compound is a **retrofit candidate** when its buildings have 4 or more storeys
(:data:`MIN_STOREYS`) and no lift. Whether it has a lift is its ``has_lift`` field; when that is
missing it is inferred from ``storeys``: **7 storeys or more have a lift**, fewer do not
(:data:`LIFT_STOREYS`) — GB 50096-2011《住宅设计规范》6.4.1 requires lifts in housing of seven
storeys or more, so a six-storey walk-up is the typical compound without one. A compound with
neither field cannot be judged and is not a candidate (:func:`lift_status` says which).

Candidates are ranked by their **elderly share** (``elderly / population``, residents aged 60
or more), and carry their retrofit progress: the elevator units (台) of the
``elevator_retrofit`` projects linked to them by ``residential_area_id``, per stage on a date,
replayed as :func:`geo.analysis.progress.stages_as_of` does. ``has_lift`` records the lifts a
compound was built with; a retrofit does not change it, its progress is counted beside it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from geo.analysis.progress import parse_as_of, stages_as_of
from geo.schema import PROJECT_STATUSES

__all__ = [
    "ELDERLY_SHARE_BINS",
    "LIFT_STOREYS",
    "MIN_STOREYS",
    "elderly_share_class",
    "lift_status",
    "retrofit_candidates",
]

#: From this many storeys housing has lifts (GB 50096-2011 住宅设计规范 6.4.1: 七层及以上).
LIFT_STOREYS = 7
#: Walk-ups this tall or taller are where stairs keep the elderly at home.
MIN_STOREYS = 4
#: Classes of the elderly share: below 25 %, 25–35 %, 35–45 %, 45 % or more (Shanghai's
#: registered population was 37 % aged 60+ in 2023, so the middle classes hold most compounds).
ELDERLY_SHARE_BINS = (0.25, 0.35, 0.45)


def lift_status(areas: pd.DataFrame) -> pd.DataFrame:
    """Whether each compound has a lift, and whether that was inferred from its storeys.

    Parameters
    ----------
    areas : pandas.DataFrame
        Residential areas with ``storeys`` and/or ``has_lift`` (either may be missing).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``areas``: ``storeys`` (Int64), ``has_lift`` (boolean; ``<NA>`` when
        neither field is given) and ``lift_inferred`` (True where ``has_lift`` came from
        ``storeys``: 7 or more → True).

    Examples
    --------
    >>> rows = pd.DataFrame({"storeys": [6, 7, 6, None], "has_lift": [None, None, True, None]})
    >>> lift_status(rows)["has_lift"].tolist()
    [False, True, True, <NA>]
    """
    index = areas.index
    storeys = pd.to_numeric(areas.get("storeys", pd.Series(np.nan, index=index)), errors="coerce")
    storeys = storeys.round().astype("Int64")
    given = areas.get("has_lift", pd.Series(pd.NA, index=index, dtype=object))
    given = given.map(_as_bool, na_action="ignore").astype("boolean")
    inferred = (storeys >= LIFT_STOREYS).astype("boolean")
    has_lift = given.fillna(inferred)
    return pd.DataFrame(
        {
            "storeys": storeys,
            "has_lift": has_lift,
            "lift_inferred": (given.isna() & storeys.notna()).astype(bool),
        },
        index=index,
    )


def _as_bool(value: object) -> object:
    """A stored ``has_lift`` as True/False (the store keeps booleans; a CSV may say 是/否)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "是", "有", "yes"):
        return True
    if text in ("false", "0", "否", "无", "no"):
        return False
    return pd.NA


def elderly_share_class(share: pd.Series | np.ndarray) -> np.ndarray:
    """The class of each elderly share in :data:`ELDERLY_SHARE_BINS` (0 … 3; -1 when unknown).

    Parameters
    ----------
    share : pandas.Series or numpy.ndarray
        Shares between 0 and 1 (NaN when unknown).

    Returns
    -------
    numpy.ndarray
        Integers: 0 below 25 %, 1 from 25 %, 2 from 35 %, 3 from 45 %, -1 for NaN.

    Examples
    --------
    >>> elderly_share_class(np.array([0.1, 0.25, 0.39, 0.53, np.nan])).tolist()
    [0, 1, 2, 3, -1]
    """
    values = np.asarray(share, dtype=float)
    classes = np.digitize(values, ELDERLY_SHARE_BINS)
    return np.where(np.isnan(values), -1, classes)


def retrofit_candidates(
    areas: pd.DataFrame,
    projects: pd.DataFrame | None = None,
    as_of: date | str | None = None,
    today: date | None = None,
) -> pd.DataFrame:
    """The compounds of 4+ storeys without a lift, most elderly first, with their elevator
    retrofit progress on ``as_of``.

    Parameters
    ----------
    areas : pandas.DataFrame
        Residential areas (a GeoDataFrame keeps its geometry) with ``population``,
        ``elderly`` and ``storeys``/``has_lift``.
    projects : pandas.DataFrame, optional
        Renovation projects; the ``elevator_retrofit`` ones count, by ``residential_area_id``.
    as_of : datetime.date or str, optional
        The date of the progress (``YYYY-MM-DD``); default today.
    today : datetime.date, optional
        What counts as today; default the calendar's.

    Returns
    -------
    pandas.DataFrame
        The candidates (indexed by compound id, the columns of ``areas`` kept), sorted by
        ``elderly_share`` then ``elderly``, descending, with ``storeys``, ``has_lift``,
        ``lift_inferred``, ``elderly_share`` (0–1), ``elderly_class`` (0–3,
        :func:`elderly_share_class`), ``retrofit_projects`` (begun by the date),
        ``retrofit_units`` (their elevators) and ``units_<stage>`` for every stage of
        :data:`geo.schema.PROJECT_STATUSES` (elevators at that stage on the date).

    Examples
    --------
    >>> from geo.layers.store import read_layer
    >>> found = retrofit_candidates(read_layer("residential_areas"),
    ...                             read_layer("renovation_projects"), as_of="2023-02-28")
    >>> row = found.loc["ra-dpq-001"]
    >>> int(row["units_completed"]), int(row["units_under_construction"])
    (49, 11)
    """
    status = lift_status(areas)
    tall = status["storeys"].fillna(0) >= MIN_STOREYS
    chosen = status.index[tall.to_numpy(bool) & (status["has_lift"] == False).fillna(False)]  # noqa: E712
    out = areas.loc[chosen].copy()
    for column in ("storeys", "has_lift", "lift_inferred"):
        out[column] = status.loc[chosen, column]
    population = pd.to_numeric(out["population"], errors="coerce")
    elderly = pd.to_numeric(out["elderly"], errors="coerce")
    out["elderly_share"] = (elderly / population.where(population > 0)).astype(float)
    out["elderly_class"] = elderly_share_class(out["elderly_share"])
    units = _units_per_stage(projects, out.index, as_of, today)
    out = out.join(units)
    return out.sort_values(["elderly_share", "elderly"], ascending=False, na_position="last")


def _units_per_stage(
    projects: pd.DataFrame | None, ids: pd.Index, as_of: date | str | None, today: date | None
) -> pd.DataFrame:
    """Elevators per stage of each compound's retrofit projects on ``as_of`` (0 without any)."""
    columns = [f"units_{s}" for s in PROJECT_STATUSES]
    empty = pd.DataFrame(0, index=ids, columns=["retrofit_projects", "retrofit_units", *columns])
    if projects is None or not len(projects) or "residential_area_id" not in projects:
        return empty
    lifts = projects[
        (projects["kind"] == "elevator_retrofit") & projects["residential_area_id"].isin(ids)
    ]
    if not len(lifts):
        return empty
    today = today or date.today()
    stages = stages_as_of(lifts, parse_as_of(as_of) or today, today)
    begun = stages.isin(PROJECT_STATUSES)
    units = pd.to_numeric(lifts.get("units", pd.Series(np.nan, index=lifts.index)), errors="coerce")
    frame = pd.DataFrame(
        {"area": lifts["residential_area_id"], "stage": stages, "units": units.fillna(0)}
    )[begun]
    table = frame.pivot_table(
        index="area", columns="stage", values="units", aggfunc="sum", fill_value=0
    )
    table = table.reindex(index=ids, columns=list(PROJECT_STATUSES), fill_value=0).fillna(0)
    table.columns = columns
    result = empty.copy()
    result[columns] = table.astype(int)
    result["retrofit_units"] = table.sum(axis=1).astype(int)
    counts = frame.groupby("area").size()
    result["retrofit_projects"] = counts.reindex(ids, fill_value=0).astype(int)
    return result
