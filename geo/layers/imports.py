"""Import files into layers.

Sources arrive as GeoJSON, GeoPackage, Shapefile (often GBK without a ``.cpg``), CSV (GBK
or UTF-8 with BOM, from Excel/WPS) and XLSX, in WGS-84, GCJ-02 (Gaode, Tencent), BD-09
(Baidu) or an EPSG system. :func:`geo.layers.sources.read_source` turns any of them into one WGS-84
frame; :func:`import_layer` renames, types, validates and writes it into the store, all or
nothing; :func:`geo.layers.exports.export_layer` writes a layer out in the format and CRS another
tool wants.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import convert_pairs
from geo.errors import ImportFailedError, LifecircleError, Problem
from geo.layers.headers import absent_fields, auto_mapping, column_clashes
from geo.layers.offsets import INSIDE, judge_layer, read_streets
from geo.layers.sources import Source, id_text, open_source
from geo.layers.store import LayerStore, Location, open_store, write_checked
from geo.layers.validate import coerce_layer, validate_layer
from geo.schema import get_layer

__all__ = [
    "SHP_FIELD_NAMES",
    "ImportReport",
    "OptionError",
    "assign_ids",
    "import_layer",
]

#: Schema fields longer than a DBF field name (10 bytes) and their shapefile names; import
#: maps them back, so an exported shapefile imports unchanged.
SHP_FIELD_NAMES = {
    "subdistrict": "subdistrct",
    "floor_area_m2": "floor_m2",
    "health_station": "health_stn",
    "residential_area_id": "res_areaid",
}

_ID_DECIMALS = 6  # ~0.1 m: the same file gives the same ids, float noise does not matter
_FIX_HINT = "修正后重试，或用 --skip-invalid 跳过 / fix them, or pass --skip-invalid"


class OptionError(LifecircleError, ValueError):
    """An import or export option that cannot be used (unknown format, mode or folder).

    Parameters
    ----------
    message : str
        Bilingual: what is wrong and what to use instead.
    """


@dataclass
class ImportReport:
    """What :func:`import_layer` did: how many features went where, what was left out.

    Parameters
    ----------
    layer : str
        The layer imported into.
    source : str
        The source file, as given.
    path : pathlib.Path or str
        Where the layer was written (its store location).
    imported : int
        How many features were written from the source.
    skipped : list of Problem
        The errors of the rows left out (with ``skip_invalid``).
    warnings : list of Problem
        Warnings about the file and the imported rows, including a new row next to a
        stored one (the same clinic under another id).
    mode : str
        ``append`` or ``replace``.
    crs : str
        Short name of the source CRS.
    encoding : str or None
        The text encoding of a CSV or shapefile; None for other files.
    skipped_features : list of str
        Labels (``row 5``, an id) of the rows left out.
    mapped : dict of str to str
        Columns renamed automatically (``{"名称": "name"}``): Chinese headers recognised
        by :func:`geo.layers.headers.auto_mapping`; ``--map`` renames are not repeated.
    dropped : list of str
        Source columns left out with ``drop``.
    """

    layer: str
    source: str
    path: Path | str
    imported: int
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    mode: str = "append"
    crs: str = "wgs84"
    encoding: str | None = None
    skipped_features: list[str] = field(default_factory=list)
    mapped: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A short bilingual summary, then one line per skipped problem and per warning.

        Returns
        -------
        str
            Lines joined by newlines: counts, source and CRS, where written, then ``✗`` for
            each skipped problem and ``!`` for each warning.

        Examples
        --------
        >>> print(ImportReport("clinics", "诊所.csv", "layers/clinics.geojson", 3).describe())
        导入 3 条到 clinics（跳过 0 条）/ imported 3 features into clinics (0 skipped, mode append)
          来源 / source: 诊所.csv · 坐标系 / CRS: wgs84
          写入 / written: layers/clinics.geojson
        """
        n, skipped = self.imported, len(self.skipped_features)
        encoding = f" · 编码 / encoding: {self.encoding}" if self.encoding else ""
        lines = [
            f"导入 {n} 条到 {self.layer}（跳过 {skipped} 条）/ imported {n} features into "
            f"{self.layer} ({skipped} skipped, mode {self.mode})",
            f"  来源 / source: {self.source} · 坐标系 / CRS: {self.crs}{encoding}",
            f"  写入 / written: {self.path}",
        ]
        if self.mapped:
            pairs = ", ".join(f"{a}→{b}" for a, b in self.mapped.items())
            lines.append(
                f"  自动改名 / renamed automatically: {pairs}（不对时用 --map 改 / override with "
                "--map COLUMN=FIELD）"
            )
        if self.dropped:
            lines.append(f"  未导入的列 / columns left out (--drop): {', '.join(self.dropped)}")
        lines += [f"  ✗ 跳过 / skipped: {p}" for p in self.skipped]
        lines += [f"  ! {p}" for p in self.warnings]
        return "\n".join(lines)


