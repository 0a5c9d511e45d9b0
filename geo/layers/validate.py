"""Checks of layer data against :mod:`geo.schema`: every problem in one pass, never a traceback.

:func:`coerce_layer` turns loosely typed values from CSV/Excel/shapefiles ("12", "是",
"1980年代") into the schema's types; :func:`validate_layer` then checks a frame strictly and
returns a list of :class:`~geo.errors.Problem` naming file, feature and field, each with
what to do about it. Pure: frames in, problems out; :func:`geo.layers.store.validate_store` runs these
checks over a whole store.
"""

from __future__ import annotations

import difflib
import math
import re
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import Problem, ValidationError
from geo.layers.geojson import load_json
from geo.layers.geometry_checks import check_geometry, check_near_duplicates
from geo.layers.plausibility import check_plausibility
from geo.layers.stages import check_stages
from geo.schema import Field, LayerSpec, get_layer
from geo.settings import Settings, current

__all__ = [
    "coerce_layer",
    "format_report",
    "is_missing",
    "labels_of",
    "raise_for_errors",
    "validate_layer",
]


_TRUE = {"true", "t", "yes", "y", "1", "是", "有", "对"}
_FALSE = {"false", "f", "no", "n", "0", "否", "无", "没有"}
_DECADE = re.compile(r"^(1[89]|20)\d0s$")
_DECADE_ZH = re.compile(r"^((?:1[89]|20)\d0)年代$")
_INT64 = 2.0**63  # whole numbers a GeoPackage, a shapefile and numpy can hold
_ANY_NUMBER = Field("number", "float")
_NESTED = "应为单个值，不能是嵌套的对象或列表 / must be a single value, not a nested object or list"
#: Ids that a web address cannot carry as they are (``.`` and ``..`` are path steps).
_UNROUTABLE_IDS = {".", ".."}
_ID_FORBIDDEN = "/\\?"  # path separators and the query mark: clients send them raw


def _brief(value: Any, limit: int = 40) -> str:
    """A value for a message, cut so that a hostile one cannot flood the output."""
    text = repr(value) if not isinstance(value, str) else value
    return (
        text if len(text) <= limit else text[:limit] + f"…（共 {len(text)} 字 / {len(text)} chars)"
    )


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and blank text: a value that was not given.

    Parameters
    ----------
    value : Any
        A property value.

    Returns
    -------
    bool
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _coerce_value(value: Any, spec: Field) -> Any:
    """Convert one loosely typed value to the field's type; raise ValueError if impossible."""
    if is_missing(value):
        return None
    kind = spec.kind
    if isinstance(value, np.generic):
        value = value.item()
    if kind != "lonlat_list" and isinstance(value, dict | list | tuple):
        raise ValueError(_NESTED)
    if kind == "str":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # ids read from Excel arrive as 12.0
        # Spaces only: a leading tab or line break is kept, so that text such as "\t=1+1"
        # stays what it was instead of becoming a live formula "=1+1" in a spreadsheet.
        text = str(value).strip(" \u3000")
        return dict(spec.synonyms).get(text, text) if spec.synonyms else text
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError("布尔值不是整数 / a yes/no is not a whole number")
        if isinstance(value, str):
            value = value.strip().replace(",", "").replace("，", "")
            if len(value) > 30:
                raise ValueError(f"'{value[:30]}…' 过长 / is too long for a number")
        number = float(value)
        if not math.isfinite(number) or abs(number) >= _INT64:
            raise ValueError(f"{_brief(value)} 超出 64 位整数范围 / is outside the 64-bit range")
        if not number.is_integer():
            raise ValueError(f"'{_brief(value)}' 不是整数 / is not a whole number")
        return int(number)
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError("布尔值不是数字 / a yes/no is not a number")
        if isinstance(value, str):
            value = value.strip().replace(",", "")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{_brief(value)} 不是有限数 / is not a finite number")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"'{value}' 不是 是/否 / is not yes/no (use true/false, 是/否)")
    if kind == "date":
        if isinstance(value, pd.Timestamp | date):
            return pd.Timestamp(value).date().isoformat()
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    if kind == "year":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        match = _DECADE_ZH.match(text)
        if match:
            return f"{match.group(1)}s"
        return text
    if kind == "lonlat_list":
        if isinstance(value, str):
            value = load_json(value, "entrances", max_depth=4)  # [[lon, lat], …] is 2 deep
        return [[float(lon), float(lat)] for lon, lat in value]
    raise ValueError(f"unknown field kind {kind}")


