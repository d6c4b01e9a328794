"""Guards every webhook endpoint applies before trusting a request body."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_error(status: int, message: str) -> web.Response:
    """A small JSON error body: a reason for the caller, never internals."""
    return web.json_response({"error": message}, status=status)


async def read_json_object(request: web.Request, *, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object, or an HTTP error: 415 wrong type, 413 too big, 400 not JSON.

    Raises `web.HTTPException` subclasses that carry a JSON reason.
    """
    if request.content_type != "application/json":
        raise _http(web.HTTPUnsupportedMediaType, "expected Content-Type: application/json")
    if request.content_length is not None and request.content_length > max_bytes:
        raise _http(web.HTTPRequestEntityTooLarge, f"body larger than {max_bytes} bytes")
    body = await request.content.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise _http(web.HTTPRequestEntityTooLarge, f"body larger than {max_bytes} bytes")
    return parse_json_object(body)


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Decode a UTF-8 JSON object or raise 400."""
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _http(web.HTTPBadRequest, "body is not valid UTF-8 JSON") from None
    if not isinstance(parsed, dict):
        raise _http(web.HTTPBadRequest, "body must be a JSON object")
    return parsed


def _http(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=json.dumps({"error": message}), content_type="application/json")
