"""The ``lifecircle batch`` command: ``analyze`` for many studies, or one big one in parts,
on dask.distributed (a local cluster, or any scheduler by address).

:mod:`geo.cli` adds it to its parser (:func:`add_parsers`) and runs it (:data:`COMMANDS`).
dask is imported only when the command runs (``pip install 'lifecircle[scale]'``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from geo.settings import Settings

__all__ = ["COMMANDS", "EXAMPLES", "add_parsers"]

EXAMPLES = {
    "batch": [
        "lifecircle batch data/studies/* --out 全市/           # a local cluster, every core",
        "lifecircle batch 杨浦/ 徐汇/ --out out/ --workers 2 --profile elderly",
        "lifecircle batch 全市/ --partition subdistrict --out out/   # one big study in parts",
        "lifecircle batch 全市/ --partition 3000 --scheduler tcp://10.0.0.5:8786 --out out/",
    ],
}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], data_help: str) -> None:
    """Add ``batch`` to the ``lifecircle`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
        The ``lifecircle`` parser's subcommands.
    data_help : str
        The help text of ``--data`` (unused: each study is named on the command line).

    Returns
    -------
    None
    """
    p = sub.add_parser(
        "batch",
        help="多个研究区并行分析（dask）/ analyze many studies, or one big one in parts, on dask",
        description="对每个研究区（目录或数据存储地址）运行 lifecircle analyze，在 dask 集群上并行；"
        "结果写到 OUT/<研究区名>/，与逐个运行 analyze 的文件相同。--partition 把一个大研究区的小区"
        "按街道或网格分区，每区带上步行可达的道路（外加缓冲），分别计算后合并，结果与整体计算相同。 / "
        "Run lifecircle analyze for every study (a folder or a store URL) on a dask cluster; "
        "each study's files go to OUT/<study>/, the same files a serial analyze writes. "
        "--partition splits one big study's compounds by subdistrict or grid cell, each part "
        "with the streets its walks can use plus a halo, computed apart and merged: the same "
        "results as the whole.",
    )
    p.add_argument("studies", nargs="+", metavar="STUDY",
                   help="研究区目录或存储地址 / study folders or store URLs")  # fmt: skip
    p.add_argument("--out", required=True, metavar="DIR",
                   help="输出目录，每个研究区一个子目录 / output folder, one sub-folder per study")  # fmt: skip
    p.add_argument(
        "--scheduler",
        default="local",
        metavar="local|tcp://HOST:8786",
        help="dask 调度器：local 在本机启动集群（默认），或已有调度器的地址 / 'local' starts a "
        "cluster on this machine (default); else an existing scheduler's address",
    )
    p.add_argument("--workers", type=int, metavar="N", help="本机 worker 进程数（默认每核一个），"
                   "或等待远程调度器有 N 个 worker / local worker processes (default one per "
                   "core), or wait for N workers of a remote scheduler")  # fmt: skip
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="连接调度器的等待秒数 / seconds to wait for the scheduler (default 10)")  # fmt: skip
    p.add_argument("--partition", metavar="subdistrict|METRES", help="把每个研究区按街道或网格"
                   "（边长米数）分区计算 / compute each study in parts: by subdistrict, or grid "
                   "cells of this many metres")  # fmt: skip
    p.add_argument("--network", metavar="FILE", help="步行路网（默认各研究区自己的）/ walking "
                   "network (default: each store's streets); 'none' for straight lines")  # fmt: skip
    p.add_argument("--join-within", type=float, metavar="METRES",
                   help="把相距不超过该米数的断头路接上 / join near misses up to this many metres")  # fmt: skip
    p.add_argument("--profile", choices=("standard", "elderly"), default="standard",
                   help="步行速度档 / walking profile (default standard 4.0 km/h)")  # fmt: skip
    p.add_argument("--minutes", metavar="TYPE=MIN,…", help="阈值（分钟）/ thresholds, minutes")
    p.add_argument("--metres", metavar="TYPE=M,…", help="距离阈值（米）/ thresholds, metres")
    p.add_argument("--speed", type=float, metavar="KMH", help="自定义步行速度 / own speed, km/h")
    p.add_argument("--circuity", type=float, default=1.25,
                   help="无路网时的绕行系数 / without a network: straight line x this")  # fmt: skip
    p.add_argument("--elderly-weight", type=float, default=1.0,
                   help="盲区排序时老人权重 / weight of residents 60+ when ranking gaps")  # fmt: skip
    p.add_argument("--per-facility", action="store_true", help="另写每个设施的等时圈 / also "
                   "the per-facility isochrones, as analyze --per-facility")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="不显示进度条 / no progress bar")


def _cmd_batch(args: argparse.Namespace, settings: Settings) -> int:
    from geo.analysis.batch import StudyDone, connect, run_batch, run_partitioned, study_jobs
    from geo.analysis.params import WalkParams
    from geo.analysis.partition import parse_partition

    params = WalkParams.parse(args.profile, args.minutes, args.metres, speed=args.speed)
    by = parse_partition(args.partition) if args.partition else "subdistrict"
    # a local cluster shares this machine's network cache; remote workers use their own
    cache = str(settings.cache) if args.scheduler in ("", "local") else None
    jobs = study_jobs(args.studies, params=params, network=args.network or settings.network,
                      cache=cache, circuity=args.circuity,
                      join_within=args.join_within, elderly_weight=args.elderly_weight,
                      per_facility=args.per_facility)  # fmt: skip
    failed = 0

    def report(done: StudyDone) -> None:
        nonlocal failed
        for note in done.notes:
            print(f"{done.name}: {note}", file=sys.stderr)
        if done.error is not None:
            failed += 1
            print(f"lifecircle: {done.error}", file=sys.stderr)
            return
        print(f"{done.name}: {done.seconds:.1f} s, {done.peak_mb:.0f} MB 峰值内存 / peak "
              f"({done.worker}) → {args.out}/{done.name}/")  # fmt: skip

    progress = not args.quiet and sys.stderr.isatty()
    echo = lambda line: print(line, file=sys.stderr)  # noqa: E731
    with connect(args.scheduler, args.workers, timeout=args.timeout, echo=echo) as client:
        if args.partition:
            from geo.analysis.run import write_outputs

            for job in jobs:
                done = run_partitioned(job, client, by, progress=progress)
                if done.error is None:
                    write_outputs(done.files, f"{args.out}/{job.name}")
                report(done)
        else:
            run_batch(jobs, args.out, client, progress=progress, on_done=report)
    total = len(jobs)
    print(f"已完成 / done: {total - failed} / {total} 个研究区 / studies → {args.out}")
    return 1 if failed else 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {"batch": _cmd_batch}
