"""A renovation project's stage history: the date it reached each stage, checked.

A project's ``status`` is the stage it is at now; the fields of
:data:`geo.schema.STAGE_DATE_FIELDS` (``consultation_on``, ``signed_on``, …, ``start``, ``end``)
hold the date it reached each stage. :func:`stage_dates` reads them in stage order and
:func:`check_stages` says what cannot be true of them: a stage reached before an earlier one,
a date in the future (these are dates a stage *was* reached, not plans), or a date for a stage
the project has not reached according to its ``status``.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Any

import pandas as pd

from geo.errors import Problem
from geo.schema import PROJECT_STATUSES, STAGE_DATE_FIELDS, STAGE_LABELS

__all__ = ["check_stages", "stage_dates"]

#: How a date field is named in messages: the words planners use for 开工/完工.
_WORDS = {"start": ("开工", "start"), "end": ("完工", "end")}


def _words(stage: str) -> tuple[str, str]:
    field = STAGE_DATE_FIELDS[stage]
    return _WORDS.get(field, (f"{STAGE_LABELS[stage][0]}日期", field))


def _as_date(value: Any) -> date | None:
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def stage_dates(row: Any) -> list[tuple[str, date]]:
    """The stages a project has a date for, in stage order, with those dates.

    Parameters
    ----------
    row : mapping
        A project's properties (a dict or a frame row); unparseable dates are left out (the
        schema check reports them).

    Returns
    -------
    list of (str, datetime.date)
        ``(stage, date reached)`` in the order of :data:`geo.schema.PROJECT_STATUSES`.

    Examples
    --------
    >>> stage_dates({"signed_on": "2022-03-01", "start": "2022-06-01", "end": None})
    [('signed', datetime.date(2022, 3, 1)), ('under_construction', datetime.date(2022, 6, 1))]
    """
    out = []
    for stage in PROJECT_STATUSES:
        value = row.get(STAGE_DATE_FIELDS[stage])
        when = _as_date(value)
        if when is not None:
            out.append((stage, when))
    return out


def check_stages(
    frame: pd.DataFrame, labels: list[str], source: str, today: date | None = None
) -> list[Problem]:
    """Check every project's stage dates against each other, the calendar and its status.

    Parameters
    ----------
    frame : pandas.DataFrame
        Renovation projects with ``status`` and any of the stage date fields.
    labels : list of str
        The features' labels for messages (:func:`geo.layers.validate.labels_of`).
    source : str
        The file, for messages.
    today : datetime.date, optional
        Dates after it are in the future; default today.

    Returns
    -------
    list of Problem
        One error per wrong date, naming the field.

    Examples
    --------
    >>> rows = pd.DataFrame([{"status": "signed", "signed_on": "2023-01-05", "end": "2023-02-01"}])
    >>> print(check_stages(rows, ["rp-1"], "x.geojson")[0])  # doctest: +NORMALIZE_WHITESPACE
    x.geojson · feature rp-1 · field 'end': 阶段为“签约”，却有完工日期 2023-02-01 / status is
    'signed' but 'end' (a later stage) has a date → 更新阶段或删去该日期 / update 'status' or
    remove the date
    """
    today = today or date.today()
    problems: list[Problem] = []
    order = {stage: i for i, stage in enumerate(PROJECT_STATUSES)}
    for label, row in zip(labels, frame.to_dict("records"), strict=True):
        status = row.get("status")
        reached = order.get(status) if isinstance(status, str) else None
        dated = stage_dates(row)
        for stage, when in dated:
            field = STAGE_DATE_FIELDS[stage]
            if when > today:
                problems.append(
                    Problem(
                        source,
                        label,
                        field,
                        f"日期 {when} 在未来 / {when} is in the future",
                        "这里记录已达到该阶段的日期；计划日期写在 note / record the date the "
                        "stage was reached; put planned dates in 'note'",
                    )
                )
            if reached is not None and order[stage] > reached:
                zh = STAGE_LABELS[status][0]
                problems.append(
                    Problem(
                        source,
                        label,
                        field,
                        f"阶段为“{zh}”，却有{_words(stage)[0]}日期 {when} / status is "
                        f"'{status}' but '{field}' (a later stage) has a date",
                        "更新阶段或删去该日期 / update 'status' or remove the date",
                    )
                )
        for (before, earlier), (after, later) in pairwise(dated):
            if later < earlier:
                zh1, en1 = _words(before)
                zh2, en2 = _words(after)
                problems.append(
                    Problem(
                        source,
                        label,
                        STAGE_DATE_FIELDS[after],
                        f"{zh2} {later} 早于{zh1} {earlier} / {en2} is before {en1}",
                        "阶段日期应按先后顺序 / stage dates follow the order of the stages",
                    )
                )
    return problems
