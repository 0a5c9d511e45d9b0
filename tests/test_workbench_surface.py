"""The accessibility heatmap in the workbench (static/panel-surface.js), in Debian's Chromium at
a desktop's and a phone's size: nothing is fetched before it is switched on, each type's cells
take the band of their walk from geo.analysis.surface (relative to that type's threshold, for
the walker chosen), and its legend gives minutes with units in Chinese and in English.
Screenshots go to test-output/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from workbench_fixtures import open_workbench, shot

from geo.analysis.params import DEFAULT_MINUTES, PROFILES
from geo.analysis.study import Study
from geo.analysis.surface import surface
from geo.maps.workbench import BAND_COLOURS, BANDS, UNREACHABLE


def expected(study: Study, kind: str, profile: str) -> dict[str, str]:
    """Each kept cell's colour, from the walk in metres (rounded to 0.1 m as served)."""
    grid = surface(study)
    limit = DEFAULT_MINUTES[kind] * PROFILES[profile].metres_per_minute
    out = {}
    for i in np.flatnonzero(grid.kept()):
        metres = round(float(grid.metres[kind][i]), 1)
        if not np.isfinite(metres):
            out[str(i)] = UNREACHABLE
            continue
        band = next((j for j, b in enumerate(BANDS) if metres <= limit * b), 3)
        out[str(i)] = BAND_COLOURS[band]
    return out


def drawn(page: Any, after: int) -> int:
    page.wait_for_function(
        f"() => +(document.documentElement.dataset.lcSurface || 0) > {after}", timeout=30_000
    )
    return int(page.evaluate("document.documentElement.dataset.lcSurface"))


def test_heatmap_per_type_with_a_bilingual_legend(page: Any, base_url: str, study: Study) -> None:
    asked: list[str] = []
    page.on("request", lambda r: "/surface" in r.url and asked.append(r.url))
    open_workbench(page, f"{base_url}/?tiles=none")
    assert asked == []  # the first paint does not wait for the surface
    assert page.is_visible("#lc-surface")
    assert page.is_hidden("#lc-surface-key")

    serial = int(page.evaluate("document.documentElement.dataset.lcSurface || 0"))
    page.check("#lc-surface input[data-type=clinics]")
    serial = drawn(page, serial)
    fills = page.evaluate("window.lcSurface.fills()")
    assert fills == expected(study, "clinics", "standard")
    assert len(set(fills.values())) >= 4  # near, within, beyond and unreachable cells
    key = page.inner_text("#lc-surface-key")
    assert "≤ 7.5 分钟" in key and "≤ 15 分钟" in key and "> 22.5 分钟" in key and "不可达" in key
    assert "4 km/h" in key
    shot(page, "surface-clinics")

    # another type: its own threshold (5 minutes) and its own walks
    page.check("#lc-surface input[data-type=charging_points]")
    serial = drawn(page, serial)
    assert page.evaluate("window.lcSurface.fills()") == expected(
        study, "charging_points", "standard"
    )
    assert "≤ 2.5 分钟" in page.inner_text("#lc-surface-key")
    assert len(asked) == 2

    # the elderly walker: the same cells repainted, no new request
    page.select_option("#lc-walker", "elderly")
    serial = drawn(page, serial)
    assert page.evaluate("window.lcSurface.fills()") == expected(
        study, "charging_points", "elderly"
    )
    assert len(asked) == 2 and "3 km/h" in page.inner_text("#lc-surface-key")

    # English: the legend in minutes, "min", and the section's words
    page.click("button.lc-lang[data-lang=en]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    key = page.inner_text("#lc-surface-key")
    assert "≤ 2.5 min" in key and "unreachable" in key and "分钟" not in key
    assert "Accessibility heatmap" in page.inner_text("#lc-surface")
    shot(page, "surface-charging-en")

    page.check("#lc-surface input[data-type=off]")
    drawn(page, serial)
    assert page.evaluate("window.lcSurface.fills()") == {}
    assert page.is_hidden("#lc-surface-key")
    assert page.lc_errors == []


# --- a city too big to inline: the cells of the view --------------------------------------------


def test_a_large_city_asks_for_the_cells_of_the_view(
    page: Any, city_url: str, city_folder: Path
) -> None:
    if page.lc_size == "phone":
        pytest.skip("the view's loader is the same at both sizes")
    asked: list[str] = []
    page.on("request", lambda r: "/surface" in r.url and asked.append(r.url))
    open_workbench(page, f"{city_url}/?tiles=none&type=clinics")
    assert asked == []
    serial = int(page.evaluate("document.documentElement.dataset.lcSurface || 0"))
    page.check("#lc-surface input[data-type=clinics]")
    serial = drawn(page, serial)
    assert len(asked) == 1 and "bbox=" in asked[0]
    fills = page.evaluate("window.lcSurface.fills()")
    want = expected(Study.load(city_folder), "clinics", "standard")
    assert len(fills) > 100 and {k: want[k] for k in fills} == fills
    assert len(fills) < len(want)  # the view's cells, not the city's
    page.evaluate(f"window.{page.evaluate('window.lcWorkbench.config.map')}.panBy([300, 0])")
    drawn(page, serial)
    assert len(asked) == 2 and asked[1] != asked[0]
    moved = page.evaluate("window.lcSurface.fills()")
    assert set(moved) != set(fills) and {k: want[k] for k in moved} == moved
    shot(page, "surface-large-city")
    assert page.lc_errors == []
