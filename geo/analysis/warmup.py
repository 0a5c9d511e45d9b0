"""Make a fresh process ready to analyse: its libraries imported, its kernels loaded.

A new Python process pays, on its first study, for importing lifecircle's libraries
(geopandas, shapely, pyogrio, numba, …) and for loading numba's compiled kernels from the
cache — about 2 CPU seconds here, the same for a study of 200 compounds or 20,000.
:func:`warm_up` pays it at once by analysing a study of four compounds written to a
temporary folder, along the path of a real study (read the store, build the network,
analyse, encode the files). ``lifecircle batch`` runs it on every dask worker as the
cluster starts (:func:`warm_workers`), so that the first study on a
worker costs what the others do.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from geo.analysis.run import analyze, encode_outputs
from geo.analysis.study import Study
from geo.layers.geojson import to_feature_collection
from geo.layers.store import write_layer

__all__ = ["warm_up", "warm_workers", "write_small_study"]

_BLOCK = 120.0
_X0, _Y0 = 360_000.0, 3_462_000.0  # UTM 51N, near 长白新村


def _frame(ids: list[str], columns: dict, geometry: list) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame({"id": ids, **columns}, geometry=geometry, crs="EPSG:32651", index=ids)
    return frame.to_crs("EPSG:4326")


def _point(i: int, j: int, offset: float = 10.0) -> shapely.Point:
    return shapely.Point(_X0 + i * _BLOCK + offset, _Y0 + j * _BLOCK + offset)


def write_small_study(folder: str | Path) -> Path:
    """Write a valid study of four compounds on a 3 × 3 street grid to ``folder``.

    One clinic, neighbour centre, e-bike charger and renovation project, so that every
    stage of :func:`~geo.analysis.run.analyze` has work to do.

    Parameters
    ----------
    folder : str or path-like
        Created if missing.

    Returns
    -------
    pathlib.Path
        ``folder``.
    """
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    cells = [(0, 0), (1, 0), (0, 1), (1, 1)]
    compounds = [
        shapely.box(_X0 + i * _BLOCK + 25, _Y0 + j * _BLOCK + 25,
                    _X0 + (i + 1) * _BLOCK - 25, _Y0 + (j + 1) * _BLOCK - 25)
        for i, j in cells
    ]  # fmt: skip
    people = {"households": 500, "population": 1000, "elderly": 300}
    area = {
        "subdistrict": "长白新村街道",
        "district": "杨浦区",
        "built": "1980s",
        "tenure": "售后公房",
    }
    names = [f"新村{k}" for k in range(len(cells))]
    write_layer(_frame([f"a{k}" for k in range(len(cells))], {"name": names, **area, **people},
                       compounds), "residential_areas", path)  # fmt: skip
    write_layer(_frame(["c0"], {"name": ["卫生站"], "level": "station"}, [_point(0, 0)]),
                "clinics", path)  # fmt: skip
    centre = {"name": ["睦邻中心"], "subdistrict": "长白新村街道", "kind": "point",
              "health_station": False}  # fmt: skip
    write_layer(_frame(["n0"], centre, [_point(1, 1)]), "neighbor_centers", path)
    charger = {"name": ["车棚"], "vehicle": "ebike", "ports": 10}
    write_layer(_frame(["p0"], charger, [_point(1, 0)]), "charging_points", path)
    project = {"name": ["加装电梯"], "kind": "elevator_retrofit", "status": "signed"}
    write_layer(_frame(["r0"], project, [_point(0, 1, 60.0)]), "renovation_projects", path)
    ends = [k * _BLOCK for k in range(3)]
    lines = [shapely.LineString([(_X0 + e, _Y0), (_X0 + e, _Y0 + 2 * _BLOCK)]) for e in ends]
    lines += [shapely.LineString([(_X0, _Y0 + e), (_X0 + 2 * _BLOCK, _Y0 + e)]) for e in ends]
    streets = _frame([f"s{k}" for k in range(len(lines))], {}, lines)
    (path / "streets.geojson").write_bytes(to_feature_collection(streets.reset_index(drop=True)))
    return path


def warm_up() -> float:
    """Analyse a small study once in this process (and forget it); its seconds.

    Its network is cached in a temporary folder, removed afterwards: the user's cache
    gets nothing but numba's kernels, which it holds already after a first analysis.

    Returns
    -------
    float
        Wall seconds it took (about 2 in a new process here, 0.3 once warm).
    """
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lifecircle-warm-") as tmp:
        study = Study.load(write_small_study(tmp), cache_dir=Path(tmp))
        encode_outputs(analyze(study, workers=1))
    return time.perf_counter() - start


def warm_workers(client: Any) -> dict[str, float]:
    """Import the libraries and load the compiled kernels on every worker, once.

    A worker plugin runs :func:`~geo.analysis.warmup.warm_up` on every worker now and on
    every worker that joins later (one restarted after running out of memory, say), so a
    study's task costs the same on a new worker as on a used one.

    Parameters
    ----------
    client : distributed.Client

    Returns
    -------
    dict of str to float
        Each worker's address and the seconds its warm-up took.
    """
    from distributed import WorkerPlugin

    class Warm(WorkerPlugin):
        name = "lifecircle-warm-up"
        seconds = 0.0

        def setup(self, worker: Any) -> None:
            self.seconds = warm_up()

    client.register_plugin(Warm())
    return dict(client.run(_warmed))


def _warmed(dask_worker: Any) -> float:
    return float(getattr(dask_worker.plugins.get("lifecircle-warm-up"), "seconds", 0.0))
