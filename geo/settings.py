"""Settings: every ``LIFECIRCLE_*`` environment variable is read here, and only here.

The CLI and the web service both call :func:`current` (or build a :class:`Settings`
themselves, as the tests do) and pass the values down; no other module reads
``os.environ``, and nothing writes it to hand a value to another part.

=========================  =======================================================  ==============
variable                   meaning                                                  default
=========================  =======================================================  ==============
``LIFECIRCLE_DATA``        the layer store: a folder, or a URL such as ``folder:…``  bundled sample
``LIFECIRCLE_CACHE``       where built walking networks are cached                  ``~/.cache/lifecircle``
``LIFECIRCLE_NETWORK``     ``auto`` (the store's streets), ``none``, or a file       ``auto``
``LIFECIRCLE_API_TOKEN``   bearer token that allows writes through the API          (writes off)
``LIFECIRCLE_CORS_ORIGINS`` origins whose pages may call the API (JSON list)         none
``LIFECIRCLE_MAX_BODY_BYTES`` largest request body accepted                         10 MiB
``LIFECIRCLE_WARM``        compute the default coverage at start-up                 true
=========================  =======================================================  ==============

Examples
--------
>>> Settings(data="data/layers", network="none").network
'none'
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_CACHE_DIR", "DEFAULT_DATA_DIR", "Settings", "current", "use_numba_cache"]

#: The bundled sample, next to the package in a source checkout (``pip install -e .``).
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "layers"
#: Built networks and compiled kernels, never inside the (possibly read-only) package.
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "lifecircle"


class Settings(BaseSettings):
    """What the CLI and the service may be told from outside (``LIFECIRCLE_*``)."""

    model_config = SettingsConfigDict(env_prefix="LIFECIRCLE_", extra="ignore")

    #: The layer store: a folder path or a store URL (see :func:`geo.layers.store.open_store`).
    data: Path | str = DEFAULT_DATA_DIR
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
