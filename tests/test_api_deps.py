"""The service's caches: results per study, computed once, never holding others up."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from api.deps import LayerCache, StudyCache
from geo.layers.store import read_layer
from geo.settings import DEFAULT_DATA_DIR


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
