"""``/health``: is the service up, and what does it hold."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Layers
from geo.version import __version__

router = APIRouter(tags=["service"])


@router.get(
    "/health",
    summary="服务状态 / service health",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
def health(cache: Layers) -> dict[str, Any]:
    """Status, version and the number of features in each layer."""
    counts = {name: len(frame) for name, frame in cache.all().items()}
    return {"status": "ok", "version": __version__, "layers": counts}
