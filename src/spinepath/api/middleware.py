"""Two small pure-ASGI middlewares: a body-size limit and a last-resort error handler.

Both answer with the one error envelope. Neither logs anything about the request beyond its
method, path and the type of an unexpected exception: no bodies, no query values, no headers.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spinepath.api.errors import (
    BodyTooLarge,
    InternalError,
    RequestInvalid,
    error_bytes,
    status_for,
)
from spinepath.errors import SpinepathError

log = logging.getLogger("spinepath.api")


async def send_error(send: Send, exc: SpinepathError, headers: list[tuple[bytes, bytes]] | None = None,
                     status: int | None = None) -> None:
    body = error_bytes(exc)
    await send({
        "type": "http.response.start",
        "status": status or status_for(exc),
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), *(headers or [])],
    })
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over ``max_bytes`` with 413 before the app reads them.

    A declared Content-Length over the limit is refused at once; otherwise the body is read
    (counting the bytes as they stream in, so a chunked upload cannot slip past) and then
    replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> BodyTooLarge:
        return BodyTooLarge(f"the request body is larger than {self.max_bytes} bytes", field="body")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await send_error(send, RequestInvalid("Content-Length is not a number",
                                                      field="header.content-length"), status=400)
                return
            if length > self.max_bytes:
                await send_error(send, self._too_large(), [(b"connection", b"close")])
                return
        elif not chunked:
            await self.app(scope, receive, send)  # no body (GET, DELETE, ...)
            return

        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:
                await send_error(send, self._too_large(), [(b"connection", b"close")])
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class CatchAll:
    """Turn any unexpected exception into 500 ``internal-error``.

    Only the exception's type is logged: messages of database or validation errors can quote
    the data that caused them, and patient data must never reach a log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            route = getattr(scope.get("route"), "path", "(unrouted)")  # the template, not the ids
            log.error("unexpected %s while serving %s %s", type(exc).__name__, scope.get("method"), route)
            if not started:
                await send_error(send, InternalError(
                    "internal error; the service log records when it happened (not the data)"))
