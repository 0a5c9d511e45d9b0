"""``/health``: is the service up, and what does it hold."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

import geo
from api.deps import LayerCache, get_cache

router = APIRouter(tags=["service"])


@router.get(
    "/health",
    summary="服务状态 / service health",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
def health(cache: Annotated[LayerCache, Depends(get_cache)]) -> dict:
    """Status, version and the number of features in each layer."""
    counts = {name: len(frame) for name, frame in cache.all().items()}
    return {"status": "ok", "version": geo.__version__, "layers": counts}
