"""One whole analysis, as ``lifecircle analyze`` runs it: coverage, summaries, gaps, isochrones.

:func:`analyze` computes (frames in, frames out); :func:`write_outputs` writes them, each
file atomically: ``coverage.geojson`` and ``coverage.csv`` (UTF-8 with BOM so that Excel
and WPS show Chinese), ``summary.json``, ``gaps.geojson`` (gap zones), ``gap_areas.csv``
(uncovered compounds ranked by people affected), ``capacity.csv`` (each facility's load,
:mod:`geo.analysis.capacity`) and ``under_served.csv`` (compounds covered but under-served),
``completeness.csv`` (the catalogue kinds each compound reaches, per tier and walker,
:mod:`geo.analysis.completeness`),
``opportunities.geojson`` and ``isochrones.geojson`` and ``isochrones_per_facility.geojson``
(with a network).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
from tqdm import tqdm

from geo.analysis.capacity import SPECS, Capacity, capacity, under_served
from geo.analysis.completeness import (
    completeness,
    completeness_summary,
    completeness_table,
    lacking,
)
from geo.analysis.coverage import Origins, analyze_areas, area_origins, gaps, summarize
from geo.analysis.isochrones import ISOCHRONE_MINUTES, isochrones, type_shapes
from geo.analysis.opportunities import opportunities
from geo.analysis.params import PROFILES, WalkParams
from geo.analysis.study import Study
from geo.atomic import atomic_write_bytes
from geo.errors import QueryError, StoreError
from geo.layers.cells import safe_table
from geo.layers.geojson import geometry_texts, to_feature_collection
from geo.network.graph import components_report
from geo.schema import FACILITY_LAYERS
from geo.version import __version__

__all__ = [
    "OUTPUT_FILES",
    "Analysis",
    "analyze",
    "available_cores",
    "encode_outputs",
    "summary_table",
    "write_outputs",
]


@dataclass
class Analysis:
    """Everything one run produces (frames in WGS-84)."""

    coverage: gpd.GeoDataFrame
    summary: pd.DataFrame
    gap_areas: pd.DataFrame
    gap_zones: gpd.GeoDataFrame | None
    isochrones: gpd.GeoDataFrame | None
    opportunities: gpd.GeoDataFrame
    settings: dict[str, Any]
    #: one isochrone per facility and minutes value, with ``facility_id`` and ``name``
    facility_isochrones: gpd.GeoDataFrame | None = None
    #: supply shared among the people who reach it (E2SFCA); its ratios are also columns
    #: of :attr:`coverage`
    capacity: Capacity | None = None
    #: compounds covered by a type but under-served by it (:func:`under_served`)
    under_served: pd.DataFrame | None = None
    #: which catalogue kinds each compound reaches (:mod:`geo.analysis.completeness`)
    completeness: pd.DataFrame | None = None
    #: output files already encoded (``analyze(encode_tables=True)``: the tables, made
    #: while the shapes were traced, and the shapes' files, as they came in);
    #: :func:`encode_outputs` takes them as they are, so a caller that changes a frame
    #: afterwards must empty this
    encoded: dict[str, bytes] = field(default_factory=dict)


class _Tables(NamedTuple):
    """What :func:`analyze` computes before the shapes (beside them, where they are forked)."""

    origins: Origins
    result: pd.DataFrame
    supply: Capacity
    coverage: gpd.GeoDataFrame
    summary: pd.DataFrame
    ranked: pd.DataFrame
    short: pd.DataFrame
    complete: pd.DataFrame
    encoded: dict[str, bytes]


#: Every file :func:`write_outputs` may write.
OUTPUT_FILES = (
    "coverage.geojson", "coverage.csv", "summary.json", "gap_areas.csv", "capacity.csv",
    "under_served.csv", "completeness.csv", "opportunities.geojson", "gaps.geojson",
    "isochrones.geojson", "isochrones_per_facility.geojson",
)  # fmt: skip


def analyze(
    study: Study,
    params: WalkParams | None = None,
    *,
    elderly_weight: float = 1.0,
    isochrone_minutes: Iterable[float] = ISOCHRONE_MINUTES,
    progress: bool = False,
    workers: int | None = None,
    timings: dict[str, float] | None = None,
    area_results: pd.DataFrame | None = None,
    shapes: bool = True,
    per_facility: bool = False,
    encode_tables: bool = False,
) -> Analysis:
    """Run the whole analysis on a study.

    Parameters
    ----------
    study : Study
    params : WalkParams, optional
        The walker (``standard``, ``elderly`` or a custom speed), the thresholds and the
        types in distance mode (GB 50180's 300 / 500 / 1000 m); default: the defaults.
    elderly_weight : float
        Weight of residents 60+ when ranking gap areas.
    isochrone_minutes : iterable of float
        Isochrones per type and, with ``per_facility``, per facility.
    progress : bool
        Show a progress bar.
    workers : int, optional
        Processes for the gap zones and isochrones (forked), threads for the per-facility
        isochrones; default every core this process may use.
    timings : dict, optional
        Filled with the seconds each stage took, for benchmarks: ``coverage``,
        ``completeness``, ``tables`` (with ``encode_tables``), ``gap zones + isochrones``,
        ``per facility``, ``opportunities``. With a network the shapes are timed twice:
        ``gap zones + isochrones`` after the stages before them, ``gap zones + isochrones,
        from the start`` with them. Where the shapes are forked (2+ workers, a network of
        :data:`~geo.analysis.isochrones.FORK_NODES` nodes or more, a system that forks),
        the workers trace them from the start while this process runs the stages before
        them, so the first is only the wait that is left; elsewhere everything runs here,
        one after the other.
    area_results : pandas.DataFrame, optional
        :func:`~geo.analysis.coverage.analyze_areas` of the study's areas with ``params``,
        when already computed (:mod:`geo.analysis.partition` computes it in parts).
    shapes : bool
        Compute the gap zones and isochrones (with a network); False leaves them None,
        for a caller that computes them elsewhere.
    per_facility : bool
        Also one isochrone per facility and minutes value
        (:attr:`Analysis.facility_isochrones`, ``isochrones_per_facility.geojson``). Off by
        default: on a city it is most of the time and of the output (75 MB and two thirds of
        the run for 20,000 compounds and ~1,000 facilities), and the service draws any one
        facility's isochrones on request in milliseconds.
    encode_tables : bool
        Also encode the files that do not depend on the shapes (``coverage.geojson`` and
        the CSV tables, :attr:`Analysis.encoded`) while other processes trace the shapes,
        and each shape as it comes in, so that :func:`write_outputs` has little left to
        do but write: what ``lifecircle analyze`` does.
        It keeps their bytes in memory (55 MB for 20,000 compounds) until the analysis is
        dropped.

    Returns
    -------
    Analysis

    Examples
    --------
    >>> result = analyze(Study.load())
    >>> sorted(result.summary["type"].unique())
    ['all_types', 'charging_points', 'clinics', 'neighbor_centers']
    """
    params = params if params is not None else WalkParams()
    walker = params.profile
    network = study.network is not None
    if elderly_weight < 0:
        raise QueryError(
            f"老人权重不能为负 / elderly weight cannot be negative, got {elderly_weight:g}"
        )
    shaped = network and shapes
    steps = ["coverage", "gaps + isochrones"] if shaped else ["coverage"]
    steps += ["per facility"] if shaped and per_facility else []
    bar = tqdm(total=len(steps), desc="分析 / analysing", unit="step", disable=not progress)
    areas = study.layers["residential_areas"]
    if not len(areas):
        raise QueryError(
            "没有小区可分析 / no residential areas to analyse: 先导入 / import some first, "
            "e.g. lifecircle import residential_areas 小区.shp"
        )
    workers = workers if workers is not None else available_cores()
    clock = _Clock(timings)

    def tables() -> _Tables:
        # gates snapped once per study (and fragment rule), kept in study.memo for every step
        origins = area_origins(study, areas)
        result = area_results if area_results is not None else analyze_areas(study, params)
        bar.update()
        supply = capacity(study, params)
        coverage = areas.join(result).join(supply.areas)
        summary, ranked = summarize(areas, result), gaps(areas, result, elderly_weight)
        short = under_served(areas, result, supply)
        clock.lap("coverage")
        complete = completeness(study)
        clock.lap("completeness")
        encoded = {}
        if encode_tables:
            encoded = _table_files(coverage, ranked, supply, short, complete)
            clock.lap("tables")
        return _Tables(origins, result, supply, coverage, summary, ranked, short, complete,
                       encoded)  # fmt: skip

    made: list[_Tables] = []
    shape_texts: dict[int, bytes | None] = {}  # each shape's GeoJSON geometry, by its id()

    def encode_shapes(_: int, done: dict) -> None:  # as each shape task comes in
        shapes = np.array([g for key, g in done.items() if key != "gap_m2"], dtype=object)
        shape_texts.update(zip(map(id, shapes), geometry_texts(shapes), strict=True))

    zones = iso = facility_iso = None
    if shaped:
        # the shapes need only the network and the facilities: forked workers trace them
        # from the start, while this process computes coverage and the tables (facilities
        # snapped first, so that the workers inherit them); unforked, one after the other
        for kind in FACILITY_LAYERS:
            study.facility_snap(kind)
        start = time.perf_counter()
        zones, iso = type_shapes(study, params, isochrone_minutes, workers=workers,
                                 meanwhile=lambda: made.append(tables()),
                                 each=encode_shapes if encode_tables else None)  # fmt: skip
        bar.update()
        clock.lap("gap zones + isochrones")
        if timings is not None:
            timings["gap zones + isochrones, from the start"] = time.perf_counter() - start
    else:
        made.append(tables())
    origins, result, supply, coverage, summary, ranked, short, complete, encoded = made[0]
    for name, frame in (("gaps.geojson", zones), ("isochrones.geojson", iso)):
        geometries = frame.geometry.values if frame is not None else []
        texts = [shape_texts.get(id(g), b"") for g in geometries]  # the same shapely objects
        if texts and b"" not in texts:  # every shape encoded as it came in
            encoded[name] = to_feature_collection(frame, geometries=texts)
            clock.lap("tables")
    if shaped and per_facility:
        facility_iso = pd.concat(
            [isochrones(study, kind, isochrone_minutes, params, per_facility=True,
                        workers=workers) for kind in FACILITY_LAYERS],
            ignore_index=True,
        )  # fmt: skip
        bar.update()
        clock.lap("per facility")
    bar.close()
    report = None
    if study.network is not None:
        report = components_report(study.network)
        report.pop("components", None)  # one row per piece: too long for a summary
    settings: dict[str, Any] = {
        "version": __version__,
        "method": study.method,
        "profile": walker.name,
        "speeds_kmh": {name: p.speed_kmh for name, p in {**PROFILES, walker.name: walker}.items()},
        "minutes": dict(params.minutes),
        "metres": dict(params.metres),
        "circuity": study.circuity if not network else None,
        "elderly_weight": elderly_weight,
        "max_snap_m": study.max_snap_m,
        # compounds with no gate or street within reach of the network: a wrong network shows
        "areas_unreached": int((~origins.reached(len(areas))).sum()) if network else 0,
        "network": report,
    }
    found = opportunities(study, result)
    clock.lap("opportunities")
    return Analysis(
        coverage,
        summary,
        ranked,
        zones,
        iso,
        found,
        settings,
        facility_iso,
        supply,
        short,
        complete,
        encoded,
    )


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one).

    Returns
    -------
    int
    """
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


class _Clock:
    """Seconds between laps, written into a dict (or nowhere)."""

    def __init__(self, into: dict[str, float] | None) -> None:
        self.into, self.start = into, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self.into is not None:
            self.into[name] = self.into.get(name, 0.0) + now - self.start
        self.start = now


def summary_table(analysis: Analysis) -> str:
    """A short printable table: overall shares covered per type.

    Parameters
    ----------
    analysis : Analysis
        As :func:`analyze` returns it.

    Returns
    -------
    str
        One line per type with the shares of areas, people and residents 60+ covered
        (subdistrict ``全部 / all``), then a line with the method, walker and thresholds.
    """
    overall = analysis.summary[analysis.summary["subdistrict"] == "全部 / all"]
    lines = [
        f"{'类型 / type':<20}{'小区 areas':>12}{'人口 people':>14}{'老人 60+':>12}",
    ]
    for row in overall.itertuples():
        lines.append(
            f"{row.type:<20}{row.share_areas or 0:>12.1%}{row.share_population or 0:>14.1%}"
            f"{row.share_elderly or 0:>12.1%}"
        )
    s = analysis.settings
    lines.append(
        f"方法 / method: {s['method']}, 速度 / profile: {s['profile']} "
        f"({s['speeds_kmh'][s['profile']]} km/h), 阈值 / minutes: "
        + ", ".join(f"{k}={v:g}" for k, v in s["minutes"].items() if k not in s["metres"])
        + "".join(f", {k}={v:g} m" for k, v in s["metres"].items())
    )
    if analysis.capacity is not None:
        lines.append(
            "容量 / capacity (E2SFCA): 类型 / type · 可达供给 / supply per demand · "
            "供不足小区 / under-served compounds · 超负荷设施 / overloaded facilities"
        )
        for row in analysis.capacity.summary.itertuples():
            note = "" if row.facilities_with_supply else " — 无供给数据 / no supply recorded"
            lines.append(
                f"  {row.type:<18}{row.study_ratio:>10g} {row.unit_zh}"
                f"{row.areas_under_served:>6}{row.facilities_overloaded:>6}{note}"
            )
    if analysis.completeness is not None and len(analysis.completeness):
        table = analysis.completeness
        basic = sum(1 for k in table.attrs.get("kinds", {}).values() if k["tier"] == "基础保障")
        lines.append(
            f"生活圈完整度 / completeness: 基础保障类 {basic} 类中平均可达 / basic kinds reached "
            f"of {basic}, mean per compound: 一般 / standard "
            f"{table['basic_standard'].mean():.1f}, 老人 / elderly {table['basic_elderly'].mean():.1f}"
        )
    return "\n".join(lines)


def _csv_bytes(frame: pd.DataFrame, index: bool = True) -> bytes:
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object or pd.api.types.infer_dtype(values) in ("string", "empty"):
            continue  # no lists in numbers or in text
        if values.map(lambda v: isinstance(v, list)).any():
            frame[column] = frame[column].map(
                lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
            )
    return safe_table(frame).to_csv(index=index).encode("utf-8-sig")  # no runnable cell


def encode_outputs(analysis: Analysis) -> dict[str, bytes]:
    """Every output file's name and content, as :func:`write_outputs` writes them.

    Parameters
    ----------
    analysis : Analysis
        As :func:`analyze` returns it.

    Returns
    -------
    dict of str to bytes
        In the order of :func:`write_outputs`; what a worker of ``lifecircle batch``
        sends back, so that no folder needs to be shared with it.
    """
    tables = analysis.encoded or _table_files(
        analysis.coverage, analysis.gap_areas, analysis.capacity, analysis.under_served,
        analysis.completeness,
    )  # fmt: skip
    files = {name: tables[name] for name in ("coverage.geojson", "coverage.csv")}
    coverage = analysis.coverage
    summary: dict[str, Any] = {
        "settings": analysis.settings,
        "summary": json.loads(analysis.summary.to_json(orient="records", force_ascii=False)),
        "gap_areas": len(analysis.gap_areas),
        "opportunities": len(analysis.opportunities),
    }
    if analysis.capacity is not None:
        summary["capacity"] = json.loads(
            analysis.capacity.summary.to_json(orient="records", force_ascii=False)
        )
    complete = analysis.completeness
    if complete is not None:
        areas = coverage.loc[complete.index]
        lack = lacking(areas, complete, "elderly")
        summary["completeness"] = {
            "summary": _records(completeness_summary(areas, complete)),
            "facilities": complete.attrs.get("facilities", {}),
            "lacking_elderly": _records(lack[lack["rank"] <= 3]),
        }
    files["summary.json"] = json.dumps(summary, ensure_ascii=False, indent=2).encode("utf-8")
    for name in ("gap_areas.csv", "capacity.csv", "under_served.csv", "completeness.csv"):
        if name in tables:
            files[name] = tables[name]
    files["opportunities.geojson"] = to_feature_collection(analysis.opportunities)
    if analysis.gap_zones is not None:
        files["gaps.geojson"] = analysis.encoded.get("gaps.geojson") or to_feature_collection(
            analysis.gap_zones
        )
    if analysis.isochrones is not None:
        files["isochrones.geojson"] = analysis.encoded.get(
            "isochrones.geojson"
        ) or to_feature_collection(analysis.isochrones)
    if analysis.facility_isochrones is not None:
        files["isochrones_per_facility.geojson"] = to_feature_collection(
            analysis.facility_isochrones
        )
    return files


def _table_files(
    coverage: gpd.GeoDataFrame,
    gap_areas: pd.DataFrame,
    supply: Capacity | None,
    short: pd.DataFrame | None,
    complete: pd.DataFrame | None,
) -> dict[str, bytes]:
    """The output files that do not depend on the shapes: ``coverage.geojson`` and the
    CSV tables."""
    files = {"coverage.geojson": to_feature_collection(coverage, "residential_areas")}
    table = pd.DataFrame(coverage.drop(columns=coverage.geometry.name))
    centre = coverage.geometry.representative_point()
    table.insert(0, "lat", centre.y.round(7))
    table.insert(0, "lon", centre.x.round(7))
    files["coverage.csv"] = _csv_bytes(table, index=False)
    files["gap_areas.csv"] = _csv_bytes(gap_areas.rename_axis("id"))
    if supply is not None:
        files["capacity.csv"] = _csv_bytes(_facility_table(supply), index=False)
    if short is not None:
        files["under_served.csv"] = _csv_bytes(_under_served_table(short), index=False)
    if complete is not None:
        files["completeness.csv"] = _csv_bytes(completeness_table(coverage, complete), index=False)
    return files


def write_outputs(
    analysis: Analysis | Mapping[str, bytes], out: str | os.PathLike[str]
) -> list[Path]:
    """Write every output file into ``out`` (created if missing); return their paths.

    Parameters
    ----------
    analysis : Analysis or mapping of str to bytes
        As :func:`analyze` returns it, or its files as :func:`encode_outputs` makes them.
    out : path-like
        The output folder; files already there with the same names are replaced, and an
        output file of an earlier run that this one does not make (the per-facility
        isochrones of a run with ``per_facility``, the shapes of a run with a network) is
        removed, so that the folder never mixes two runs.

    Returns
    -------
    list of pathlib.Path
        The files written, in order: ``coverage.geojson``, ``coverage.csv``,
        ``summary.json``, ``gap_areas.csv``, ``capacity.csv``, ``under_served.csv`` and
        ``completeness.csv`` (when the analysis has them), ``opportunities.geojson``, then
        ``gaps.geojson``, ``isochrones.geojson`` and ``isochrones_per_facility.geojson``
        when the analysis has them (it had a network).

    Raises
    ------
    StoreError
        The folder cannot be created.
    """
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"无法建立输出目录 / cannot make the output folder {folder}: {exc.strerror}; "
            "换一个 --out / choose another --out"
        ) from exc
    files = analysis if not isinstance(analysis, Analysis) else encode_outputs(analysis)
    written: list[Path] = []
    for name, content in files.items():
        atomic_write_bytes(folder / name, content)
        written.append(folder / name)
    for name in sorted(set(OUTPUT_FILES) - set(files)):
        (folder / name).unlink(missing_ok=True)
    return written


