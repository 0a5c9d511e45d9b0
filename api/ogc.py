"""What OGC API clients and browsers expect of every answer: the format they asked for, HEAD,
and a plain HTML view of collections and items.

- :func:`wants_html`: HTML only when the client asks for it first (``?f=html``, or ``text/html``
  at the top of ``Accept`` as browsers send it); ``*/*``, no ``Accept`` or JSON get JSON, so
  OWSLib, GDAL and QGIS read the landing page and collections as JSON.
- :class:`HeadAsGet`: ``HEAD`` on any ``GET`` resource answers the ``GET``'s status and headers
  without its body (RFC 9110), instead of 405.
- :func:`html_page`: collections and items as a small page, no script, nothing loaded.
"""

from __future__ import annotations

import html
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CRS84",
    "HTML_TYPES",
    "SUPPORTED_CRS",
    "HeadAsGet",
    "allowed_methods",
    "bbox_to_crs84",
    "frame_in_crs",
    "html_page",
    "parse_ogc_crs",
    "wants_html",
]

HTML_TYPES = ("text/html", "application/xhtml+xml")


def wants_html(accept: str | None, f: str | None) -> bool:
    """Whether a request asks for HTML: ``f`` decides when given, else the ``Accept`` header's
    most preferred type (ties in the order given).

    Parameters
    ----------
    accept : str or None
        The ``Accept`` header.
    f : str or None
        The ``f`` query parameter (``json``, ``html``).

    Returns
    -------
    bool

    Examples
    --------
    >>> wants_html("text/html,application/xhtml+xml,*/*;q=0.8", None)
    True
    >>> wants_html("*/*", None), wants_html(None, None), wants_html("application/json", "html")
    (False, False, True)
    >>> wants_html("application/json;q=0.9,text/html;q=0.5", None)
    False
    """
    if f:
        return f.lower() == "html"
    best, best_q = None, -1.0
    for part in (accept or "").split(","):
        fields = [p.strip() for p in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = media, q
    return best in HTML_TYPES


class HeadAsGet:
    """ASGI middleware: serve ``HEAD`` as the ``GET`` of the same URL, without the body; and
    answer ``OPTIONS`` wherever some method is (204 with ``Allow``) when no route of its own
    does.

    Parameters
    ----------
    app : ASGI application
        The service.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            await self._options(scope, receive, send)
            return
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)

    async def _options(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A 405 to OPTIONS (the path exists, no OPTIONS route) becomes 204 with ``Allow``."""
        replaced = False

        async def allow(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 405:
                replaced = True
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"allow", b"content-length", b"content-type")]  # fmt: skip
                allowed = allowed_methods(scope["app"], scope["path"]).encode()
                await send({"type": "http.response.start", "status": 204,
                            "headers": [*headers, (b"allow", allowed)]})  # fmt: skip
                return
            if replaced and message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app(scope, receive, allow)


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return "" if value is None else html.escape(str(value))


def html_page(title: str, body: dict[str, Any], json_href: str) -> str:
    """A JSON answer of the API as a small HTML page: its title, links and features.

    Parameters
    ----------
    title : str
        The page's heading.
    body : dict
        The JSON answer (a landing page, collections, one collection, features or a feature).
    json_href : str
        The same resource as JSON (``?f=json``).

    Returns
    -------
    str
        HTML with every text escaped, no script and nothing loaded.
    """
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p><a href="{html.escape(json_href)}" type="application/json">JSON</a></p>']  # fmt: skip
    if body.get("description"):
        parts.append(f"<p>{html.escape(str(body['description']))}</p>")
    links = body.get("links") or []
    if links:
        items = "".join(
            f'<li><a href="{html.escape(str(k.get("href", "")))}">'
            f"{html.escape(str(k.get('title') or k.get('rel', '')))}</a> "
            f"<small>{html.escape(str(k.get('rel', '')))}</small></li>"
            for k in links
        )
        parts.append(f"<ul>{items}</ul>")
    for entry in body.get("collections") or []:
        href = next((k["href"] for k in entry.get("links", []) if k.get("rel") == "self"), "")
        parts.append(
            f'<h2><a href="{html.escape(href)}?f=html">{html.escape(str(entry.get("title")))}'
            f"</a></h2><p>{html.escape(str(entry.get('description', '')))}</p>"
        )
    features = body.get("features")
    if features is None and body.get("type") == "Feature":
        features = [body]
    if features:
        keys: list[str] = []
        for feature in features:
            keys += [k for k in (feature.get("properties") or {}) if k not in keys]
        head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
        rows = "".join(
            "<tr>" + "".join(f"<td>{_cell((f.get('properties') or {}).get(k))}</td>" for k in keys)
            + "</tr>" for f in features
        )  # fmt: skip
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    style = ("body{font-family:sans-serif;margin:1em;max-width:100%}table{border-collapse:"
             "collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 4px}"
             "div.scroll{overflow-x:auto}")  # fmt: skip
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body><div class='scroll'>{''.join(parts)}</div>"
        "</body></html>"
    )


