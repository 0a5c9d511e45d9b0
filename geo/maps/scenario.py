"""The map of a what-if scenario: the layers as they would be, new sites starred."""

from __future__ import annotations

from typing import Any

from geo.analysis.planning import Scenario, apply_scenario
from geo.analysis.study import Study
from geo.maps.overview import overview_map
from geo.schema import FACILITY_LAYERS

__all__ = ["scenario_map"]


def scenario_map(
    study: Study, scenario: Scenario, lang: str = "zh", tiles: str = "openstreetmap"
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

    Returns
    -------
    folium.Map
    """
    import folium

    changed = apply_scenario(study, scenario)
    fmap = overview_map(changed.layers, lang=lang, tiles=tiles)
    for kind in FACILITY_LAYERS:
        frame = changed.layers[kind]
        new = frame[frame.index.astype(str).str.startswith(f"{scenario.name}-")]
        for fid, geom in zip(new.index, new.geometry, strict=True):
            folium.Marker([geom.y, geom.x], tooltip=f"★ {fid}",
                          icon=folium.Icon(color="red", icon="star")).add_to(fmap)  # fmt: skip
    return fmap