def _records(frame: pd.DataFrame) -> list[Any]:
    return list(json.loads(frame.to_json(orient="records", force_ascii=False)))


def _walker_label(name: str) -> str:
    profile = PROFILES.get(name)
    return f"{profile.zh} {profile.speed_kmh:g} km/h / {profile.en}" if profile else name


def _facility_table(result: Capacity) -> pd.DataFrame:
    """The facilities' loads with bilingual headers (Chinese first, units in each): for CSV
    and Excel.

    Parameters
    ----------
    result : Capacity
        As :func:`capacity` returns it.

    Returns
    -------
    pandas.DataFrame
        One row per facility: id, type, name, supply and its unit, per walker the weighted
        demand in reach and the load (people or households per unit of supply), overloaded,
        and why a facility has no load.
    """
    frame = result.facilities
    kinds = frame["type"] if len(frame) else pd.Series([], dtype=object)
    table = pd.DataFrame({
        "编号 / ID": frame.get("id"),
        "类型 / type": kinds.map(lambda k: {"clinics": "社区卫生服务中心/站 / clinics",
                                          "neighbor_centers": "睦邻中心 / neighbour centres",
                                          "charging_points": "充电桩 / charging points"}[k]),
        "名称 / name": frame.get("name"),
        "供给量 / supply": frame.get("supply"),
        "供给单位 / supply unit": kinds.map(lambda k: {"beds": "床 / beds",
                                                     "floor_area_m2": "m²",
                                                     "ports": "个充电口 / ports"}[SPECS[k].supply]),
    })  # fmt: skip
    heads = {
        "demand": "可达需求（距离加权，人或户）/ demand in reach (weighted, people or households)",
        "load": "负荷（人或户 / 单位供给）/ load (people or households per unit of supply)",
    }
    for column in frame.columns:
        what, _, walker = column.partition("_")
        if what in heads:
            table[f"{heads[what]} · {_walker_label(walker)}"] = frame[column]
    table["负荷单位 / load unit"] = kinds.map(lambda k: f"{SPECS[k].load[0]} / {SPECS[k].load[1]}")
    table["超负荷 / overloaded"] = frame.get("overloaded")
    table["说明 / note"] = frame.get("reason")
    return table


def _under_served_table(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`under_served` with bilingual headers (Chinese first, units in each).

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`under_served` returns it.

    Returns
    -------
    pandas.DataFrame
        The same rows, headers ``编号 / ID``, ``小区 / compound``, … ``步行距离 m / walk m``,
        ``可达供给 / supply per demand`` with its unit in the last column.
    """
    return table.rename(columns={
        "id": "编号 / ID", "name": "小区 / compound", "subdistrict": "街道 / subdistrict",
        "type": "设施类型 / facility type", "demand": "需求（人或户）/ demand (people or households)",
        "walk_m": "最近设施步行距离 m / walk to the nearest, m",
        "access": "可达供给（见单位）/ supply within reach (see unit)", "unit": "单位 / unit",
    })  # fmt: skip
