"""Guards every webhook endpoint applies before trusting a request body."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from adapters.text import is_well_formed
from storage.errors import ChatOpsError


class RequestRejected(ChatOpsError):
    """The request is malformed: answer `status` with `reason`, store nothing."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        """The 4xx answer for the caller."""
        return json_error(self.status, self.reason)


def json_error(status: int, message: str) -> web.Response:
    """A small JSON error body: a reason for the caller, never internals."""
    return web.json_response({"error": message}, status=status)


async def read_body(request: web.Request, *, max_bytes: int) -> bytes:
    """The whole body, however many reads it takes; `RequestRejected` (413) past `max_bytes`.

    One `read(n)` returns only what has arrived so far: a body that comes in several TCP
    segments (a proxy, a slow link, a large activity) must be read until its end.
    """
    too_large = RequestRejected(413, f"body larger than {max_bytes} bytes")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    body = bytearray()
    while chunk := await request.content.read(max_bytes + 1 - len(body)):
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


async def read_json_object(request: web.Request, *, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object; `RequestRejected` with 415, 413 or 400 otherwise."""
    if request.content_type != "application/json":
        raise RequestRejected(415, "expected Content-Type: application/json")
    return parse_json_object(await read_body(request, max_bytes=max_bytes))


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Decode a UTF-8 JSON object of well-formed text or raise `RequestRejected` (400)."""
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError also covers integers longer than Python converts (4,300 digits).
        raise RequestRejected(400, "body is not valid UTF-8 JSON") from None
    if not isinstance(parsed, dict):
        raise RequestRejected(400, "body must be a JSON object")
    if not is_storable_text(parsed):
        raise RequestRejected(400, "body contains a NUL character or an unpaired surrogate")
    return parsed


def is_storable_text(value: object) -> bool:
    """True when every key and string in a parsed JSON value is text a database can store.

    JSON may escape what no chat service sends: a NUL (PostgreSQL refuses it in text) or half
    of a UTF-16 surrogate pair (no encoder can write it). Walked without recursion, as deep
    nesting is what the JSON parser allows.
    """
    pending: list[object] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not is_well_formed(item) or "\x00" in item:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True
