"""Bounded reading: what a source file or a feature may be before lifecircle reads it whole.

A hostile or broken file must fail fast, in little memory, with a short message: a 1 GB
sparse "CSV" is refused by its size before a byte is read; a CSV line longer than the
limit (a binary file has no line breaks) while it is scanned in chunks; a feature nested
deeper than the limit before a parser recurses into it. The limits are settings
(:class:`geo.settings.Settings`: ``max_file_bytes``, ``max_line_bytes``,
``max_json_depth``), so a real, larger file can be let through.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from geo.errors import SourceReadError
from geo.layers.geojson import json_too_deep
from geo.settings import current

__all__ = ["check_feature_depth", "check_file_size", "check_line_length"]

_CHUNK = 1 << 20


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


def check_line_length(path: Path, limit: int) -> None:
    """Refuse a text table with a line longer than ``limit`` bytes, scanning it in chunks.

    Parameters
    ----------
    path : pathlib.Path
        A CSV file.
    limit : int
        The longest line allowed, in bytes.

    Returns
    -------
    None

    Raises
    ------
    SourceReadError
        A line is longer: the message names the line, never quotes it.
    """
    run, line = 0, 1
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
            line += len(pieces) - 1


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
