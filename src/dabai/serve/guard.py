"""A pure ASGI layer in front of the app: API key, request size limit, and metrics for every answer.

It runs before FastAPI parses anything, so an unauthorised or oversized upload
costs no parsing: the key is checked on the headers, the size on
Content-Length and again while the body streams in (chunked uploads).
"""

from __future__ import annotations

import hmac
import json
import time

PROTECTED = ("/v1/", "/metrics")


class BodyTooLarge(Exception):
    pass


class Guard:
    def __init__(self, app, metrics, api_key: str | None, max_bytes: int):
        self.app, self.metrics, self.api_key, self.max_bytes = app, metrics, api_key, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        state = {"status": 500, "started": False, "too_large": False}

        async def send_wrapper(message):
            if state["too_large"]:
                # the app saw a cut-off body (and may call it a parse error): the answer is 413
                if not state["started"]:
                    state["started"] = True
                    await _json(send, 413, f"request body larger than {self.max_bytes} bytes")
                    state["status"] = 413
                return
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
            await send(message)

        try:
            refusal = self._refuse(scope)
            if refusal:
                await _json(send_wrapper, *refusal)
                return
            await self.app(scope, self._limited(receive, state), send_wrapper)
        except BodyTooLarge:
            if not state["started"]:
                await send_wrapper({"type": "http.response.start"})
        finally:
            self.metrics.observe(scope["path"], state["status"], time.perf_counter() - started)

    def _refuse(self, scope) -> tuple[int, str] | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.api_key and scope["path"].startswith(PROTECTED):
            given = headers.get("x-api-key") or ""
            auth = headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            if not hmac.compare_digest(given.encode(), self.api_key.encode()):
                return 401, "missing or wrong API key (send 'Authorization: Bearer KEY' or 'X-API-Key: KEY')"
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "Content-Length is not a number"
            if int(length) > self.max_bytes:
                return 413, f"request body of {length} bytes is larger than the limit of {self.max_bytes} bytes"
        return None

    def _limited(self, receive, state: dict):
        seen = 0

        async def wrapped():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    state["too_large"] = True
                    raise BodyTooLarge()
            return message

        return wrapped


async def _json(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