def coerce_layer(
    frame: gpd.GeoDataFrame, layer: str, source: str = "<data>"
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Return a copy of ``frame`` with schema fields converted to their types.

    Values that cannot be converted are left as they were and reported, so the report
    from :func:`validate_layer` afterwards names them again with the field's rules.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Loosely typed features (CSV, Excel, shapefile); not changed.
    layer, source : str
        The layer (else :class:`~geo.errors.UnknownLayerError`); the file, for problems.

    Returns
    -------
    frame : geopandas.GeoDataFrame
        The copy; converted fields hold Python values, missing ones None.
    problems : list of Problem
        One error per value that could not be converted.
    """
    spec = get_layer(layer)
    out = frame.copy()
    problems: list[Problem] = []
    labels = labels_of(out)
    for field in spec.fields:
        if field.name not in out.columns:
            continue
        converted = []
        for label, value in zip(labels, out[field.name].tolist(), strict=True):
            try:
                converted.append(_coerce_value(value, field))
            except (ValueError, TypeError) as exc:
                converted.append(value)
                problems.append(
                    Problem(
                        source,
                        label,
                        field.name,
                        f"无法转换 / cannot convert: {exc}",
                        _hint_for(field),
                    )
                )
        out[field.name] = pd.Series(converted, index=out.index, dtype=object)
    return out, problems


def labels_of(frame: pd.DataFrame) -> list[str]:
    """One name per row for messages: its id, else ``#n`` (1-based).

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with or without an ``id`` column.

    Returns
    -------
    list of str
    """
    ids = frame["id"].tolist() if "id" in frame.columns else [None] * len(frame)
    return [
        _brief(str(value), 80) if not is_missing(value) else f"#{position + 1}"
        for position, value in enumerate(ids)
    ]


def _hint_for(field: Field) -> str:
    if field.enum:
        return f"可选值 / allowed: {', '.join(field.enum)}"
    return {
        "int": "填整数 / use a whole number",
        "float": "填数字 / use a number",
        "bool": "填 true/false 或 是/否",
        "date": "用 ISO 日期 YYYY-MM-DD / use an ISO date",
        "year": "填年份如 1986 或年代如 1980s / a year like 1986 or a decade like 1980s",
        "lonlat_list": "[[经度, 纬度], …] WGS-84 / [[lon, lat], …]",
        "str": "填文字 / use text",
    }[field.kind]


def _type_message(value: Any, field: Field) -> str:
    """Why a value is not of its field's type: a number no column can hold, or another type."""
    if isinstance(value, bool) or field.kind not in ("int", "float"):
        out_of_range = False
    elif isinstance(value, int | np.integer):
        out_of_range = abs(int(value)) >= _INT64
    else:
        out_of_range = isinstance(value, float | np.floating) and (
            not math.isfinite(float(value)) or abs(float(value)) >= _INT64
        )
    if out_of_range:
        return (
            f"数值 {_brief(value)} 超出范围（64 位、有限）/ {_brief(value)} is outside the "
            "64-bit range or not finite"
        )
    return f"类型错误 / wrong type: {_brief(value)} is not {field.kind}"


def _type_ok(value: Any, field: Field) -> bool:
    kind = field.kind
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        # pandas holds an int column with gaps as floats (12.0), e.g. every layer read back
        # by geo.layers.store; the store writes such values as ints again.
        if isinstance(value, float | np.floating):
            return float(value).is_integer() and abs(float(value)) < _INT64
        return (
            isinstance(value, int | np.integer)
            and not isinstance(value, bool)
            and abs(int(value)) < _INT64
        )
    if kind == "float":
        return (
            isinstance(value, int | float | np.integer | np.floating)
            and not isinstance(value, bool)
            and math.isfinite(float(value))
        )
    if kind == "bool":
        return isinstance(value, bool | np.bool_)
    if kind == "date":
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return False
        return True
    if kind == "year":
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            return 1800 <= int(value) <= 2100
        return isinstance(value, str) and bool(_DECADE.match(value))
    if kind == "lonlat_list":
        return isinstance(value, list) and all(
            isinstance(pair, list | tuple)
            and len(pair) == 2
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in pair)
            for pair in value
        )
    return False


