"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from the package's own copies, not a CDN.

Planners' offices are often offline or behind a firewall that blocks CDNs; FastAPI's
default pages load their scripts from one and stay blank there. These pages load the copies
in ``api/static/`` (served at :data:`ASSETS_URL`), no web fonts, and Swagger UI's online
validator badge is off. The OpenAPI document stays at ``/openapi.json``.

ReDoc 2 shows Redocly's logo from Redocly's CDN in its sidebar, unconditionally; the pages'
Content-Security-Policy (:data:`CSP`) tells the browser to fetch nothing from another host,
so no request leaves (ReDoc hides the logo when it does not load).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

__all__ = ["ASSETS", "ASSETS_URL", "CSP", "router"]

#: The vendored Swagger UI and ReDoc files (versions and licences in its README.md).
ASSETS = Path(__file__).resolve().parent.parent / "static"
#: Where ``api.main`` mounts :data:`ASSETS`.
ASSETS_URL = "/static/api"

#: The docs pages load from this service only: their inline start-up script and the styles
#: React sets inline, images as data: URLs, ReDoc's search worker as a blob: URL.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'self'"
)

_OAUTH2_REDIRECT = "/docs/oauth2-redirect"

router = APIRouter(include_in_schema=False)


def _urls(request: Request) -> tuple[str, str]:
    """The OpenAPI document's URL and the assets' base URL, behind any ``root_path``."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return root + (request.app.openapi_url or "/openapi.json"), root + ASSETS_URL


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, its script and style served by this service."""
    openapi, assets = _urls(request)
    page = get_swagger_ui_html(
        openapi_url=openapi,
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{assets}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{assets}/swagger-ui/favicon-32x32.png",
        oauth2_redirect_url=_OAUTH2_REDIRECT,
        # "none": no badge image from validator.swagger.io (shown for non-local hosts)
        swagger_ui_parameters={"validatorUrl": "none"},
    )
    page.headers["Content-Security-Policy"] = CSP
    return page


@router.get(_OAUTH2_REDIRECT)
def swagger_ui_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect page (FastAPI's, as with its default ``/docs``)."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over ``/openapi.json``, its script served by this service, no Google Fonts."""
    openapi, assets = _urls(request)
    page = get_redoc_html(
        openapi_url=openapi,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{assets}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{assets}/swagger-ui/favicon-32x32.png",
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = CSP
    return page
