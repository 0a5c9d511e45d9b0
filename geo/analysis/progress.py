"""Renovation progress counted the way Shanghai's reports count it, on any date.

A progress report says "截至2023年2月，累计签约65台，其中完工49台、在建11台、待开工5台": the 65
signed include the 49 completed. So every count here comes two ways:

- **exclusive** — projects whose stage on the date *is* that stage (49 completed, 11 under
  construction, 5 awaiting start);
- **cumulative** — projects that had reached that stage *or a later one* (65 signed), in the
  order of :data:`geo.schema.PROJECT_STATUSES` (planned → survey → consultation → signed →
  tendering → awaiting_start → under_construction → completed);

and each as projects and as ``units`` — what the kind counts (:data:`geo.schema.PROJECT_UNITS`:
elevators 台, sheds 个, households 户).

**The stage on a date** (``as_of``) replays the stage history (:mod:`geo.layers.stages`): it is
the latest stage whose date is on or before ``as_of``. Today or later, it is the project's
``status``. A project whose dates all fall after ``as_of`` had not begun and is counted as
``not_begun``; one with no stage dates at all cannot be placed in the past and is counted as
``undated`` — neither is in the stage counts, so a past date never shows today's stage.
A stage whose date is missing is passed over: a project with only ``start`` shows from the
day construction started.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import NotFoundError, QueryError
from geo.schema import PROJECT_KINDS, PROJECT_STATUSES, PROJECT_UNITS, STAGE_DATE_FIELDS

__all__ = ["AS_OF_PATTERN", "SERIES", "parse_as_of", "progress", "progress_series", "stages_as_of"]

#: The periods of a series, as pandas names them.
SERIES = {"quarter": "Q", "month": "M", "year": "Y"}
_NOT_BEGUN, _UNDATED = -1, -2


_YEAR = "(?:19|20)[0-9]{2}"
_LEAP = "(?:(?:19|20)(?:0[48]|[2468][048]|[13579][26])|2000)"
_DAY = ("(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
        "|(?:0[13578]|1[02])-31)")  # fmt: skip
#: A day ``YYYY-MM-DD`` or a month ``YYYY-MM`` of the years 1900–2099, only real days, or
#: nothing (today). The OpenAPI document gives the same pattern.
AS_OF_PATTERN = f"^(?:{_YEAR}-{_DAY}|{_LEAP}-02-29|{_YEAR}-(?:0[1-9]|1[0-2]))?$"


def parse_as_of(value: str | date | None) -> date | None:
    """Read an ``as_of`` date given as ``YYYY-MM-DD`` (or ``YYYY-MM``: the month's last day).

    Parameters
    ----------
    value : str, datetime.date or None
        The date; None or ``""`` means today.

    Returns
    -------
    datetime.date or None

    Raises
    ------
    QueryError
        A bilingual message naming the value when it is not a date.

    Examples
    --------
    >>> parse_as_of("2023-02")
    datetime.date(2023, 2, 28)
    """
    if isinstance(value, date):
        return value
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if not re.fullmatch(AS_OF_PATTERN, str(value)) or not text:
            raise ValueError(text)
        if len(text) == 7:
            return (pd.Period(text, "M").end_time).date()
        return date.fromisoformat(text)
    except ValueError:
        raise QueryError(
            f"日期无效 / not a date: as_of={text!r}; 用 YYYY-MM-DD 或 YYYY-MM / use YYYY-MM-DD "
            "or YYYY-MM, e.g. 2023-02-28"
        ) from None


def _stage_dates(projects: pd.DataFrame) -> np.ndarray:
    """An (n projects, n stages) array of the dates each stage was reached (NaT when unknown)."""
    columns = []
    for stage in PROJECT_STATUSES:
        field = STAGE_DATE_FIELDS[stage]
        values = projects[field] if field in projects else pd.Series(None, index=projects.index)
        columns.append(pd.to_datetime(values, errors="coerce").to_numpy("datetime64[D]"))
    return np.stack(columns, axis=1) if columns else np.empty((len(projects), 0), "datetime64[D]")


def stages_as_of(
    projects: pd.DataFrame, as_of: date | None = None, today: date | None = None
) -> pd.Series:
    """The stage each project was at on ``as_of``.

    Parameters
    ----------
    projects : pandas.DataFrame
        Renovation projects with ``status`` and stage date fields.
    as_of : datetime.date, optional
        The date; None means today (each project's ``status``).
    today : datetime.date, optional
        What counts as today; default the calendar's.

    Returns
    -------
    pandas.Series
        The stage on the date, ``"not_begun"`` for a project whose dates all come later and
        ``"undated"`` for one without dates (a past ``as_of`` only), indexed like ``projects``.

    Examples
    --------
    >>> rows = pd.DataFrame({"status": ["completed"], "signed_on": ["2021-01-15"],
    ...                      "start": ["2021-06-01"], "end": ["2022-08-30"]})
    >>> [stages_as_of(rows, date(d, 1, 1)).iloc[0] for d in (2021, 2022, 2023)]
    ['not_begun', 'under_construction', 'completed']
    """
    status = projects["status"].astype(object)
    today = today or date.today()
    if as_of is None or as_of >= today:
        return status.copy()
    dates = _stage_dates(projects)
    reached = dates <= np.datetime64(as_of, "D")  # NaT compares False
    index = np.where(reached.any(axis=1), dates.shape[1] - 1 - reached[:, ::-1].argmax(axis=1), -1)
    index = np.where(~reached.any(axis=1) & np.isnat(dates).all(axis=1), _UNDATED, index)
    names = np.array([*PROJECT_STATUSES, "undated", "not_begun"], dtype=object)
    return pd.Series(names[index], index=projects.index)


def _counts(stages: pd.Series, units: pd.Series, kind: str) -> dict[str, Any]:
    order = list(PROJECT_STATUSES)
    rank_of = {s: i for i, s in enumerate(order)}
    labels = stages.to_numpy(dtype=object)
    rank = np.fromiter((rank_of.get(s, -1) for s in labels), dtype=int, count=len(labels))
    known = rank >= 0
    unit_values = pd.to_numeric(units, errors="coerce").to_numpy(dtype=float)[known]
    counted = np.nan_to_num(unit_values)  # a project without units adds none
    per_stage = np.bincount(rank[known], minlength=len(order))
    units_per_stage = np.bincount(rank[known], weights=counted, minlength=len(order))
    reached = per_stage[::-1].cumsum()[::-1]  # at this stage or a later one
    units_reached = units_per_stage[::-1].cumsum()[::-1]
    zh, en, _ = PROJECT_UNITS.get(kind, ("个", "items", ""))
    return {
        "projects": int(known.sum()),
        "units": int(counted.sum()),
        "unit": {"zh": zh, "en": en},
        "units_missing": int(np.isnan(unit_values).sum()),
        "not_begun": int((labels == "not_begun").sum()),
        "undated": int((labels == "undated").sum()),
        "exclusive": {s: int(per_stage[i]) for i, s in enumerate(order)},
        "cumulative": {s: int(reached[i]) for i, s in enumerate(order)},
        "units_exclusive": {s: int(units_per_stage[i]) for i, s in enumerate(order)},
        "units_cumulative": {s: int(units_reached[i]) for i, s in enumerate(order)},
    }


def _select(projects: pd.DataFrame, subdistrict: str | None, kind: str | None) -> pd.DataFrame:
    if kind:
        if kind not in PROJECT_KINDS:
            raise QueryError(
                f"没有项目类型 '{kind}' / no project kind '{kind}'; 可选 / choose from: "
                + ", ".join(PROJECT_KINDS)
            )
        projects = projects[projects["kind"] == kind]
    if subdistrict:
        known = sorted({str(s) for s in projects.get("subdistrict", pd.Series()).dropna()})
        if subdistrict not in known:
            raise NotFoundError(
                f"没有街道 '{subdistrict}' 的改造项目 / no renovation projects in subdistrict "
                f"'{subdistrict}'; 有 / there are: {', '.join(known) or '-'}"
            )
        projects = projects[projects["subdistrict"] == subdistrict]
    return projects


def progress(
    projects: pd.DataFrame,
    subdistrict: str | None = None,
    kind: str | None = None,
    as_of: date | str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Projects and units per kind and stage on one date, counted exclusively and cumulatively.

    Parameters
    ----------
    projects : pandas.DataFrame
        The renovation projects layer (geometry is not needed).
    subdistrict, kind : str, optional
        Only the projects of this 街道 / of this kind (else a bilingual error listing the
        ones there are).
    as_of : datetime.date or str, optional
        The date (``YYYY-MM-DD``); default today.
    today : datetime.date, optional
        What counts as today; default the calendar's.

    Returns
    -------
    dict
        ``{"as_of", "subdistrict", "kind", "stages", "by_kind": {kind: {"projects", "units",
        "unit", "units_missing", "not_begun", "undated", "exclusive", "cumulative",
        "units_exclusive", "units_cumulative"}}}``; ``stages`` is the stage order.

    Examples
    --------
    >>> from geo.layers.store import read_layer
    >>> p = progress(read_layer("renovation_projects"), "打浦桥街道", "elevator_retrofit",
    ...              as_of="2023-02-28")["by_kind"]["elevator_retrofit"]
    >>> p["units_cumulative"]["signed"], p["units_exclusive"]["completed"]
    (65, 49)
    >>> p["units_exclusive"]["under_construction"], p["units_exclusive"]["awaiting_start"]
    (11, 5)
    """
    today = today or date.today()
    when = parse_as_of(as_of) or today
    chosen = _select(projects, subdistrict, kind)
    stages = stages_as_of(chosen, when, today)
    units = chosen["units"] if "units" in chosen else pd.Series(np.nan, index=chosen.index)
    kinds = [kind] if kind else [k for k in PROJECT_KINDS if (chosen["kind"] == k).any()]
    return {
        "as_of": when.isoformat(),
        "subdistrict": subdistrict,
        "kind": kind,
        "stages": list(PROJECT_STATUSES),
        "by_kind": {
            k: _counts(stages[chosen["kind"] == k], units[chosen["kind"] == k], k) for k in kinds
        },
    }


def progress_series(
    projects: pd.DataFrame,
    series: str = "quarter",
    subdistrict: str | None = None,
    kind: str | None = None,
    as_of: date | str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """:func:`progress` at the end of every quarter (month, year) up to ``as_of``, for charts.

    Parameters
    ----------
    projects : pandas.DataFrame
        The renovation projects layer.
    series : {"quarter", "month", "year"}
        The period.
    subdistrict, kind, as_of, today
        As :func:`progress`; the last period ends on ``as_of`` (default today).

    Returns
    -------
    dict
        ``{"series", "subdistrict", "kind", "stages", "periods": [{"period": "2023Q1",
        "as_of": "2023-03-31", "by_kind": …}, …]}`` from the period of the earliest stage date.

    Examples
    --------
    >>> from geo.layers.store import read_layer
    >>> s = progress_series(read_layer("renovation_projects"), kind="bike_shed",
    ...                     as_of="2023-06-30")
    >>> [(p["period"], p["by_kind"]["bike_shed"]["cumulative"]["completed"])
    ...  for p in s["periods"][-3:]]
    [('2022Q4', 0), ('2023Q1', 5), ('2023Q2', 6)]
    """
    if series not in SERIES:
        raise QueryError(
            f"不支持的序列 / unknown series '{series}'; 可选 / choose from: {', '.join(SERIES)}"
        )
    today = today or date.today()
    end = parse_as_of(as_of) or today
    chosen = _select(projects, subdistrict, kind)
    dates = _stage_dates(chosen)
    first = dates[~np.isnat(dates)].min() if (~np.isnat(dates)).any() else np.datetime64(end)
    periods = pd.period_range(pd.Timestamp(first), pd.Timestamp(end), freq=SERIES[series])
    out = []
    present = None  # from today on every stage is the status: counted once
    for period in periods:
        when = min(period.end_time.date(), end)
        if when >= today:
            present = present or progress(chosen, kind=kind, as_of=when, today=today)
            by_kind = present["by_kind"]
        else:
            by_kind = progress(chosen, kind=kind, as_of=when, today=today)["by_kind"]
        out.append({"period": str(period), "as_of": when.isoformat(), "by_kind": by_kind})
    return {
        "series": series,
        "subdistrict": subdistrict,
        "kind": kind,
        "stages": list(PROJECT_STATUSES),
        "periods": out,
    }