#: OGC API – Features Part 2: the coordinate systems served, and whether each one's axis order
#: is latitude first (EPSG's geographic systems are; CRS84 is longitude first).
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
SUPPORTED_CRS: dict[str, tuple[str, bool]] = {
    CRS84: ("EPSG:4326", False),
    "http://www.opengis.net/def/crs/EPSG/0/4326": ("EPSG:4326", True),
    "http://www.opengis.net/def/crs/EPSG/0/4490": ("EPSG:4490", True),  # CGCS2000
    "http://www.opengis.net/def/crs/EPSG/0/3857": ("EPSG:3857", False),  # web mercator
}
_SHORT = {"crs84": CRS84, "ogc:crs84": CRS84, "epsg:4326": "http://www.opengis.net/def/crs/EPSG/0/4326",
          "epsg:4490": "http://www.opengis.net/def/crs/EPSG/0/4490",
          "epsg:3857": "http://www.opengis.net/def/crs/EPSG/0/3857"}  # fmt: skip


def parse_ogc_crs(value: str | None, parameter: str) -> str:
    """The CRS URI a ``crs`` or ``bbox-crs`` parameter names (CRS84 when absent).

    Parameters
    ----------
    value : str or None
        A URI of :data:`SUPPORTED_CRS`, a safe CURIE ``[EPSG:4490]`` or ``EPSG:4490``.
    parameter : str
        The parameter's name, for the message.

    Returns
    -------
    str
        The URI.

    Raises
    ------
    QueryError
        Another CRS: a bilingual 400 listing the supported ones.

    Examples
    --------
    >>> parse_ogc_crs("[EPSG:4490]", "crs")
    'http://www.opengis.net/def/crs/EPSG/0/4490'
    """
    from geo.errors import QueryError

    if not value:
        return CRS84
    text = value.strip()
    uri = _SHORT.get(text.strip("[]").lower(), text)
    if uri not in SUPPORTED_CRS:
        raise QueryError(
            f"不支持的坐标系 / unsupported {parameter} '{text[:100]}'; 可用 / supported: "
            + ", ".join(SUPPORTED_CRS)
        )
    return uri


def frame_in_crs(frame: Any, uri: str) -> Any:
    """A WGS-84 frame with its geometries in ``uri``'s system and axis order, CRS-less (so a
    GeoJSON writer takes the numbers as they are).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        WGS-84 features.
    uri : str
        One of :data:`SUPPORTED_CRS`.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    import shapely

    epsg, lat_first = SUPPORTED_CRS[uri]
    out = frame.to_crs(epsg) if epsg != "EPSG:4326" else frame.copy()
    if lat_first:
        swapped = shapely.transform(out.geometry.to_numpy(), lambda xy: xy[:, ::-1])
        out = out.set_geometry(swapped)
    return out.set_crs(None, allow_override=True)


def bbox_to_crs84(
    box: tuple[float, float, float, float], uri: str
) -> tuple[float, float, float, float]:
    """A ``bbox`` given in ``uri`` (in its axis order) as a CRS84 box.

    Parameters
    ----------
    box : tuple of float
        Four numbers in ``uri``'s axis order.
    uri : str
        One of :data:`SUPPORTED_CRS`.

    Returns
    -------
    tuple of float
        ``(minlon, minlat, maxlon, maxlat)``.

    Examples
    --------
    >>> bbox_to_crs84((31.2, 121.5, 31.3, 121.6), "http://www.opengis.net/def/crs/EPSG/0/4326")
    (121.5, 31.2, 121.6, 31.3)
    """
    from pyproj import Transformer

    epsg, lat_first = SUPPORTED_CRS[uri]
    if lat_first:
        box = (box[1], box[0], box[3], box[2])
    if epsg == "EPSG:4326":
        return box
    transformer = Transformer.from_crs(epsg, "EPSG:4326", always_xy=True)
    minx, miny, maxx, maxy = transformer.transform_bounds(*box)
    return (minx, miny, maxx, maxy)


def allowed_methods(app: Any, path: str) -> str:
    """Every method some route of ``app`` answers at ``path``, for ``Allow`` (OPTIONS, 405).

    Parameters
    ----------
    app : fastapi.FastAPI
        The service.
    path : str
        A request path.

    Returns
    -------
    str
        Comma-separated methods, with HEAD wherever GET is (:class:`HeadAsGet`) and OPTIONS.
    """
    from starlette.routing import Match, Route

    def routes(items: Any) -> Any:
        for route in items:
            inner = getattr(route, "original_router", None)  # a router included without prefix
            if inner is not None:
                yield from routes(inner.routes)
            elif isinstance(route, Route) and route.methods:
                yield route

    methods: set[str] = {"OPTIONS"}
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    for route in routes(app.routes):
        if route.matches(scope)[0] != Match.NONE:
            methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return ", ".join(m for m in order if m in methods)
