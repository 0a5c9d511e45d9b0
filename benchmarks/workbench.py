"""How fast the planner's workbench answers in a real browser: opening, repainting, what-if.

    python benchmarks/workbench.py [--runs 5] [--quick] [--areas 20000]

The workbench is the served dashboard at ``/`` with its side panel (``geo/maps/workbench.py``,
``static/workbench.js`` and the panel sections ``static/panel-*.js``). For each of three
stores — the bundled sample (``data/layers``), the real 五角场 study
(``data/studies/wujiaochang``), both copied to a temporary folder, and a synthetic grid city
of ``--areas`` compounds (``tests/city.py``, as ``benchmarks/dashboard.py`` writes it) — it
starts ONE uvicorn worker on the store (its network cache in a temporary folder too), waits
for ``/health`` and for the whole start-up warm-up (network, coverage, the default page, gap
zones, surface, completeness), then drives
headless Chromium (Debian's, through Playwright), each run in a fresh browser context
(nothing cached in the browser). Every page is ``/?tiles=none`` (no basemap tiles: this
machine has no internet, and tiles are not the workbench's work). Stages, per run:

  open       navigation start until the compounds are painted (the page's "lc-painted"
             mark, and for a large city dashboard.py's check: drawn, loading note gone) AND
             the panel's gap list is filled (``#lc-gap-totals`` and its table rows). Read
             in the page, on its own clock (``performance.now()`` at the first animation
             frame where it holds; 0 is the navigation start). Target < 1.5 s for the
             sample and the study, < 3 s for the city (compounds drawn, as dashboard.py).
  type       click a facility-type button in the panel: "lc-change" → first "lc-painted"
             (``change()`` and ``painted()`` in workbench.js). The coverage of every type
             is already in the page, so no request. Target < 300 ms.
  threshold  set the threshold field and commit it: "lc-change" → "lc-painted". This
             fetches /coverage; each run uses a threshold no earlier run asked for
             (6, 7, 8 … minutes for charging points), so the service computes it afresh
             rather than answering from its cache. Target < 300 ms.
  what-if    in a second fresh context: the "方案" section (static/panel-plan.js) — press
             "点击地图添加", click the map at the middle of a gap compound, and wait until
             the gained/lost totals (``#lc-plan-totals``) show the answer of POST /scenarios.
             Timed in the page from the click to the first frame showing them. Target < 1 s
             on the bundled sample (the others are shown for information). Should clicking
             not work, the same scenario is POSTed with fetch() from the page instead and
             the row says so.

Prints each stage as it goes, then one Markdown table (median, worst, target, worst ÷ target,
PASS/MISS on the worst run) and a PASS/MISS line per target. Bounded in time: every wait has
``--timeout`` seconds, and once ``--budget`` seconds have gone by no further run is started
(its rows say ``skipped (budget)``). A stage that fails is reported and the run goes on; the
exit status is 0 whatever the numbers (this is a measurement, not a test).
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
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# reuse benchmarks/dashboard.py: its city, its server and its "compounds drawn" check
_spec = importlib.util.spec_from_file_location("bench_dashboard", HERE / "dashboard.py")
dashboard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dashboard)
free_port, server, write_city = dashboard.free_port, dashboard.server, dashboard.write_city

SAMPLE = ROOT / "data" / "layers"
STUDY = ROOT / "data" / "studies" / "wujiaochang"

# targets, seconds
OPEN_S, OPEN_CITY_S, REPAINT_S, WHAT_IF_S = 1.5, 3.0, 0.3, 1.0
FIRST_TYPE, CLICKED_TYPE = "clinics", "charging_points"

# Polled at every animation frame: the first page time (ms from navigation start) at which
# the compounds are painted, and at which the gap list is filled; done when both are.
OPEN_READY = """(large) => {
  const b = window.__lcBench || (window.__lcBench = {});
  const now = performance.now();
  const marks = performance.getEntriesByName('lc-painted');
  const paths = document.querySelectorAll('path.leaflet-interactive').length;
  const drawn = marks.length > 0 && paths > 0 && (!large || (%s)());
  if (drawn && b.drawn === undefined) b.drawn = now;
  const totals = document.getElementById('lc-gap-totals');
  const rows = document.querySelectorAll('#lc-gap-table tbody tr').length;
  if (totals && (rows > 0 || +totals.dataset.compounds === 0) && b.gaps === undefined) b.gaps = now;
  if (b.drawn === undefined || b.gaps === undefined) return false;
  return {drawn: b.drawn, gaps: b.gaps, painted: marks[0].startTime, paths: paths, rows: rows,
          compounds: +totals.dataset.compounds};
}""".replace("%s", dashboard.SETTLED)

SERIAL = "() => +(document.documentElement.dataset.lcPainted || 0)"
CHANGE_MS = """() => {
  const c = performance.getEntriesByName('lc-change')[0];
  const p = performance.getEntriesByName('lc-painted').filter(e => e.startTime >= c.startTime)[0];
  return p.startTime - c.startTime;
}"""
COVERAGE_FETCHES = (
    "() => performance.getEntriesByType('resource')"
    ".filter(e => e.name.indexOf('/coverage?') >= 0).length"
)
SET_MINUTES = """(v) => { const e = document.getElementById('lc-minutes');
  e.value = String(v); e.dispatchEvent(new Event('change', {bubbles: true})); }"""
# where to click for the what-if: beside a gap compound, well inside the map, on the map itself
# (a click ON a compound opens its popup, and Leaflet then stops it: it adds nothing)
PICK_POINT = """() => {
  const m = window.lcWorkbench.map, size = m.getSize(), r = m.getContainer().getBoundingClientRect();
  const rows = (window.lcWorkbench.gaps && window.lcWorkbench.gaps.rows) || [];
  const inside = p => p.x > 80 && p.x < size.x - 80 && p.y > 80 && p.y < size.y - 80;
  const free = p => { const e = document.elementFromPoint(r.left + p.x, r.top + p.y);
    return e && m.getContainer().contains(e) && !e.closest('.leaflet-interactive, '
      + '.leaflet-marker-icon, .leaflet-control, .leaflet-popup'); };
  const centres = rows.filter(row => row.bounds).map(row => [L.latLngBounds(row.bounds).getCenter(), row.name]);
  centres.push([m.getCenter(), '(map centre)']);
  for (const [c, name] of centres) {
    const p0 = m.latLngToContainerPoint(c);
    if (!inside(p0)) continue;
    for (let d = 0; d <= 60; d += 4) {
      for (let a = 0; a < 16; a++) {
        const p = L.point(p0.x + d * Math.cos(a * Math.PI / 8), p0.y + d * Math.sin(a * Math.PI / 8));
        if (inside(p) && free(p)) {
          const ll = m.containerPointToLatLng(p);
          return {x: r.left + p.x, y: r.top + p.y, lat: ll.lat, lon: ll.lng, name: name, off: d};
        }
        if (d === 0) break;
      }
    }
  }
  const c = m.getCenter(), p = m.latLngToContainerPoint(c);
  return {x: r.left + p.x, y: r.top + p.y, lat: c.lat, lon: c.lng, name: '(map centre)', off: 0};
}"""
ARM_CLICK = """() => { window.__lcClick = null;
  document.addEventListener('click', () => { if (window.__lcClick === null)
    window.__lcClick = performance.now(); }, {capture: true, once: true}); }"""
PLAN_SHOWN = """(before) => {
  const t = document.getElementById('lc-plan-totals');
  if (!(+(document.documentElement.dataset.lcPlan || 0) > before) || !t) return false;
  return {at: performance.now(), click: window.__lcClick, post: window.lcPlan.ms,
          gained: +t.dataset.populationGained, lost: +t.dataset.populationLost};
}"""
POST_DIRECT = """async (at) => {
  const q = window.lcWorkbench.query().split('&').filter(p => p.indexOf('crs=') !== 0).join('&');
  const body = {name: 'bench', add: [{type: at.type, lon: at.lon, lat: at.lat}],
                move: [], remove: [], sites: []};
  const t0 = performance.now();
  const r = await fetch('/scenarios?' + q, {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  const j = await r.json();
  const all = j.by_subdistrict.filter(x => x.type === at.type && x.subdistrict === '全部 / all')[0] || {};
  return {ms: performance.now() - t0, status: r.status, gained: all.population_gained || 0,
          lost: all.population_lost || 0};
}"""


class Timer:
    """Seconds since the benchmark started, for the progress lines."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start


def say(clock: Timer, text: str) -> None:
    print(f"[{clock():6.1f} s] {text}", flush=True)


def new_page(browser, errors: list[str]):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page


def open_and_change(browser, url: str, run: int, large: bool, timeout_ms: int,
                    errors: list[str]) -> dict:  # fmt: skip
    """One fresh context: open the page, click a type, change the threshold."""
    out: dict = {}
    context, page = new_page(browser, errors)
    try:
        page.goto(f"{url}/?tiles=none&type={FIRST_TYPE}", timeout=timeout_ms)
        ready = page.wait_for_function(OPEN_READY, arg=large, polling="raf", timeout=timeout_ms)
        got = ready.json_value()
        out["open"] = got
        before = page.evaluate(SERIAL)
        page.click(f"a.lc-type[data-type={CLICKED_TYPE}]", timeout=timeout_ms)
        page.wait_for_function(f"() => ({SERIAL})() > {before}", timeout=timeout_ms)
        out["type"] = page.evaluate(CHANGE_MS)
        fetched = page.evaluate(COVERAGE_FETCHES)
        before = page.evaluate(SERIAL)
        minutes = 6 + run  # a threshold no earlier run asked the service for
        page.evaluate(SET_MINUTES, minutes)
        page.wait_for_function(f"() => ({SERIAL})() > {before}", timeout=timeout_ms)
        out["threshold"] = page.evaluate(CHANGE_MS)
        out["threshold_minutes"] = minutes
        out["threshold_fetched"] = page.evaluate(COVERAGE_FETCHES) - fetched
    except Exception as error:  # a measurement: report and go on
        out["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
    finally:
        context.close()
    return out


def what_if(browser, url: str, timeout_ms: int, errors: list[str]) -> dict:
    """A second fresh context: add a facility by clicking the map, wait for gained/lost."""
    out: dict = {}
    context, page = new_page(browser, errors)
    try:
        page.goto(f"{url}/?tiles=none&type={CLICKED_TYPE}", timeout=timeout_ms)
        page.wait_for_function("() => document.documentElement.dataset.lcPlanReady",
                               timeout=timeout_ms)  # fmt: skip
        page.wait_for_function("() => window.lcWorkbench.gaps", timeout=timeout_ms)
        page.wait_for_function(OPEN_READY, arg=False, polling="raf", timeout=timeout_ms)
        at = None
        try:
            page.click("#lc-plan-add", timeout=timeout_ms)
            # today's facilities are drawn as markers now: pick a point clear of them too
            page.wait_for_selector("#lc-plan-add[aria-pressed=true]", timeout=timeout_ms)
            at = page.evaluate(PICK_POINT)
            out["at"] = f"{at['off']} px from the middle of {at['name']}"
            before = int(page.evaluate("+(document.documentElement.dataset.lcPlan || 0)"))
            page.evaluate(ARM_CLICK)
            page.mouse.click(at["x"], at["y"])
            shown = page.wait_for_function(PLAN_SHOWN, arg=before, polling="raf",
                                           timeout=timeout_ms).json_value()  # fmt: skip
            if shown["click"] is None:
                raise RuntimeError("the click was not seen by the page")
            out.update(ms=shown["at"] - shown["click"], post=shown["post"], how="click",
                       gained=shown["gained"], lost=shown["lost"])  # fmt: skip
        except Exception as error:
            out["click_error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
            if at is None:
                at = page.evaluate(PICK_POINT)
                out["at"] = f"{at['off']} px from the middle of {at['name']}"
            got = page.evaluate(POST_DIRECT, {"type": CLICKED_TYPE, "lon": at["lon"],
                                              "lat": at["lat"]})  # fmt: skip
            out.update(ms=got["ms"], post=got["ms"], how="fetch", gained=got["gained"],
                       lost=got["lost"])  # fmt: skip
    except Exception as error:
        out["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
    finally:
        context.close()
    return out


def prepare(name: str, folder: Path, areas: int, clock: Timer) -> Path:
    store = folder / name
    if name == "sample":
        shutil.copytree(SAMPLE, store, ignore=shutil.ignore_patterns(".*"))
    elif name == "study":
        shutil.copytree(STUDY, store, ignore=shutil.ignore_patterns(".*"))
    else:
        start = time.perf_counter()
        write_city(store, areas)
        say(clock, f"city of {areas:,} compounds written in {time.perf_counter() - start:.1f} s")
    return store


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python benchmarks/workbench.py --quick          # 1 run each: ~1.5 min\n"
               "  python benchmarks/workbench.py                  # 5 runs each: ~3 min\n"
               "  python benchmarks/workbench.py --data sample,study --runs 10",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=5, help="runs per store (default 5)")
    parser.add_argument("--quick", action="store_true", help="1 run per store")
    parser.add_argument("--areas", type=int, default=20_000,
                        help="compounds of the synthetic city (default 20000)")  # fmt: skip
    parser.add_argument("--data", default="sample,study,city",
                        help="which stores: sample, study, city (default all three)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds any one wait may take (default 60)")  # fmt: skip
    parser.add_argument("--budget", type=float, default=600,
                        help="start no run after this many seconds (default 600)")  # fmt: skip
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    wanted = [d.strip() for d in args.data.split(",") if d.strip()]
    timeout_ms = int(args.timeout * 1000)

    import httpx
    from playwright import sync_api

    labels = {"sample": "bundled sample", "study": "五角场 study",
              "city": f"{args.areas:,}-compound city"}  # fmt: skip
    clock = Timer()
    results: dict[str, list[dict]] = {}
    notes: list[str] = []
    errors: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="lifecircle-workbench-"))
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, args=["--headless", "--no-sandbox"]
            )
            for name in wanted:
                if name not in labels:
                    say(clock, f"unknown store {name!r}: skipped (sample, study, city)")
                    continue
                results[name] = []
                if clock() > args.budget:
                    say(clock, f"{labels[name]}: skipped (budget)")
                    continue
                store = prepare(name, folder, args.areas, clock)
                port = free_port()
                url = f"http://127.0.0.1:{port}"
                command = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory",
                           "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                           "--log-level", "warning", "--no-access-log"]  # fmt: skip
                env = {"LIFECIRCLE_DATA": str(store), "LIFECIRCLE_CACHE": str(folder / "cache")}
                start = time.perf_counter()
                with server(command, env, f"{url}/health"):
                    up = time.perf_counter() - start
                    httpx.get(f"{url}/coverage/summary", timeout=600).raise_for_status()
                    warm = time.perf_counter() - start
                    httpx.get(f"{url}/gaps?zones=true", timeout=600).raise_for_status()
                    zones = time.perf_counter() - start
                    # the rest of the warm-up (api/main.py): the runs must not share the CPU
                    # with it; each of these waits for the warm-up's own computation
                    httpx.get(f"{url}/surface?type=clinics&limit=1", timeout=600)
                    httpx.get(f"{url}/completeness", timeout=600)
                    done = time.perf_counter() - start
                    large = name == "city"
                    for run in range(runs):
                        if clock() > args.budget:
                            say(clock, f"{labels[name]} run {run + 1}: skipped (budget)")
                            break
                        got = open_and_change(browser, url, run, large, timeout_ms, errors)
                        got.update({f"plan_{k}": v for k, v in
                                    what_if(browser, url, timeout_ms, errors).items()})  # fmt: skip
                        results[name].append(got)
                        say(clock, f"{labels[name]} run {run + 1}: " + describe(got))
                    # measured after the runs, so the runs find the page as the warm-up left it
                    html = {"Accept": "text/html"}
                    size = len(httpx.get(f"{url}/?tiles=none", headers=html, timeout=60).content)
                    note = (f"{labels[name]}: /health {up:.1f} s, network + coverage "
                            f"{warm:.1f} s, gap zones {zones:.1f} s, whole warm-up {done:.1f} s "
                            f"after start; page {size / 1e6:.2f} MB")  # fmt: skip
                    notes.append(note)
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print()
    for line in notes:
        print(line)
    report(results, labels, runs)
    if errors:
        print(f"\npage errors ({len(errors)}): " + "; ".join(sorted(set(errors))[:5]))
    print(f"\nwhole run {clock():.0f} s")
    return 0


def describe(got: dict) -> str:
    parts = []
    if "open" in got:
        o = got["open"]
        parts.append(f"open {max(o['drawn'], o['gaps']) / 1000:.2f} s (painted mark "
                     f"{o['painted'] / 1000:.2f} s, compounds shown {o['drawn'] / 1000:.2f} s, "
                     f"gap list {o['gaps'] / 1000:.2f} s; {o['paths']} shapes, "
                     f"{o['rows']} gap rows of {o['compounds']})")  # fmt: skip
    if "type" in got:
        parts.append(f"type {got['type']:.0f} ms")
    if "threshold" in got:
        parts.append(f"threshold → {got['threshold_minutes']} min {got['threshold']:.0f} ms "
                     f"({got['threshold_fetched']} /coverage fetch)")  # fmt: skip
    if "error" in got:
        parts.append(f"ERROR {got['error']}")
    if "plan_ms" in got:
        how = "click → totals" if got["plan_how"] == "click" else "fetch() POST (fallback)"
        post = got["plan_post"]
        post = f"{post:.0f} ms" if post is not None else "?"
        parts.append(f"what-if {how} {got['plan_ms']:.0f} ms (POST {post}; "
                     f"+{got['plan_gained']} / −{got['plan_lost']} residents at "
                     f"{got.get('plan_at')})")  # fmt: skip
    if "plan_click_error" in got:
        parts.append(f"click failed: {got['plan_click_error']}")
    if "plan_error" in got:
        parts.append(f"what-if ERROR {got['plan_error']}")
    return "; ".join(parts)


def report(results: dict[str, list[dict]], labels: dict[str, str], runs: int) -> None:
    rows = []  # stage, store, seconds per run, target (None: for information), note
    for name, got in results.items():
        opened = [g["open"] for g in got if "open" in g]
        if name == "city":
            rows.append(("open: compounds drawn, loading note gone (dashboard.py)", name,
                         [o["drawn"] / 1000 for o in opened], OPEN_CITY_S))  # fmt: skip
            rows.append(("open: … and the panel's gap list filled", name,
                         [max(o["drawn"], o["gaps"]) / 1000 for o in opened], None))  # fmt: skip
        else:
            rows.append(("open: compounds painted + gap list filled", name,
                         [max(o["drawn"], o["gaps"]) / 1000 for o in opened], OPEN_S))  # fmt: skip
        rows.append(("type button: lc-change → lc-painted", name,
                     [g["type"] / 1000 for g in got if "type" in g], REPAINT_S))  # fmt: skip
        rows.append(("threshold (new, fetches /coverage): lc-change → lc-painted", name,
                     [g["threshold"] / 1000 for g in got if "threshold" in g], REPAINT_S))  # fmt: skip
        clicked = [g["plan_ms"] / 1000 for g in got if g.get("plan_how") == "click"]
        fetched = [g["plan_ms"] / 1000 for g in got if g.get("plan_how") == "fetch"]
        target = WHAT_IF_S if name == "sample" else None
        if clicked or not fetched:
            rows.append(("what-if: map click → gained/lost shown", name, clicked, target))
        if fetched:
            rows.append(("what-if: POST /scenarios by fetch() (FALLBACK, click not timed)",
                         name, fetched, target))  # fmt: skip
        posts = [
            g["plan_post"] / 1000
            for g in got
            if g.get("plan_how") == "click" and g.get("plan_post") is not None
        ]
        if posts:
            rows.append(("… of which POST /scenarios round trip", name, posts, None))

    print(f"\nruns per store: {runs} (each in a fresh browser context); seconds; the verdict "
          "is on the worst run")  # fmt: skip
    print("| stage | data | runs | median | worst | target | worst ÷ target | result |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    verdicts = []
    for stage, name, values, target in rows:
        if not values:
            print(f"| {stage} | {labels[name]} | 0 | — | — | "
                  f"{f'< {target:g} s' if target else '—'} | — | skipped or failed |")  # fmt: skip
            if target:
                verdicts.append(f"MISS  {stage}, {labels[name]}: no measurement")
            continue
        median, worst = statistics.median(values), max(values)
        if target is None:
            print(f"| {stage} | {labels[name]} | {len(values)} | {median:.3f} | {worst:.3f} "
                  f"| — | — | (info) |")  # fmt: skip
            continue
        verdict = "PASS" if worst < target else "MISS"
        print(f"| {stage} | {labels[name]} | {len(values)} | {median:.3f} | {worst:.3f} "
              f"| < {target:g} s | {worst / target:.2f} | **{verdict}** |")  # fmt: skip
        verdicts.append(f"{verdict}  {stage}, {labels[name]}: worst {worst:.3f} s, median "
                        f"{median:.3f} s (target < {target:g} s)")  # fmt: skip
    print()
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    sys.exit(main())
