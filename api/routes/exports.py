"""The gap list of one facility type as the workbench shows it, and as CSV and Excel.

``/gaps.json``, ``/gaps.csv`` and ``/gaps.xlsx`` give the same rows: the compounds not
covered by ``type`` for the walker and threshold asked (``profile`` or own ``speed``,
``minutes``), in ``subdistrict`` or everywhere, most people affected first
(:func:`geo.analysis.coverage.gaps`). Headers are Chinese, English with ``lang=en``; the
CSV is UTF-8 with a byte-order mark, so Excel and WPS open it with its Chinese intact; no
cell of either can run as a formula (:mod:`geo.layers.cells`).
"""

from __future__ import annotations

import io
from typing import Annotated, Literal
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from api.deps import Studies, StudyCache, WalkerMinutesCRS
from geo.analysis.coverage import gap_list
from geo.analysis.params import WalkParams
from geo.layers.cells import safe_cell, safe_table
from geo.maps.workbench import GAP_COLUMNS

__all__ = ["gap_table", "router"]

router = APIRouter(tags=["analysis"])

FacilityType = Literal["clinics", "neighbor_centers", "charging_points"]
Lang = Literal["zh", "en"]
_TYPE = Query(description="设施类型 / facility type", examples=["charging_points"])
_SUB = Query(description="只看此街道 / only this subdistrict")
_LANG = Query(description="表头语言 / language of the headers")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def gap_table(
    studies: StudyCache, params: WalkParams, kind: str, subdistrict: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The compounds ``kind`` does not cover, and their extents.

    Parameters
    ----------
    studies : StudyCache
        The service's studies and cached coverage.
    params : WalkParams
        Walker and thresholds.
    kind : str
        A facility type.
    subdistrict : str, optional
        Only this subdistrict's compounds.

    Returns
    -------
    tuple of (pandas.DataFrame, pandas.DataFrame)
        The rows, with the columns of :data:`geo.maps.workbench.GAP_COLUMNS` (``minutes``
        at the walker's speed, rounded up to 0.1), most people affected first; and their
        extents ``minx``, ``miny``, ``maxx``, ``maxy`` in ``params.crs``, indexed alike.

    Raises
    ------
    QueryError
        For a subdistrict the study does not have.
    """
    study, result = studies.coverage(params)
    table, bounds = gap_list(study, result, kind, params, subdistrict)
    return table[[key for key, _ in GAP_COLUMNS]], bounds


def _headers(lang: str) -> list[str]:
    index = 1 if lang == "en" else 0
    return [names[index] for _, names in GAP_COLUMNS]


def _filename(kind: str, params: WalkParams, ext: str) -> dict[str, str]:
    walker = params.profile.name if params.profile.name != "custom" else (
        f"{params.profile.speed_kmh:g}kmh")  # fmt: skip
    name = f"gaps-{kind}-{walker}-{params.minutes[kind]:g}min.{ext}"
    return {
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    }


@router.get("/gaps.json", summary="某类设施的盲区小区表 / gap compounds of one type, as rows")
def gaps_json(
    studies: Studies,
    params: WalkerMinutesCRS,
    type: Annotated[FacilityType, _TYPE] = "clinics",
    subdistrict: Annotated[str | None, _SUB] = None,
    lang: Annotated[Lang, _LANG] = "zh",
) -> Response:
    """The compounds not covered by ``type`` with households, residents, aged 60+, the walk
    to the nearest facility and the totals; each row with its extent (``bounds``,
    ``[[south, west], [north, east]]`` in ``crs``) so a map can zoom to it."""
    table, bounds = gap_table(studies, params, type, subdistrict)
    # column-wise, not row by row: 7,000 rows in 0.05 s instead of 2 s
    rows = table.astype(object).where(table.notna(), None).to_dict(orient="records")
    boxes = bounds[["miny", "minx", "maxy", "maxx"]].to_numpy(dtype=float).tolist()
    for item, (south, west, north, east) in zip(rows, boxes, strict=True):
        item["bounds"] = [[south, west], [north, east]]
    return JSONResponse(
        {
            "type": type,
            "profile": params.profile.name,
            "speed_kmh": params.profile.speed_kmh,
            "minutes": params.minutes[type],
            "subdistrict": subdistrict,
            "columns": [[k, h] for (k, _), h in zip(GAP_COLUMNS, _headers(lang), strict=True)],
            "totals": {
                "compounds": len(table),
                "households": int(table["households"].sum()),
                "population": int(table["population"].sum()),
                "elderly": int(table["elderly"].sum()),
            },
            "rows": rows,
        }
    )


@router.get(
    "/gaps.csv",
    summary="盲区小区表下载（CSV）/ gap compounds as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def gaps_csv(
    studies: Studies,
    params: WalkerMinutesCRS,
    type: Annotated[FacilityType, _TYPE] = "clinics",
    subdistrict: Annotated[str | None, _SUB] = None,
    lang: Annotated[Lang, _LANG] = "zh",
) -> Response:
    """The rows of ``/gaps.json`` as CSV: UTF-8 with a byte-order mark (Excel, WPS)."""
    table, _ = gap_table(studies, params, type, subdistrict)
    body = "\ufeff" + safe_table(table.set_axis(_headers(lang), axis=1)).to_csv(index=False)
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers=_filename(type, params, "csv"),
    )


@router.get(
    "/gaps.xlsx",
    summary="盲区小区表下载（Excel）/ gap compounds as Excel",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
def gaps_xlsx(
    studies: Studies,
    params: WalkerMinutesCRS,
    type: Annotated[FacilityType, _TYPE] = "clinics",
    subdistrict: Annotated[str | None, _SUB] = None,
    lang: Annotated[Lang, _LANG] = "zh",
) -> Response:
    """The rows of ``/gaps.json`` as an Excel workbook: one sheet, headers in bold, the
    header row frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    table, _ = gap_table(studies, params, type, subdistrict)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "盲区小区" if lang != "en" else "gaps"
    sheet.append(_headers(lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.itertuples(index=False):
        sheet.append([safe_cell(v) for v in row])  # nothing a spreadsheet could run
    for column, width in zip("ABCDEFGHI", (16, 24, 14, 9, 9, 9, 12, 12, 28), strict=False):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), media_type=XLSX, headers=_filename(type, params, "xlsx"))
