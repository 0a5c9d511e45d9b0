"""Benchmark of ``lifecircle batch``: 8 districts serially vs on a 2-worker local dask cluster,
and one big study in parts vs whole.

Districts: 8 grid cities of ``tests/city.py`` (``--size`` compounds each, default 2,500,
each with its own streets and facilities), written as study folders.

- **serial, as a user types it**: ``lifecircle analyze --data STUDY`` once per study, a new
  process each (every one imports the libraries and loads the compiled kernels again, and
  forks each type's gap zones and isochrones over every core, ``analyze``'s default);
- **serial in one process**: one child process runs what ``lifecircle analyze`` runs (load,
  analyze, write) for each district in turn, twice: with ``analyze``'s default and with
  ``workers=1``. The child is made ready first (``geo.analysis.warmup``: libraries
  imported, kernels loaded) and that is timed apart, as the batch's workers are;
- **batch**: ``lifecircle batch``'s library on a ``LocalCluster`` of 2 worker processes of
  one thread each (127.0.0.1 only); the cluster's start and the workers' warm-up are timed
  on their own lines, then from submitting to the last file written. Each worker's peak
  resident memory is read in the worker (``ru_maxrss``); the CPU seconds of the workers and
  of this process (the client and scheduler) are shown, and how much of the batch's time
  each worker was on a core: on two cores shared with other work, that, not lifecircle,
  bounds the speed-up. Every file is compared with the serial runs', byte for byte.
- **big study in parts** (skip with ``--no-parts``): the 20,000-compound grid city, whole
  (one process, ``analyze``'s default) against ``run_partitioned`` on the same cluster,
  files compared byte for byte; the sizes of what is shipped to the workers.

The target (1.7x) is against the serial run in one process, both sides ready.

Usage::

    python benchmarks/batch.py                 # ~5 min here
    python benchmarks/batch.py --size 1000 --no-parts   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cloudpickle

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TARGET_SPEEDUP = 1.7
DISTRICTS = 8


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def child(folders: list[str], out: str, workers: int | None) -> dict:
    """Analyse the studies one after another in this process, as ``lifecircle analyze``
    (``out`` ``warm``: only build their networks' cache and compile the kernels).

    The process is warmed first (``warm_up``, as every batch worker is) and that is timed
    apart, so that both sides are timed from a process ready to analyse."""
    start, cpu = time.perf_counter(), _cpu()
    from geo.analysis.batch import peak_mb
    from geo.analysis.run import analyze, write_outputs
    from geo.analysis.study import Study
    from geo.analysis.warmup import warm_up

    if out == "warm":
        for folder in folders:
            Study.load(folder)
        analyze(Study.load(folders[0]), workers=1)
        return {}
    warm_up()
    ready, ready_cpu = time.perf_counter() - start, _cpu() - cpu
    start, cpu = time.perf_counter(), _cpu()
    for folder in folders:
        study = Study.load(folder)
        write_outputs(analyze(study, workers=workers), Path(out) / Path(folder).name)
    return {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "peak_mb": peak_mb(),
            "ready": ready, "ready_cpu": ready_cpu}  # fmt: skip


def _commands(folders: list[Path], out: Path) -> dict:
    """``lifecircle analyze --data STUDY`` for each study, one new process each, as a user
    types them: every process imports the libraries and loads the kernels again, and forks
    the per-facility isochrones over every core (``analyze``'s default)."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    for folder in folders:
        command = [sys.executable, "-m", "geo.cli", "analyze", "--data", str(folder),
                   "--out", str(out / folder.name), "--quiet"]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"seconds": time.perf_counter() - start, "cpu": cpu,
            "peak_mb": after.ru_maxrss / 1024.0}  # fmt: skip


def _self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def _cpu() -> float:
    """CPU seconds of this process and its finished children (forked isochrone workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _quiet(seconds: float) -> float:
    """Wait up to ``seconds`` for a quiet machine (1-minute load average below 1); the
    load average when the wait ended."""
    end = time.monotonic() + seconds
    while os.getloadavg()[0] > 1.0 and time.monotonic() < end:
        time.sleep(5)
    return os.getloadavg()[0]


def _serial(folders: list[Path], out: Path, workers: int | None) -> dict:
    command = [sys.executable, __file__, "--child", str(out), *map(str, folders)]
    command += ["--child-workers", str(workers)] if workers else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _warm(folders: list[Path]) -> None:
    """Build the networks' cache and numba's compiled kernels once, before any timing."""
    subprocess.run([sys.executable, __file__, "--child", "warm", *map(str, folders)],
                   capture_output=True, check=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2500, help="compounds per district")
    parser.add_argument("--no-parts", action="store_true", help="skip the 20k city in parts")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="before each timing, wait up to this long for an idle machine")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="time the one-process serial run and the batch N times, "
                        "alternately, and keep each one's fastest")  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("folders", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.folders, args.child, args.child_workers)))
        return 0
    from city import write_city

    from geo.analysis.batch import connect, peak_mb, run_batch, study_jobs
    from geo.analysis.warmup import warm_workers

    # the workers are new interpreters: they must import this checkout's geo
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    numbers: dict = {"size": args.size, "districts": DISTRICTS}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["LIFECIRCLE_CACHE"] = str(work / "cache")  # a fresh cache, then warmed
        folders = [write_city(work / "studies" / f"district{i}", args.size + 37 * i)
                   for i in range(DISTRICTS)]  # fmt: skip
        print(f"  {DISTRICTS} districts of {args.size:,}+ compounds; warming caches ...",
              flush=True)  # fmt: skip
        _warm(folders)
        numbers["load"] = {}
        numbers["load"]["serial_default"] = _quiet(args.wait_quiet)
        print(f"  serial (analyze's default) ... load {os.getloadavg()[0]:.1f}", flush=True)
        numbers["serial_default"] = _serial(folders, work / "serial", None)
        numbers["load"]["commands"] = _quiet(args.wait_quiet)
        print(f"  serial (lifecircle analyze, one command per study) ... load "
              f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        numbers["commands"] = _commands(folders, work / "commands")
        start = time.perf_counter()
        with connect(None, 2, warm=False) as client:
            numbers["cluster_start"] = time.perf_counter() - start
            start = time.perf_counter()
            warm_workers(client)
            numbers["warm"] = time.perf_counter() - start
            jobs = study_jobs(folders)
            numbers["job_bytes"] = max(len(cloudpickle.dumps(job)) for job in jobs)
            numbers["runs"] = []
            for _ in range(args.repeat):  # the idle cluster waits while the serial run runs
                load = _quiet(args.wait_quiet)
                print(f"  serial (one process) ... load {os.getloadavg()[0]:.1f}", flush=True)
                numbers["runs"].append({"serial_one": _serial(folders, work / "serial1", 1),
                                        "load_serial_one": load})  # fmt: skip
                load = _quiet(args.wait_quiet)
                print(f"  batch on 2 workers ... load {os.getloadavg()[0]:.1f}", flush=True)
                cpu, client_cpu = client.run(_cpu), _self_cpu()
                start = time.perf_counter()
                done = run_batch(jobs, work / "batch", client)
                worker_cpu = {k: v - cpu[k] for k, v in client.run(_cpu).items()}
                numbers["runs"][-1].update({
                    "batch": time.perf_counter() - start, "load_batch": load,
                    "worker_cpu": worker_cpu, "batch_cpu": sum(worker_cpu.values()),
                    "client_cpu": _self_cpu() - client_cpu,
                })  # fmt: skip
            best = min(numbers["runs"], key=lambda run: run["serial_one"]["seconds"])
            numbers["serial_one"] = best["serial_one"]
            numbers["load"]["serial_one"] = best["load_serial_one"]
            best = min(numbers["runs"], key=lambda run: run["batch"])
            numbers.update({k: best[k] for k in ("batch", "worker_cpu", "batch_cpu", "client_cpu")})
            numbers["load"]["batch"] = best["load_batch"]
            numbers["worker_peak_mb"] = client.run(peak_mb)
            numbers["returned_mb"] = sum(
                p.stat().st_size for p in (work / "batch").rglob("*") if p.is_file()
            ) / 1e6 / DISTRICTS  # fmt: skip
            numbers["tasks"] = {d.name: [round(d.seconds, 2), d.worker] for d in done}
            same = all(_files(work / "batch" / f.name) == _files(work / "serial" / f.name)
                       == _files(work / "serial1" / f.name)
                       == _files(work / "commands" / f.name) for f in folders)  # fmt: skip
            numbers["identical"] = same
            if not args.no_parts:
                numbers["parts"] = _parts(work, client, args.wait_quiet)
    _report(numbers)
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2))
    return 0


def _parts(work: Path, client, wait: float) -> dict:
    import cloudpickle
    from city import write_city

    from geo.analysis.batch import run_partitioned, study_jobs
    from geo.analysis.coverage import area_origins
    from geo.analysis.partition import cut_part, partition_areas
    from geo.analysis.study import Study
    from geo.schema import FACILITY_LAYERS

    folder = write_city(work / "studies" / "city20k", 20_000)
    _warm([folder])
    _quiet(wait)
    print(f"  20k city whole ... load {os.getloadavg()[0]:.1f}", flush=True)
    whole = _serial([folder], work / "whole", None)
    _quiet(wait)
    print(f"  20k city in parts on 2 workers ... load {os.getloadavg()[0]:.1f}", flush=True)
    start = time.perf_counter()
    done = run_partitioned(study_jobs([folder])[0], client, "subdistrict")
    seconds = time.perf_counter() - start
    same = done.files == _files(work / "whole" / folder.name)
    study = Study.load(folder)
    areas = study.layers["residential_areas"]
    origins = {k: area_origins(study, areas, k) for k in FACILITY_LAYERS}
    sizes = [len(cloudpickle.dumps(cut_part(study, rows, 1000.0, origins)))
             for rows in partition_areas(areas)]  # fmt: skip
    bare = Study(study.layers, study.network, study.max_snap_m, study.circuity)
    return {"whole": whole, "parts_s": seconds, "identical": same,
            "part_mb": [s / 1e6 for s in sizes], "study_mb": len(cloudpickle.dumps(bare)) / 1e6,
            "worker_peak_mb": done.peak_mb}  # fmt: skip


def _report(n: dict) -> None:
    one, default = n["serial_one"]["seconds"], n["serial_default"]["seconds"]
    batch, load, commands = n["batch"], n["load"], n["commands"]
    ready = n["serial_one"]["ready"]
    started = n["cluster_start"] + n["warm"]
    print(f"\n| {n['districts']} districts of {n['size']:,}+ compounds | wall s | CPU s | peak MB "
          "| load before |\n|---|---|---|---|---|")  # fmt: skip
    print(f"| serial, `lifecircle analyze` once per study (8 new processes, its default fork) | "
          f"{commands['seconds']:.1f} | {commands['cpu']:.1f} | {commands['peak_mb']:.0f} | "
          f"{load['commands']:.1f} |")  # fmt: skip
    print(f"| serial, analyze's default in one process (the shapes forked over both "
          f"cores) | {default:.1f} (+ {n['serial_default']['ready']:.1f} ready) | "
          f"{n['serial_default']['cpu']:.1f} | {n['serial_default']['peak_mb']:.0f} | "
          f"{load['serial_default']:.1f} |")  # fmt: skip
    print(f"| serial, one process | {one:.1f} (+ {ready:.1f} ready) | "
          f"{n['serial_one']['cpu']:.1f} | {n['serial_one']['peak_mb']:.0f} | "
          f"{load['serial_one']:.1f} |")  # fmt: skip
    peaks = ", ".join(f"{v:.0f}" for v in n["worker_peak_mb"].values())
    print(f"| batch, LocalCluster 2 workers x 1 thread | {batch:.1f} (+ {n['cluster_start']:.1f} "
          f"start + {n['warm']:.1f} warm) | {n['batch_cpu']:.1f} workers + "
          f"{n['client_cpu']:.1f} client | {peaks} per worker | {load['batch']:.1f} |")  # fmt: skip
    print("\n(ready: importing the libraries and loading the compiled kernels, once per process;"
          " batch's start and warm-up are the same for its workers)")  # fmt: skip
    print(f"shipped per study: {n['job_bytes']} bytes of job; its {n['returned_mb']:.1f} MB of "
          "files written by the worker (a remote worker sends them back)")  # fmt: skip
    verdict = "PASS" if one / batch >= TARGET_SPEEDUP else "MISS"
    print(f"{verdict}  speed-up vs serial one process, both ready: {one / batch:.2f}x "
          f"(target >= {TARGET_SPEEDUP}x on 2 cores)")  # fmt: skip
    print(
        f"      the same with each side's start counted: {(one + ready) / (batch + started):.2f}x"
    )
    print(f"      vs `lifecircle analyze` per study, batch's start counted: "
          f"{commands['seconds'] / (batch + started):.2f}x")  # fmt: skip
    print(f"      vs serial analyze's default, both ready: {default / batch:.2f}x "
          f"(it already forks its shapes over both cores)")  # fmt: skip
    # the speed-up is the cores the batch got over the serial run's, times the CPU a study
    # costs serially over what it costs in the batch (workers and client)
    shares = [v / batch for v in n["worker_cpu"].values()]
    serial_share = n["serial_one"]["cpu"] / one
    efficiency = n["serial_one"]["cpu"] / (n["batch_cpu"] + n["client_cpu"])
    print(f"      ~ cores: the workers were on a core {' and '.join(f'{v:.2f}' for v in shares)} "
          f"of the time (serial: {serial_share:.2f}) x CPU: a study cost {1 / efficiency:.2f}x "
          "its serial CPU in the batch, workers and client")  # fmt: skip
    if len(n["runs"]) > 1:
        print("      every run (serial one process / batch, wall s): " + ", ".join(
            f"{r['serial_one']['seconds']:.1f} / {r['batch']:.1f}" for r in n["runs"]))  # fmt: skip
    print(f"{'PASS' if n['identical'] else 'MISS'}  every batch file identical to the serial runs'")
    if "parts" in n:
        p = n["parts"]
        print(f"\n20k city: whole {p['whole']['seconds']:.1f} s ({p['whole']['peak_mb']:.0f} MB), "
              f"in parts on 2 workers {p['parts_s']:.1f} s (workers' peak "
              f"{p['worker_peak_mb']:.0f} MB)")  # fmt: skip
        print(f"shipped: each 街道 part {min(p['part_mb']):.1f}–{max(p['part_mb']):.1f} MB, "
              f"the whole study (for the shapes) {p['study_mb']:.1f} MB")  # fmt: skip
        print(f"{'PASS' if p['identical'] else 'MISS'}  20k city: files in parts identical to "
              f"the whole run's")  # fmt: skip
    print(f"load average at the end (2 cores: above 2 means shared): {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
