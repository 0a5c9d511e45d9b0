"""Many studies at once on dask.distributed: what ``lifecircle batch`` runs.

Each study is one task. What is shipped to a worker is a :class:`BatchJob`: the study's
store as text (a folder path or a store URL such as ``postgresql://…``), the walk
parameters and the options of ``lifecircle analyze`` — a few hundred bytes. The worker
opens the store itself, builds (or takes from its cache) the walking network, runs
:func:`~geo.analysis.run.analyze` and writes the files to ``OUT/<study>/`` when it shares
the client's disk (a ``LocalCluster``); a remote worker sends their bytes back
(:func:`~geo.analysis.run.encode_outputs`, ~12 MB for 2,500 compounds) for the client to
write, so it needs to reach the stores, not the output folder. Every file is the one a
serial ``lifecircle analyze`` of that study writes.

dask is imported inside the functions that need it (the ``scale`` extra), so the rest of
lifecircle runs without it. :mod:`geo.analysis.partition` splits one big study instead.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from geo.analysis.isochrones import ISOCHRONE_MINUTES, assemble_shapes, shape_tasks_of
from geo.analysis.params import CIRCUITY, WalkParams
from geo.analysis.partition import Part, part_coverage, partitioned_coverage, shape_tasks
from geo.analysis.run import analyze, available_cores, encode_outputs, summary_table, write_outputs
from geo.analysis.study import Study
from geo.analysis.warmup import warm_workers
from geo.errors import LifecircleError, StoreError
from geo.layers.store import open_store
from geo.schema import FACILITY_LAYERS

__all__ = [
    "INSTALL_HINT",
    "LOCAL_CLUSTER_CONFIG",
    "BatchJob",
    "SchedulerError",
    "StudyDone",
    "cluster_runner",
    "connect",
    "peak_mb",
    "run_batch",
    "run_job",
    "run_partitioned",
    "shown",
    "study_jobs",
]

INSTALL_HINT = (
    "需要 dask 与 distributed / needs dask and distributed: pip install 'lifecircle[scale]'"
)


#: dask settings of the local cluster (its workers' share of two cores, measured in
#: docs/scale.md): the statistical profiler samples every task's stack 100 times a
#: second, ~7 % of a study's CPU here; dask's nanny sets MALLOC_TRIM_THRESHOLD_ to 64 kB
#: so that freed memory goes back at once, ~3 % more in page faults. A worker holds one
#: study at a time, as ``lifecircle analyze`` does, so glibc's default is kept instead.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}


class SchedulerError(LifecircleError):
    """The dask scheduler cannot be reached or started."""


@dataclass(frozen=True)
class BatchJob:
    """One study to analyse, as shipped to a worker: text and numbers only.

    Attributes
    ----------
    location : str
        The study's store: a folder path or a store URL the worker can open.
    name : str
        The output sub-folder, ``OUT/<name>/``.
    params : WalkParams
        The walker and thresholds.
    network : str
        ``auto`` (the store's streets), a network file, or ``none`` (straight lines).
    cache : str or None
        The network cache folder on the worker (the client's setting).
    circuity : float
        Detour ratio of straight-line mode.
    join_within : float or None
        Join dead ends this many metres short of another street.
    elderly_weight : float
        Weight of residents 60+ when ranking gap areas.
    per_facility : bool
        Also the per-facility isochrones (``lifecircle analyze --per-facility``).
    out : str or None
        A folder the worker writes ``<out>/<name>/`` to itself (a local cluster shares
        this machine's disk); None sends the files back to the client.
    """

    location: str
    name: str
    params: WalkParams = field(default_factory=WalkParams)
    network: str = "auto"
    cache: str | None = None
    circuity: float = CIRCUITY
    join_within: float | None = None
    elderly_weight: float = 1.0
    per_facility: bool = False
    out: str | None = None


@dataclass
class StudyDone:
    """What a worker sends back for one study.

    Attributes
    ----------
    name : str
        The job's name.
    files : dict of str to bytes
        Output file names and contents (empty when the study failed; the contents empty
        when the worker wrote them, ``written``).
    error : str or None
        The bilingual message of a study that could not be analysed.
    notes : list of str
        What ``lifecircle analyze`` would print to stderr (joined near misses, warnings).
    table : str
        :func:`~geo.analysis.run.summary_table` of the study.
    seconds : float
        Wall time of the task on its worker.
    peak_mb : float
        The worker process's peak resident memory so far (MB).
    worker : str
        The worker's address (``local`` without dask).
    written : bool
        The worker wrote the files to the job's ``out`` itself.
    """

    name: str
    files: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    table: str = ""
    seconds: float = 0.0
    peak_mb: float = 0.0
    worker: str = "local"
    written: bool = False


def peak_mb() -> float:
    """This process's peak resident memory, MB (``ru_maxrss``).

    Returns
    -------
    float
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _name_of(location: str) -> str:
    """A folder's name; a store URL's ``schema=`` (one per district on one database), else
    the last part of its path (the database)."""
    scheme, colon, _ = location.partition(":")
    if colon and len(scheme) > 1 and "/" not in scheme:
        url = urlsplit(location)
        schema = parse_qs(url.query).get("schema")
        name = schema[0] if schema else Path(url.path.rstrip("/")).name or (url.hostname or "")
    else:
        name = Path(location.rstrip("/")).name or Path(location).resolve().name
    return re.sub(r"[^\w.\-]+", "_", name) or "study"


def shown(location: str) -> str:
    """``location`` fit to print: a URL's password replaced by ``***``.

    Parameters
    ----------
    location : str
        A folder path or a store URL.

    Returns
    -------
    str

    Examples
    --------
    >>> shown("postgresql://planner:s3cret@db:5432/lifecircle?schema=yangpu")
    'postgresql://planner:***@db:5432/lifecircle?schema=yangpu'
    """
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", location)


def study_jobs(locations: Sequence[str | os.PathLike[str]], **options: Any) -> list[BatchJob]:
    """One job per study, each checked to be a store that opens; names made distinct.

    Parameters
    ----------
    locations : sequence of str or path-like
        Study folders or store URLs.
    **options
        The other fields of :class:`BatchJob` (``params``, ``network``, ``cache``, …),
        the same for every study.

    Returns
    -------
    list of BatchJob
        In the order given; a name that repeats gets ``-2``, ``-3``, … added.

    Raises
    ------
    StoreError
        A study is not a store (a folder that does not exist, an unknown store type):
        the message names it. A store without compounds fails in :func:`run_job`.
    QueryError
        No study was given.
    """
    from geo.errors import QueryError

    if not locations:
        raise QueryError("没有研究区 / no study given: lifecircle batch STUDY… --out DIR")
    jobs: list[BatchJob] = []
    seen: dict[str, int] = {}
    for given in locations:
        location = os.fspath(given)
        try:  # a missing folder or an unknown store type, before anything is sent
            open_store(location)
        except StoreError as exc:
            raise StoreError(f"研究区 / study {shown(location)}: {exc}") from None
        name = _name_of(location)
        if Path(location).exists():  # a folder: the same on a worker whose cwd differs
            location = str(Path(location).resolve())
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}-{seen[name]}"
        jobs.append(BatchJob(location, name, **options))
    return jobs


def _load_study(job: BatchJob, done: StudyDone) -> Study:
    """The job's study as ``lifecircle analyze`` loads it, near misses joined when asked
    (noted in ``done``)."""
    cache = Path(job.cache) if job.cache else None
    study = Study.load(job.location, network=job.network, circuity=job.circuity,
                       cache_dir=cache)  # fmt: skip
    if study.network is not None and job.join_within is not None:
        from geo.network.quality import join_near_misses

        network, joined = join_near_misses(study.network, job.join_within)
        study = Study(study.layers, network, study.max_snap_m, study.circuity)
        done.notes.append(f"已连接 / joined {len(joined)} near misses (≤ {job.join_within:g} m)")
    return study


def run_job(job: BatchJob) -> StudyDone:
    """Analyse one study as ``lifecircle analyze`` does; return its files (runs on a worker).

    Parameters
    ----------
    job : BatchJob

    Returns
    -------
    StudyDone
        The files, or the error of a study that could not be analysed (a bilingual
        message, not an exception, so that one bad study does not stop the others).
    """
    start = time.perf_counter()
    done = StudyDone(job.name, worker=_worker_address())
    try:
        study = _load_study(job, done)
        # one process per worker: the shapes are not forked again inside it
        result = analyze(study, job.params, elderly_weight=job.elderly_weight, workers=1,
                         per_facility=job.per_facility)  # fmt: skip
        unreached, total = result.settings["areas_unreached"], len(result.coverage)
        if study.network is not None and unreached > total / 2:
            done.notes.append(
                f"警告 / warning: {unreached} / {total} 个小区离路网超过 {study.max_snap_m:g} 米 "
                f"/ compounds more than {study.max_snap_m:g} m from any street"
            )
        done.files = encode_outputs(result)
        done.table = summary_table(result)
        if job.out is not None:  # 12 MB for 2,500 compounds: not sent when not needed
            write_outputs(done.files, Path(job.out) / job.name)
            done.files, done.written = {name: b"" for name in done.files}, True
    except LifecircleError as exc:
        done.error = f"{shown(job.location)}: {exc}"
    done.seconds = time.perf_counter() - start
    done.peak_mb = peak_mb()
    return done


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


@contextmanager
def connect(
    scheduler: str | None = None,
    workers: int | None = None,
    *,
    timeout: float = 10.0,
    echo: Callable[[str], Any] | None = None,
    warm: bool = True,
) -> Iterator[Any]:
    """A dask client: a new ``LocalCluster`` on this machine, or an existing scheduler.

    The local cluster has ``workers`` processes of one thread each, listens on 127.0.0.1
    only and is shut down on leaving, with its worker processes; its workers run with
    :data:`LOCAL_CLUSTER_CONFIG`. Every worker is then warmed
    (:func:`~geo.analysis.warmup.warm_workers`).

    Parameters
    ----------
    scheduler : str, optional
        ``local`` or None for a local cluster; else a scheduler's address such as
        ``tcp://10.0.0.5:8786``.
    workers : int, optional
        Local: how many worker processes (default the cores this process may use). With
        a scheduler: wait until that many workers have joined.
    timeout : float
        Seconds to wait for a scheduler (and for its workers).
    echo : callable, optional
        Called with one line naming the dashboard's address (and one when the workers
        are warm).
    warm : bool
        Warm the workers before yielding (False: the caller may time it apart).

    Yields
    ------
    distributed.Client

    Raises
    ------
    SchedulerError
        dask is not installed, the scheduler cannot be reached, or its workers do not
        come; the message names the address.
    """
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise SchedulerError(INSTALL_HINT) from None
    if workers is not None and workers < 1:
        raise SchedulerError(f"--workers 至少为 1 / --workers must be at least 1, got {workers}")
    if scheduler in (None, "", "local"):
        count = workers or available_cores()
        try:
            with dask.config.set(LOCAL_CLUSTER_CONFIG):  # the nannies copy it to the workers
                cluster = LocalCluster(
                    n_workers=count,
                    threads_per_worker=1,  # much of the analysis holds the GIL: processes
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # any free port, this machine only
                    silence_logs=logging.ERROR,
                )
        except OSError as exc:
            raise SchedulerError(
                f"无法启动本地 dask 集群 / cannot start a local dask cluster: {exc}"
            ) from None
        with cluster, Client(cluster) as client:
            if echo is not None:
                echo(f"dask 仪表盘 / dashboard: {client.dashboard_link}  ({count} workers)")
            if warm:
                _warm(client, echo)
            yield client
        return
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(
            f"无法连接 dask 调度器 / cannot reach the dask scheduler {scheduler}: {exc}; "
            "检查地址与端口 / check the address and port (dask scheduler listens on 8786)"
        ) from None
    with client:
        if workers:
            try:
                client.wait_for_workers(workers, timeout=timeout)
            except TimeoutError:
                raise SchedulerError(
                    f"调度器 {scheduler} 在 {timeout:g} 秒内没有 {workers} 个 worker / the "
                    f"scheduler {scheduler} has fewer than {workers} workers after {timeout:g} s"
                ) from None
        if echo is not None:
            echo(f"dask 仪表盘 / dashboard: {client.dashboard_link}")
        if warm:
            _warm(client, echo)
        yield client


def _warm(client: Any, echo: Callable[[str], Any] | None) -> None:
    start = time.perf_counter()
    try:
        warmed = warm_workers(client)
    except (LifecircleError, OSError) as exc:  # each study then loads what it needs itself
        warmed = {}
        if echo is not None:
            echo(f"警告 / warning: worker 预热失败 / warming the workers failed: {exc}")
    if echo is not None and warmed:
        echo(f"worker 已就绪 / {len(warmed)} workers ready in {time.perf_counter() - start:.1f} s "
             "(库与编译核已载入 / libraries and compiled kernels loaded)")  # fmt: skip


def run_batch(
    jobs: Sequence[BatchJob],
    out: str | os.PathLike[str],
    client: Any = None,
    *,
    progress: bool = False,
    on_done: Callable[[StudyDone], Any] | None = None,
) -> list[StudyDone]:
    """Run every job and write each study's files to ``out/<name>/`` as it finishes.

    Parameters
    ----------
    jobs : sequence of BatchJob
        As :func:`study_jobs` makes them.
    out : path-like
        The output folder.
    client : distributed.Client, optional
        Where to run (:func:`connect`); None runs the jobs here, one after another. The
        workers of a ``LocalCluster`` write their files to ``out`` themselves; others
        send them back.
    progress : bool
        Show a progress bar (one step per study).
    on_done : callable, optional
        Called with each study's :class:`StudyDone` as it is written (its files emptied).

    Returns
    -------
    list of StudyDone
        In the order of ``jobs``, without the file contents (they are on disk).
    """
    from tqdm import tqdm

    folder = Path(out)
    done: dict[str, StudyDone] = {}
    bar = tqdm(total=len(jobs), desc="研究区 / studies", unit="study", disable=not progress)

    def finish(result: StudyDone) -> None:
        if result.error is None and not result.written:
            write_outputs(result.files, folder / result.name)
        result.files = {name: b"" for name in result.files}  # written: do not keep them
        done[result.name] = result
        bar.update()
        if on_done is not None:
            on_done(result)

    try:
        if client is None:
            for job in jobs:
                finish(run_job(job))
        else:
            from distributed import KilledWorker, LocalCluster, as_completed

            if isinstance(getattr(client, "cluster", None), LocalCluster):  # this machine's disk
                jobs = [replace(job, out=str(folder.resolve())) for job in jobs]
            futures = client.map(run_job, list(jobs), pure=False)
            named = {future.key: job for future, job in zip(futures, jobs, strict=True)}
            for future in as_completed(futures):
                try:
                    result = future.result()
                except KilledWorker:  # its workers died (out of memory, say): the others go on
                    job = named[future.key]
                    result = StudyDone(job.name, error=f"{shown(job.location)}: worker 进程退出 "
                                       "/ its worker processes died (out of memory?)")  # fmt: skip
                finish(result)
                future.release()
    finally:
        bar.close()
    return [done[job.name] for job in jobs]


def cluster_runner(
    client: Any, *, progress: bool = False
) -> Callable[[list[Part], WalkParams], list[tuple[pd.DataFrame, np.ndarray]]]:
    """A ``run`` for :func:`~geo.analysis.partition.partitioned_coverage` on a dask client.

    Parameters
    ----------
    client : distributed.Client
    progress : bool
        Show a progress bar per round of parts.

    Returns
    -------
    callable
        Takes the parts and the walk parameters, returns each part's result in order.
    """
    from distributed import as_completed
    from tqdm import tqdm

    def run(parts: list[Part], params: WalkParams) -> list[tuple[pd.DataFrame, np.ndarray]]:
        futures = [client.submit(part_coverage, part, params, pure=False) for part in parts]
        with tqdm(total=len(parts), desc="分区 / parts", unit="part", disable=not progress) as bar:
            for _ in as_completed(futures):
                bar.update()
        return list(client.gather(futures))

    return run


def run_partitioned(
    job: BatchJob, client: Any, by: str | float = "subdistrict", *, progress: bool = False
) -> StudyDone:
    """One study in parts on the cluster: coverage by 街道 (or grid) with halos, the gap
    zones and isochrones one task per stage and type; the files of ``lifecircle analyze``.

    The client loads the study and cuts the parts (:mod:`geo.analysis.partition`), so it
    needs the memory of the whole study; the workers get the parts and, for the shapes,
    the whole study once. The capacity ratios (each facility shared among every compound
    that walks to it, across parts) are computed by the client, on the whole study.

    Parameters
    ----------
    job : BatchJob
    client : distributed.Client
    by : str or float
        ``subdistrict`` or a grid cell side in metres.
    progress : bool
        Show progress bars.

    Returns
    -------
    StudyDone
        The files (or the error), its time, and the largest peak memory of the workers.
    """
    start = time.perf_counter()
    done = StudyDone(job.name, worker="cluster")
    try:
        study = _load_study(job, done)
        shapes: dict[str, Any] = {}
        if study.network is not None:
            bare = client.scatter(Study(study.layers, study.network, study.max_snap_m,
                                        study.circuity))  # fmt: skip
            shapes = {name: client.submit(call, bare, *args[1:], pure=False)
                      for name, (call, args)
                      in shape_tasks(study, job.params, ISOCHRONE_MINUTES,
                                     per_facility=job.per_facility).items()}  # fmt: skip
        coverage = partitioned_coverage(study, job.params, by=by,
                                        run=cluster_runner(client, progress=progress))  # fmt: skip
        result = analyze(study, job.params, elderly_weight=job.elderly_weight, workers=1,
                         area_results=coverage, shapes=False)  # fmt: skip
        if shapes:
            made = dict(zip(shapes, client.gather(list(shapes.values())), strict=True))
            tasks = shape_tasks_of(job.params)
            result.gap_zones, result.isochrones = assemble_shapes(
                study,
                job.params,
                ISOCHRONE_MINUTES,
                tasks,
                [made[f"shapes:{w}:{k}"] for w, k in tasks],
            )
            if job.per_facility:
                result.facility_isochrones = pd.concat(
                    [made[f"per facility:{k}"] for k in FACILITY_LAYERS], ignore_index=True
                )
        done.files = encode_outputs(result)
        done.table = summary_table(result)
        done.peak_mb = max(client.run(peak_mb).values())
    except LifecircleError as exc:
        done.error = f"{shown(job.location)}: {exc}"
    done.seconds = time.perf_counter() - start
    return done