# ---------------------------------------------------------------------------- import


def assign_ids(layer: str, props: pd.DataFrame, geoms: np.ndarray) -> list[str]:
    """Source ids where given, else ``<layer>-`` + 10 hex of sha1(layer, name, position).

    The same row of the same file gets the same id on every import, so appending a file
    twice is caught as duplicate ids. Same name at the same spot: ``-2``, ``-3`` in order.

    Parameters
    ----------
    layer : str
        The layer, the first part of every id made.
    props : pandas.DataFrame
        The rows; their ``id`` and ``name`` columns are used when present.
    geoms : numpy.ndarray
        One WGS-84 geometry (or None) per row: a made id hashes a point's position, or the
        centroid of another shape, to 6 decimals (about 0.1 m).

    Returns
    -------
    list of str
        One id per row, in row order.

    Examples
    --------
    >>> from shapely import Point
    >>> props = pd.DataFrame({"id": ["c1", None, None], "name": ["a", "b", "b"]})
    >>> ids = assign_ids("clinics", props, np.array([Point(121.5, 31.2)] * 3))
    >>> ids[0], ids[1].startswith("clinics-"), ids[2] == ids[1] + "-2"
    ('c1', True, True)
    """
    given = [id_text(v) for v in props["id"]] if "id" in props.columns else [None] * len(props)
    names = props["name"].tolist() if "name" in props.columns else [None] * len(props)
    used = {i for i in given if i}
    ids = []
    for value, name, geom in zip(given, names, geoms, strict=True):
        if not value:
            where = "-"
            if geom is not None and not geom.is_empty:
                point = geom if geom.geom_type == "Point" else geom.centroid
                where = f"{point.x:.{_ID_DECIMALS}f},{point.y:.{_ID_DECIMALS}f}"
            key = f"{layer}|{id_text(name) or ''}|{where}".encode()
            value = base = f"{layer}-{hashlib.sha1(key).hexdigest()[:10]}"
            suffix = 2
            while value in used:
                value, suffix = f"{base}-{suffix}", suffix + 1
        used.add(value)
        ids.append(value)
    return ids


@dataclass
class _Prepared:
    props: pd.DataFrame
    notes: list[Problem]
    auto: dict[str, str]  # columns renamed automatically
    origin: dict[str, str]  # field -> the source column it came from (not --set)


