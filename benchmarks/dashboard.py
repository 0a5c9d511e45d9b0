"""How fast the dashboard opens on a large city, in a real browser, against inlining it all.

    python benchmarks/dashboard.py [--areas 20000] [--runs 3]

Writes a synthetic grid city of ``--areas`` compounds (``tests/city.py``: 120 m blocks, one
compound each, clinics, neighbour centres, e-bike chargers and projects spread over it),
starts ONE uvicorn worker of lifecircle on it, waits until the service has built the network,
the coverage and the gap zones (the start-up warm-up), then opens ``/?tiles=none`` in headless Chromium
(Debian's, through Playwright) ``--runs`` times, each in a fresh browser context (nothing
cached). "Open" is from navigation until the compounds of the view are drawn and the page's
loading note has gone. The peer is what a folium user writes: the same map with every layer
inlined in one HTML file (``lifecircle map``), opened from disk until its compounds are
drawn. Prints build and open times, page sizes, the ratio, and PASS/MISS against the
target: a 20 000-area city opens in under 3 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# benchmarks/coverage.py must not shadow the ``coverage`` package that numba imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic city the browser tests use too
_spec = importlib.util.spec_from_file_location("api_load", HERE / "api_load.py")
api_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_load)
free_port, server = api_load.free_port, api_load.server

from city import write_city  # noqa: E402

TARGET_SECONDS = 3.0
SETTLED = (
    "() => { const n = document.querySelector('.lc-note');"
    " return n && n.textContent.indexOf('加载中') < 0"
    " && document.querySelectorAll('path.leaflet-interactive').length > 0; }"
)


def open_times(browser, url: str, runs: int, ready: str) -> list[float]:
    times = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        start = time.perf_counter()
        page.goto(url, timeout=300_000)
        page.wait_for_function(ready, timeout=300_000, polling=50)
        times.append(time.perf_counter() - start)
        if errors:
            raise RuntimeError(f"{url}: {errors[0]}")
        context.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--areas", type=int, default=20_000, help="compounds (default 20000)")
    parser.add_argument("--runs", type=int, default=3, help="page opens per side (default 3)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()

    import httpx
    from playwright import sync_api

    from geo.cli import main as cli

    folder = Path(tempfile.mkdtemp(prefix="lifecircle-city-"))
    try:
        start = time.perf_counter()
        write_city(folder, args.areas)
        print(f"city of {args.areas} compounds written in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        standalone = folder / "standalone.html"
        cli(["map", "--data", str(folder), "--tiles", "none", "--out", str(standalone)])
        inline_build = time.perf_counter() - start
        standalone_size = standalone.stat().st_size

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory",
                   "--port", str(port), "--log-level", "warning"]  # fmt: skip
        start = time.perf_counter()
        with server(command, {"LIFECIRCLE_DATA": str(folder)}, f"{url}/health"):
            httpx.get(f"{url}/coverage/summary", timeout=600).raise_for_status()
            warm = time.perf_counter() - start
            # the warm-up goes on to the gap zones: time the pages once it is over
            httpx.get(f"{url}/gaps?zones=true", timeout=600).raise_for_status()
            zones = time.perf_counter() - start
            served = len(httpx.get(f"{url}/?tiles=none", timeout=60).content)
            with sync_api.sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, args=["--headless", "--no-sandbox"]
                )
                ours = open_times(browser, f"{url}/?tiles=none", args.runs, SETTLED)
                ready = "() => document.querySelectorAll('path.leaflet-interactive').length > 0"
                theirs = open_times(browser, standalone.as_uri(), args.runs, ready)
                browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    mine, peer = statistics.median(ours), statistics.median(theirs)
    print(f"service ready (network + coverage built) in {warm:.1f} s; gap zones in {zones:.1f} s")
    print("| page | size | build | open (median of runs) | open (worst) |")
    print("|---|---|---|---|---|")
    print(f"| served dashboard, areas by view | {served / 1e6:.2f} MB | (in open) "
          f"| {mine:.2f} s | {max(ours):.2f} s |")  # fmt: skip
    print(f"| everything inlined (`lifecircle map`) | {standalone_size / 1e6:.2f} MB "
          f"| {inline_build:.1f} s | {peer:.2f} s | {max(theirs):.2f} s |")  # fmt: skip
    print(f"inlined / served open time: {peer / mine:.1f}×")
    verdict = "PASS" if max(ours) < TARGET_SECONDS else "MISS"
    print(f"{verdict}: {args.areas} areas open in {max(ours):.2f} s (target < {TARGET_SECONDS} s)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
