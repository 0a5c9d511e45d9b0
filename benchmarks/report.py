"""How long a 街道 report takes, stage by stage, beside ``lifecircle analyze`` on the same data.

    python benchmarks/report.py [--runs 3]

For the bundled sample (``data/layers``: 长白新村街道, and all four 街道 at once) and the real
五角场 study (``data/studies/wujiaochang``: 五角场街道), each run times:

  load      Study.load: the five layers and the walking network (from its cache after run 1)
  content   build_report without loading: coverage for both walkers, summaries, gaps, gap
            zones, opportunities, recommended sites, renovation progress and its series
  figures   the maps and the quarterly chart (matplotlib, PNG)
  html      the self-contained page
  pdf       WeasyPrint typesetting the page on A4 (figures already drawn)
  xlsx      the workbook

and, as the peer in the same run, ``analyze`` on the same study (coverage, gaps, gap zones,
isochrones per type and per facility, opportunities): a report should cost about what the
analysis it reports costs. Prints a Markdown table of medians and the ratio of a whole report
(content + figures + pdf) to ``analyze``. Target: "seconds" for the bundled 长白新村 (issue:
reports) — PASS when the median whole report is under 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the project, not this folder: benchmarks/coverage.py would hide the coverage package numba reads
sys.path[0] = str(ROOT)

from geo.analysis.run import analyze  # noqa: E402
from geo.analysis.study import Study  # noqa: E402
from geo.reports.content import build_report  # noqa: E402
from geo.reports.figures import report_figures  # noqa: E402
from geo.reports.render import to_html, to_pdf, to_xlsx  # noqa: E402

CASES = [
    ("长白新村 (sample)", ROOT / "data" / "layers", "长白新村街道"),
    ("all 街道 (sample)", ROOT / "data" / "layers", None),
    ("五角场 (OSM study)", ROOT / "data" / "studies" / "wujiaochang", "五角场街道"),
]
STAGES = ("load", "content", "figures", "html", "pdf", "xlsx", "analyze")


class _Clock:
    """Appends the seconds since the last tick to ``times[stage]``."""

    def __init__(self, times: dict[str, list[float]]) -> None:
        self.times, self.last = times, time.perf_counter()

    def tick(self, stage: str) -> None:
        now = time.perf_counter()
        self.times[stage].append(now - self.last)
        self.last = now


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per case (default 3)")
    args = parser.parse_args()
    rows = []
    passed = True
    for label, data, place in CASES:
        times: dict[str, list[float]] = {s: [] for s in STAGES}
        for run in range(args.runs):
            clock = _Clock(times)
            study = Study.load(data)
            clock.tick("load")
            report = build_report(data, subdistrict=place, study=study)
            clock.tick("content")
            pictures = report_figures(report)
            clock.tick("figures")
            to_html(report, pictures)
            clock.tick("html")
            pdf = to_pdf(report, pictures)
            clock.tick("pdf")
            to_xlsx(report)
            clock.tick("xlsx")
            analyze(study)
            clock.tick("analyze")
            print(f"{label} run {run + 1}: " + ", ".join(f"{s} {times[s][-1]:.2f} s" for s in
                  STAGES) + f" ({len(pdf) / 1e6:.1f} MB PDF)", flush=True)  # fmt: skip
        median = {s: statistics.median(v) for s, v in times.items()}
        whole = median["content"] + median["figures"] + median["pdf"]
        rows.append((label, median, whole))
        if place == "长白新村街道":
            passed = whole + median["load"] < 10
    print("\n| case | " + " | ".join(STAGES) + " | report (content+figures+pdf) | ÷ analyze |")
    print("|---|" + "---:|" * (len(STAGES) + 2))
    for label, median, whole in rows:
        cells = " | ".join(f"{median[s]:.2f} s" for s in STAGES)
        print(f"| {label} | {cells} | {whole:.2f} s | {whole / median['analyze']:.2f} |")
    print(f"\n{'PASS' if passed else 'MISS'}: the 长白新村 report (load + content + figures + "
          "pdf) within 10 s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
