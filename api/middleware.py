"""Request ids, access logs and the body size limit, for every request."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON

__all__ = ["GzipWhenAccepted", "RequestMiddleware"]

logger = logging.getLogger("lifecircle.access")


class RequestMiddleware:
    """Adds ``X-Request-ID`` (kept from the request when given), logs one access line per
    request, and answers 413 to bodies over ``max_body_bytes`` before they are read whole.

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
        seen = {"bytes": 0, "over": False, "answered": False}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > self.max_body_bytes:
                    seen["over"] = True
                    raise _BodyTooLarge
            return message

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
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            if not seen["answered"]:
                seen["answered"] = True
                await self._too_large(send, request_id)
            status["code"] = 413
        finally:
            self._log(scope, status["code"], started, request_id)

    async def _too_large(self, send: Send, request_id: str) -> None:
        body = (
            '{"type":"about:blank","title":"Payload Too Large","status":413,'
            f'"detail":"请求体超过 {self.max_body_bytes} 字节 / request body over '
            f'{self.max_body_bytes} bytes"}}'
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode("latin-1")),
                ],
            }
        )
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
