"""A synthetic grid city of any size, written as a lifecircle store, for tests at scale.

Streets form a square grid with ``BLOCK`` metres between them; each block holds one
compound (a square set back from the streets), so a city of ``n`` compounds has about
``n`` street nodes. One clinic per 150 blocks, one neighbour centre per 120, one e-bike
charging point per 30, one renovation project per 500; metric coordinates are in UTM 51N
around 长白新村, stored in WGS-84 like every layer.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.layers.geojson import to_feature_collection
from geo.layers.store import write_layer

BLOCK = 120.0
X0, Y0 = 360_000.0, 3_462_000.0


def _facilities(cells: np.ndarray, every: int, prefix: str, props: dict) -> gpd.GeoDataFrame:
    chosen = cells[::every]
    ids = [f"{prefix}{i:05d}" for i in range(len(chosen))]
    points = shapely.points(X0 + chosen[:, 0] * BLOCK + 10, Y0 + chosen[:, 1] * BLOCK + 10)
    frame = gpd.GeoDataFrame(
        {"id": ids, "name": [f"{prefix}-{i}" for i in range(len(chosen))], **props},
        geometry=points,
        crs="EPSG:32651",
        index=ids,
    )
    return frame.to_crs("EPSG:4326")


def write_city(folder: Path, areas: int) -> Path:
    """Write a store of ``areas`` compounds and its grid streets to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    side = math.ceil(math.sqrt(areas))
    rng = np.random.default_rng(7)
    cells = np.array([(i % side, i // side) for i in range(areas)], dtype=float)
    x, y = X0 + cells[:, 0] * BLOCK, Y0 + cells[:, 1] * BLOCK
    ids = [f"a{i:06d}" for i in range(areas)]
    population = rng.integers(200, 3000, areas)
    compounds = gpd.GeoDataFrame(
        {
            "id": ids,
            "name": [f"新村{i}" for i in range(areas)],
            "subdistrict": [f"第{int(c[1]) * 10 // side + 1}街道" for c in cells],
            "district": "测试区",
            "households": population // 2,
            "population": population,
            "elderly": population // 3,
            "built": "1980s",
            "tenure": "售后公房",
        },
        geometry=shapely.box(x + 25, y + 25, x + BLOCK - 25, y + BLOCK - 25),
        crs="EPSG:32651",
        index=ids,
    ).to_crs("EPSG:4326")
    # validation is tested elsewhere; at this size it would only slow the set-up
    write_layer(compounds, "residential_areas", folder, validate=False)
    write_layer(_facilities(cells, 150, "c", {"level": "station"}), "clinics", folder)
    write_layer(
        _facilities(cells[7:], 120, "n", {"subdistrict": "第1街道", "kind": "point",
                                          "health_station": False}),
        "neighbor_centers", folder,
    )  # fmt: skip
    write_layer(
        _facilities(cells[3:], 30, "p", {"vehicle": "ebike", "ports": 10}),
        "charging_points", folder,
    )  # fmt: skip
    write_layer(
        _facilities(cells[11:], 500, "r", {"kind": "elevator_retrofit", "status": "signed"}),
        "renovation_projects", folder,
    )  # fmt: skip
    lines = []
    top = X0 + side * BLOCK, Y0 + math.ceil(areas / side) * BLOCK
    for i in range(side + 1):
        lines.append(shapely.LineString([(X0 + i * BLOCK, Y0), (X0 + i * BLOCK, top[1])]))
    for j in range(math.ceil(areas / side) + 1):
        lines.append(shapely.LineString([(X0, Y0 + j * BLOCK), (top[0], Y0 + j * BLOCK)]))
    streets = gpd.GeoDataFrame(
        {"id": [f"s{i}" for i in range(len(lines))]}, geometry=lines, crs="EPSG:32651"
    ).to_crs("EPSG:4326")
    (folder / "streets.geojson").write_bytes(to_feature_collection(streets))
    return folder
