"""How close the greedy site choice comes to the optimum, and what the optimum costs.

    python benchmarks/sites.py [--seeds 200]

Maximal covering location: choose k sites among candidates to cover the most people.
``geo.analysis.planning`` offers a greedy method (provably within 1 − 1/e ≈ 63 % of the optimum) and
an exact one (an integer program solved by CBC through PuLP). This script runs both:

1. on random instances — ``--seeds`` of each shape: 25 areas × 10 candidates, each pair
   covering with probability 0.2 (the test suite's shape), and 400 areas × 60 candidates
   at 0.03 (a subdistrict: sparse, overlapping circles), k = 1…5, populations 1–3 000;
2. on the bundled sample, for every facility type and candidate source, k = 1…5.

It prints, per group, the mean and the worst ratio greedy ÷ optimal, how often greedy is
optimal, and the median time of each method.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# benchmarks/coverage.py must not shadow the ``coverage`` package that numba imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from geo.analysis.planning import CANDIDATE_SOURCES, greedy_sites, optimal_sites  # noqa: E402


def covered(weights, area, candidate, chosen) -> float:
    hit = np.unique(area[np.isin(candidate, list(chosen))])
    return float(weights[hit].sum())


def compare(weights, area, candidate, n_candidates, k) -> tuple[float, float, float, float]:
    start = time.perf_counter()
    greedy = greedy_sites(weights, area, candidate, n_candidates, k)
    greedy_s = time.perf_counter() - start
    start = time.perf_counter()
    best = optimal_sites(weights, area, candidate, n_candidates, k)
    exact_s = time.perf_counter() - start
    return covered(weights, area, candidate, greedy), covered(weights, area, candidate, best), \
        greedy_s, exact_s  # fmt: skip


def report(label: str, rows: list[tuple[float, float, float, float]]) -> None:
    ratios = [g / o if o else 1.0 for g, o, _, _ in rows]
    equal = sum(abs(g - o) < 1e-9 for g, o, _, _ in rows)
    print(f"| {label} | {len(rows)} | {statistics.mean(ratios):.4f} | {min(ratios):.4f} "
          f"| {equal / len(rows):.0%} | {statistics.median(r[2] for r in rows) * 1e3:.2f} "
          f"| {statistics.median(r[3] for r in rows) * 1e3:.1f} |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=200, help="random instances per shape")
    args = parser.parse_args()

    print("| instances | runs | mean greedy ÷ optimal | worst | greedy optimal | "
          "greedy ms (median) | exact ms (median) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n_areas, n_candidates, density in ((25, 10, 0.2), (400, 60, 0.03)):
        rows = []
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            weights = rng.integers(1, 3000, n_areas).astype(float)
            area, candidate = np.nonzero(rng.random((n_areas, n_candidates)) < density)
            rows.append(compare(weights, area, candidate, n_candidates, seed % 5 + 1))
        report(f"random {n_areas} areas × {n_candidates} candidates, p = {density}", rows)

    from geo.analysis.coverage import analyze_areas
    from geo.analysis.params import WalkParams
    from geo.analysis.planning import candidate_sites, coverage_sets
    from geo.analysis.study import Study
    from geo.schema import FACILITY_LAYERS

    study = Study.load()
    result = analyze_areas(study)
    areas = study.layers["residential_areas"]
    params = WalkParams()  # the defaults: standard walker, 15/15/5 minutes
    rows = []
    for kind in FACILITY_LAYERS:
        # people not covered today are what a new site can win
        weights = np.where(result[f"{kind}_covered"], 0.0, areas["population"].to_numpy(float))
        for source in (s for s in CANDIDATE_SOURCES if s != "points"):
            pool = candidate_sites(study, kind, source)
            area, candidate = coverage_sets(study, pool, kind, params.limit_m(kind))
            for k in range(1, 6):
                rows.append(compare(weights, area, candidate, len(pool), k))
    report("bundled sample: 3 types × 3 candidate sources × k = 1…5", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
