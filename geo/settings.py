"""Settings: every ``LIFECIRCLE_*`` environment variable is read here, and only here.

The CLI and the web service both call :func:`current` (or build a :class:`Settings`
themselves, as the tests do) and pass the values down; no other module reads
``os.environ``, and nothing writes it to hand a value to another part.

=========================  =======================================================  ==============
variable                   meaning                                                  default
=========================  =======================================================  ==============
``LIFECIRCLE_STORE``       the layer store: a folder, ``folder:…`` or               bundled sample
                           ``postgresql://user:pass@host:5432/db`` (wins over DATA)
``LIFECIRCLE_DATA``        the same, its older name (kept: scripts set it)          bundled sample
``LIFECIRCLE_CACHE``       where built walking networks are cached                  ``~/.cache/lifecircle``
``LIFECIRCLE_NETWORK``     ``auto`` (the store's streets), ``none``, or a file       ``auto``
``LIFECIRCLE_API_TOKEN``   bearer token that allows writes through the API          (writes off)
``LIFECIRCLE_CORS_ORIGINS`` origins whose pages may call the API (JSON list)         none
``LIFECIRCLE_MAX_BODY_BYTES`` largest request body accepted                         10 MiB
``LIFECIRCLE_WARM``        compute the default coverage at start-up                 true
``LIFECIRCLE_MAX_FILE_BYTES`` largest file ``import`` reads                          128 MiB
``LIFECIRCLE_MAX_LINE_BYTES`` longest line of a CSV ``import`` reads                 1 MiB
``LIFECIRCLE_MAX_TABLE_CELLS`` most cells (rows × columns) of a CSV or XLSX table    5 million
``LIFECIRCLE_MAX_TEXT_CHARS`` longest text value of a field                          2000
``LIFECIRCLE_MAX_JSON_DEPTH`` deepest nesting of a JSON file or request body         32
``LIFECIRCLE_STUDY_REGION`` lon/lat box features must lie in (JSON list of four)    Shanghai
``LIFECIRCLE_STUDY_MARGIN_KM`` how far outside that box a feature may still lie     20
``LIFECIRCLE_BODY_TIMEOUT_S`` seconds the service waits for more of a request body  30
=========================  =======================================================  ==============

``--store`` and ``--data`` on the command line win over both variables; when both variables
are set, ``LIFECIRCLE_STORE`` wins (it is the newer, explicit name).

The limits keep hostile or broken input from starving the machine: a file is refused
by its size before it is read, a CSV by its longest line while it is scanned, so a 1 GB
file fails at once in little memory. A planner's files are far smaller: Shanghai's ~13,000
compounds with outlines are about 30 MB of GeoJSON, and a compound's WKT outline a few
kilobytes. Raise a limit when a real file needs it.

Examples
--------
>>> Settings(data="data/layers", network="none").network
'none'
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "DEFAULT_CACHE_DIR",
    "DEFAULT_DATA_DIR",
    "SHANGHAI_BOUNDS",
    "Settings",
    "current",
    "for_worker",
    "hand_to_workers",
    "use_numba_cache",
]

#: The bundled sample, next to the package in a source checkout (``pip install -e .``).
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "layers"
#: Built networks and compiled kernels, never inside the (possibly read-only) package.
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "lifecircle"
#: The Shanghai municipality's extent (lon_min, lat_min, lon_max, lat_max), WGS-84, from its
#: boundary (Chongming's north shore to Jinshan, Qingpu's west edge to the Yangshan port).
SHANGHAI_BOUNDS = (120.85, 30.67, 122.2, 31.88)
_KM_PER_DEGREE = 111.32


class Settings(BaseSettings):
    """What the CLI and the service may be told from outside (``LIFECIRCLE_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="LIFECIRCLE_", extra="ignore", populate_by_name=True
    )

    #: The layer store: a folder path or a store URL (see :func:`geo.layers.store.open_store`),
    #: from ``LIFECIRCLE_STORE``, else ``LIFECIRCLE_DATA``.
    data: Path | str = Field(
        default=DEFAULT_DATA_DIR,
        validation_alias=AliasChoices("LIFECIRCLE_STORE", "LIFECIRCLE_DATA"),
    )
    #: Folder for cached walking networks (and numba's compiled kernels beside them).
    cache: Path = DEFAULT_CACHE_DIR
    #: Walking network: "auto" = the store's streets; "none" = straight lines; else a file.
    network: str = "auto"
    api_token: str | None = None
    cors_origins: list[str] = []
    max_body_bytes: int = 10 * 1024 * 1024
    #: Compute the default coverage in the background at start-up (``LIFECIRCLE_WARM=0``: not).
    warm: bool = True
    #: Refuse changes without ``If-Match`` (428). Off by default: OGC API – Features Part 4
    #: lets a client write without it (the last writer wins; QGIS and OWSLib send none); a
    #: stale ``If-Match`` is always 412. ``LIFECIRCLE_REQUIRE_IF_MATCH=1`` when planners edit
    #: the same features.
    require_if_match: bool = False
    #: Seconds a write waits for another writer's lock before 503 + ``Retry-After``: short, so
    #: a held lock never ties up the service.
    write_wait_s: float = 2.0
    #: Writes one service process runs at once; more get 503 + ``Retry-After`` at once, so
    #: readers never queue behind writers.
    max_writes: int = 2
    #: Largest source file ``import`` reads (bytes), checked before reading it.
    max_file_bytes: int = 128 * 1024 * 1024
    #: Longest line of a CSV source (bytes): a sparse or binary file has no line breaks.
    max_line_bytes: int = 1024 * 1024
    #: Most cells (rows × columns) of a CSV or XLSX table: a reader fills every row out to
    #: the widest, so a 5 KB workbook with one cell at XFD1048576 is refused, not unpacked.
    max_table_cells: int = 5_000_000
    #: Longest text value of a field (characters): a note, a name, an address.
    max_text_chars: int = 2000
    #: Deepest nesting of JSON (a GeoJSON file, a request body); GeoJSON needs about 8.
    max_json_depth: int = 32
    #: The study region (lon_min, lat_min, lon_max, lat_max), WGS-84; default Shanghai.
    study_region: tuple[float, float, float, float] = SHANGHAI_BOUNDS
    #: How far (km) outside :attr:`study_region` a feature may lie (suburbs across the border).
    study_margin_km: float = 20.0
    #: Seconds the service waits for the next part of a request body (four times that for the
    #: whole body) before answering 408.
    body_timeout_s: float = 30.0

    def study_box(self) -> tuple[float, float, float, float]:
        """The study region widened by the margin, in degrees: where features may lie.

        Returns
        -------
        tuple of float
            (lon_min, lat_min, lon_max, lat_max), WGS-84.

        Examples
        --------
        >>> [round(v, 2) for v in Settings(study_margin_km=0).study_box()]
        [120.85, 30.67, 122.2, 31.88]
        """
        lon_min, lat_min, lon_max, lat_max = self.study_region
        dlat = self.study_margin_km / _KM_PER_DEGREE
        dlon = dlat / max(math.cos(math.radians((lat_min + lat_max) / 2)), 0.01)
        return (lon_min - dlon, lat_min - dlat, lon_max + dlon, lat_max + dlat)


