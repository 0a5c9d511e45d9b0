"""Service settings, read from the environment (``LIFECIRCLE_*``) here and nowhere else."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.store import DEFAULT_DATA_DIR

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """``LIFECIRCLE_DATA``, ``LIFECIRCLE_API_TOKEN``, ``LIFECIRCLE_CORS_ORIGINS`` …"""

    model_config = SettingsConfigDict(env_prefix="LIFECIRCLE_", extra="ignore")

    data: Path = DEFAULT_DATA_DIR
    api_token: str | None = None
    cors_origins: list[str] = []
    max_body_bytes: int = 10 * 1024 * 1024
    #: Walking network: "auto" = streets.geojson beside the layers; "none" = straight lines.
    network: str = "auto"
    #: Compute the default coverage in the background at start-up (``LIFECIRCLE_WARM=0``: not).
    warm: bool = True


@functools.lru_cache
def get_settings() -> Settings:
    return Settings()
