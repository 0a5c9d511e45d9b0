"""The ``lifecircle`` command: import, export, validate and serve the layers.

Every subcommand takes ``--data DIR`` (default: ``$LIFECIRCLE_DATA`` or the bundled
sample in ``data/layers``). Bad input ends with a bilingual message and exit status 1
(2 for a wrong command line), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError as PydanticValidationError

from geo import cli_batch, cli_district, cli_store, cli_surface
from geo.errors import LifecircleError, ValidationError
from geo.layers.store import open_store
from geo.schema import LAYER_NAMES
from geo.settings import Settings, current

__all__ = ["build_parser", "main"]

_EPILOG = """\
examples / 示例:
  lifecircle validate
  lifecircle import clinics pois_gaode.csv --crs gcj02 --set level=station
  lifecircle import residential_areas 小区.shp --encoding gbk --map XQMC=name
  lifecircle export clinics --format csv --crs gcj02 --out clinics_gcj02.csv
  lifecircle serve --port 8000
"""


#: What each command's --help opens its epilog with: commands that run as they are.
_EXAMPLES = {
    "validate": [
        "lifecircle validate                       # the bundled sample: no errors",
        "lifecircle validate --data 我的图层/ --json > report.json",
    ],
    "import": [
        "lifecircle import clinics 高德POI.csv --crs gcj02 --set level=station",
        "lifecircle import residential_areas 小区.shp --encoding gbk --map XQMC=name",
        "lifecircle import charging_points 充电桩.xlsx --crs bd09 --lon-col 经度 --lat-col 纬度",
        "lifecircle import renovation_projects 项目.geojson --mode replace --skip-invalid",
        "lifecircle import clinics 百度坐标表.xlsx --drop level   # Baidu's own 'level' column",
    ],
    "export": [
        "lifecircle export clinics --format csv --crs gcj02 --out clinics_gcj02.csv",
        "lifecircle export residential_areas --out 小区.gpkg          # for QGIS",
        "lifecircle export renovation_projects --format shp --crs EPSG:4549",
    ],
    "analyze": [
        "lifecircle analyze                        # bundled sample → lifecircle-out/",
        "lifecircle analyze --profile elderly --minutes clinics=10 --out 老人/",
        "lifecircle analyze --metres clinics=1000,charging_points=300 --speed 3.5",
        "lifecircle analyze --network 五角场.osm --join-within 3   # join gaps up to 3 m",
    ],
    "map": [
        "lifecircle map --type clinics --profile elderly --out 卫生服务.html",
        "lifecircle map --renovation --tiles gaode --out 加装电梯地图.html",
        "lifecircle map --tiles none --lang en    # offline, English first",
    ],
    "network": [
        "lifecircle network info                   # the bundled streets",
        "lifecircle network info --file yangpu.osm.pbf",
        "lifecircle network info --file 五角场.osm --json         # an openstreetmap.org Export",
        "lifecircle network info --file 路网.gpkg --layer roads --join-within 3",
        'lifecircle network fetch --place "杨浦区, 上海" --out streets.geojson',
    ],
    "schema": ["lifecircle schema > docs/schema.md"],
}


def _with_examples(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, command in sub.choices.items():
        lines = {
            **_EXAMPLES,
            **cli_district.EXAMPLES,
            **cli_store.EXAMPLES,
            **cli_surface.EXAMPLES,
            **cli_batch.EXAMPLES,
        }.get(name)
        if not lines:
            continue
        command.formatter_class = argparse.RawDescriptionHelpFormatter
        examples = "examples / 示例:\n" + "\n".join(f"  {line}" for line in lines)
        command.epilog = examples + (f"\n\n{command.epilog}" if command.epilog else "")


def build_parser() -> argparse.ArgumentParser:
    """The ``lifecircle`` argument parser, every subcommand with its options and examples.

    Returns
    -------
    argparse.ArgumentParser
        Parses into ``command`` and that subcommand's options; a subcommand is required.

    Examples
    --------
    >>> args = build_parser().parse_args(["analyze", "--profile", "elderly"])
    >>> args.command, args.profile, args.minutes, args.out
    ('analyze', 'elderly', None, 'lifecircle-out')
    """
    parser = argparse.ArgumentParser(
        prog="lifecircle",
        description=(
            "15分钟社区生活圈 — 上海社区设施步行覆盖分析 / 15-minute community life circle: "
            "walking coverage of community services in Shanghai."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data_help = (
        "图层存储：目录或 postgresql:// 地址 / layer store: a folder or a postgresql:// URL "
        "(default: $LIFECIRCLE_STORE, else $LIFECIRCLE_DATA, else the bundled data/layers)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "validate",
        help="检查所有图层 / check every layer and print one report",
        description="检查所有图层并输出一份报告；有错误时退出码为 1。 / Check every layer, "
        "print one report naming file, feature and field; exit status 1 on errors.",
    )
    p.add_argument("--data", "--store", dest="data", metavar="STORE", help=data_help)
    p.add_argument("--json", action="store_true", help="以 JSON 输出 / print the report as JSON")

    p = sub.add_parser(
        "import",
        help="导入文件到图层 / import a file into a layer",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="导入 GeoJSON / GeoPackage / Shapefile / CSV / XLSX 到图层。\n"
        "Import GeoJSON, GeoPackage, Shapefile, CSV or XLSX into a layer. A failed import\n"
        "changes nothing and lists every bad row; --skip-invalid imports the rest.",
        epilog="CRS: wgs84 (GPS, OSM), gcj02 (高德/腾讯 Gaode/Tencent), bd09 (百度 Baidu),\n"
        "cgcs2000 (国家2000, EPSG:4490), or any EPSG code such as EPSG:32651.\n"
        "The file's own CRS is used when it declares one; CSV/XLSX default to wgs84, and a\n"
        "header naming a CRS (经度(BD09), lng_gcj02, wgs84_lon) decides that pair's CRS.\n"
        "Chinese headers (名称, 地址, 户数, 常住人口 …) map to fields by themselves; --map wins.",
    )
    p.add_argument("layer", choices=LAYER_NAMES, help="目标图层 / target layer")
    p.add_argument("file", help="源文件 / source file (.geojson .json .gpkg .shp .csv .xlsx)")
    p.add_argument("--data", "--store", dest="data", metavar="STORE", help=data_help)
    p.add_argument("--crs", help="源坐标系 / source CRS: wgs84, gcj02, bd09, cgcs2000, EPSG:xxxx")
    p.add_argument(
        "--encoding", help="属性表编码 / attribute encoding (utf-8, gbk, gb18030); auto by default"
    )
    p.add_argument("--lon-col", help="经度列 / longitude column (auto: lon, lng, x, 经度)")
    p.add_argument("--lat-col", help="纬度列 / latitude column (auto: lat, y, 纬度)")
    p.add_argument(
        "--sheet",
        help="XLSX 工作表或 GeoPackage 图层 / worksheet (XLSX) or layer (GeoPackage); "
        "default: the first",
    )
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="SRC=DST",
        help="字段改名 / rename a property, e.g. --map 名称=name (repeatable)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="为所有要素赋值 / set a property on every feature, e.g. --set level=station",
    )
    p.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="COLUMN",
        help="不导入此列 / leave a source column out, e.g. --drop level (Baidu's geocoding "
        "precision in a clinics table); repeatable",
    )
    p.add_argument(
        "--mode",
        choices=("append", "replace"),
        default="append",
        help="追加或替换 / append to the layer (default) or replace it",
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="跳过无效行并导入其余 / import the valid rows and report the skipped ones",
    )
    p.add_argument("--allow-outside", action="store_true", help="导入研究区外的要素 / import "
                   "features outside the study region (LIFECIRCLE_STUDY_REGION)")  # fmt: skip

    p = sub.add_parser(
        "export",
        help="导出图层 / export a layer",
        description="导出图层为 GeoJSON / GeoPackage / Shapefile / CSV，可转换坐标系（如给高德用 "
        "gcj02）。 / Export a layer, optionally in another CRS (gcj02 for Gaode-based tools).",
    )
    p.add_argument("layer", choices=LAYER_NAMES, help="图层 / layer")
    p.add_argument("--data", "--store", dest="data", metavar="STORE", help=data_help)
    p.add_argument(
        "--format",
        choices=("geojson", "gpkg", "shp", "csv"),
        help="格式 / format (default: from --out's extension, else geojson)",
    )
    p.add_argument("--crs", default="wgs84", help="输出坐标系 / output CRS (default wgs84)")
    p.add_argument("--out", help="输出文件 / output file (default: LAYER.<format> here)")

    p = sub.add_parser(
        "analyze",
        help="15分钟覆盖分析 / walking coverage, gaps and isochrones",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="对每个小区计算到各类设施的步行时间、是否在阈值内、盲区与等时圈。\n"
        "For every residential area: walking time to the nearest facility of each type, whether\n"
        "it is within the threshold, gap zones, isochrones and renovation opportunities.",
        epilog="defaults / 默认值:\n"
        "  standard 4.0 km/h — GB 50180-2018: the 15-minute circle is ~800–1,000 m on foot\n"
        "  elderly  3.0 km/h — older residents walk slower (lower end of that range)\n"
        "  clinics=15, neighbor_centers=15 minutes (the 15-minute life circle);\n"
        "  charging_points=5 minutes (chargers must be by the home; GB 50180's 300 m level)\n"
        "  gates: walks start at a compound's entrances, else at the streets touching it\n"
        "  a point more than 250 m from any street is unreachable, never snapped across water\n"
        "  without a network: straight line x 1.25 (labelled straight_line)\n\n"
        "outputs / 输出: coverage.geojson coverage.csv summary.json gaps.geojson\n"
        "  gap_areas.csv capacity.csv under_served.csv completeness.csv\n"
        "  opportunities.geojson isochrones.geojson\n"
        "  isochrones_per_facility.geojson (with --per-facility)",
    )
    p.add_argument("--data", "--store", dest="data", metavar="STORE", help=data_help)
    p.add_argument(
        "--network",
        metavar="FILE",
        help="步行路网 / walking network: .geojson/.gpkg/.shp lines, OpenStreetMap .osm (an "
        "openstreetmap.org Export) or .osm.pbf, osmnx .graphml (default: the store's streets, "
        "a folder's streets.geojson); 'none' for straight lines",
    )
    join_help = (
        "把相距不超过该米数的断头路接上 / join dead ends that stop at most this many metres "
        "short of another street (near misses; default: report, do not join)"
    )
    p.add_argument("--join-within", type=float, metavar="METRES", help=join_help)
    p.add_argument(
        "--profile",
        choices=("standard", "elderly"),
        default="standard",
        help="步行速度档 / walking profile (default standard 4.0 km/h; elderly 3.0 km/h)",
    )
    p.add_argument(
        "--minutes",
        metavar="TYPE=MIN,…",
        help="阈值（分钟）/ thresholds, e.g. clinics=15,charging_points=5",
    )
    p.add_argument(
        "--metres",
        metavar="TYPE=M,…",
        help="距离阈值（米），覆盖该类型的分钟阈值 / distance mode for these types, e.g. "
        "clinics=1000,charging_points=300 (GB 50180-2018 levels: 300, 500, 1000 m)",
    )
    p.add_argument(
        "--speed",
        type=float,
        metavar="KMH",
        help="自定义步行速度（替代 --profile）/ your own walking speed in km/h, e.g. a local "
        "survey's 3.5 (replaces --profile; minutes appear as *_minutes_custom)",
    )
    p.add_argument(
        "--circuity",
        type=float,
        default=1.25,
        help="无路网时的绕行系数 / without a network: straight line x this (default 1.25, "
        "the usual detour ratio of urban street grids)",
    )
    p.add_argument(
        "--elderly-weight",
        type=float,
        default=1.0,
        help="盲区排序时老人权重 / weight of residents 60+ when ranking gaps (default 1)",
    )
    p.add_argument(
        "--per-facility",
        action="store_true",
        help="另写每个设施的等时圈 isochrones_per_facility.geojson / also write one isochrone "
        "per facility and minutes value (off by default: on a city it is most of the run and "
        "of the output; the map and the API draw any one facility's on request)",
    )
    p.add_argument(
        "--out",
        default="lifecircle-out",
        help="输出目录 / output folder (default lifecircle-out)",
    )
    p.add_argument("--quiet", action="store_true", help="不显示进度条 / no progress bar")

    p = sub.add_parser(
        "map",
        help="生成覆盖地图 HTML / write the coverage map as one HTML file",
        description="把覆盖地图写成一个独立的 HTML 文件（脚本内嵌，可离线打开）。 / Write the "
        "coverage dashboard as one standalone HTML file (scripts inlined: opens offline).",
    )
    p.add_argument("--data", "--store", dest="data", metavar="STORE", help=data_help)
    p.add_argument(
        "--type",
        choices=("clinics", "neighbor_centers", "charging_points"),
        default="clinics",
        help="设施类型 / facility type (default clinics)",
    )
    p.add_argument("--profile", choices=("standard", "elderly"), default="standard")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="语言 / language")
    p.add_argument(
        "--tiles",
        choices=("openstreetmap", "cartodb", "gaode", "none"),
        default="openstreetmap",
        help="底图 / basemap (gaode shifts the geometry to GCJ-02; none for offline)",
    )
    p.add_argument("--renovation", action="store_true", help="改为加装电梯地图 / renovation map")
    p.add_argument("--out", default="map.html", help="输出文件 / output file (default map.html)")
    p.add_argument("--quiet", action="store_true", help="不显示进度条 / no progress bar")

    p = sub.add_parser(
        "network",
        help="步行路网信息或下载 / inspect or fetch a walking network",
        description="显示路网统计（节点、路段、连通片）或用 osmnx 从 OpenStreetMap 下载（需联网）。 / "
        "Show a network's statistics, or fetch one from OpenStreetMap with osmnx (needs internet).",
    )
    p.add_argument("action", choices=("info", "fetch"), help="info 或 fetch")
    p.add_argument(
        "--file",
        help="路网文件 / network file (info): lines (.geojson .gpkg .shp), .osm, .osm.pbf, "
        ".graphml; default: the store's streets",
    )
    p.add_argument("--layer", help="GeoPackage 图层 / .gpkg layer (default: first; else ignored)")
    p.add_argument("--join-within", type=float, metavar="METRES", help=join_help)
    p.add_argument("--json", action="store_true", help="以 JSON 输出 / print the report as JSON")
    p.add_argument("--place", help="地名 / place for fetch, e.g. '杨浦区, 上海'")
    p.add_argument("--data", "--store", dest="data", metavar="STORE", help=data_help)
    p.add_argument(
        "--out",
        default="streets.geojson",
        help="fetch 结果保存为 GeoJSON 线 / where fetch saves the lines (default streets.geojson)",
    )

    p = sub.add_parser(
        "schema",
        help="显示图层字段 / print the layer schema",
        description="以 Markdown 表格输出各图层的字段 / Print the layers' fields as Markdown.",
    )
    cli_district.add_parsers(sub, data_help)
    cli_store.add_parsers(sub, data_help)
    cli_surface.add_parsers(sub, data_help)
    cli_batch.add_parsers(sub, data_help)
    _with_examples(sub)
    return parser


def _pairs(items: Sequence[str], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(
                f"lifecircle: {flag} 需要 键=值 / {flag} needs KEY=VALUE, got '{item}'"
            )
        pairs[key.strip()] = value.strip()
    return pairs


def _cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from geo.layers.store import validate_store
    from geo.layers.validate import format_report

    problems = validate_store(settings.data)
    if args.json:
        print(json.dumps([p.as_dict() for p in problems], ensure_ascii=False, indent=2))
    else:
        print(format_report(problems))
    return 1 if any(p.severity == "error" for p in problems) else 0


def _cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from geo.layers.imports import import_layer

    report = import_layer(
        args.layer,
        args.file,
        folder=settings.data,
        mode=args.mode,
        crs=args.crs,
        encoding=args.encoding,
        lon_col=args.lon_col,
        lat_col=args.lat_col,
        sheet=args.sheet,
        mapping=_pairs(args.map, "--map"),
        set_values=_pairs(args.set, "--set"),
        drop=args.drop,
        skip_invalid=args.skip_invalid, allow_outside=args.allow_outside,
    )  # fmt: skip
    print(report.describe())
    return 0


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from geo.layers.exports import export_layer

    path = export_layer(args.layer, args.out, folder=settings.data, fmt=args.format, crs=args.crs)
    print(f"已导出 / exported {args.layer} → {path}")
    if str(args.crs).lower().replace("-", "") in ("gcj02", "bd09"):
        system = "GCJ-02" if "gcj" in str(args.crs).lower() else "BD-09"
        print(
            f"注意 / note: 坐标为 {system}，不是 WGS-84；文件中的 EPSG:4326 标签（GPKG/SHP）只为"
            f"让工具能打开 / coordinates are {system}, not WGS-84 (a GPKG/SHP is labelled "
            f"EPSG:4326 only so tools open it); 再导入 / to import it back: "
            f"lifecircle import {args.layer} {path} --crs {args.crs}"
            + ("（GeoJSON 自带标记，可省略 / a GeoJSON says so itself)" if path.suffix in (
                ".geojson", ".json") else ""),
            file=sys.stderr,
        )  # fmt: skip
    return 0


def _cmd_analyze(args: argparse.Namespace, settings: Settings) -> int:
    from geo.analysis.params import WalkParams
    from geo.analysis.run import analyze, summary_table, write_outputs
    from geo.analysis.study import Study

    # the edge: every option checked here, once, and passed down as one object
    params = WalkParams.parse(args.profile, args.minutes, args.metres, speed=args.speed)
    study = Study.load(settings.data, network=args.network or settings.network,
                       circuity=args.circuity, cache_dir=settings.cache)  # fmt: skip
    if study.network is not None and args.join_within is not None:
        from geo.network.quality import join_near_misses

        network, joined = join_near_misses(study.network, args.join_within)
        study = Study(study.layers, network, study.max_snap_m, study.circuity)
        print(
            f"已连接 / joined {len(joined)} near misses (≤ {args.join_within:g} m)", file=sys.stderr
        )
    if study.network is None:
        print(
            f"提示 / note: 没有步行路网，按直线距离 ×{args.circuity:g} 估算 / no walking network: "
            f"straight-line estimates (x {args.circuity:g}), labelled straight_line",
            file=sys.stderr,
        )
    result = analyze(study, params, elderly_weight=args.elderly_weight, progress=not args.quiet,
                     per_facility=args.per_facility, encode_tables=True)  # fmt: skip
    paths = write_outputs(result, args.out)
    unreached, total = result.settings["areas_unreached"], len(result.coverage)
    if study.network is not None and unreached > total / 2:
        print(
            f"警告 / warning: {unreached} / {total} 个小区离路网超过 {study.max_snap_m:g} 米，"
            f"路网是否覆盖这些小区？/ {unreached} of {total} compounds are more than "
            f"{study.max_snap_m:g} m from any street: does the network cover them? "
            "(lifecircle network info)",
            file=sys.stderr,
        )
    print(summary_table(result))
    print(f"已写出 / written to {args.out}: " + ", ".join(p.name for p in paths))
    return 0


def _cmd_map(args: argparse.Namespace, settings: Settings) -> int:
    from geo.analysis.params import WalkParams
    from geo.analysis.study import Study
    from geo.atomic import atomic_write_bytes
    from geo.maps.dashboard import Computed, dashboard_map
    from geo.maps.renovation import renovation_map

    study = Study.load(settings.data, network=settings.network, cache_dir=settings.cache)
    if args.renovation:
        fmap = renovation_map(study.layers["renovation_projects"], args.lang, args.tiles, "inline",
                              areas=study.layers["residential_areas"], network=study.network)  # fmt: skip
    else:
        # the same recipe as the served dashboard, computed by the same functions
        results = Computed(study, progress=not args.quiet)
        fmap = dashboard_map(results, args.type, WalkParams.parse(args.profile), lang=args.lang,
                             tiles=args.tiles, assets="inline", links=False)  # fmt: skip
        results.close()
    content = fmap.get_root().render().encode("utf-8")
    atomic_write_bytes(args.out, content)
    print(f"已写出 / written {args.out} ({len(content) / 1e6:.2f} MB)")
    return 0


def _cmd_network(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from geo.errors import SourceReadError
    from geo.network.cache import load_network
    from geo.network.quality import format_report, join_near_misses, network_report
    from geo.network.readers import layer_note

    if args.action == "info":
        store = None if args.file else open_store(settings.data)
        source = args.file or (store.streets() if store else None)
        if source is None:
            raise SourceReadError(
                f"数据中没有路网 / the store {store.url if store else ''} has no streets: "
                "用 --file 指定路网文件 / name a network file with --file"
            )
        if note := layer_note(source, args.layer):  # a wrong --layer: its error lists the layers
            print(note, file=sys.stderr)
        net, joined = load_network(source, settings.cache, layer=args.layer), None
        if args.join_within is not None:
            net, joined = join_near_misses(net, args.join_within)
        report = network_report(net, joined=joined)
        text = f"{net.describe()}\n{format_report(report)}"
        print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else text)
        return 0
    if not args.place:
        raise SystemExit("lifecircle: network fetch 需要 --place / needs --place")
    from geo.atomic import atomic_write_bytes
    from geo.layers.geojson import to_feature_collection
    from geo.network.osm import EDGE_TAGS, fetch_graph, graph_edges, network_from_graph

    graph = fetch_graph(args.place)  # the lines keep the tags that say how streets join
    lines = graph_edges(graph)[["name", *EDGE_TAGS, "geometry"]].to_crs("EPSG:4326")
    atomic_write_bytes(args.out, to_feature_collection(lines))
    print(network_from_graph(graph, source=f"OpenStreetMap Overpass: {args.place}").describe())
    print(f"已保存 / saved {args.out}; 用法 / use: lifecircle analyze --network {args.out}")
    return 0


def _cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    from geo.schema import schema_markdown

    print(schema_markdown())
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "validate": _cmd_validate, "import": _cmd_import, "export": _cmd_export,
    "analyze": _cmd_analyze, "map": _cmd_map, "network": _cmd_network,
    "schema": _cmd_schema, **cli_district.COMMANDS, **cli_store.COMMANDS,
    **cli_surface.COMMANDS, **cli_batch.COMMANDS,
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``lifecircle``; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success; 1 when ``validate`` finds errors or a lifecircle error or a file
        system error ends the command (its message goes to stderr, no traceback); 130
        when interrupted.

    Raises
    ------
    SystemExit
        From argparse on a wrong command line (status 2) or ``--help`` (0), and with a
        message (status 1) for a malformed ``--map``/``--set`` or ``network fetch``
        without ``--place``.
    """
    args = build_parser().parse_args(argv)
    try:
        # the one place the command line meets the environment: --store/--data over the variables
        settings = current(data=getattr(args, "data", None))
    except PydanticValidationError as exc:
        wrong = "; ".join(
            f"LIFECIRCLE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        print(f"lifecircle: 环境变量设置无效 / invalid setting: {wrong}", file=sys.stderr)
        return 1
    try:
        return _COMMANDS[args.command](args, settings)
    except ValidationError as exc:
        from geo.layers.validate import format_report

        print(f"lifecircle: {exc.summary}", file=sys.stderr)
        print(format_report(exc.problems), file=sys.stderr)
        return 1
    except LifecircleError as exc:
        print(f"lifecircle: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a disk or permission problem, not bad data: still no traceback
        where = f" {exc.filename}" if exc.filename else ""
        print(f"lifecircle: 文件系统错误 / file system error{where}: {exc.strerror or exc}",
              file=sys.stderr)  # fmt: skip
        return 1
    except KeyboardInterrupt:
        print("lifecircle: 已中断 / interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
