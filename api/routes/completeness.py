"""GET /completeness: which of the catalogue's kinds each compound reaches on foot.

The kinds, tiers, thresholds and sources are ``geo/catalogue.toml``'s (docs/catalogue.md);
the walks are coverage's (geo.analysis.completeness).
"""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import Studies
from geo.analysis.completeness import WALKERS, completeness_summary, lacking
from geo.analysis.params import PROFILES
from geo.catalogue import CATALOGUE

__all__ = ["router"]

router = APIRouter(tags=["analysis"])


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


@router.get("/completeness", summary="生活圈完整度 / life-circle completeness per compound")
def completeness_route(
    studies: Studies,
    walker: Annotated[
        Literal["standard", "elderly"],
        Query(
            description="“最缺什么”按此步行者排序 / whose walk ranks what each 街道 lacks",
            examples=["elderly"],
        ),
    ] = "elderly",
    top: Annotated[
        int, Query(ge=1, le=len(CATALOGUE), description="每街道列出几类 / kinds per 街道")
    ] = 3,
) -> JSONResponse:
    """Per compound (``areas``): for each walker the catalogue kinds reached per tier
    (``basic_standard``, ``quality_elderly`` …), ``kinds_*``, ``share_*`` and ``missing_*``
    (keys), and per kind ``K_walk_m``, ``K_standard``, ``K_elderly``; ``kinds``: the
    catalogue (names, tier, minutes per walker, source, verified, facilities in the data);
    ``summary`` per 街道 and walker; ``lacking``: the ``top`` kinds each 街道 lacks most for
    ``walker`` (residents of compounds that do not reach them; kinds the data has none of
    last)."""
    study = studies.study()
    table = studies.completeness()
    areas = study.layers["residential_areas"]
    counts = table.attrs.get("facilities", {})
    kinds = [
        {"key": key, "zh": kind.zh, "en": kind.en, "tier": kind.tier, "tier_en": kind.tier_en,
         "minutes": dict(kind.minutes), "source": kind.source, "verified": kind.verified,
         "layer": kind.layer, "facilities": int(counts.get(key, 0))}
        for key, kind in CATALOGUE.items()
    ]  # fmt: skip
    rows = table.drop(columns=[c for c in table.columns if c.endswith("_name")])
    rows = rows.assign(name=areas["name"], subdistrict=areas["subdistrict"])
    rows.insert(0, "id", rows.index.astype(str))
    lack = lacking(areas, table, walker)
    body = {
        "method": study.method,
        "walkers": {w: [PROFILES[w].zh, PROFILES[w].en, PROFILES[w].speed_kmh] for w in WALKERS},
        "kinds": kinds,
        "areas": _records(rows),
        "summary": _records(completeness_summary(areas, table)),
        "lacking": _records(lack[lack["rank"] <= top]) if len(lack) else [],
    }
    return JSONResponse(body)
