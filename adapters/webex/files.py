"""Files people send the bot in Webex: names for `Incoming.files`, and downloads that respect
Webex's malware scan (423 still scanning, 410 infected, 428 unscannable) and stream the body."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Literal
from urllib.parse import unquote

from adapters.model import FileRef
from adapters.webex.errors import WebexPermanentError, WebexTransientError
from adapters.webex.sdk import FileStream, WebexApi
from storage.errors import ChannelError

log = logging.getLogger(__name__)

SCANNING, INFECTED, UNSCANNABLE = 423, 410, 428
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_UNSAFE_NAME = re.compile(r"[\\/\x00-\x1f]")


class DownloadedFile:
    """A file Webex hands over (its malware scan is passed): the name (from
    Content-Disposition), type and declared size, and the body still on the wire.

    Iterate it (`async for chunk in file`) for chunks of at most `sdk.CHUNK_BYTES`, never the whole
    file in memory; close it (`async with file:`) when done or giving up early, which releases
    the HTTP connection.
    """

    def __init__(
        self, *, name: str, content_type: str, size: int | None, stream: FileStream
    ) -> None:
        self.name = name
        self.content_type = content_type
        self.size = size
        self._stream = stream

    def __repr__(self) -> str:
        return f"DownloadedFile(name={self.name!r}, content_type={self.content_type!r})"

    def __aiter__(self) -> DownloadedFile:
        return self

    async def __anext__(self) -> bytes:
        """The next chunk; channel errors when the transfer breaks or passes 100 MB."""
        chunk = await self._stream.read()
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        """Release the HTTP response (idempotent)."""
        await self._stream.aclose()

    async def __aenter__(self) -> DownloadedFile:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()


@dataclass(frozen=True, slots=True)
class FileNotReady:
    """Webex is still scanning the file for malware: ask again after `retry_after` seconds."""

    retry_after: float | None


@dataclass(frozen=True, slots=True)
class FileRefused:
    """The file must not be used: Webex found malware, or could not scan it."""

    reason: Literal["infected", "unscannable"]
    message: str


Download = DownloadedFile | FileNotReady | FileRefused


async def download(api: WebexApi, ref: FileRef, *, allow_unscannable: bool = False) -> Download:
    """Open a file with the bot token (retrying while it is scanned, within the retry policy);
    a `DownloadedFile` must be closed by the caller.

    Other failures raise the project's channel errors: transient ones (retry later) or
    permanent ones (gone, forbidden, too large).
    """
    try:
        stream = await api.open_file(ref.url, allow_unscannable=allow_unscannable)
    except WebexTransientError as exc:
        if exc.status == SCANNING:
            return FileNotReady(retry_after=exc.retry_after)
        raise
    except WebexPermanentError as exc:
        if exc.status == INFECTED:
            return FileRefused("infected", "Webex found malware in this file")
        if exc.status == UNSCANNABLE:
            return FileRefused("unscannable", "Webex could not scan this file for malware")
        raise
    try:
        return DownloadedFile(
            name=filename(stream.headers) or ref.name,
            content_type=_content_type(stream.headers) or ref.content_type,
            size=stream.size,
            stream=stream,
        )
    except BaseException:
        await stream.aclose()
        raise


async def describe(api: WebexApi, urls: tuple[str, ...]) -> tuple[FileRef, ...]:
    """`FileRef`s for a message's files; the name and size come from a HEAD when Webex gives
    them (a file still being scanned keeps a placeholder name until it is downloaded)."""
    return tuple([await _describe_one(api, index, url) for index, url in enumerate(urls, 1)])


async def _describe_one(api: WebexApi, index: int, url: str) -> FileRef:
    placeholder = FileRef(name=f"attachment-{index}", url=url)
    try:
        headers = await api.head(url)
    except ChannelError as exc:
        log.info("no details for a Webex file yet: %s", exc)
        return placeholder
    length = headers.get("Content-Length", "")
    return FileRef(
        name=filename(headers) or placeholder.name,
        url=url,
        content_type=_content_type(headers) or DEFAULT_CONTENT_TYPE,
        size=int(length) if length.isdigit() else None,
    )


def filename(headers: Mapping[str, str]) -> str | None:
    """The file name from `Content-Disposition`, without any path."""
    disposition = headers.get("Content-Disposition")
    if not disposition:
        return None
    parsed = Message()
    parsed["Content-Disposition"] = disposition
    name = parsed.get_filename()
    if not name:
        return None
    cleaned = _UNSAFE_NAME.sub("_", unquote(name)).strip(" .")
    return cleaned or None


def _content_type(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Content-Type", "").split(";")[0].strip()
    return value or None
