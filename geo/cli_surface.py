"""``lifecircle surface``: the accessibility surface as a file (GeoJSON, GeoPackage, GeoTIFF).

:mod:`geo.cli` adds it to its parser (:func:`add_parsers`) and runs it (:data:`COMMANDS`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from geo.settings import Settings

__all__ = ["COMMANDS", "EXAMPLES", "add_parsers"]

EXAMPLES = {
    "surface": [
        "lifecircle surface --format tif --out 可达性.tif          # every type, both walkers",
        "lifecircle surface --type clinics --profile elderly --out clinics-elderly.geojson",
        "lifecircle surface --type charging_points --format gpkg --cell 50 --out 充电.gpkg",
    ],
}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], data_help: str) -> None:
    """Add ``surface`` to the ``lifecircle`` subcommands.

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
        "surface",
        help="可达性格网（每格步行分钟与人口）/ accessibility surface: minutes and residents per cell",
        description="在研究区上铺方格网（默认 100 米，研究区的 UTM 坐标系），每格给出从格网中心经最近道路"
        "步行到各类最近设施的距离与分钟（一般 4 km/h、老人 3 km/h），以及按面积从小区分配的人口；"
        "中心 250 米内没有道路的格网为不可达。 / A square grid over the study (100 m by default, "
        "in the study's UTM CRS): per cell the walk from its centre, via its nearest street, to "
        "the nearest facility of each type, in metres and minutes (standard 4 km/h, elderly "
        "3 km/h), and the residents allocated to it from the compounds by area. A centre with "
        "no street within 250 m is unreachable.",
    )
    p.add_argument("--data", metavar="DIR", help=data_help)
    p.add_argument("--type", choices=("clinics", "neighbor_centers", "charging_points"),
                   help="只要一类设施 / one facility type (default all)")  # fmt: skip
    p.add_argument("--profile", choices=("standard", "elderly"),
                   help="只要一种步行者 / one walker (default both)")  # fmt: skip
    p.add_argument("--format", choices=("geojson", "gpkg", "tif"),
                   help="格式（默认按 --out 扩展名）/ format (default from --out's extension, "
                   "else geojson); gpkg and tif are in the study's UTM CRS")  # fmt: skip
    p.add_argument("--cell", type=float, default=100.0, metavar="METRES",
                   help="格网边长（米，10–1000）/ cell size, metres (default 100)")  # fmt: skip
    p.add_argument("--network", metavar="FILE", help="步行路网 / walking network (default: the "
                   "store's streets; 'none' for straight lines)")  # fmt: skip
    p.add_argument(
        "--out", metavar="FILE", help="输出文件 / output file (default surface.<format>)"
    )


_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".tif": "tif",
             ".tiff": "tif"}  # fmt: skip


def _cmd_surface(args: argparse.Namespace, settings: Settings) -> int:
    from geo.analysis.study import Study
    from geo.analysis.surface import surface, surface_bytes
    from geo.atomic import atomic_write_bytes
    from geo.errors import QueryError

    suffix = Path(args.out).suffix.lower() if args.out else ""
    fmt = args.format or _SUFFIXES.get(suffix, "geojson")
    if args.out and suffix and _SUFFIXES.get(suffix, fmt) != fmt:
        raise QueryError(f"--out 的扩展名 {suffix} 与格式 {fmt} 不符 / --out ends in {suffix} "
                         f"but the format is {fmt}")  # fmt: skip
    out = Path(args.out or f"surface.{fmt}")
    study = Study.load(settings.data, network=args.network or settings.network,
                       cache_dir=settings.cache)  # fmt: skip
    grid = surface(study, args.cell)
    kinds = (args.type,) if args.type else None
    walkers = (args.profile,) if args.profile else None
    content = surface_bytes(grid, fmt, kinds, walkers)
    atomic_write_bytes(out, content)
    kept = int(grid.kept().sum())
    print(f"{out}: {grid.nrows} × {grid.ncols} 格 / cells of {grid.cell_m:g} m, {kept} 在研究区 / "
          f"in the study ({grid.method}; {len(content) / 1e3:,.0f} kB)", file=sys.stderr)  # fmt: skip
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {"surface": _cmd_surface}
