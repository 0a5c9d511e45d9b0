"""Synthetic renovation projects at district scale, with stage dates a planner would enter."""

from __future__ import annotations

from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.schema import PROJECT_KINDS, PROJECT_STATUSES, STAGE_DATE_FIELDS


def synthetic_projects(n: int, seed: int = 3, today: date = date(2026, 6, 30)) -> gpd.GeoDataFrame:
    """``n`` point projects around 长白新村 in 10 街道, every kind, each at a random stage
    with dates in stage order between 2015 and ``today`` (one in 50 undated)."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(PROJECT_KINDS, n)
    stage = rng.integers(0, len(PROJECT_STATUSES), n)
    first = rng.integers(0, (today - date(2015, 1, 1)).days - 400, n)
    rows: dict[str, list] = {f: [None] * n for f in STAGE_DATE_FIELDS.values()}
    for i in range(n):
        day = date(2015, 1, 1) + timedelta(days=int(first[i]))
        if i % 50 == 0:
            continue  # undated
        for s in PROJECT_STATUSES[2 : stage[i] + 1] if stage[i] >= 2 else PROJECT_STATUSES[:1]:
            day = min(day + timedelta(days=int(rng.integers(10, 60))), today)
            rows[STAGE_DATE_FIELDS[s]][i] = day.isoformat()
    frame = pd.DataFrame(
        {
            "id": [f"rp-{i:05d}" for i in range(n)],
            "name": [f"测试路{i}弄改造" for i in range(n)],
            "kind": kinds,
            "status": np.array(PROJECT_STATUSES)[np.maximum(stage, 0)],
            "units": rng.integers(1, 40, n),
            "subdistrict": [f"第{k % 10 + 1}街道" for k in range(n)],
            "residential_area_id": [f"a{i:06d}" for i in range(n)],
            **rows,
        }
    )
    frame.loc[frame["status"].isin(["planned", "survey"]), "status"] = "planned"
    points = shapely.points(121.50 + rng.random(n) * 0.08, 31.26 + rng.random(n) * 0.06)
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326").set_index("id", drop=False)
