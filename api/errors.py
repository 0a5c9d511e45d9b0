"""Domain errors → HTTP problems (RFC 9457 ``application/problem+json``), in one table."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.ogc import allowed_methods
from geo.errors import (
    ConflictError,
    CRSError,
    LifecircleError,
    NotFoundError,
    SourceReadError,
    StoreError,
    UnknownLayerError,
    ValidationError,
)
from geo.layers.edit import PreconditionRequiredError, StaleVersionError

__all__ = ["STATUS", "RuleConflictError", "problem", "register"]

PROBLEM_JSON = "application/problem+json"
#: What a 503 tells the client to wait before trying again, seconds.
RETRY_AFTER_S = 2

logger = logging.getLogger("lifecircle")


class RuleConflictError(ValidationError):
    """A write whose body matches the document's schema but breaks a layer rule the schema
    cannot state (a ring crossing itself, a point outside the study region, values that
    disagree): 409, not 422, since the document called the body valid."""


#: Most specific first: the first class an error is an instance of decides its status.
STATUS: list[tuple[type[LifecircleError], int, str]] = [
    (UnknownLayerError, 404, "Not Found"),
    (NotFoundError, 404, "Not Found"),
    (RuleConflictError, 409, "Conflict with the layer rules"),
    (ValidationError, 422, "Invalid data"),
    (PreconditionRequiredError, 428, "Precondition Required"),
    (StaleVersionError, 412, "Precondition Failed"),
    (ConflictError, 409, "Conflict"),
    (SourceReadError, 400, "Bad Request"),
    (CRSError, 400, "Bad Request"),
    (StoreError, 503, "Service Unavailable"),
    (LifecircleError, 400, "Bad Request"),
]


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    """An RFC 9457 problem response, ``application/problem+json``.

    Parameters
    ----------
    status : int
        The HTTP status, of the response and in the body.
    title : str
        The status's short title, e.g. ``"Not Found"``.
    detail : str
        What went wrong, for the person reading it.
    **extra : object
        More members of the body, e.g. ``errors`` or ``request_id``.

    Returns
    -------
    fastapi.responses.JSONResponse
        Body ``type`` (``"about:blank"``), ``title``, ``status``, ``detail`` and ``extra``.
    """
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    for cls, status, title in STATUS:
        if isinstance(exc, cls):
            extra = {}
            if isinstance(exc, ValidationError):
                extra["errors"] = [p.as_dict() for p in exc.problems]
                detail = exc.summary
            else:
                detail = str(exc)
            response = problem(status, title, detail, **extra)
            if status == 503:  # a writer holds the store: worth trying again shortly
                response.headers["Retry-After"] = str(RETRY_AFTER_S)
            return response
    raise exc  # pragma: no cover - STATUS ends with the base class


async def _request_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())),
            "message": err.get("msg", ""),
        }
        for err in exc.errors()
    ]
    return problem(400, "Bad Request", "请求参数无效 / invalid request parameters", errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        405: "Method Not Allowed",
        413: "Payload Too Large",
        415: "Unsupported Media Type",
        503: "Service Unavailable",
    }
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"没有这个地址 / no such resource: {request.url.path}"
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        # every route at this path, not only the one the router tried last
        allowed = allowed_methods(request.app, request.url.path)
        exc.headers = {**(exc.headers or {}), "Allow": allowed}
        detail = (f"此地址不支持 {request.method} / {request.method} is not allowed here"
                  + (f"; 可用 / allowed: {allowed}" if allowed else ""))  # fmt: skip
    response = problem(exc.status_code, titles.get(exc.status_code, "Error"), detail)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug, not bad input: logged with the request id, answered as a problem too."""
    request_id = getattr(request.state, "request_id", "-")
    logger.error("unhandled error, request id %s", request_id, exc_info=exc)
    return problem(
        500,
        "Internal Server Error",
        f"服务内部错误，已记录（请求编号 {request_id}）/ internal error, logged "
        f"(request id {request_id})",
        request_id=request_id,
    )


def register(app: FastAPI) -> None:
    """Answer every error of ``app`` as a problem (:func:`problem`).

    A domain error gets the status of its class in :data:`STATUS`; a request that fails
    validation, 400 with its ``errors``; an HTTP error keeps its status and headers; any
    other exception is logged and answered 500 with the request id.

    Parameters
    ----------
    app : fastapi.FastAPI
        The service, whose exception handlers are set.
    """
    app.add_exception_handler(Exception, _server_error)
    app.add_exception_handler(LifecircleError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
