"""Files people send the bot in Webex: names for `Incoming.files`, and downloads that respect
Webex's malware scan (423 still scanning, 410 infected, 428 unscannable) and stream the body."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from email.message import Message
from typing import Literal
from urllib.parse import unquote

from adapters.model import FileRef
from adapters.webex.errors import WebexPermanentError, WebexTransientError
from adapters.webex.sdk import FileStream, WebexApi
from storage.errors import ChannelError

log = logging.getLogger(__name__)

SCANNING, INFECTED, UNSCANNABLE = 423, 410, 428
# A message's files are described while its turn waits: a file still being scanned is asked
# about again for this long at most (honouring Retry-After), then fetched later by the bot.
SCAN_WAIT_SECONDS = 10.0
DEFAULT_SCAN_PAUSE = 2.0
MIN_SCAN_PAUSE = 0.05  # a Retry-After of 0 must not turn into a busy loop
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
    except (WebexTransientError, WebexPermanentError) as exc:
        if (answer := _not_had(exc)) is None:
            raise
        return answer
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


async def describe(
    api: WebexApi, urls: tuple[str, ...], *, wait: float | None = None
) -> tuple[FileRef, ...]:
    """`FileRef`s for a message's files; the name and size come from a HEAD. A file Webex is
    still scanning (423) is asked about again after its `Retry-After`, for at most `wait`
    seconds in all; one still being scanned then keeps a placeholder name and is marked
    `scanning` (the bot fetches and judges it later)."""
    deadline = asyncio.get_running_loop().time() + (SCAN_WAIT_SECONDS if wait is None else wait)
    return tuple(
        [await _describe_one(api, index, url, deadline) for index, url in enumerate(urls, 1)]
    )


async def _describe_one(api: WebexApi, index: int, url: str, deadline: float) -> FileRef:
    placeholder = FileRef(name=f"attachment-{index}", url=url)
    loop = asyncio.get_running_loop()
    while True:
        try:
            return _ref_from(url, await api.head(url), placeholder.name)
        except WebexTransientError as exc:
            left = deadline - loop.time()
            if exc.status != SCANNING or left <= 0:
                log.info("no details for a Webex file yet: %s", exc)
                return replace(placeholder, scanning=exc.status == SCANNING)
            await asyncio.sleep(min(_scan_pause(exc.retry_after), left))
        except ChannelError as exc:
            log.info("no details for a Webex file: %s", exc)
            return placeholder


async def describe_later(api: WebexApi, ref: FileRef) -> FileRef | FileNotReady | FileRefused:
    """One HEAD for a file sent while it was scanned: its `FileRef` with the real name and
    type, or why Webex will not tell yet (`FileNotReady`) or at all (`FileRefused`)."""
    try:
        headers = await api.head(ref.url)
    except (WebexTransientError, WebexPermanentError) as exc:
        if (answer := _not_had(exc)) is None:
            raise
        return answer
    return _ref_from(ref.url, headers, ref.name)


def _not_had(exc: WebexTransientError | WebexPermanentError) -> FileNotReady | FileRefused | None:
    """What an error answer says about the file: still scanned, refused for good, or neither
    (None: an ordinary channel error for the caller to raise)."""
    if isinstance(exc, WebexTransientError):
        return FileNotReady(retry_after=exc.retry_after) if exc.status == SCANNING else None
    return _refusal(exc.status)


def _ref_from(url: str, headers: Mapping[str, str], fallback_name: str) -> FileRef:
    length = headers.get("Content-Length", "")
    return FileRef(
        name=filename(headers) or fallback_name,
        url=url,
        content_type=_content_type(headers) or DEFAULT_CONTENT_TYPE,
        size=int(length) if length.isdigit() else None,
    )


def _scan_pause(retry_after: float | None) -> float:
    """How long to wait before asking about a file being scanned again."""
    return DEFAULT_SCAN_PAUSE if retry_after is None else max(retry_after, MIN_SCAN_PAUSE)


def _refusal(status: int | None) -> FileRefused | None:
    if status == INFECTED:
        return FileRefused("infected", "Webex found malware in this file")
    if status == UNSCANNABLE:
        return FileRefused("unscannable", "Webex could not scan this file for malware")
    return None


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