def validate_layer(
    frame: gpd.GeoDataFrame,
    layer: str,
    source: str = "<data>",
    *,
    outside: str = "warning",
    settings: Settings | None = None,
) -> list[Problem]:
    """Check ``frame`` against ``layer``'s rules; return every problem found.

    Errors: missing required fields, wrong types, values outside enumerations or ranges
    (numbers beyond 64 bits or a field's plausible maximum, infinities), nested objects
    or lists in a single-valued field, text longer than the settings' ``max_text_chars``,
    empty or invalid geometry (with the reason), geometry of the wrong type, coordinates
    outside WGS-84 or with longitude and latitude swapped, missing, duplicate or
    unroutable ids (``.``, ``..``, ``/``, ``\\``, ``?``, surrounding spaces).
    Warnings: likely duplicates (same name within 5 m), gates far from their compound,
    unknown properties, and sizes, densities and distances no real Shanghai layer has
    (:mod:`geo.layers.plausibility`). A feature outside the study region
    (:meth:`geo.settings.Settings.study_box`) is a warning or an error, as ``outside`` says.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        WGS-84 features with typed values (see :func:`coerce_layer`).
    layer, source : str
        The layer (else :class:`~geo.errors.UnknownLayerError`); the file, for problems.
    outside : {"warning", "error"}
        Severity of a feature outside the study region: ``"error"`` for what is being
        imported or edited, ``"warning"`` for what is stored (validate).
    settings : Settings, optional
        The study region and the text limit; default :func:`geo.settings.current`.

    Returns
    -------
    list of Problem
        Errors and warnings; empty when the frame is clean.

    Examples
    --------
    >>> from geo.layers.store import read_layer
    >>> validate_layer(read_layer("clinics"), "clinics")
    []
    """
    spec = get_layer(layer)
    settings = settings or current()
    problems: list[Problem] = []
    labels = labels_of(frame)

    for field in spec.fields:
        present = field.name in frame.columns
        values = frame[field.name].tolist() if present else [None] * len(frame)
        for label, value in zip(labels, values, strict=True):
            if is_missing(value):
                if field.required:
                    problems.append(
                        Problem(
                            source,
                            label,
                            field.name,
                            "缺少必填字段 / required field missing",
                            _hint_for(field),
                        )
                    )
                continue
            if not _type_ok(value, field):
                problems.append(
                    Problem(
                        source,
                        label,
                        field.name,
                        _type_message(value, field),
                        _hint_for(field),
                    )
                )
                continue
            if field.enum and value not in field.enum:
                close = difflib.get_close_matches(str(value), field.enum, n=1)
                hint = f"是否想写 / did you mean '{close[0]}'? " if close else ""
                problems.append(
                    Problem(
                        source,
                        label,
                        field.name,
                        f"不在可选值中 / '{_brief(value)}' is not an allowed value",
                        hint + _hint_for(field),
                    )
                )
            if field.minimum is not None and value < field.minimum:
                problems.append(
                    Problem(
                        source,
                        label,
                        field.name,
                        f"数值过小 / {_brief(value)} is below the minimum {field.minimum:g}",
                    )
                )
            elif field.maximum is not None and value > field.maximum:
                problems.append(
                    Problem(
                        source,
                        label,
                        field.name,
                        f"数值 {_brief(value)} 超出合理范围（最大 {field.maximum:g}）/ {_brief(value)} "
                        f"is above the largest plausible value {field.maximum:g}",
                        "检查单位和位数 / check the unit and the number of digits",
                    )
                )

    problems += _check_ids(frame, labels, source)
    problems += _check_texts(frame, labels, spec, source, settings.max_text_chars)
    problems += _check_relations(frame, labels, layer, source)
    problems += check_geometry(
        frame, labels, spec.geometry_types, source, settings.study_box(), outside
    )
    problems += check_near_duplicates(frame, labels, source)
    problems += check_plausibility(frame, labels, layer, source)
    known = {f.name for f in spec.fields} | {frame.geometry.name}
    for column in frame.columns:
        if column not in known:
            problems.append(
                Problem(
                    source,
                    None,
                    column,
                    "未定义的字段（将原样保留）/ property not in the schema (kept as is)",
                    "需要改名时导入用 --map 源=目标 / rename with --map src=dst",
                    "warning",
                )
            )
    return problems


#: Ids are part of a feature's web address (``/collections/{layer}/items/{id}``).
MAX_ID_LENGTH = 128


def _check_ids(frame: pd.DataFrame, labels: list[str], source: str) -> list[Problem]:
    if "id" not in frame.columns:
        return []
    ids = frame["id"]
    counts = ids[ids.notna()].astype(str).value_counts()
    problems = []
    for duplicate, count in counts[counts > 1].items():
        problems.append(
            Problem(
                source,
                duplicate,
                "id",
                f"编号重复 {count} 次 / id used {count} times",
                "每个要素需唯一编号 / give every feature its own id",
            )
        )
    for value in ids[ids.notna()].astype(str):
        if (
            len(value) > MAX_ID_LENGTH
            or any(c in value for c in _ID_FORBIDDEN)
            or not value.isprintable()
            or value in _UNROUTABLE_IDS
            or value != value.strip()
        ):
            problems.append(
                Problem(
                    source,
                    _brief(value),
                    "id",
                    f"编号不可为 . 或 ..，不可含 / \\ ?、控制字符或首尾空格，且不超过 "
                    f"{MAX_ID_LENGTH} 字 / an id must not be . or .., contain / \\ ? or "
                    f"control characters, start or end with a space, or be longer than "
                    f"{MAX_ID_LENGTH} characters: it is part of the feature's web address",
                    "换用字母、数字、汉字、- 或 _ / use letters, digits, Chinese, - or _",
                )
            )
    return problems


