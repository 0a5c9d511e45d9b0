"""The lifecircle web service: ``create_app()`` builds it (uvicorn runs it with ``--factory``)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api import errors, openapi
from api.deps import LayerCache, StudyCache
from api.middleware import GzipWhenAccepted, RequestMiddleware
from api.ogc import HeadAsGet
from api.routes import (
    analysis,
    catchment,
    collections,
    completeness,
    docs,
    exports,
    health,
    items,
    maps,
    pages,
    planning,
    renovation,
    reports,
    surface,
)
from geo.layers.scenarios import scenario_shelf
from geo.maps.base import STATIC
from geo.schema import LAYER_NAMES
from geo.settings import Settings, current, for_worker
from geo.version import __version__

__all__ = ["create_app", "create_worker_app", "warm_up"]

DESCRIPTION = """\
15分钟社区生活圈：上海社区设施步行覆盖。图层以 OGC API – Features 提供。

15-minute community life circle: walking coverage of community services in Shanghai.
The layers are served as OGC API – Features collections (GeoJSON, WGS-84).
"""


def warm_up(studies: StudyCache) -> None:
    """What the service computes in the background at start-up, so the first visitors do not
    wait for it: the network, the default coverage, its capacity and its summary, the page
    ``/`` serves by default (:func:`api.routes.pages.warm_pages`) and the layers' feature
    indexes (the page's panels read the layers' items when it opens), then the gap zones and
    the accessibility surface (seconds for a big city) and completeness. A layer that fails
    to load is reported by the requests that need it.

    Parameters
    ----------
    studies : StudyCache
        The service's study cache, which keeps what is computed until a layer changes.
    """
    try:
        studies.coverage()
        studies.capacity()
        studies.summary()
        pages.warm_pages(studies)
        for layer in LAYER_NAMES:
            studies.layers.index(layer)
        if studies.network() is not None:
            studies.gap_zones()
            studies.surface()
        studies.completeness()
    except Exception as error:  # start-up must not fail on bad data
        logging.getLogger("lifecircle").warning("预热失败 / warm-up failed: %s", error)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    if app.state.settings.warm:
        threading.Thread(target=warm_up, args=(app.state.studies,), daemon=True).start()
    yield


def create_worker_app() -> FastAPI:
    """The app of one worker process of ``lifecircle serve --workers N`` (uvicorn's factory),
    built with the settings the command handed over (:func:`geo.settings.for_worker`).

    Returns
    -------
    fastapi.FastAPI
    """
    return create_app(for_worker())


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service for ``settings`` (default: :func:`geo.settings.current`, the
    environment); the CLI's ``serve`` passes the settings it was given.

    Parameters
    ----------
    settings : Settings, optional
        Where the layers are, the network, the write token, CORS and the other options;
        None reads the environment.

    Returns
    -------
    fastapi.FastAPI
        The app, with its layer and study caches, error handlers, middleware, the
        bundled static files at ``/static`` (the API pages' at ``/static/api``), every
        route, and ``/docs`` and ``/redoc`` that need no internet.
    """
    settings = settings or current()
    # /docs and /redoc are api.routes.docs: the same pages from local files, not a CDN
    app = FastAPI(
        title="lifecircle",
        description=DESCRIPTION,
        version=__version__,
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.layers = LayerCache(settings.data)
    app.state.scenarios = scenario_shelf(app.state.layers.store)
    app.state.studies = StudyCache(app.state.layers, settings.network, settings.cache)
    errors.register(app)
    app.add_middleware(GzipWhenAccepted, minimum_size=1024)
    app.add_middleware(RequestMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(HeadAsGet)  # outermost but CORS: HEAD works wherever GET does
    if settings.cors_origins:
        # a browser client edits with a token and If-Match, and must read the ETag it needs
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "If-Match", "Content-Type", "X-Request-ID"],
            expose_headers=["ETag", "Location", "X-Request-ID", "Content-Crs", "Allow"],
        )
    # before /static, which would otherwise answer /static/api/… with a 404
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.ASSETS), name="api-static")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        pages,
        maps,
        health,
        collections,
        items,
        analysis,
        completeness,
        catchment,
        planning,
        renovation,
        reports,
        docs,
        exports,
        surface,
    ):
        app.include_router(module.router)

    openapi.install(app)  # 400 problems, not FastAPI's 422; 404 and 413 documented
    return app
