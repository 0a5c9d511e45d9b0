"""``lifecircle batch`` on a real local dask cluster, and one study computed in parts.

Batch against serial: every output file of every study compared byte for byte with what
``lifecircle analyze`` writes for that study alone (no normalisation: the files carry no
timestamp). Parts against the whole: the 20,000-compound grid city of ``tests/city.py``
(about 12 s here), every column of every compound, for both walkers, computed in
parts here (the cluster path is covered by the small cities' file comparison).
"""

from __future__ import annotations

import sys
from pathlib import Path

import psutil
import pytest
import shapely
from city import write_city

from geo.analysis.batch import connect, run_batch, run_partitioned, study_jobs
from geo.analysis.coverage import analyze_areas, area_origins
from geo.analysis.params import WalkParams
from geo.analysis.partition import cut_part, partition_areas, partitioned_coverage
from geo.analysis.study import Study
from geo.cli import main
from geo.schema import FACILITY_LAYERS


@pytest.fixture(scope="module")
def districts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two small grid cities of different sizes (their own streets and facilities)."""
    base = tmp_path_factory.mktemp("districts")
    return [write_city(base / name, size) for name, size in (("东区", 260), ("西区", 420))]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _serial(study: Path, out: Path, *options: str) -> dict[str, bytes]:
    assert main(["analyze", "--data", str(study), "--out", str(out), "--quiet", *options]) == 0
    return _files(out)


def test_batch_writes_the_files_of_a_serial_analyze_and_leaves_no_process(
    districts: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    out = tmp_path / "batch"
    args = ["batch", *map(str, districts), "--out", str(out), "--workers", "2", "--quiet"]
    assert main([*args, "--profile", "elderly", "--per-facility"]) == 0
    # the cluster is gone with its workers (multiprocessing's one resource tracker, started
    # with the first spawned process, stays until this process ends: it is not a worker)
    left = [
        " ".join(p.cmdline())
        for p in psutil.Process().children(recursive=True)
        if p.pid not in before and "resource_tracker" not in " ".join(p.cmdline())
    ]
    assert not left, f"processes left running: {left}"
    printed = capsys.readouterr()
    assert "http://127.0.0.1:" in printed.err  # the dashboard, on this machine only
    assert "2 workers ready in" in printed.err
    assert "已完成 / done: 2 / 2" in printed.out
    for study in districts:
        serial = _serial(
            study, tmp_path / "serial" / study.name, "--profile", "elderly", "--per-facility"
        )
        batch = _files(out / study.name)
        assert list(batch) == list(serial)
        assert {"capacity.csv", "isochrones_per_facility.geojson"} <= set(batch)
        for name, content in serial.items():
            assert batch[name] == content, f"{study.name}/{name} differs from the serial run"
    # the two districts really differ, so a mixed-up folder would fail above
    assert _files(out / districts[0].name) != _files(out / districts[1].name)


def _loaded_kernels() -> set[str]:
    """The compiled kernels this process has loaded so far."""
    found: set[str] = set()
    for name in ("geo.network._kernels", "geo.network._lattice"):
        module = sys.modules.get(name)
        found |= (
            {k for k, v in vars(module).items() if getattr(v, "signatures", None)}
            if module
            else set()
        )
    return found


def test_a_study_in_parts_on_the_cluster_writes_the_whole_runs_files(
    districts: list[Path], tmp_path: Path
) -> None:
    jobs = study_jobs([districts[1]], cache=None)
    with connect(None, 2) as client:
        info = client.scheduler_info()
        addresses = [info["address"], *info["workers"]]
        assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
        # warm before any study is sent: the kernels are loaded on each worker, and the
        # studies below load none that the warm-up did not
        warm = client.run(_loaded_kernels)
        assert len(warm) == 2 and all(len(names) >= 5 for names in warm.values()), warm
        # four 街道 of the grid city, so the coverage really is computed in parts
        assert len(partition_areas(Study.load(districts[1]).layers["residential_areas"])) >= 4
        done = run_partitioned(jobs[0], client, "subdistrict")
        # and the plain batch of the same study through the library, for the same files
        run_batch(jobs, tmp_path / "batch", client)
        assert client.run(_loaded_kernels) == warm
        # the command on an existing scheduler, by its address, waiting for its 2 workers
        address = info["address"]
        by_address = ["batch", str(districts[1]), "--out", str(tmp_path / "remote"), "--quiet"]
        assert main([*by_address, "--scheduler", address, "--workers", "2"]) == 0
    assert done.error is None and done.peak_mb > 50
    serial = _serial(districts[1], tmp_path / "serial")
    assert sorted(done.files) == list(serial)
    for name, content in serial.items():
        assert done.files[name] == content, f"{name}: parts differ from the whole"
    assert _files(tmp_path / "batch" / districts[1].name) == serial
    assert _files(tmp_path / "remote" / districts[1].name) == serial


@pytest.fixture(scope="module")
def city20k(tmp_path_factory: pytest.TempPathFactory) -> Study:
    folder = write_city(tmp_path_factory.mktemp("city20k"), 20_000)
    return Study.load(folder)


@pytest.mark.parametrize("walker", ["standard", "elderly"])
def test_coverage_in_parts_equals_the_whole_on_the_20k_city(city20k: Study, walker: str) -> None:
    params = WalkParams.parse(walker)
    whole = analyze_areas(city20k, params)
    sizes: list[int] = []
    parts = partitioned_coverage(city20k, params, sizes=sizes)
    assert parts.equals(whole)
    assert parts.dtypes.equals(whole.dtypes) and parts.attrs == whole.attrs
    # ten 街道 first, each of at most a tenth of the compounds plus some; then the
    # compounds whose nearest facility lay beyond the first reach, again with more
    assert len(sizes) > 10 and max(sizes) < 0.15 * len(whole)
    assert sum(sizes[:10]) == len(whole)
    # not trivially equal: some nearest facility is not covered, some compounds are
    assert 0 < whole["neighbor_centers_covered"].mean() < 1


def test_a_part_holds_only_the_streets_and_facilities_within_its_reach(city20k: Study) -> None:
    areas = city20k.layers["residential_areas"]
    origins = {k: area_origins(city20k, areas, k) for k in FACILITY_LAYERS}
    first = partition_areas(areas)[0]
    part = cut_part(city20k, first, 1000.0, origins)
    assert not part.whole
    net, sub = city20k.network, part.study.network
    assert net is not None and sub is not None
    assert 0.1 * net.n_edges < sub.n_edges < 0.5 * net.n_edges
    # every street within 1 km of the part's compounds is in it, none beyond 1.1 km (the
    # halo adds what the facilities' and gates' attachment to their streets may need: ~30 m)
    metric = areas.geometry.iloc[first].to_crs(city20k.crs)
    away = shapely.distance(net.edge_geometry, shapely.box(*metric.total_bounds))
    assert int((away <= 1000).sum()) <= sub.n_edges <= int((away <= 1100).sum())
    assert len(part.study.layers["clinics"]) < len(city20k.layers["clinics"])


def test_bad_input_is_a_message_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    missing = tmp_path / "没有这个目录"
    assert main(["batch", str(missing), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert str(missing) in err and "Traceback" not in err
    city = write_city(tmp_path / "city", 30)
    address = "tcp://127.0.0.1:9"  # the discard port: nothing listens there
    args = ["batch", str(city), "--out", str(tmp_path / "o"), "--scheduler", address]
    assert main([*args, "--timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert "无法连接 dask 调度器 / cannot reach the dask scheduler tcp://127.0.0.1:9" in err
    assert main(["batch", str(city), "--out", str(tmp_path / "o"), "--partition", "街道"]) == 1
    assert "'街道'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    text = capsys.readouterr().out
    assert "研究区" in text and "study" in text and "--scheduler" in text
