"""HTTP requests written by hand on a raw socket, for what ordinary clients never send: a body
in several pieces with pauses between them (as a proxy or a slow link delivers it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from yarl import URL

# Long enough for the server to read (and, before the fix, answer) what arrived so far.
PAUSE_SECONDS = 0.05


@dataclass(frozen=True)
class RawResponse:
    """A status code and the body as text."""

    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def pieces(body: bytes, count: int) -> list[bytes]:
    """`body` cut into `count` pieces of nearly equal size."""
    size = -(-len(body) // count)
    return [body[start : start + size] for start in range(0, len(body), size)]


async def trickle(body: bytes, count: int) -> AsyncIterator[bytes]:
    """`body` as an async generator of `count` pieces with a pause before each but the first
    (an aiohttp client sends such a body with chunked transfer encoding)."""
    for number, piece in enumerate(pieces(body, count)):
        if number:
            await asyncio.sleep(PAUSE_SECONDS)
        yield piece


async def post_in_pieces(
    url: URL, body: bytes, headers: Mapping[str, str], *, count: int = 4, chunked: bool = False
) -> RawResponse:
    """POST `body` written in `count` pieces with pauses between, with a `Content-Length` or
    (`chunked`) in chunked transfer encoding, one chunk per piece.

    A server may answer before the body is complete (413) and close: the rest is not sent.
    """
    reader, writer = await asyncio.open_connection(url.host, url.port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
    head = [f"POST {url.raw_path_qs} HTTP/1.1", f"Host: {url.host}:{url.port}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head += [framing, "Connection: close", "", ""]
    try:
        writer.write("\r\n".join(head).encode("latin-1"))
        async for piece in trickle(body, count):
            writer.write(_chunk(piece) if chunked else piece)
            await writer.drain()
        if chunked:
            writer.write(_chunk(b""))
            await writer.drain()
    except ConnectionError:
        pass  # answered early; the answer is still there to read
    try:
        return _parse(await reader.read())
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _chunk(piece: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(piece), piece)


def _parse(raw: bytes) -> RawResponse:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return RawResponse(status=status, text=body.decode("utf-8", "replace"))
