"""The OpenAPI document says what the service really answers.

FastAPI documents a 422 for every request it validates, while this service answers 400
problems (:mod:`api.errors`); it leaves out the 404 of a path with an unknown id and the 413
of a body over ``LIFECIRCLE_MAX_BODY_BYTES``. :func:`describe_errors` sets that right on the
generated document, once: every error as ``application/problem+json`` with a
:data:`PROBLEM_SCHEMA`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["PROBLEM_SCHEMA", "describe_errors", "install"]

PROBLEM = "application/problem+json"
#: RFC 9457 problem details, as :func:`api.errors.problem` writes them.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "中文 / English"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "request_id": {"type": "string"},
    },
}
_MEANING = {
    "400": "请求参数或内容无效 / invalid parameters or body (bilingual detail)",
    "404": "没有该资源 / no such layer, feature or resource",
    "413": "请求体过大 / the body is larger than LIFECIRCLE_MAX_BODY_BYTES",
    "408": "请求体发送过慢 / the body stalled (LIFECIRCLE_BODY_TIMEOUT_S)",
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}  # fmt: skip


def describe_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Replace FastAPI's 422 by the 400 problem the service sends and add the 404 and 413
    every route can answer.

    Parameters
    ----------
    document : dict
        An OpenAPI document as FastAPI generates it.

    Returns
    -------
    dict
        The same document, changed in place.
    """
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    schemas = document["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if "422" in responses and not _ours(responses["422"]):
                del responses["422"]  # FastAPI's; the service answers 400 (api.errors)
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault("400", _problem(_MEANING["400"]))
            if "{" in path or operation.get("parameters"):  # ids, layers, compounds by id
                responses.setdefault("404", _problem(_MEANING["404"]))
            if operation.get("requestBody") or method in ("post", "put", "patch"):
                responses.setdefault("413", _problem(_MEANING["413"]))
                responses.setdefault("408", _problem(_MEANING["408"]))
            if _offers_html(operation) and "200" in responses:
                responses["200"].setdefault("content", {}).setdefault("text/html", {})
            for status, response in responses.items():
                if status[0] in "45" and not response.get("content"):
                    response["content"] = _problem("")["content"]
    return document


def _offers_html(operation: dict[str, Any]) -> bool:
    """Whether an operation has an ``f`` parameter that can ask for HTML."""
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "f" and "html" in json.dumps(parameter.get("schema", {})):
            return True
    return False


def _ours(response: dict[str, Any]) -> bool:
    """A 422 a route documents itself (data that breaks the layer rules), not FastAPI's."""
    return PROBLEM in response.get("content", {})


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the corrected document (built once, then cached).

    Parameters
    ----------
    app : fastapi.FastAPI
        The service.

    Returns
    -------
    None
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version,
                                   description=app.description, routes=app.routes)  # fmt: skip
            app.openapi_schema = describe_errors(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