def _prepare(
    src: Source,
    layer: str,
    mapping: dict[str, str],
    set_values: dict[str, Any],
    source: str,
    drop: list[str],
) -> _Prepared:
    """Shapefile names back to schema names, --drop, Chinese headers, --map, --set;
    coordinate columns out."""
    props = src.frame.drop(columns=src.frame.geometry.name)
    spec = get_layer(layer)
    if src.kind == "shp":
        back = {a: f for f, a in SHP_FIELD_NAMES.items() if spec.field(f) and f not in props}
        props = props.rename(columns={a: f for a, f in back.items() if a not in mapping})
    both = sorted(set(mapping) & set(drop))
    if both:
        raise OptionError(
            f"列 {', '.join(both)} 既在 --map 又在 --drop 中 / column {', '.join(both)} is both "
            "mapped and dropped; 只留一个 / use one of them"
        )
    unknown = [column for column in [*mapping, *drop] if column not in props.columns]
    if unknown:
        hint = f"可用列 / available columns: {', '.join(map(str, props.columns))}"
        problems = [
            Problem(source, None, c, f"源文件没有列 '{c}' / the source has no column '{c}'", hint)
            for c in unknown
        ]
        option = "--map" if all(c in mapping for c in unknown) else "--map/--drop"
        raise ImportFailedError(problems, f"{source}: {option} 列名错误 / unknown {option} column")
    props = props.drop(columns=drop)
    auto = auto_mapping(props.columns, layer, mapping, skip=src.coordinate_columns)
    notes = []
    for old, new in mapping.items():
        if new in props.columns and new not in mapping and new != old:
            props = props.drop(columns=new)
            message = f"原有列 '{new}' 被 '{old}' 替换 / column '{new}' replaced by '{old}'"
            notes.append(Problem(source, None, new, message, severity="warning"))
    renames = {**auto, **mapping}
    dropped = [c for c in src.coordinate_columns if c not in renames and c in props.columns]
    origin = {str(c): str(c) for c in props.columns if c not in renames}
    origin |= {new: old for old, new in renames.items()}
    props = props.drop(columns=dropped).rename(columns=renames)
    for key, value in set_values.items():
        props[key] = pd.Series([value] * len(props), index=props.index, dtype=object)
        origin.pop(key, None)
    for name in (f.name for f in spec.fields if f.kind == "bool" and f.name in props.columns):
        # GeoPackage/shapefile booleans with gaps come back as 1.0/0.0.
        values = [_numeric_bool(v) for v in props[name]]
        props[name] = pd.Series(values, index=props.index, dtype=object)
    return _Prepared(props, notes, auto, origin)


def _column_problems(
    frame: pd.DataFrame, layer: str, origin: dict[str, str], source: str, rows: list[Problem]
) -> list[Problem]:
    """Whole-column problems said once instead of once per row: a required field no column
    holds, a column whose values all mean something else (Baidu's ``level``)."""
    if len(frame) == 0:
        return rows
    said = absent_fields(frame.columns, layer, source) + column_clashes(
        frame, layer, origin, source
    )
    fields = {p.field for p in said}
    return said + [p for p in rows if p.feature is None or p.field not in fields]


def _offset_problems(
    store: LayerStore, layer: str, geoms: np.ndarray, source: str
) -> list[Problem]:
    """A warning when the source lines up with the store clearly better after a GCJ-02 or
    BD-09 conversion (:func:`geo.layers.offsets.judge_layer`); its hint is a template
    :func:`_offset_hint` fills once the import knows what the layer held before."""
    lines = read_streets(store.streets(), geoms)
    others = {}
    for other in store.layers():
        if other == layer or (lines is not None and other != INSIDE.get(layer)):
            continue
        try:
            others[other] = store.read(other)
        except LifecircleError:  # a broken layer is validate's business
            continue
    found = judge_layer(layer, geoms, lines, others, source, "{crs}")
    return [found] if found is not None else []


def _offset_hint(
    problem: Problem, layer: str, source: str, mode: str, kept: int, new: int
) -> Problem:
    """The offset warning's advice, safe for what the layer held: ``--mode replace`` only
    when the import replaced the layer or the layer had no other rows before it."""
    crs = problem.hint
    if new == 0:  # nothing was written
        hint = (
            f"若来自高德/腾讯/百度，改正后加 --crs {crs} 导入 / if it comes from Gaode/Tencent/"
            f"Baidu, import it with --crs {crs} once fixed: lifecircle import {layer} {source} "
            f"--crs {crs}"
        )
    elif mode == "replace" or kept == 0:
        hint = (
            f"若来自高德/腾讯/百度，加 --crs {crs} 重新导入（--mode replace 覆盖刚写入的要素）/ "
            f"if it comes from Gaode/Tencent/Baidu, import it again with --crs {crs} (--mode "
            f"replace overwrites what was just written): lifecircle import {layer} {source} "
            f"--crs {crs} --mode replace"
        )
    else:
        hint = (
            f"若来自高德/腾讯/百度：图层中原有 {kept} 条其他要素，不要用 --mode replace（会一并删除"
            f"它们）；先删除刚导入的 {new} 条要素（或改为导入到新的数据目录 --data），再加 --crs "
            f"{crs} 重新导入 / if it comes from Gaode/Tencent/Baidu: {layer} already held {kept} "
            f"other features, so do not use --mode replace (it deletes them too); delete the "
            f"{new} features just imported (or import into a fresh store with --data), then "
            f"import again: lifecircle import {layer} {source} --crs {crs}"
        )
    return dataclasses.replace(problem, hint=hint)


