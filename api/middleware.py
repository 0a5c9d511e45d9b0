"""Request ids, access logs and the limits on request bodies, for every request.

A body must arrive in time (``LIFECIRCLE_BODY_TIMEOUT_S`` between two parts, four times
that for the whole, else 408: a stalled or dribbling client cannot hold a connection),
stay under ``LIFECIRCLE_MAX_BODY_BYTES`` (413) and, when it is JSON, nest no deeper than
``LIFECIRCLE_MAX_JSON_DEPTH`` (400, measured before any parser sees it: a nesting bomb is
a clear problem, never a RecursionError and a 500; a large body is measured in a thread,
so the event loop keeps serving reads).
The limits are the app's settings (``app.state.settings``), read for each request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON
from geo.layers.geojson import json_too_deep
from geo.settings import Settings

__all__ = ["GzipWhenAccepted", "RequestMiddleware"]

logger = logging.getLogger("lifecircle.access")


_DEFAULTS = Settings.model_fields
_BODY_METHODS = {"POST", "PUT", "PATCH"}
#: The whole body must arrive within this many body timeouts (2 minutes by default: 10 MiB
#: at 1 Mbit/s takes 80 s).
_WHOLE_BODY = 4
#: JSON bodies up to this size are measured on the event loop (well under a millisecond).
_INLINE_BYTES = 64 * 1024


def _limits(scope: Scope) -> tuple[float, int]:
    """(body timeout, JSON depth) from the app's settings, else the documented defaults."""
    settings = getattr(getattr(scope.get("app"), "state", None), "settings", None)
    if isinstance(settings, Settings):
        return settings.body_timeout_s, settings.max_json_depth
    return _DEFAULTS["body_timeout_s"].default, _DEFAULTS["max_json_depth"].default


class RequestMiddleware:
    """Adds ``X-Request-ID`` (kept from the request when given), logs one access line per
    request, answers 413 to bodies over ``max_body_bytes`` before they are read whole, 408
    to a body that stalls, and 400 to a JSON body nested too deep (see the module).

    Pure ASGI rather than ``BaseHTTPMiddleware``, so streaming and throughput stay intact.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        started = time.perf_counter()
        status = {"code": 500}
        declared = headers.get(b"content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send, request_id)
            status["code"] = 413
            self._log(scope, 413, started, request_id)
            return
        scope.setdefault("state", {})["request_id"] = request_id  # for the 500 handler
        seen = {"bytes": 0, "over": False, "answered": False, "done": False}
        timeout, depth = _limits(scope)

        async def limited_receive() -> Message:
            if seen["done"]:  # the body is in: what follows is a disconnect, wait for it
                return await receive()
            # each part within the timeout, the whole body within _WHOLE_BODY of them: a
            # client dribbling a byte at a time cannot hold the connection either
            left = started + _WHOLE_BODY * timeout - time.perf_counter()
            try:
                message = await asyncio.wait_for(receive(), max(min(timeout, left), 0.001))
            except TimeoutError:
                raise _BodyStalled from None
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                seen["done"] = not message.get("more_body", False)
                if seen["bytes"] > self.max_body_bytes:
                    seen["over"] = True
                    raise _BodyTooLarge
            return message

        app_receive: Receive = limited_receive
        if scope.get("method") in _BODY_METHODS and b"json" in headers.get(
            b"content-type", b"json"
        ):
            try:
                body = await self._whole_body(limited_receive)
            except _BodyTooLarge:
                await self._too_large(send, request_id)
                self._log(scope, 413, started, request_id)
                return
            except _BodyStalled:
                await self._stalled(send, request_id, timeout)
                self._log(scope, 408, started, request_id)
                return
            if len(body) > _INLINE_BYTES:  # ~5 ms per MiB: off the event loop
                too_deep = await asyncio.to_thread(json_too_deep, body, depth)
            else:
                too_deep = bool(body) and json_too_deep(body, depth)
            if too_deep:
                await self._answer(send, request_id, 400, "Bad Request",
                    f"请求体 JSON 嵌套超过 {depth} 层 / the JSON body is nested deeper than "
                    f"{depth} levels (a GeoJSON Feature needs about 6)")  # fmt: skip
                self._log(scope, 400, started, request_id)
                return
            app_receive = _replay(body, receive)

        async def send_with_id(message: Message) -> None:
            if seen["over"]:
                # a chunked body went over the limit while FastAPI read it; FastAPI answers
                # that as a 400 "error parsing the body": the client gets the 413 instead
                if not seen["answered"]:
                    seen["answered"] = True
                    status["code"] = 413
                    await self._too_large(send, request_id)
                return
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, app_receive, send_with_id)
        except _BodyTooLarge:
            if not seen["answered"]:
                seen["answered"] = True
                await self._too_large(send, request_id)
            status["code"] = 413
        except _BodyStalled:
            if not seen["answered"]:
                seen["answered"] = True
                await self._stalled(send, request_id, timeout)
            status["code"] = 408
        finally:
            self._log(scope, status["code"], started, request_id)

    async def _whole_body(self, receive: Receive) -> bytes:
        parts: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(parts)  # the client went away; the route sees an empty body
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(parts)

    async def _too_large(self, send: Send, request_id: str) -> None:
        detail = (
            f"请求体超过 {self.max_body_bytes} 字节 / request body over {self.max_body_bytes} bytes"
        )
        await self._answer(send, request_id, 413, "Payload Too Large", detail)

    async def _stalled(self, send: Send, request_id: str, timeout: float) -> None:
        detail = (
            f"请求体停顿超过 {timeout:g} 秒或 {_WHOLE_BODY * timeout:g} 秒内未送完 / the request "
            f"body stalled for {timeout:g} s, or took over {_WHOLE_BODY * timeout:g} s; 请重试 / "
            "send it again"
        )
        await self._answer(send, request_id, 408, "Request Timeout", detail, close=True)

    async def _answer(
        self, send: Send, request_id: str, code: int, title: str, detail: str, close: bool = False
    ) -> None:
        body = json.dumps(
            {"type": "about:blank", "title": title, "status": code, "detail": detail},
            ensure_ascii=False,
        ).encode()
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode("latin-1")),
        ]
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _log(self, scope: Scope, status: int, started: float, request_id: str) -> None:
        client = scope.get("client") or ("-", 0)
        logger.info(
            '%s "%s %s" %s %.1fms id=%s',
            client[0],
            scope.get("method"),
            scope.get("path"),
            status,
            (time.perf_counter() - started) * 1000,
            request_id,
        )


class _BodyTooLarge(Exception):
    pass


class _BodyStalled(Exception):
    pass


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the body read already, then the real messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class GzipWhenAccepted:
    """Starlette's GZip middleware, entered only for clients that accept gzip.

    Most API clients (and load generators) don't ask for gzip; for them the response goes
    out untouched, without passing through the compressor's wrapper at all.
    """

    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        from starlette.middleware.gzip import GZipMiddleware

        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for key, value in scope.get("headers") or ():
                if key == b"accept-encoding" and b"gzip" in value:
                    await self.gzip(scope, receive, send)
                    return
        await self.app(scope, receive, send)
