"""Bounded reading: what a source file or a feature may be before lifecircle reads it whole.

A hostile or broken file must fail fast, in little memory, with a short message: a 1 GB
sparse "CSV" is refused by its size before a byte is read; a CSV line longer than the
limit (a binary file has no line breaks) while it is scanned in chunks; a feature nested
deeper than the limit before a parser recurses into it. The limits are settings
(:class:`geo.settings.Settings`: ``max_file_bytes``, ``max_line_bytes``,
``max_table_cells``, ``max_json_depth``), so a real, larger file can be let through.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import SourceReadError
from geo.layers.geojson import json_too_deep
from geo.settings import current

__all__ = [
    "MAX_WKT_DEPTH",
    "check_feature_depth",
    "check_file_size",
    "check_line_length",
    "check_workbook_extent",
    "wkt_too_deep",
]

#: The deepest bracket nesting of a WKT shape: a multipolygon needs 3, a collection of them
#: 4. GEOS reads WKT recursively and crashes the whole process on a few thousand levels.
MAX_WKT_DEPTH = 16

_CHUNK = 1 << 20
#: A cell of a worksheet's XML, whatever the order of its attributes: ``<c r="XFD1048576" …>``.
_NOT_PARENS = bytes(b for b in range(256) if b not in b"()")
_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')


def _size_text(size: float) -> str:
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size:.0f} B"


def check_file_size(path: Path, kind: str, limit: int) -> None:
    """Refuse a file over ``limit`` bytes before reading it.

    A shapefile counts its largest part (``.shp``, ``.dbf``, ``.shx``); a workbook counts
    what it unpacks to, so that a small zip bomb is refused too.

    Parameters
    ----------
    path : pathlib.Path
        The source file.
    kind : str
        ``geojson``, ``gpkg``, ``shp``, ``csv`` or ``xlsx``.
    limit : int
        The largest size allowed, in bytes.

    Returns
    -------
    None

    Raises
    ------
    SourceReadError
        The file is larger: the message gives both sizes and the setting to raise.
    """
    parts = [path]
    if kind == "shp":
        parts += [path.with_suffix(s) for s in (".dbf", ".shx", ".DBF", ".SHX")]
    size = max(p.stat().st_size for p in parts if p.is_file())
    zh, en = "文件", "the file is"
    if kind == "xlsx" and size <= limit:
        try:
            with zipfile.ZipFile(path) as book:
                size = sum(i.file_size for i in book.infolist())
        except (zipfile.BadZipFile, OSError):
            return  # not a workbook: the reader says so
        zh, en = "解压后", "unpacked, the workbook is"
    if size > limit:
        raise SourceReadError(
            f"{path}: 文件过大（{zh} {_size_text(size)}，上限 {_size_text(limit)}）/ file too "
            f"large: {en} {_size_text(size)}, the limit is {_size_text(limit)}; 拆分文件，或调高 "
            "LIFECIRCLE_MAX_FILE_BYTES / split it, or raise LIFECIRCLE_MAX_FILE_BYTES"
        )


def check_line_length(path: Path, limit: int, max_cells: int | None = None) -> None:
    """Refuse a text table with a line longer than ``limit`` bytes, scanning it in chunks;
    and one of more than ``max_cells`` cells (lines × the header's columns).

    Parameters
    ----------
    path : pathlib.Path
        A CSV file.
    limit : int
        The longest line allowed, in bytes.
    max_cells : int, optional
        The most cells a table may have (a header of 100,000 commas over 1,000 lines is
        small on disk, but 100 million cells in memory).

    Returns
    -------
    None

    Raises
    ------
    SourceReadError
        A line is longer, or the table larger: the message names the line or the size,
        never quotes the content.
    """
    run, line, columns = 0, 1, 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            pieces = chunk.split(b"\n")
            for number, piece in enumerate(pieces):
                run = run + len(piece) if number == 0 else len(piece)
                if run > limit:
                    raise SourceReadError(
                        f"{path}: 第 {line + number} 行超过 {_size_text(limit)} / line "
                        f"{line + number} is longer than {_size_text(limit)}: 不是 CSV 表格？"
                        "/ not a CSV table? (raise LIFECIRCLE_MAX_LINE_BYTES for very long "
                        "WKT cells)"
                    )
            if line == 1 and len(pieces) > 1:
                first = pieces[0]
                columns = 1 + max(first.count(sep) for sep in (b",", b"\t", b";"))
            line += len(pieces) - 1
    if max_cells is not None:
        _check_cells(path, line, max(columns, 1), max_cells, "")


def _check_cells(path: Path, rows: int, columns: int, limit: int, last: str) -> None:
    if rows * columns > limit:
        zh, en = (f"，最后一格 {last}", f" (last cell {last})") if last else ("", "")
        raise SourceReadError(
            f"{path}: 表格过大（{rows} 行 × {columns} 列{zh}），上限 {limit} 个单元格 / the "
            f"table spans {rows} rows × {columns} columns{en}, more than {limit} cells; 删去"
            "空行空列，或调高 LIFECIRCLE_MAX_TABLE_CELLS / remove empty rows and columns, or "
            "raise LIFECIRCLE_MAX_TABLE_CELLS"
        )


def check_workbook_extent(path: Path, max_cells: int) -> None:
    """Refuse a workbook whose sheets span more than ``max_cells`` cells, read from its XML.

    A spreadsheet reader fills every row out to the widest one: a 5 KB workbook with one
    cell at ``XFD1048576`` would become 17 billion empty cells. The cell references are
    read from the sheets' XML as it unpacks (bounded by :func:`check_file_size`), before
    any reader builds a table; the declared ``<dimension>`` is not trusted.

    Parameters
    ----------
    path : pathlib.Path
        An ``.xlsx`` file.
    max_cells : int
        The most cells (last row × last column) any sheet may span.

    Returns
    -------
    None

    Raises
    ------
    SourceReadError
        A sheet spans more: the message gives its last cell.
    """
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # not a workbook: the reader says so
    with book:
        for name in book.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            rows = columns = 0
            last = ""
            with book.open(name) as sheet:
                tail = b""
                while chunk := sheet.read(_CHUNK):
                    text = tail + chunk
                    for letters, digits in _CELL_REF.findall(text):
                        column = 0
                        for letter in letters:
                            column = column * 26 + letter - 64
                        if column > columns or int(digits) > rows:
                            last = f"{letters.decode()}{digits.decode()}"
                        rows, columns = max(rows, int(digits)), max(columns, column)
                    tail = text[-64:]
            _check_cells(path, rows, columns, max_cells, last)


def check_feature_depth(feature: Any, limit: int | None = None) -> None:
    """Refuse a feature (parsed JSON) nested deeper than ``limit`` levels.

    Parameters
    ----------
    feature : object
        A GeoJSON Feature as a dict, from a request or a caller.
    limit : int, optional
        The deepest nesting allowed (:func:`geo.layers.geojson.json_too_deep`); default
        the settings' ``max_json_depth``.

    Returns
    -------
    None

    Raises
    ------
    SourceReadError
        Deeper, or too deep to write as JSON at all.

    Examples
    --------
    >>> check_feature_depth({"type": "Feature", "properties": {"a": [[1]]}}, 32)
    """
    limit = limit or current().max_json_depth
    try:
        text = json.dumps(feature, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):  # too deep to write, or a cycle
        text = None
    if text is None or json_too_deep(text, limit):
        raise SourceReadError(
            f"要素嵌套超过 {limit} 层 / the feature is nested deeper than {limit} levels; "
            "一个 GeoJSON Feature 约需 6 层 / a GeoJSON Feature needs about 6"
        )


def wkt_too_deep(text: str, limit: int = MAX_WKT_DEPTH) -> bool:
    """Whether WKT ``text`` nests brackets deeper than ``limit`` (checked before GEOS reads it).

    Parameters
    ----------
    text : str
        A WKT shape, e.g. from a CSV's ``wkt`` column.
    limit : int
        The deepest nesting allowed.

    Returns
    -------
    bool

    Examples
    --------
    >>> wkt_too_deep("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))"), wkt_too_deep("(" * 20 + ")" * 20)
    (False, True)
    """
    raw = text.encode("utf-8", "surrogatepass").translate(None, _NOT_PARENS)
    if len(raw) == 0:
        return False
    steps = np.where(np.frombuffer(raw, np.uint8) == ord("("), 1, -1)
    return bool(np.cumsum(steps).max() > limit)
