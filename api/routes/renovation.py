"""Renovation progress as Shanghai's reports count it: per kind and stage, on any date."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.deps import Layers
from geo.analysis.progress import AS_OF_PATTERN, progress, progress_series
from geo.schema import PROJECT_KINDS

router = APIRouter(tags=["analysis"])

_AS_OF = Query(
    description="统计日期 YYYY-MM-DD（默认今天）；按阶段日期回放 / the date, default today; the "
    "stage history is replayed",
    examples=["2023-02-28"],
    json_schema_extra={"pattern": AS_OF_PATTERN},  # checked by parse_as_of
)
_KIND = Query(
    description="项目类型 / project kind (empty: every kind)",
    examples=["elevator_retrofit"],
    json_schema_extra={"enum": ["", *PROJECT_KINDS]},  # checked by progress
)


@router.get(
    "/renovation/progress",
    summary="改造进度（累计与当前阶段）/ renovation progress, cumulative and by current stage",
)
def renovation_progress(
    cache: Layers,
    subdistrict: Annotated[
        str | None, Query(description="街道 / subdistrict (404 for one without projects)")
    ] = None,
    kind: Annotated[str | None, _KIND] = None,
    as_of: Annotated[str | None, _AS_OF] = None,
    series: Annotated[
        Literal["quarter", "month", "year"] | None,
        Query(description="按季度/月/年的序列 / a series of periods, for charts"),
    ] = None,
) -> dict[str, Any]:
    """Projects and units (台 / 个 / 户) per kind and stage on ``as_of``.

    ``exclusive`` counts projects whose stage on that date is the stage; ``cumulative`` those
    that had reached it or a later one (累计签约 includes the completed). With ``series``, the
    same counts at the end of every period up to ``as_of``.
    """
    projects, _ = cache.get("renovation_projects")
    if series:
        return progress_series(projects, series, subdistrict, kind, as_of)
    return progress(projects, subdistrict, kind, as_of)