def current(**overrides: object) -> Settings:
    """The settings of the environment now, with ``overrides`` (those not None) on top.

    Read afresh on every call (microseconds): a test or a notebook that changes the
    environment is seen at once, and nothing is cached behind anybody's back.

    Parameters
    ----------
    **overrides : object
        Field values of :class:`Settings` (e.g. ``data`` from ``--data``) that win over
        the environment; None values are ignored.

    Returns
    -------
    Settings
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)  # type: ignore[arg-type]


#: Where ``lifecircle serve --workers`` leaves its settings for the worker processes.
_WORKER_VARIABLE = "LIFECIRCLE_SERVE_SETTINGS"


def hand_to_workers(settings: Settings) -> None:
    """Leave ``settings`` (with the command line's ``--store``) where the worker processes of
    ``lifecircle serve --workers`` find them: one variable of this process's environment,
    which uvicorn's workers inherit (an app factory takes no arguments).

    Parameters
    ----------
    settings : Settings
        The settings the service runs with.

    Returns
    -------
    None
    """
    os.environ[_WORKER_VARIABLE] = settings.model_dump_json()


def for_worker() -> Settings:
    """The settings a worker of ``lifecircle serve --workers`` was handed
    (:func:`hand_to_workers`), else those of the environment (:func:`current`).

    Returns
    -------
    Settings
    """
    handed = os.environ.get(_WORKER_VARIABLE)
    return Settings.model_validate_json(handed) if handed else current()


class _CacheOnly(BaseSettings):
    """``LIFECIRCLE_CACHE`` alone: what must be known when the kernels are imported, read
    without the rest so that a bad value elsewhere cannot break ``import geo``."""

    model_config = SettingsConfigDict(env_prefix="LIFECIRCLE_", extra="ignore")

    cache: Path = DEFAULT_CACHE_DIR


def use_numba_cache(folder: Path | None = None) -> None:
    """Let numba keep its compiled kernels in ``folder`` (default: ``<cache>/numba``).

    numba writes them beside the source by default, and an installed package may be
    read-only. A ``NUMBA_CACHE_DIR`` the user set wins; otherwise numba's own config value
    is set (not the environment). numba chooses the folder when a kernel is defined, so
    ``geo.network`` calls this before :mod:`geo.network._kernels` is imported.

    Parameters
    ----------
    folder : pathlib.Path, optional
        Where the compiled kernels go; default ``$LIFECIRCLE_CACHE/numba``.
    """
    from numba.core import config  # numba's own settings module, set by attribute

    if not getattr(config, "CACHE_DIR", ""):
        chosen = folder or _CacheOnly().cache / "numba"
        setattr(config, "CACHE_DIR", str(chosen))  # noqa: B010