def _check_texts(
    frame: pd.DataFrame, labels: list[str], spec: LayerSpec, source: str, limit: int
) -> list[Problem]:
    """Text longer than ``limit`` characters, in a field or an extra property; a nested
    object or list, an infinite number or one beyond 64 bits in a property the schema does
    not declare (kept as it is otherwise)."""
    problems = []
    lists = {f.name for f in spec.fields if f.kind == "lonlat_list"}
    declared = {f.name for f in spec.fields}
    for column in frame.columns:
        if column == frame.geometry.name or column in lists:
            continue
        for label, value in zip(labels, frame[column].tolist(), strict=True):
            if isinstance(value, str) and len(value) > limit:
                problems.append(
                    Problem(
                        source,
                        label,
                        str(column),
                        f"文字过长：{len(value)} 字，上限 {limit} / text of {len(value)} "
                        f"characters, more than {limit}",
                        "缩短，或调高 LIFECIRCLE_MAX_TEXT_CHARS / shorten it, or raise "
                        "LIFECIRCLE_MAX_TEXT_CHARS",
                    )
                )
            elif column not in declared and isinstance(value, dict | list | tuple):
                problems.append(Problem(source, label, str(column), _NESTED))
            elif (
                column not in declared
                and isinstance(value, int | float)
                and (not math.isfinite(value) if isinstance(value, float) else abs(value) >= _INT64)
            ):  # Infinity is not JSON, and no GeoPackage column holds 2**64
                problems.append(
                    Problem(source, label, str(column), _type_message(value, _ANY_NUMBER))
                )
    return problems


def _check_relations(
    frame: pd.DataFrame, labels: list[str], layer: str, source: str
) -> list[Problem]:
    problems = []
    if layer == "residential_areas" and {"elderly", "population"} <= set(frame.columns):
        for label, elderly, population in zip(
            labels, frame["elderly"], frame["population"], strict=True
        ):
            if (
                isinstance(elderly, int | np.integer)
                and isinstance(population, int | np.integer)
                and elderly > population
            ):
                problems.append(
                    Problem(
                        source,
                        label,
                        "elderly",
                        f"老人数 {elderly} 大于人口 {population} / elderly exceeds population",
                        "检查两列是否填反 / check the two columns",
                    )
                )
    if layer == "renovation_projects" and "status" in frame.columns:
        problems += check_stages(frame, labels, source)
    return problems


def format_report(problems: list[Problem], most: int = 200) -> str:
    """One human report: errors first, then warnings, each line naming file, feature, field.

    Parameters
    ----------
    problems : list of Problem
        As :func:`validate_layer` returns them.
    most : int
        Lines shown of each severity; the rest are counted (a hostile file of a million
        bad rows gives a report a person can read; ``validate --json`` has them all).

    Returns
    -------
    str
        Ends with the counts, or ``全部通过 / all layers valid ✓`` when there are none.
    """
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    lines = []
    for found, title, mark in ((errors, "错误 / errors", "✗"), (warnings, "警告 / warnings", "!")):
        if found:
            lines.append(f"{title} ({len(found)}):")
            lines += [f"  {mark} {p}" for p in found[:most]]
            if len(found) > most:
                rest = len(found) - most
                lines.append(f"  … 另有 {rest} 条未列出 / {rest} more not shown")
    if not problems:
        lines.append("全部通过 / all layers valid ✓")
    else:
        lines.append(
            f"共 {len(errors)} 个错误、{len(warnings)} 个警告 / "
            f"{len(errors)} error(s), {len(warnings)} warning(s)"
        )
    return "\n".join(lines)


def raise_for_errors(problems: list[Problem], summary: str) -> None:
    """Raise :class:`ValidationError` when any problem is an error.

    Parameters
    ----------
    problems : list of Problem
        All of them travel with the error, warnings too.
    summary : str
        The error's first line.

    Returns
    -------
    None

    Raises
    ------
    ValidationError
        Any problem has severity ``"error"``.
    """
    if any(p.severity == "error" for p in problems):
        raise ValidationError(problems, summary)
