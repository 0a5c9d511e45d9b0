"""The 街道 report as a download: PDF, HTML or Excel, the same content as ``lifecircle report``."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import Layers, Studies, WalkerMinutes
from geo.analysis.planning import Scenario
from geo.reports.content import build_report
from geo.reports.render import render_report

router = APIRouter(tags=["analysis"])

MEDIA = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/reports",
    summary="街道报告（PDF/HTML/Excel）/ the 街道 report",
    response_class=Response,
    responses={200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}}},
)
async def report(
    request: Request,
    cache: Layers,
    studies: Studies,
    params: WalkerMinutes,
    subdistrict: Annotated[str | None, Query(description="街道（默认全部）/ subdistrict")] = None,
    f: Annotated[Literal["pdf", "html", "xlsx"], Query(description="格式 / format")] = "pdf",
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    scenario: Annotated[
        str | None, Query(description="与保存的方案比较 / compare with a saved scenario (its name)")
    ] = None,
) -> Response:
    """Cover, key figures for both walkers, maps, the ranked gap list, opportunities,
    recommended sites and renovation progress — the numbers of ``lifecircle analyze``.
    Takes seconds: it is built in a worker thread, not on the event loop."""

    plan = None
    if scenario:
        plan = Scenario.from_dict(request.app.state.scenarios.get(scenario))  # 404: none saved

    def make() -> bytes:
        built = build_report(cache.store, params, subdistrict, lang, study=studies.study(),
                             scenario=plan)  # fmt: skip
        return render_report(built, f)

    content = await run_in_threadpool(make)
    name = f"{subdistrict or ('全部街道' if lang == 'zh' else 'all')}-report.{f}"
    disposition = "inline" if f == "html" else "attachment"
    return Response(
        content,
        media_type=MEDIA[f],
        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"},
    )
