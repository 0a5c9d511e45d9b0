"""Benchmark of walking-coverage queries on synthetic Shanghai-sized street networks.

Runs our CSR network and numba kernels (``geo.network.graph`` / ``geo.network.routing``) side by side with
networkx (what an osmnx user would write) and pandana (the established contraction-hierarchy
library) on the *same* graphs, checks that they agree, and prints a table with PASS/MISS
against the targets. Every tool runs in its own child process so that its peak memory
(``ru_maxrss``) is its own. See ``benchmarks/README.md``.

Usage::

    python benchmarks/coverage.py                      # 10k, 100k and 1M nodes (< 15 min)
    python benchmarks/coverage.py --quick              # 10k and 100k, smaller budgets
    python benchmarks/coverage.py --sizes 10000,100000 --networkx-budget 60
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, this file's folder comes first on sys.path, and this file would then shadow
# the `coverage` package that numba imports: drop the folder, put the checkout there instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CRS = "EPSG:32651"  # UTM 51N, Shanghai
CENTRE_X, CENTRE_Y = 355_000.0, 3_460_000.0
SPACING_M = 80.0  # a node every ~80 m, like central Shanghai street blocks
JITTER_M = 20.0
EDGES_PER_NODE = 1.3  # undirected edges per node of real street graphs (OSM walk networks)
TREE_CUTS = 0.003  # share of spanning-tree edges cut too, leaving a few islands like real data
CIRCUITY = (1.0, 1.3)  # street length / straight line
FACILITY_EVERY = 200  # one facility of each type per 200 nodes
AREA_EVERY = 20  # one residential area per 20 nodes
N_TYPES = 3
WALK_M = 1000.0  # 15 minutes at 4 km/h
K = 3
SEED = 20261123
MAX_RUNS = 5  # a cheap step is run up to this many times ...
REPEAT_S = 2.0  # ... or for this long in all; the best run counts
BUSY_LOAD = 0.15  # cores kept busy by other processes during a child: timings unreliable

# Targets, checked at the largest size run (1M nodes by default) unless said otherwise.
TARGET_SIZE = 1_000_000
TARGET_NEAREST_S = 0.5
TARGET_KNEAREST_S = 1.5
TARGET_BUILD_S = 3.0
TARGET_PEAK_MB = 2048.0
TARGET_NX_RATIO = 15.0
TARGET_PANDANA_RATIO = 1.0

OURS, NETWORKX, PANDANA = "ours", "networkx", "pandana"


# -- the synthetic city ---------------------------------------------------------------------


def make_city(size: int, seed: int, shuffle: bool = False) -> dict[str, np.ndarray]:
    """A jittered-grid street network of about ``size`` nodes, facilities and areas.

    Grid streets every ~80 m are thinned to ~1.3 undirected edges per node: a random spanning
    tree (minimum spanning tree of random weights) is kept and edges of its complement are
    dropped at random first, then a few tree edges are cut so that, like real data, the graph
    is *mostly* connected. Lengths are the straight line times a random circuity 1.0–1.3.
    Nodes are numbered row by row, which keeps neighbours close in memory; ``shuffle``
    numbers the same graph at random instead, as OpenStreetMap ids are.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    rng = np.random.default_rng(seed)
    side = max(round(np.sqrt(size)), 3)
    n = side * side
    grid = np.arange(n, dtype=np.int64).reshape(side, side)
    col, row = np.meshgrid(np.arange(side), np.arange(side))
    x = CENTRE_X + (col.ravel() - (side - 1) / 2) * SPACING_M + rng.uniform(-JITTER_M, JITTER_M, n)
    y = CENTRE_Y + (row.ravel() - (side - 1) / 2) * SPACING_M + rng.uniform(-JITTER_M, JITTER_M, n)

    cand_u = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel()])
    cand_v = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel()])  # u < v throughout
    weight = rng.random(len(cand_u)) + 1e-6
    tree = minimum_spanning_tree(coo_matrix((weight, (cand_u, cand_v)), shape=(n, n)).tocsr())
    tree = tree.tocoo()
    in_tree = np.isin(cand_u * n + cand_v, tree.row.astype(np.int64) * n + tree.col)

    tree_edges = np.flatnonzero(in_tree)
    cut = rng.choice(len(tree_edges), size=round(TREE_CUTS * len(tree_edges)), replace=False)
    kept_tree = np.delete(tree_edges, cut)
    target = round(EDGES_PER_NODE * n)
    extra = rng.choice(np.flatnonzero(~in_tree), size=target - len(kept_tree), replace=False)
    chosen = np.sort(np.concatenate([kept_tree, extra]))
    u, v = cand_u[chosen], cand_v[chosen]
    straight = np.hypot(x[u] - x[v], y[u] - y[v])
    length = straight * rng.uniform(*CIRCUITY, len(u))

    # Facilities sit at nodes (networkx and pandana route from nodes), never at a node whose
    # streets were all removed: a real facility has a street to its door.
    n_fac = max(n // FACILITY_EVERY, 1)
    on_street = np.flatnonzero(np.bincount(np.concatenate([u, v]), minlength=n) > 0)
    facility_node = np.stack(
        [rng.choice(on_street, size=n_fac, replace=False) for _ in range(N_TYPES)]
    )

    # Residential areas: points 5–60 m to either side of a random point of a random street.
    n_area = max(n // AREA_EVERY, 1)
    edge = rng.integers(len(u), size=n_area)
    t = rng.random(n_area)
    dx, dy = x[v[edge]] - x[u[edge]], y[v[edge]] - y[u[edge]]
    norm = np.hypot(dx, dy)
    side_off = rng.uniform(5.0, 60.0, n_area) * rng.choice([-1.0, 1.0], n_area)
    area_x = x[u[edge]] + t * dx - dy / norm * side_off
    area_y = y[u[edge]] + t * dy + dx / norm * side_off
    if shuffle:
        old_of_new = np.random.default_rng(seed + 1).permutation(n)
        new_of_old = np.empty(n, dtype=np.int64)
        new_of_old[old_of_new] = np.arange(n)
        x, y = x[old_of_new], y[old_of_new]
        u, v, facility_node = new_of_old[u], new_of_old[v], new_of_old[facility_node]
    return {
        "node_x": x,
        "node_y": y,
        "edge_u": u,
        "edge_v": v,
        "edge_length": length,
        "facility_node": facility_node,
        "area_x": area_x,
        "area_y": area_y,
    }


# -- children: each tool in its own process -------------------------------------------------


class Recorder:
    """Times the steps of one child and writes them to JSON after each step, so that a child
    killed for its budget keeps what it finished.

    A step runs once ("first run": a fresh process paying for its first memory); a step that
    is cheap is run again, up to `MAX_RUNS` times or `REPEAT_S` seconds in all, and the best
    run is kept, by the same rule for every tool.
    """

    def __init__(self, workdir: Path, tool: str, size: int):
        self.path = workdir / f"{tool}.json"
        self.tool, self.size = tool, size
        self.steps: list[dict] = []
        self.info: dict = {}
        self.save()

    @staticmethod
    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux

    @staticmethod
    def hwm_mb() -> float | None:
        """The kernel's high-water resident size of this process alone (Linux), to check."""
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
        return None

    def run(self, name: str, fn, *, repeat: bool = True):
        print(f"  [{self.tool:8s} {self.size:>9,}] {name} ...", end="", flush=True)
        times: list[float] = []
        result = None
        while True:
            result = None  # free the previous run's result before the next run
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
            if not repeat or len(times) >= MAX_RUNS or sum(times) >= REPEAT_S:
                break
        peak = self.peak_mb()
        self.steps.append(
            {
                "step": name,
                "seconds": min(times),
                "first": times[0],
                "runs": len(times),
                "peak_mb": peak,
            }
        )
        print(
            f" {min(times):#9.4g} s (first {times[0]:#.4g} s, {len(times)} runs)   "
            f"peak {peak:6.0f} MB",
            flush=True,
        )
        self.save()
        return result

    def save(self) -> None:
        payload = {
            "steps": self.steps,
            "info": self.info,
            "peak_mb": self.peak_mb(),
            "vm_hwm_mb": self.hwm_mb(),
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload))
        tmp.replace(self.path)


def load_city(workdir: Path) -> dict[str, np.ndarray]:
    with np.load(workdir / "city.npz") as data:
        return {key: data[key] for key in data.files}


def child_ours(workdir: Path, size: int) -> None:
    import pyproj

    from geo.network.graph import WalkNetwork
    from geo.network.routing import k_nearest_sources, nearest_facilities, nearest_source
    from geo.network.snapping import Snap, snap_points

    city = load_city(workdir)
    crs = pyproj.CRS.from_user_input(CRS)
    rec = Recorder(workdir, OURS, size)
    rec.info["baseline_mb"] = rec.peak_mb()  # interpreter, imports and input arrays

    def warm_up() -> None:
        tiny = WalkNetwork.from_edges([0, 1], [1, 2], [1.0, 2.0], [0.0, 1, 3], [0.0, 0, 0], crs)
        seeds = (np.array([0]), np.array([0.0]), np.array([0]))
        nearest_source(tiny.indptr, tiny.indices, tiny.weights, *seeds)
        k_nearest_sources(tiny.indptr, tiny.indices, tiny.weights, *seeds, k=2, cutoff=5.0)
        one = Snap(np.array([0]), np.array([0.5]), np.zeros(1), np.ones(1, bool), np.array([None]))
        nearest_facilities(tiny, one, np.array([0]), one, k=2, cutoff=5.0)

    rec.run("numba warm-up (compile, or load from cache)", warm_up, repeat=False)
    net = rec.run(
        "build network (from_edges)",
        lambda: WalkNetwork.from_edges(
            city["edge_u"], city["edge_v"], city["edge_length"], city["node_x"], city["node_y"], crs
        ),
    )
    rec.info["components"] = int(net.component.max()) + 1
    rec.info["largest_component_share"] = float(np.mean(net.component == 0))

    graph = (net.indptr, net.indices, net.weights)
    fac = city["facility_node"]
    zeros = np.zeros(fac.shape[1])
    labels = np.arange(fac.shape[1])
    dist, label = rec.run(
        "nearest facility, 1 type, all nodes",
        lambda: nearest_source(*graph, fac[0], zeros, labels),
    )
    kdist, _ = rec.run(
        "3 nearest within 1000 m, all nodes",
        lambda: k_nearest_sources(*graph, fac[0], zeros, labels, k=K, cutoff=WALK_M),
    )

    # Snapping needs the street lines and their spatial index, both built on first use.
    rec.run("snap: street lines + STRtree (first use)", lambda: net.edge_tree, repeat=False)
    area_snap, fac_snap = rec.run(
        "snap: areas + 3 facility types",
        lambda: (
            snap_points(net, city["area_x"], city["area_y"]),
            [snap_points(net, net.node_x[f], net.node_y[f]) for f in fac],
        ),
    )
    area_near = rec.run(
        "coverage: nearest of 3 types, all areas",
        lambda: [nearest_facilities(net, s, labels, area_snap, k=1) for s in fac_snap],
    )
    area_k, _ = rec.run(
        "3 nearest within 1000 m, all areas",
        lambda: nearest_facilities(net, fac_snap[0], labels, area_snap, k=K, cutoff=WALK_M),
    )

    covered = np.all([d[:, 0] <= WALK_M for d, _ in area_near], axis=0)
    rec.info["areas_snapped"] = float(area_snap.ok.mean())
    rec.info["areas_all_3_types_within_1000m"] = float(covered.mean())
    rec.info["nodes_with_3_within_1000m"] = float(np.isfinite(kdist[:, -1]).mean())
    # Self-check: an area's nearest facility again, from the node distances at its edge's ends.
    ok = area_snap.ok
    e, off, gap = area_snap.edge[ok], area_snap.offset[ok], area_snap.distance[ok]
    via = gap + np.minimum(
        dist[net.edge_u[e]] + off, dist[net.edge_v[e]] + net.edge_length[e] - off
    )
    got = area_near[0][0][ok, 0]
    same_reach = np.array_equal(np.isfinite(via), np.isfinite(got))
    both = np.isfinite(via) & np.isfinite(got)
    rec.info["self_check_area_vs_node_m"] = (
        float(np.max(np.abs(via[both] - got[both]), initial=0.0)) if same_reach else float("inf")
    )
    np.savez(workdir / "ours.npz", dist=dist, label=label, kdist=kdist, area_kdist=area_k)
    rec.save()


def child_networkx(workdir: Path, size: int) -> None:
    import networkx as nx

    city = load_city(workdir)
    rec = Recorder(workdir, NETWORKX, size)
    rec.info["version"] = nx.__version__
    rec.info["baseline_mb"] = rec.peak_mb()

    def build():
        graph = nx.Graph()
        graph.add_nodes_from(range(len(city["node_x"])))
        edges = zip(
            city["edge_u"].tolist(),
            city["edge_v"].tolist(),
            city["edge_length"].tolist(),
            strict=True,
        )
        graph.add_weighted_edges_from(edges)
        return graph

    graph = rec.run("build graph (nx.Graph)", build)
    sources = set(city["facility_node"][0].tolist())
    found = rec.run(
        "nearest facility, 1 type, all nodes",
        lambda: nx.multi_source_dijkstra_path_length(graph, sources, weight="weight"),
    )
    dist = np.full(len(city["node_x"]), np.inf)
    dist[np.fromiter(found.keys(), np.int64, len(found))] = np.fromiter(
        found.values(), np.float64, len(found)
    )
    np.savez(workdir / "networkx.npz", dist=dist)
    rec.save()


@contextlib.contextmanager
def quiet_stdout():
    """Silence pandana's C++ progress output (written straight to file descriptor 1)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def child_pandana(workdir: Path, size: int) -> None:
    import pandas as pd

    city = load_city(workdir)
    rec = Recorder(workdir, PANDANA, size)
    try:
        import pandana
    except Exception as exc:  # report any import failure and carry on
        rec.info["error"] = f"{type(exc).__name__}: {exc}"
        rec.save()
        return
    rec.info["version"] = getattr(pandana, "__version__", "?")
    rec.info["baseline_mb"] = rec.peak_mb()
    fac = city["facility_node"][0]

    def build():
        with quiet_stdout():
            return pandana.Network(
                pd.Series(city["node_x"]),
                pd.Series(city["node_y"]),
                pd.Series(city["edge_u"]),
                pd.Series(city["edge_v"]),
                pd.DataFrame({"length": city["edge_length"]}),
                twoway=True,
            )

    def set_pois():
        with quiet_stdout():
            fx, fy = pd.Series(city["node_x"][fac]), pd.Series(city["node_y"][fac])
            net.set_pois("facility", WALK_M, K, fx, fy)

    def query():
        with quiet_stdout():
            return net.nearest_pois(WALK_M, "facility", num_pois=K)

    net = rec.run("build network (contraction hierarchy)", build)
    rec.run("set_pois (1 type)", set_pois)
    table = rec.run("3 nearest within 1000 m, all nodes", query)
    kdist = table.reindex(np.arange(len(city["node_x"]))).to_numpy(dtype=np.float64)
    np.savez(workdir / "pandana.npz", kdist=kdist)
    rec.save()


def child_city(workdir: Path, size: int, shuffle: bool = False) -> None:
    """Make the city in a child too: the parent stays small (see `rss_mb`)."""
    start = time.perf_counter()
    city = make_city(size, SEED + size, shuffle=shuffle)
    np.savez(workdir / "city.npz", **city)
    summary = {
        "nodes": len(city["node_x"]),
        "edges": len(city["edge_u"]),
        "facilities": int(city["facility_node"].shape[1]),
        "areas": len(city["area_x"]),
        "seconds": time.perf_counter() - start,
    }
    (workdir / "city.json").write_text(json.dumps(summary))


CHILDREN = {
    "city": child_city,
    OURS: child_ours,
    NETWORKX: child_networkx,
    PANDANA: child_pandana,
}


# -- the parent: run, compare, report --------------------------------------------------------


def rss_mb() -> float:
    """This process's resident memory now (Linux), else its peak.

    Linux carries a parent's resident size at fork into the child's ``ru_maxrss`` (it
    survives ``exec``), so a child's peak can never read below the parent's size when it was
    started: the parent keeps itself small, and prints this to show the floor.
    """
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (Linux /proc/stat, steal included)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def wait_until_quiet(limit_s: float) -> None:
    """Wait, up to ``limit_s`` seconds, until other processes leave the machine idle."""
    deadline = time.perf_counter() + limit_s
    waited = False
    while time.perf_counter() < deadline:
        before, start = busy_cpu_seconds(), time.perf_counter()
        if before is None:
            return
        time.sleep(2.0)
        load = (busy_cpu_seconds() - before) / (time.perf_counter() - start)
        if load <= BUSY_LOAD:
            if waited:
                print("  (the machine is quiet again)", flush=True)
            return
        if not waited:
            print(f"  (other processes keep {load:.2f} cores busy: waiting)", flush=True)
            waited = True


def run_child(
    tool: str, workdir: Path, size: int, budget: float, env: dict, shuffle: bool = False
) -> dict:
    """Run one tool in a fresh interpreter; kill it past ``budget`` seconds.

    Also measures how many cores *other* processes kept busy meanwhile (``other_load``):
    on a shared 2-core machine that is what makes timings unreliable.
    """
    args = [sys.executable, str(Path(__file__).resolve()), "--child", tool]
    args += ["--workdir", str(workdir), "--sizes", str(size)]
    args += ["--shuffle-nodes"] if shuffle else []
    start, busy0, own0 = time.perf_counter(), busy_cpu_seconds(), own_cpu_seconds()
    timed_out, code = False, 0
    try:
        code = subprocess.run(args, env=env, timeout=budget, check=False).returncode
    except subprocess.TimeoutExpired:
        timed_out = True
        print(f"\n  [{tool:8s} {size:>9,}] stopped after {budget:g} s: skipped (budget)")
    wall = time.perf_counter() - start
    busy1 = busy_cpu_seconds()
    other = None
    if busy0 is not None and busy1 is not None and wall > 0:
        other = max(0.0, (busy1 - busy0) - (own_cpu_seconds() - own0)) / wall
        if other > BUSY_LOAD and tool != "city":  # making the city is not timed
            print(
                f"  [{tool:8s} {size:>9,}] warning: other processes kept {other:.2f} cores "
                "busy meanwhile; these timings are slowed",
                flush=True,
            )
    path = workdir / f"{tool}.json"
    result = json.loads(path.read_text()) if path.exists() else {"steps": [], "info": {}}
    result.update(timed_out=timed_out, returncode=code, wall=wall, other_load=other)
    if code and not timed_out:
        result["info"].setdefault("error", f"child exited with code {code}")
    return result


def seconds_of(result: dict | None, name: str) -> float | None:
    for row in (result or {}).get("steps", []):
        if row["step"] == name:
            return row["seconds"]
    return None


def compare(workdir: Path, results: dict) -> dict:
    checks: dict = {}
    ours_path = workdir / "ours.npz"
    if not ours_path.exists():
        return checks
    with np.load(ours_path) as ours:
        dist, kdist = ours["dist"], ours["kdist"]
    nx_path = workdir / "networkx.npz"
    if nx_path.exists():
        with np.load(nx_path) as data:
            other = data["dist"]
        same_reach = bool(np.array_equal(np.isfinite(dist), np.isfinite(other)))
        both = np.isfinite(dist) & np.isfinite(other)
        checks["networkx"] = {
            "same_reached_nodes": same_reach,
            "max_abs_diff_m": float(np.max(np.abs(dist[both] - other[both]), initial=0.0)),
        }
    pd_path = workdir / "pandana.npz"
    if pd_path.exists():
        with np.load(pd_path) as data:
            other = data["kdist"]
        # pandana fills "not found" with the search distance itself.
        other = np.where(other >= WALK_M, np.inf, other)
        both = np.isfinite(kdist) & np.isfinite(other)
        differ = np.isfinite(kdist) != np.isfinite(other)
        edge_gap = np.abs(np.where(np.isfinite(kdist), kdist, other)[differ] - WALK_M)
        checks["pandana"] = {
            "max_abs_diff_m": float(np.max(np.abs(kdist[both] - other[both]), initial=0.0)),
            "found_by_one_only": int(differ.sum()),
            "those_within_m_of_cutoff": float(np.max(edge_gap, initial=0.0)),
        }
    return checks


NX_BUILD, NX_QUERY = "build graph (nx.Graph)", "nearest facility, 1 type, all nodes"
PD_BUILD, PD_POIS = "build network (contraction hierarchy)", "set_pois (1 type)"
PD_QUERY = "3 nearest within 1000 m, all nodes"
OUR_BUILD, OUR_NEAREST = "build network (from_edges)", "nearest facility, 1 type, all nodes"
OUR_KNEAREST = "3 nearest within 1000 m, all nodes"
PLANNED = {NETWORKX: [NX_BUILD, NX_QUERY], PANDANA: [PD_BUILD, PD_POIS, PD_QUERY]}
NX_BOTH = "networkx ÷ ours, nearest facility: build + query"
NX_QUERY_ONLY = "networkx ÷ ours, nearest facility: query only"
PD_BOTH = "pandana ÷ ours, 3 nearest ≤ 1000 m: build + query"
PD_QUERY_ONLY = "pandana ÷ ours, 3 nearest ≤ 1000 m: query only (set_pois + nearest_pois)"


def ratios(res: dict) -> dict[str, float]:
    """Peer time over ours for the same work (best runs)."""
    ours = res.get(OURS)
    build, near = seconds_of(ours, OUR_BUILD), seconds_of(ours, OUR_NEAREST)
    knear = seconds_of(ours, OUR_KNEAREST)
    out: dict[str, float] = {}
    nx_build, nx_query = (
        seconds_of(res.get(NETWORKX), NX_BUILD),
        seconds_of(res.get(NETWORKX), NX_QUERY),
    )
    if None not in (nx_build, nx_query, build, near):
        out[NX_BOTH] = (nx_build + nx_query) / (build + near)
        out[NX_QUERY_ONLY] = nx_query / near
    pdr = res.get(PANDANA)
    pd_build, pd_pois, pd_query = (seconds_of(pdr, s) for s in (PD_BUILD, PD_POIS, PD_QUERY))
    if None not in (pd_build, pd_pois, pd_query, build, knear):
        out[PD_BOTH] = (pd_build + pd_pois + pd_query) / (build + knear)
        out[PD_QUERY_ONLY] = (pd_pois + pd_query) / knear
    return out


def sec(seconds: float) -> str:
    """Four significant digits: 0.001234, 0.4210, 118.1."""
    return f"{seconds:#.4g}"


def report(all_sizes: list[dict]) -> list[str]:
    """The results as a Markdown table."""
    lines = [
        "| nodes | tool | step | seconds (best) | first run | runs | peak MB |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    for entry in all_sizes:
        size, res = f"{entry['nodes']:,}", entry["results"]
        for tool in (OURS, NETWORKX, PANDANA):
            result = res.get(tool)
            if result is None:
                continue
            for row in result["steps"]:
                lines.append(
                    f"| {size} | {tool} | {row['step']} | {sec(row['seconds'])} "
                    f"| {sec(row['first'])} | {row['runs']} | {row['peak_mb']:.0f} |"
                )
            error = result["info"].get("error")
            if error and tool == PANDANA and not result["steps"]:
                lines.append(f"| {size} | {tool} | not installable here ({error}) | | | | |")
            elif error:
                lines.append(f"| {size} | {tool} | failed: {error} | | | | |")
            elif result["timed_out"]:
                done = {row["step"] for row in result["steps"]}
                for step in PLANNED.get(tool, ["the rest"]):
                    if step not in done:
                        lines.append(f"| {size} | {tool} | {step}: skipped (budget) | | | | |")
        for label, value in entry["ratios"].items():
            lines.append(f"| {size} | ratio | {label} | **{value:,.1f}×** | | | |")
    return lines


def targets(all_sizes: list[dict]) -> list[str]:
    """PASS / MISS for every target and every agreement check."""
    lines: list[str] = []

    def verdict(ok: bool | None, text: str) -> None:
        lines.append(f"{'n/a ' if ok is None else 'PASS' if ok else 'MISS'}  {text}")

    big = [e for e in all_sizes if e["nodes"] >= 0.9 * TARGET_SIZE]
    if big:
        ours, size = big[-1]["results"][OURS], f"{big[-1]['nodes']:,}"
        for name, limit in (
            (OUR_NEAREST, TARGET_NEAREST_S),
            (OUR_KNEAREST, TARGET_KNEAREST_S),
            (OUR_BUILD, TARGET_BUILD_S),
        ):
            got = seconds_of(ours, name)
            shown = "not run" if got is None else f"{got:.3f} s"
            verdict(
                None if got is None else got <= limit,
                f"{name} at {size} nodes: {shown} (≤ {limit} s)",
            )
        verdict(
            ours["peak_mb"] <= TARGET_PEAK_MB,
            f"peak memory of our child at {size} nodes: {ours['peak_mb']:.0f} MB "
            f"(≤ {TARGET_PEAK_MB:.0f} MB)",
        )
    else:
        verdict(None, f"time and memory targets are set at {TARGET_SIZE:,} nodes: not run")
    for entry in all_sizes:
        size, got = f"{entry['nodes']:,}", entry["ratios"]
        for label, limit, peer in (
            (NX_BOTH, TARGET_NX_RATIO, "networkx skipped (budget) or failed"),
            (NX_QUERY_ONLY, TARGET_NX_RATIO, "networkx skipped (budget) or failed"),
            (PD_BOTH, TARGET_PANDANA_RATIO, "pandana not run"),
        ):
            value = got.get(label)
            need = f"≥ {limit:.0f}×" if limit > 1 else "> 1×"
            shown = peer if value is None else f"{value:,.1f}×"
            ok = None if value is None else (value >= limit if limit > 1 else value > limit)
            verdict(ok, f"{label} at {size} nodes: {shown} ({need})")
        checks = entry["checks"]
        if "networkx" in checks:
            c = checks["networkx"]
            verdict(
                c["same_reached_nodes"] and c["max_abs_diff_m"] < 1e-6,
                f"same distances as networkx at {size} nodes: same nodes reached "
                f"{c['same_reached_nodes']}, max abs diff {c['max_abs_diff_m']:.3g} m",
            )
        if "pandana" in checks:
            c = checks["pandana"]
            verdict(
                c["max_abs_diff_m"] < 0.05 and c["those_within_m_of_cutoff"] < 0.05,
                f"same 3-nearest distances as pandana at {size} nodes: max abs diff "
                f"{c['max_abs_diff_m']:.3g} m (pandana computes in float32); "
                f"{c['found_by_one_only']} found by only one of the two, all within "
                f"{c['those_within_m_of_cutoff']:.3g} m of the 1000 m cutoff",
            )
        check = entry["results"][OURS]["info"].get("self_check_area_vs_node_m")
        if check is not None:
            verdict(
                check < 1e-6,
                f"self-check at {size} nodes: areas' nearest facility from nearest_facilities "
                f"vs from the node distances: max abs diff {check:.3g} m",
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=None, help="node counts, default 10000,100000,1000000")
    parser.add_argument("--quick", action="store_true", help="10k and 100k nodes, short budgets")
    parser.add_argument(
        "--networkx-budget",
        type=float,
        default=None,
        help="seconds networkx may take per size (build + query), default 120 (30 with --quick)",
    )
    parser.add_argument(
        "--pandana-budget", type=float, default=300.0, help="seconds pandana may take per size"
    )
    parser.add_argument(
        "--peers",
        default="networkx,pandana",
        help="peers to compare with, comma-separated (default networkx,pandana; '' for none)",
    )
    parser.add_argument(
        "--shuffle-nodes",
        action="store_true",
        help="number the nodes at random (as OpenStreetMap ids are) instead of row by row",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each child, wait up to this long for other processes to leave the "
        "machine idle (for shared machines; default 0: do not wait)",
    )
    parser.add_argument("--json", type=Path, help="also write every number to this JSON file")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        if args.child == "city":
            child_city(args.workdir, int(args.sizes), shuffle=args.shuffle_nodes)
        else:
            CHILDREN[args.child](args.workdir, int(args.sizes))
        return 0

    default_sizes = "10000,100000" if args.quick else "10000,100000,1000000"
    sizes = [int(float(s)) for s in (args.sizes or default_sizes).split(",") if s]
    nx_budget = args.networkx_budget or (30.0 if args.quick else 120.0)
    peers = {p.strip() for p in args.peers.split(",") if p.strip()}
    if peers - {NETWORKX, PANDANA}:
        parser.error(f"unknown peers: {', '.join(sorted(peers - {NETWORKX, PANDANA}))}")
    pd_budget = min(args.pandana_budget, 120.0) if args.quick else args.pandana_budget
    started = time.perf_counter()
    print(
        f"lifecircle coverage benchmark {dt.date.today()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()} · sizes {', '.join(f'{s:,}' for s in sizes)} · "
        f"networkx budget {nx_budget:g} s, pandana budget {pd_budget:g} s per size"
        + (" · nodes numbered at random" if args.shuffle_nodes else ""),
        flush=True,
    )

    all_sizes = []
    with tempfile.TemporaryDirectory(prefix="lifecircle-bench-") as tmp:
        env = dict(os.environ)
        # A fresh numba cache: the first size shows the real compile time, later sizes the
        # load from cache that every later run of the library pays.
        env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        for size in sizes:
            workdir = Path(tmp) / f"n{size}"
            workdir.mkdir()
            run_child("city", workdir, size, 900.0, env, shuffle=args.shuffle_nodes)
            city = json.loads((workdir / "city.json").read_text())
            n, m = city["nodes"], city["edges"]
            print(
                f"\n== {n:,} nodes, {m:,} edges ({m / n:.2f} per node), "
                f"{city['facilities']:,} facilities × {N_TYPES} types, {city['areas']:,} areas "
                f"(made in {city['seconds']:.1f} s); this process holds {rss_mb():.0f} MB",
                flush=True,
            )
            wait_until_quiet(args.wait_quiet)
            results = {OURS: run_child(OURS, workdir, n, 900.0, env)}
            if NETWORKX in peers:
                wait_until_quiet(args.wait_quiet)
                results[NETWORKX] = run_child(NETWORKX, workdir, n, nx_budget, env)
            if PANDANA in peers:
                wait_until_quiet(args.wait_quiet)
                results[PANDANA] = run_child(PANDANA, workdir, n, pd_budget, env)
                error = results[PANDANA]["info"].get("error")
                if error and not results[PANDANA]["steps"]:
                    print(f"  pandana: not installable here ({error})", flush=True)
            entry = {
                "nodes": n,
                "edges": m,
                "results": results,
                "ratios": ratios(results),
                "checks": compare(workdir, results),
            }
            info = results[OURS]["info"]
            print(
                f"  graph: {info.get('components', '?')} components, the largest holds "
                f"{info.get('largest_component_share', 0):.1%} of nodes; "
                f"{info.get('nodes_with_3_within_1000m', 0):.1%} of nodes have 3 facilities "
                f"within 1000 m; {info.get('areas_all_3_types_within_1000m', 0):.1%} of areas "
                f"have all 3 types within 1000 m",
                flush=True,
            )
            all_sizes.append(entry)

    versions = ", ".join(
        f"{tool} {all_sizes[-1]['results'][tool]['info']['version']}"
        for tool in (NETWORKX, PANDANA)
        if all_sizes[-1]["results"].get(tool, {}).get("info", {}).get("version")
    )
    baselines = ", ".join(
        f"{tool} {result['info']['baseline_mb']:.0f} MB"
        for tool, result in all_sizes[-1]["results"].items()
        if "baseline_mb" in result["info"]
    )
    gaps = [
        abs(result["peak_mb"] - result["vm_hwm_mb"])
        for entry in all_sizes
        for result in entry["results"].values()
        if result.get("vm_hwm_mb") is not None and "peak_mb" in result
    ]
    agree = (
        f" ru_maxrss and the kernel's VmHWM of each child agree within {max(gaps):.0f} MB."
        if gaps
        else ""
    )
    loads = [
        result["other_load"]
        for entry in all_sizes
        for result in entry["results"].values()
        if result.get("other_load") is not None
    ]
    quiet = (
        f" Other processes kept at most {max(loads):.2f} cores busy during any child"
        + (
            " (under the limit: timings are clean)."
            if max(loads) <= BUSY_LOAD
            else ": SOME TIMINGS ARE SLOWED BY OTHER WORK, rerun on a quiet machine."
        )
        if loads
        else ""
    )
    print(
        f"\nResults: {dt.date.today()}, {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
        + (f", {versions}" if versions else "")
        + f"; whole run {time.perf_counter() - started:.0f} s.\n"
        "seconds: best of up to "
        f"{MAX_RUNS} runs of a step (repeated while under {REPEAT_S:.0f} s in all), same rule "
        "for every tool; first run: the first call in a fresh process. peak MB: the child "
        "process's ru_maxrss after the step, each tool in its own child (before any step, "
        f"at the last size: {baselines}).{agree}{quiet}\n"
    )
    print("\n".join(report(all_sizes)))
    print()
    print("\n".join(targets(all_sizes)))
    if args.json:
        args.json.write_text(json.dumps(all_sizes, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
