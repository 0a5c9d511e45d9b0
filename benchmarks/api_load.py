"""A bounded load run of the HTTP API on loopback, side by side with pygeoapi.

    python benchmarks/api_load.py [--seconds 10] [--connections 8]

Starts ONE uvicorn worker of lifecircle on the bundled sample, and pygeoapi (if installed:
``pip install -e ".[bench]"``) serving the same ``clinics.geojson`` with its GeoJSON provider,
also one uvicorn worker. Loads ``/nearest`` and ``/collections/clinics/items?bbox=…`` with
``wrk`` (Debian package ``wrk``) when present, else with a small asyncio client (which
is itself slower: the numbers are then a lower bound). Every request goes to 127.0.0.1;
each run is bounded in time and stops by itself. Prints throughput, p50/p99 latency, errors,
the items ratio against pygeoapi, and PASS/MISS against the targets:
``/nearest`` ≥ 1000 requests/s with p99 ≤ 25 ms; items ≥ 2× pygeoapi; zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "layers"
BBOX = "121.50,31.25,121.56,31.31"
NEAREST = "/nearest?lon=121.5405&lat=31.299&type=clinics&k=3"
ITEMS = f"/collections/clinics/items?bbox={BBOX}&limit=100"

PYGEOAPI_CONFIG = """\
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 100, max_items: 10000}}
  map: {{url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png", attribution: OSM}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme,
                    terms_of_service: "https://example.org", url: "https://example.org"}}
  license: {{name: CC-BY 4.0, url: "https://creativecommons.org/licenses/by/4.0/"}}
  provider: {{name: bench, url: "https://example.org"}}
  contact: {{name: bench}}
resources:
  clinics:
    type: collection
    title: clinics
    description: clinics
    keywords: [clinics]
    extents:
      spatial: {{bbox: [121.4, 31.1, 121.6, 31.4],
                 crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    providers:
      - {{type: feature, name: GeoJSON, data: "{data}", id_field: id}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], probe: str) -> Iterator[None]:
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for(probe)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def run_wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency("50%"),
        "p99": latency("99%"),
        "errors": (int(errors.group(1)) if errors else 0)
        + (sum(int(g) for g in socket_errors.groups()) if socket_errors else 0),
    }


def run_python(url: str, seconds: int, connections: int) -> dict[str, float]:
    import httpx

    async def main() -> dict[str, float]:
        latencies: list[float] = []
        errors = 0
        stop = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=10) as client:

            async def worker() -> None:
                nonlocal errors
                while time.monotonic() < stop:
                    started = time.perf_counter()
                    response = await client.get(url)
                    latencies.append(time.perf_counter() - started)
                    errors += response.status_code != 200

            began = time.monotonic()
            await asyncio.gather(*(worker() for _ in range(connections)))
            elapsed = time.monotonic() - began
        latencies.sort()
        return {
            "rps": len(latencies) / elapsed,
            "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000,
            "errors": errors,
        }

    return asyncio.run(main())


def load(url: str, seconds: int, connections: int) -> dict[str, float]:
    runner = run_wrk if shutil.which("wrk") else run_python
    runner(url, 1, connections)  # warm-up: first requests build caches and compile kernels
    return runner(url, seconds, connections)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    args = parser.parse_args()
    tool = "wrk" if shutil.which("wrk") else "python asyncio client (install wrk for accuracy)"
    print(f"load generator: {tool}; {args.connections} connections, {args.seconds} s per run")
    results: dict[tuple[str, str], dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "layers"
        shutil.copytree(DATA, store, ignore=shutil.ignore_patterns(".*"))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        ours = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory",
                "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                "--log-level", "warning", "--no-access-log"]  # fmt: skip
        with server(ours, {"LIFECIRCLE_DATA": str(store)}, f"{base}/health"):
            for name, path in (("nearest", NEAREST), ("items", ITEMS)):
                print(f"lifecircle {path} …", flush=True)
                results[("lifecircle", name)] = load(base + path, args.seconds, args.connections)
        pygeoapi = Path(sys.executable).parent / "pygeoapi"
        if pygeoapi.exists():
            port = free_port()
            config = Path(tmp) / "pygeoapi.yml"
            openapi = Path(tmp) / "openapi.yml"
            config.write_text(
                PYGEOAPI_CONFIG.format(port=port, data=store / "clinics.geojson"), encoding="utf-8"
            )
            env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
            subprocess.run([str(pygeoapi), "openapi", "generate", str(config), "--output-file",
                            str(openapi)], env={**os.environ, **env}, check=True,
                           capture_output=True, timeout=120)  # fmt: skip
            theirs = [sys.executable, "-m", "uvicorn", "pygeoapi.starlette_app:APP",
                      "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                      "--log-level", "warning", "--no-access-log"]  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            with server(theirs, env, f"{base}/collections/clinics?f=json"):
                print(f"pygeoapi {ITEMS} …", flush=True)
                results[("pygeoapi", "items")] = load(
                    f"{base}{ITEMS}&f=json", args.seconds, args.connections
                )
        else:
            print("pygeoapi: not installed (pip install -e '.[bench]'); items ratio skipped")

    print(f"\n{'server':<12}{'endpoint':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for (who, name), r in results.items():
        print(f"{who:<12}{name:<10}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}"
              f"{r['errors']:>8.0f}")  # fmt: skip
    nearest = results[("lifecircle", "nearest")]
    checks = [
        ("/nearest ≥ 1000 req/s", nearest["rps"] >= 1000, f"{nearest['rps']:.0f}"),
        ("/nearest p99 ≤ 25 ms", nearest["p99"] <= 25, f"{nearest['p99']:.1f} ms"),
        ("zero errors", all(r["errors"] == 0 for r in results.values()), ""),
    ]
    if ("pygeoapi", "items") in results:
        ratio = results[("lifecircle", "items")]["rps"] / results[("pygeoapi", "items")]["rps"]
        print(f"\nitems: lifecircle / pygeoapi = {ratio:.2f}×")
        checks.append(("items ≥ 2× pygeoapi", ratio >= 2, f"{ratio:.2f}×"))
    for label, ok, value in checks:
        print(f"{'PASS' if ok else 'MISS'}  {label}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
