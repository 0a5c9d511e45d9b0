"""The map of a what-if scenario: the layers as they would be, new sites starred."""

from __future__ import annotations

import html
from typing import Any

from geo.analysis.planning import Scenario, apply_scenario
from geo.analysis.study import Study
from geo.maps.base import LAYER_COLOURS, TILES, display_frame
from geo.maps.overview import overview_map
from geo.schema import FACILITY_LAYERS

__all__ = ["scenario_map"]

#: A star on the layer's colour, drawn with the pages' own style (no icon font to fetch).
_STAR = '<div class="lc-glyph" style="background:{fill};border:2px solid #d62728">★</div>'


def scenario_map(
    study: Study,
    scenario: Scenario,
    lang: str = "zh",
    tiles: str = "openstreetmap",
    assets: str = "cdn",
) -> Any:
    """The overview map of the scenario's layers, its added sites marked with a star.

    Parameters
    ----------
    study : Study
        Today.
    scenario : Scenario
        The changes (:func:`geo.analysis.planning.apply_scenario`).
    lang : {"zh", "en"}
    tiles : str
        A basemap of :data:`geo.maps.base.TILES`.
    assets : {"service", "inline", "cdn"}
        Where Leaflet and the pages' files come from (:func:`geo.maps.base.use_assets`):
        the web service passes ``"service"``, so the page needs no internet.

    Returns
    -------
    folium.Map
        Each added site (id ``{scenario.name}-{type}-{n}``) is a star whose tooltip is
        ``★ {id}``, escaped: the scenario's name may come from a link.

    Raises
    ------
    QueryError
        For a scenario that cannot be applied (:func:`geo.analysis.planning.apply_scenario`).
    """
    import folium

    changed = apply_scenario(study, scenario)
    fmap = overview_map(changed.layers, lang=lang, tiles=tiles, assets=assets)
    shift = TILES[tiles][2]
    for kind in FACILITY_LAYERS:
        frame = changed.layers[kind]
        new = display_frame(frame[frame.index.astype(str).str.startswith(f"{scenario.name}-")],
                            shift)  # fmt: skip
        icon = _STAR.format(fill=LAYER_COLOURS.get(kind, "#555555"))
        for fid, geom in zip(new.index, new.geometry, strict=True):
            folium.Marker(
                [geom.y, geom.x],
                tooltip=_tooltip_text(f"★ {fid}"),
                icon=folium.DivIcon(html=icon, icon_size=(22, 22), icon_anchor=(11, 11),
                                    class_name="lc-marker lc-star"),
                z_index_offset=1000,  # above the facility it may sit on
            ).add_to(fmap)  # fmt: skip
    return fmap


def _tooltip_text(value: str) -> str:
    """``value`` safe inside folium's tooltip, a JavaScript template literal of HTML:
    escaped HTML, and no backtick, ``$`` or backslash left to end or interpolate it."""
    escaped = html.escape(value)
    return escaped.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")