def _numeric_bool(value: Any) -> Any:
    numeric = isinstance(value, int | float | np.integer | np.floating)
    return bool(value) if numeric and not isinstance(value, bool) and value in (0, 1) else value


def import_layer(
    layer: str,
    path: str | os.PathLike[str],
    *,
    folder: Location = None,
    mode: str = "append",
    crs: str | None = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    set_values: dict[str, Any] | None = None,
    skip_invalid: bool = False,
    drop: list[str] | None = None,
    allow_outside: bool = False,
) -> ImportReport:
    """Import a source file into ``layer``: every row, or with any error none at all.

    Parameters
    ----------
    layer : str
        Target layer.
    path : path-like
        Source file, in any format :func:`geo.layers.sources.read_source` reads.
    folder : LayerStore, path or URL, optional
        The store (default: the settings' store, :func:`geo.layers.store.open_store`).
    mode : {"append", "replace"}
        Add to the layer (ids must be new) or replace the layer.
    crs, encoding, lon_col, lat_col, sheet : str, optional
        How to read the source, as in :func:`geo.layers.sources.read_source`.
    mapping : dict, optional
        ``{source column: field}`` renames (``--map 名称=name``). Common Chinese headers
        (名称, 地址, 户数, 核定床位 …) are renamed without it
        (:func:`geo.layers.headers.auto_mapping`); ``mapping`` wins, the report lists them.
    set_values : dict, optional
        ``{field: value}`` set on every feature (``--set level=station``).
    skip_invalid : bool
        Import the valid rows; the report lists the others and why.
    drop : list of str, optional
        Source columns left out (``--drop level``): one that has a field's name but
        another meaning, such as Baidu's ``level`` (geocoding precision) in a clinics table.
    allow_outside : bool
        Import features outside the study region (``LIFECIRCLE_STUDY_REGION`` and its
        margin) with a warning (``--allow-outside``); by default they are errors.

    Returns
    -------
    ImportReport
        How many features were written, which rows were skipped and why, the warnings.

    Raises
    ------
    ImportFailedError
        A row has an error and not ``skip_invalid``: every problem names file, row and
        field, and nothing is written. Warnings never block. Also when a ``mapping`` or
        ``drop`` column is not in the source, no column holds a required field, a column's
        values are all outside its field's allowed values (one error for the column), no
        row is valid, or the merged layer has errors.
    SourceReadError
        The file cannot be read at all, or is over the reading limits of the settings
        (size, line length, JSON depth: :func:`geo.layers.sources.open_source`).
    OptionError
        ``mode`` is neither ``append`` nor ``replace``, or a column is both mapped and
        dropped.
    CRSError
        ``crs`` is not a CRS lifecircle knows.
    UnknownLayerError
        ``layer`` is not one of the layers.
    StoreError
        The store cannot be opened, or its write lock not taken in time.

    Notes
    -----
    Ids: see :func:`assign_ids`; in append mode a second import of the same file fails as
    duplicate ids ("already imported? use --mode replace"). ``entrances`` are converted
    from the source CRS like the geometries. The store lock is held from reading the
    layer to writing it, so concurrent imports cannot lose each other's rows. A source
    read as WGS-84 is measured against the store (the compounds, for layers that stand in
    them; else the streets; else the other layers): when it lines up clearly better
    converted from GCJ-02 or BD-09, a warning gives the ``--crs`` to use (rule and
    thresholds: :mod:`geo.layers.offsets`), with ``--mode replace`` only when that loses
    no row the layer held before this import.
    """
    if mode not in ("append", "replace"):
        raise OptionError(f"未知模式 '{mode}' / unknown mode; 用 / use append or replace.")
    store = open_store(folder)
    target, source = store.location(layer), str(path)
    src = open_source(Path(path), encoding, crs, lon_col, lat_col, sheet)
    prepared = _prepare(
        src, layer, dict(mapping or {}), dict(set_values or {}), source, list(drop or [])
    )
    props, notes = prepared.props, prepared.notes
    geoms, labels = np.asarray(src.frame.geometry.values, dtype=object), src.labels
    ids = assign_ids(layer, props, geoms)

    # Check rows under their labels ("row 5"), not generated ids, so that every message
    # points at a line the user can find in the source file.
    probe = gpd.GeoDataFrame(props.assign(id=labels), geometry=geoms, crs="EPSG:4326")
    frame, coerce_problems = coerce_layer(probe, layer, source=source)
    if "entrances" in frame.columns:
        gates = [convert_pairs(v, src.crs, True) for v in frame["entrances"]]
        frame["entrances"] = pd.Series(gates, index=frame.index, dtype=object)
    seen = {(p.feature, p.field) for p in coerce_problems}
    seen |= {(p.feature, "geometry") for p in src.problems}  # said once, by the reader
    problems = src.problems + coerce_problems + notes + src.notes
    outside = "warning" if allow_outside else "error"
    problems += [
        p
        for p in validate_layer(frame, layer, source, outside=outside)
        if (p.feature, p.field) not in seen
    ]
    problems = _column_problems(frame, layer, prepared.origin, source, problems)
    offsets = _offset_problems(store, layer, geoms, source) if src.crs_label == "wgs84" else []
    first: dict[str, str] = {}
    for label, value in zip(labels, ids, strict=True):
        if value in first:
            message = f"编号 {value} 与 {first[value]} 重复 / id {value} duplicates {first[value]}"
            problems.append(
                Problem(source, label, "id", message, "每个要素需唯一编号 / unique ids")
            )
        first.setdefault(value, label)
    frame["id"] = pd.Series(ids, index=frame.index, dtype=object)

    with store.transaction() as transaction:
        existing = transaction.read(layer) if mode == "append" else frame.iloc[:0]
        hint = "已经导入过？用 --mode replace 替换 / already imported? use --mode replace"
        known = set(existing["id"].astype(str))
        for label, value in zip(labels, ids, strict=True):
            if value in known:
                message = f"编号 {value} 已在 {layer} 中 / duplicate id: {value} already in {layer}"
                problems.append(Problem(source, label, "id", message, hint))
        errors = [p for p in problems if p.severity == "error"]
        if errors and (not skip_invalid or any(p.feature is None for p in errors)):
            summary = (
                f"{source}: 导入失败，未写入任何数据 / import failed, nothing written; {_FIX_HINT}"
            )
            said = [_offset_hint(p, layer, source, mode, len(existing), 0) for p in offsets]
            raise ImportFailedError(
                errors + [p for p in problems if p.severity != "error"] + said, summary
            )
        bad = {p.feature for p in errors}
        keep = np.array([label not in bad for label in labels], dtype=bool)
        if not keep.any():
            summary = f"{source}: 没有有效行，未写入 / no valid rows, nothing written"
            raise ImportFailedError(errors, summary)
        new = frame[keep].set_axis(pd.Index(np.array(ids, dtype=object)[keep]), axis=0)
        kept = {label for label, k in zip(labels, keep, strict=True) if k}
        warns = [p for p in problems if p.severity != "error" and p.feature in kept | {None}]
        warns += [_offset_hint(p, layer, source, mode, len(existing), len(kept)) for p in offsets]
        merged = new
        if len(existing):
            merged = pd.concat([existing, new])
            warns += _merged_warnings(
                merged, layer, target, dict(zip(ids, labels, strict=True)), warns
            )
        write_checked(transaction, layer, merged)
    return ImportReport(
        layer, source, target, int(keep.sum()), errors, warns, mode, src.crs_label,
        src.encoding, [label for label in labels if label in bad], prepared.auto, list(drop or []),
    )  # fmt: skip


def _merged_warnings(
    merged: gpd.GeoDataFrame,
    layer: str,
    target: Path | str,
    label_of: dict[str, str],
    already: list[Problem],
) -> list[Problem]:
    """Check the layer as it will be (existing + new); an error there stops the import."""
    problems = validate_layer(merged, layer, source=str(target))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        summary = (
            f"{target}: 合并后的图层有错误，未写入 / the merged layer has errors, nothing "
            "written; 先运行 / run `lifecircle validate`"
        )
        raise ImportFailedError(errors, summary)
    # News are warnings about a new row next to an old one (the same clinic under another
    # id); the others were reported for the source rows already.
    seen = {(p.feature, p.field) for p in already}
    return [
        Problem(p.file, label_of[p.feature], p.field, p.message, p.hint, p.severity)
        for p in problems
        if p.feature in label_of and (label_of[p.feature], p.field) not in seen
    ]
