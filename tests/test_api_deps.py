"""The service's caches: results per study, computed once, never holding others up."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import httpx
import pytest
from served import serving

from api import deps
from api.deps import LayerCache, StudyCache
from api.main import create_app, warm_up
from api.routes import pages
from geo.layers.store import read_layer
from geo.schema import LAYER_NAMES
from geo.settings import DEFAULT_DATA_DIR, Settings


@pytest.fixture
def studies(tmp_path: Path) -> StudyCache:
    shutil.copytree(DEFAULT_DATA_DIR, tmp_path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".*"))  # fmt: skip
    return StudyCache(LayerCache(tmp_path), "none")  # straight-line: no network to build


def test_a_slow_result_does_not_hold_up_coverage_and_is_computed_once(studies) -> None:
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow(study):
        calls.append(study)
        started.set()
        release.wait(10)
        return len(study.layers["clinics"])

    results = []
    workers = [threading.Thread(target=lambda: results.append(studies.cached(("slow",), slow)))
               for _ in range(2)]  # fmt: skip
    workers[0].start()
    assert started.wait(10)
    workers[1].start()
    # while the slow result is being computed, coverage is still served
    done = threading.Event()
    threading.Thread(target=lambda: (studies.coverage(), done.set())).start()
    assert done.wait(30), "coverage waited for an unrelated slow result"
    release.set()
    for worker in workers:
        worker.join(10)
    clinics = len(read_layer("clinics", studies.layers.folder))
    assert len(calls) == 1 and results == [clinics, clinics]  # computed once, for both


def test_a_result_of_layers_changed_meanwhile_is_not_kept(studies) -> None:
    path = studies.layers.folder / "clinics.geojson"

    def while_writing(study):
        text = path.read_text(encoding="utf-8")  # a write lands during the computation
        path.write_text(text.replace("长白", "长白(改)", 1), encoding="utf-8")
        return "old"

    assert studies.cached(("k",), while_writing) == "old"  # its caller gets it …
    assert studies.cached(("k",), lambda study: "new") == "new"  # … the cache does not
    assert studies.cached(("k",), lambda study: "newer") == "new"


def without_folium_names(page: str) -> str:
    """A page with folium's random element names (``map_<32 hex digits>``) made alike."""
    return re.sub(r"_[0-9a-f]{32}(?![0-9a-f])", "_<name>", page)


def test_the_warm_up_leaves_the_default_page_to_serve(sample_store: Path, monkeypatch) -> None:
    renders: list[str] = []
    indexed: list[str] = []
    render, index = pages.dashboard_map, deps.FeatureIndex

    def counted(*args, **kwargs):
        renders.append(kwargs["tiles"])
        return render(*args, **kwargs)

    def counted_index(frame, layer):
        indexed.append(layer)
        return index(frame, layer)

    monkeypatch.setattr(pages, "dashboard_map", counted)
    monkeypatch.setattr(deps, "FeatureIndex", counted_index)
    token = "warm-token"
    app = create_app(Settings(data=sample_store, network="none", warm=False, api_token=token))
    warm_up(app.state.studies)  # what start-up runs in the background, here in the foreground
    assert renders == ["openstreetmap", "none"]
    assert sorted(indexed) == sorted(LAYER_NAMES)
    html = {"Accept": "text/html"}  # as a browser asks
    items = "/collections/residential_areas/items"
    with serving(app) as url, httpx.Client(base_url=url, timeout=60, headers=html) as http:
        served = {query: http.get(f"/{query}") for query in ("", "?tiles=none")}
        assert all(r.status_code == 200 for r in served.values())
        assert len(renders) == 2  # both from memory: the first visitor waits for no render
        # what the page's panels ask when it opens: answered from the indexes built
        for layer in ("residential_areas", "clinics"):
            assert http.get(f"/collections/{layer}/items?limit=1").status_code == 200
        assert len(indexed) == len(LAYER_NAMES)
        http.get("/?lang=en")  # a page the warm-up did not render is rendered when asked
        assert renders[2:] == ["openstreetmap"]

        # the same as a service that never warmed up renders when first asked
        cold = create_app(Settings(data=sample_store, network="none", warm=False))
        with serving(cold) as cold_url:
            for query, response in served.items():
                fresh = httpx.get(f"{cold_url}/{query}", headers=html, timeout=60).text
                assert "lc-workbench-config" in fresh
                assert without_folium_names(response.text) == without_folium_names(fresh)
        assert len(renders) == 5

        # an edit: the page is rendered again, with it
        first = http.get(f"{items}?limit=1", headers={"Accept": "application/geo+json"})
        compound = first.json()["features"][0]["id"]
        edited = http.patch(f"{items}/{compound}", json={"name": "改名新村"},
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert edited.status_code == 200, edited.text
        again = http.get("/")
        assert len(renders) == 6 and "改名新村" in again.text
        assert "改名新村" not in served[""].text
        read = http.get(f"{items}/{compound}", headers={"Accept": "application/geo+json"})
        assert read.json()["properties"]["name"] == "改名新村"
        assert indexed[len(LAYER_NAMES) :] == ["residential_areas"]
