"""The ``lifecircle`` commands that make what a 街道 hands upward: ``progress`` and ``report``.

:mod:`geo.cli` adds them to its parser (:func:`add_parsers`) and runs them (:data:`COMMANDS`).
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

from geo.settings import Settings

__all__ = ["COMMANDS", "EXAMPLES", "add_parsers", "progress_text"]

EXAMPLES = {
    "progress": [
        "lifecircle progress                       # every kind, today",
        "lifecircle progress --subdistrict 打浦桥街道 --kind elevator_retrofit --as-of 2023-02-28",
        "lifecircle progress --series quarter --kind bike_shed --lang en",
        "lifecircle progress --json > progress.json",
    ],
    "report": [
        "lifecircle report --subdistrict 长白新村街道          # → 长白新村街道-生活圈报告.pdf",
        "lifecircle report --subdistrict 长白新村街道 --format xlsx --out 长白.xlsx",
        "lifecircle report --profile elderly --minutes clinics=10 --format html --lang en",
    ],
}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], data_help: str) -> None:
    """Add ``progress`` to the ``lifecircle`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
        The ``lifecircle`` parser's subcommands.
    data_help : str
        The help text of ``--data``, the same for every command.

    Returns
    -------
    None
    """
    p = sub.add_parser(
        "progress",
        help="改造进度（累计与当前阶段）/ renovation progress as the reports count it",
        description="按类型和阶段统计改造项目和数量（台/个/户）：当前阶段（exclusive）与累计"
        "（cumulative，累计签约包含已完工）；--as-of 按阶段日期回放到过去某天。 / Count renovation "
        "projects and units per kind and stage: by current stage and cumulatively (signed "
        "includes completed); --as-of replays the stage dates to a past day.",
    )
    p.add_argument("--data", "--store", dest="data", metavar="STORE", help=data_help)
    p.add_argument("--subdistrict", metavar="街道", help="只统计这个街道 / one subdistrict")
    p.add_argument("--kind", metavar="KIND", help="只统计这类项目 / one kind, e.g. bike_shed")
    p.add_argument(
        "--as-of", metavar="YYYY-MM-DD", help="统计日期，默认今天 / the date (default today)"
    )
    p.add_argument(
        "--series",
        choices=["quarter", "month", "year"],
        help="按季度/月/年列出累计数 / cumulative units at the end of each period",
    )
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="表头语言 / language")
    p.add_argument("--json", action="store_true", help="输出 JSON（同 API）/ print the API's JSON")

    p = sub.add_parser(
        "report",
        help="街道报告（PDF/HTML/Excel）/ the 街道 report to hand upward",
        description="为一个街道（或全部）生成报告：封面（日期、数据版本、步行者与阈值、各图层来源）、"
        "两种步行者的覆盖指标、覆盖与缺口地图、缺口小区排名、改造项目机会、推荐位置、改造进度与季度图。"
        "数字与 lifecircle analyze 相同。 / A report for one subdistrict (or all): cover (date, data "
        "version, walker and thresholds, each layer's source), coverage for both walkers, maps "
        "of coverage and gaps, the ranked gap list, renovation opportunities, recommended "
        "sites, renovation progress and a quarterly chart — the numbers of lifecircle analyze.",
    )
    p.add_argument("--data", "--store", dest="data", metavar="STORE", help=data_help)
    p.add_argument(
        "--subdistrict", metavar="街道", help="街道名称（默认全部）/ subdistrict (default all)"
    )
    p.add_argument("--profile", choices=("standard", "elderly"), default="standard",
                   help="地图与缺口所用步行者 / the walker of maps and gaps (default standard)")  # fmt: skip
    p.add_argument("--speed", type=float, metavar="KM/H", help="自定义步行速度 / own speed, km/h")
    p.add_argument("--minutes", metavar="TYPE=MIN,…", help="各类阈值（分钟）/ thresholds, minutes")
    p.add_argument("--metres", metavar="TYPE=M,…", help="按距离的阈值（米）/ thresholds, metres")
    p.add_argument("--format", choices=("pdf", "html", "xlsx"), help="格式（默认按 --out 扩展名，否则 pdf）/ "
                   "format (default from --out's extension, else pdf)")  # fmt: skip
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="语言 / language")
    p.add_argument("--out", metavar="FILE", help="输出文件 / output file")
    p.add_argument(
        "--scenario",
        metavar="NAME|FILE.json",
        help="与方案比较：工作台保存的方案名，或方案 JSON 文件（同 POST /scenarios）/ compare with a "
        "scenario saved in the workbench (its name), or a JSON file as POST /scenarios takes it",
    )


def _label(words: tuple[str, str], lang: str) -> str:
    return words[1] if lang == "en" else words[0]


def _pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    space = " " * max(width - columns, 0)
    return space + text if right else text + space


def progress_text(result: dict[str, Any], lang: str = "zh") -> str:
    """A :func:`geo.analysis.progress.progress` result as a plain-text table per kind.

    Parameters
    ----------
    result : dict
        The result of ``progress`` (one date).
    lang : {"zh", "en"}
        The language of the headers and the stage names.

    Returns
    -------
    str
        Per kind a heading and one line per stage: projects and units at that stage now, and
        having reached it (cumulative).
    """
    from geo.schema import ENUM_LABELS, STAGE_LABELS

    head = {"zh": ("阶段", "当前项目", "累计项目", "当前数量", "累计数量"),
            "en": ("stage", "projects at", "reached", "units at", "units reached")}[lang]  # fmt: skip
    lines = [f"{_label(('截至', 'as of'), lang)} {result['as_of']}"]
    for kind, counts in result["by_kind"].items():
        unit = counts["unit"][lang]
        name = _label(ENUM_LABELS.get(kind, (kind, kind)), lang)
        projects = _label(("个项目", "projects"), lang)
        lines += ["", f"{name} ({kind}): {counts['projects']} {projects}, {counts['units']} {unit}"]
        lines.append("  " + _pad(head[0], 20) + "".join(_pad(h, 14, True) for h in head[1:]))
        for stage in result["stages"]:
            cells = [counts[k][stage] for k in ("exclusive", "cumulative", "units_exclusive",
                                                "units_cumulative")]  # fmt: skip
            lines.append(
                "  " + _pad(_label(STAGE_LABELS[stage], lang), 20)
                + "".join(_pad(str(c), 14, True) for c in cells)
            )  # fmt: skip
        for key, words in (
            ("not_begun", ("未开始", "not begun")),
            ("undated", ("无日期", "undated")),
        ):
            if counts[key]:
                lines.append(f"  {_label(words, lang)}: {counts[key]}")
    return "\n".join(lines)


def _series_text(result: dict[str, Any], lang: str) -> str:
    from geo.schema import ENUM_LABELS, STAGE_LABELS

    shown = ("signed", "under_construction", "completed")
    lines = []
    kinds = sorted({k for p in result["periods"] for k in p["by_kind"]})
    for kind in kinds:
        name = _label(ENUM_LABELS.get(kind, (kind, kind)), lang)
        lines.append(f"{name} ({kind}) — {_label(('累计数量', 'units reached'), lang)}")
        lines.append(
            " " * 12 + "".join(_pad(_label(STAGE_LABELS[s], lang), 20, True) for s in shown)
        )
        for period in result["periods"]:
            counts = period["by_kind"].get(kind)
            if counts:
                cells = "".join(f"{counts['units_cumulative'][s]:>20}" for s in shown)
                lines.append(f"  {period['period']:<10}{cells}")
        lines.append("")
    return "\n".join(lines).rstrip()


def _cmd_progress(args: argparse.Namespace, settings: Settings) -> int:
    from geo.analysis.progress import progress, progress_series
    from geo.layers.store import read_layer

    projects = read_layer("renovation_projects", settings.data)
    if args.series:
        result = progress_series(projects, args.series, args.subdistrict, args.kind, args.as_of)
    else:
        result = progress(projects, args.subdistrict, args.kind, args.as_of)
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        print()
    elif args.series:
        print(_series_text(result, args.lang))
    else:
        print(progress_text(result, args.lang))
    return 0


def _scenario(given: str, settings: Settings) -> Any:
    """The scenario saved under the name ``given`` beside the store, else in the JSON file
    ``given``; a bilingual error naming it otherwise."""
    from pathlib import Path

    from geo.analysis.planning import Scenario
    from geo.errors import NotFoundError, QueryError
    from geo.layers.scenarios import scenario_shelf
    from geo.layers.store import open_store

    path = Path(given)
    if path.suffix.lower() != ".json":
        try:
            record = scenario_shelf(open_store(settings.data)).get(given)
        except (NotFoundError, QueryError):
            raise QueryError(
                f"没有保存的方案 '{given}' / no saved scenario '{given}' (nor a .json file)"
            ) from None
        return Scenario.from_dict(record)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QueryError(f"找不到方案文件 / no scenario file: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise QueryError(f"方案文件不是 JSON / {path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise QueryError(f"方案应为 JSON 对象 / {path}: a scenario is a JSON object")
    return Scenario.from_dict({"name": path.stem, **data})


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from geo.analysis.params import WalkParams
    from geo.atomic import atomic_write_bytes
    from geo.reports.content import build_report
    from geo.reports.render import REPORT_FORMATS, render_report

    fmt = args.format or (Path(args.out).suffix.lstrip(".").lower() if args.out else "pdf")
    if fmt not in REPORT_FORMATS:
        raise SystemExit(
            f"lifecircle: 不支持的格式 / unknown format '{fmt}': {', '.join(REPORT_FORMATS)}"
        )
    params = WalkParams.parse(args.profile, args.minutes, args.metres, speed=args.speed)
    place = args.subdistrict or ("全部街道" if args.lang == "zh" else "all")
    out = Path(args.out or f"{place}-{'生活圈报告' if args.lang == 'zh' else 'report'}.{fmt}")
    with tqdm(total=2, desc="报告 / report", unit="step", disable=not sys.stderr.isatty()) as bar:
        scenario = _scenario(args.scenario, settings) if args.scenario else None
        report = build_report(settings.data, params, args.subdistrict, args.lang, scenario=scenario)
        bar.update()
        content = render_report(report, fmt)
        bar.update()
    atomic_write_bytes(out, content)
    print(f"{out} ({len(content) / 1e6:.1f} MB)")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "progress": _cmd_progress,
    "report": _cmd_report,
}
