"""The Webex REST API through `webexteamssdk`, never on the event loop.

This is the only module that imports the SDK. The SDK is synchronous (`requests`), so every call
runs in a small dedicated thread pool (bounded: a burst of webhooks cannot start a hundred
threads), list generators are materialised inside the thread (they do I/O while iterated), a
file's body is read one chunk per pool call (never whole in memory), and the SDK's own
rate-limit handling (sleep `Retry-After`, retry forever) is off: our retry policy honours
`Retry-After` up to a cap and gives up after a few attempts. SDK and `requests` failures become
the project's channel errors here, at the edge.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from webexteamssdk import ApiError, MalformedResponse, WebexTeamsAPI
from webexteamssdk.models.dictionary import dict_data_factory

from adapters.retry import RetryPolicy, with_retries
from adapters.webex.errors import WebexPermanentError, WebexTransientError, error_for_status
from storage.errors import ChannelError

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_WORKERS = 4
DEFAULT_DOWNLOAD_WORKERS = 4
REQUEST_TIMEOUT_SECONDS = 30
CLOSE_TIMEOUT_SECONDS = 5.0
MAX_FILE_BYTES = 100 * 1024 * 1024  # Webex's own limit per file
CHUNK_BYTES = 64 * 1024  # what one read of a file's body returns at most
_ONCE = RetryPolicy(attempts=1)


class WebexApi:
    """The calls the bot makes to Webex, as coroutines that return plain JSON dicts."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        retry: RetryPolicy | None = None,
        workers: int = DEFAULT_WORKERS,
        download_workers: int = DEFAULT_DOWNLOAD_WORKERS,
        trust_env: bool = False,
    ) -> None:
        self._api: Any = WebexTeamsAPI(
            access_token=token,
            base_url=base_url,
            single_request_timeout=REQUEST_TIMEOUT_SECONDS,
            wait_on_rate_limit=False,
            object_factory=dict_data_factory,
        )
        # 1.6.1 has no public handle on its HTTP session; files and edits need it.
        self._session: Any = self._api._session
        self._session._req_session.hooks["response"].append(_numeric_retry_after)
        # `requests` reads the proxy variables and ~/.netrc again for every call unless told
        # not to; only a deployment behind a proxy needs them (CHATOPS_HTTP_TRUST_ENV).
        self._session._req_session.trust_env = trust_env
        self._origin = _origin(base_url)
        self._retry = retry or RetryPolicy()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webex-sdk")
        # File bodies are read in threads of their own: a download abandoned mid-read (its
        # time limit passed) leaves its thread blocked until the socket times out, and must
        # not hold up the turns' calls meanwhile.
        self._downloads = ThreadPoolExecutor(
            max_workers=download_workers, thread_name_prefix="webex-download"
        )

    async def me(self) -> dict[str, Any]:
        """The bot's own person record (`people/me`)."""
        return await self._call("people.me", self._api.people.me)

    async def person(self, person_id: str) -> dict[str, Any]:
        """A person by id: display name, e-mails, organisation."""
        return await self._call("people.get", partial(self._api.people.get, person_id))

    async def message(self, message_id: str) -> dict[str, Any]:
        """A message by id (webhooks carry ids only)."""
        return await self._call("messages.get", partial(self._api.messages.get, message_id))

    async def attachment_action(self, action_id: str) -> dict[str, Any]:
        """A card submit by id, with its `inputs`."""
        return await self._call(
            "attachment_actions.get", partial(self._api.attachment_actions.get, action_id)
        )

    async def room(self, room_id: str) -> dict[str, Any]:
        """A room (space) by id: its `type` is `direct` or `group`."""
        return await self._call("rooms.get", partial(self._api.rooms.get, room_id))

    async def create_message(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Post a message (`roomId`, `markdown`, `text`, `parentId`, `attachments`)."""
        return await self._call("messages.create", partial(self._api.messages.create, **payload))

    async def thread_replies(
        self, room_id: str, parent_id: str, *, newest: int = 50
    ) -> list[dict[str, Any]]:
        """The newest replies in a thread, newest first (one page, read inside the thread)."""

        def first_page() -> list[dict[str, Any]]:
            replies = self._api.messages.list(roomId=room_id, parentId=parent_id, max=newest)
            return [dict(message) for message in islice(replies, newest)]

        return await self._call("messages.list", first_page)

    async def delete_message(self, message_id: str) -> None:
        """Delete one of the bot's messages."""
        await self._call("messages.delete", partial(self._api.messages.delete, message_id))

    async def edit_message(self, message_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Edit a message's text (`roomId` and `markdown`/`text`): `PUT messages/{id}`, which
        1.6.1 lacks. Webex allows it on the bot's own messages without files or cards, ten
        times each; a refused edit is a permanent error."""

        def put() -> dict[str, Any]:
            answer: dict[str, Any] = self._session.put(f"messages/{message_id}", json=dict(payload))
            return answer

        return await self._call("messages.edit", put)

    async def create_message_with_file(
        self, *, room_id: str, path: Path, markdown: str = "", parent_id: str | None = None
    ) -> dict[str, Any]:
        """Post a local file (multipart upload), with an optional text, as one message."""
        fields: dict[str, Any] = {"roomId": room_id, "files": [str(path)]}
        if markdown:
            fields["markdown"] = markdown
        if parent_id:
            fields["parentId"] = parent_id
        return await self._call(
            "messages.create(file)", partial(self._api.messages.create, **fields)
        )

    async def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook of the bot's token (all pages, fetched inside the worker thread)."""

        def every_page() -> list[dict[str, Any]]:
            return [dict(hook) for hook in self._api.webhooks.list()]

        return await self._call("webhooks.list", every_page)

    async def create_webhook(self, **fields: str) -> dict[str, Any]:
        """Create a webhook (`name`, `targetUrl`, `resource`, `event`, `secret`)."""
        return await self._call("webhooks.create", partial(self._api.webhooks.create, **fields))

    async def update_webhook(self, webhook_id: str, **fields: str) -> dict[str, Any]:
        """Update a webhook (`name`, `targetUrl`, `secret`, `status`)."""
        return await self._call(
            "webhooks.update", partial(self._api.webhooks.update, webhook_id, **fields)
        )

    async def head(self, url: str) -> Mapping[str, str]:
        """HEAD a file a message carries (name, type, size), one attempt only."""
        self.check_origin(url)

        def fetch_headers() -> Mapping[str, str]:
            response = self._session.request("HEAD", url, 200, allow_redirects=False)
            headers: Mapping[str, str] = response.headers
            return headers

        return await self._call("contents.head", fetch_headers, policy=_ONCE)

    async def open_file(self, url: str, *, allow_unscannable: bool = False) -> FileStream:
        """GET a file a message carries, with the bot token; only from the API's own host.

        The answer's status is settled here (a malware scan still running, 5xx and 429 are
        retried within the policy; 410 infected, 428 unscannable and the rest raise), the body
        is left on the wire: read it chunk by chunk from the returned stream, and close that.
        """
        self.check_origin(url)
        params = {"allow": "unscannable"} if allow_unscannable else None
        what = "contents.get"
        opening = partial(self._open_file, url, params)
        response = await self._call(what, opening, discard=_close_response, pool=self._downloads)
        return FileStream(response, pool=self._downloads, what=what)

    def _open_file(self, url: str, params: dict[str, str] | None) -> Any:
        # A redirect would lead away from the checked host (requests follows them by default;
        # it drops the token but still fetches): Webex serves files itself, so a 3xx is final.
        response = self._session.request(
            "GET", url, 200, params=params, stream=True, allow_redirects=False
        )
        if (_declared_length(response.headers) or 0) > MAX_FILE_BYTES:
            response.close()
            raise WebexPermanentError("file larger than Webex's 100 MB limit", status=None)
        return response

    def check_origin(self, url: str) -> None:
        """Raise `WebexPermanentError` for a URL not on the configured API's origin."""
        if _origin(url) != self._origin:
            raise WebexPermanentError(
                "refusing to send the bot token to a host other than the Webex API", status=None
            )

    async def close(self) -> None:
        """Stop the worker threads (waiting briefly for calls in flight) and the HTTP session."""
        loop = asyncio.get_running_loop()
        stopping = loop.run_in_executor(None, self._shutdown)
        try:
            await asyncio.wait_for(stopping, CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("Webex calls still running at shutdown; not waiting for them")

    def _shutdown(self) -> None:
        # An abandoned download's thread may sit in a read until the socket times out: not
        # worth waiting for (closing the session below ends it).
        self._downloads.shutdown(wait=False, cancel_futures=True)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._session._req_session.close()

    async def _call(
        self,
        what: str,
        call: Callable[[], T],
        *,
        policy: RetryPolicy | None = None,
        discard: Callable[[T], object] | None = None,
        pool: ThreadPoolExecutor | None = None,
    ) -> T:
        """Run one SDK call in the pool (`pool`, else the calls' own), mapping failures;
        transient ones are retried.

        `discard` releases what a call returns when its caller was cancelled meanwhile (the
        thread cannot be stopped, so its result is cleaned up once it arrives).
        """

        async def attempt() -> T:
            running = (pool or self._pool).submit(call)
            try:
                return await asyncio.wrap_future(running)
            except asyncio.CancelledError:
                if discard is not None:
                    running.add_done_callback(partial(_discard_result, discard))
                raise
            except ChannelError:
                raise
            except Exception as exc:
                mapped = _channel_error(exc, what)
                if mapped is None:
                    raise
                raise mapped from None

        return await with_retries(attempt, policy=policy or self._retry, what=f"Webex {what}")


class FileStream:
    """A file Webex answered 200 for: its headers now, its body chunk by chunk.

    Every read runs in the API's worker pool (the SDK is synchronous), so the body is never
    whole in memory and the event loop never blocks. `aclose` (or `async with`) releases the
    HTTP response; a body not read to its end closes the connection rather than reusing it.
    """

    def __init__(self, response: Any, *, pool: ThreadPoolExecutor, what: str) -> None:
        self.headers: Mapping[str, str] = response.headers  # case-insensitive (requests)
        self._response = response
        self._body: Iterator[bytes] = response.iter_content(CHUNK_BYTES)
        self._pool = pool
        self._what = what
        self._received = 0
        self._reading: Future[bytes] | None = None
        self._closed = False

    @property
    def size(self) -> int | None:
        """The size the answer declared (`Content-Length`), if it did."""
        return _declared_length(self.headers)

    async def read(self) -> bytes:
        """The next chunk (at most `CHUNK_BYTES`), `b""` at the end; channel errors otherwise
        (a broken connection is transient, more than Webex's 100 MB limit permanent)."""
        if self._closed:
            raise RuntimeError("read from a closed Webex file stream")
        if self._reading is not None and not self._reading.done():
            raise RuntimeError("a read of this Webex file stream is still running")
        self._reading = self._pool.submit(next, self._body, b"")
        try:
            chunk = await asyncio.wrap_future(self._reading)
        except Exception as exc:
            mapped = _channel_error(exc, self._what)
            if mapped is None:
                raise
            raise mapped from None
        self._received += len(chunk)
        if self._received > MAX_FILE_BYTES:
            raise WebexPermanentError("file larger than Webex's 100 MB limit", status=None)
        return chunk

    async def aclose(self) -> None:
        """Release the response (idempotent)."""
        if self._closed:
            return
        self._closed = True
        reading = self._reading
        if reading is not None and not reading.done():
            # Its reader was cancelled mid-read: close as soon as that read returns, in its
            # thread (closing under a running read would race with it).
            reading.add_done_callback(partial(_close_when_done, self._response))
            return
        try:
            closing = self._pool.submit(_close_response, self._response)
        except RuntimeError:  # the pool is shut down: closing a socket does not block
            _close_response(self._response)
            return
        await asyncio.wrap_future(closing)

    async def __aenter__(self) -> FileStream:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()


def _declared_length(headers: Mapping[str, str]) -> int | None:
    length = headers.get("Content-Length", "")
    return int(length) if length.isdigit() else None


def _close_response(response: Any) -> None:
    response.close()


def _close_when_done(response: Any, _done: Future[Any]) -> None:
    response.close()


def _discard_result(discard: Callable[[Any], object], done: Future[Any]) -> None:
    """A done-callback: hand a finished call's result to `discard` (nothing if it failed)."""
    if not done.cancelled() and done.exception() is None:
        discard(done.result())


def _channel_error(exc: Exception, what: str) -> ChannelError | None:
    """The project error for an SDK or transport failure; None for a bug (re-raised as is)."""
    if isinstance(exc, ApiError):
        return error_for_status(exc.status_code, what, retry_after=_retry_after(exc.response))
    if isinstance(exc, MalformedResponse):
        return WebexPermanentError(f"Webex {what}: malformed response", status=None)
    if isinstance(exc, OSError):  # requests' connection errors and timeouts are OSErrors
        return WebexTransientError(
            f"Webex {what}: {type(exc).__name__}", status=None, retry_after=None
        )
    return None


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def _numeric_retry_after(response: Any, *_args: Any, **_kwargs: Any) -> Any:
    """A `requests` response hook: the SDK parses `Retry-After` with int() and raises
    ValueError on the HTTP-date form, so turn a date into seconds (or drop it)."""
    value = response.headers.get("Retry-After")
    if value is None or value.strip().isdigit():
        return response
    seconds = _seconds_from(value)
    if seconds is None or not math.isfinite(seconds):
        del response.headers["Retry-After"]
    else:
        response.headers["Retry-After"] = str(max(0, math.ceil(seconds)))
    return response


def _seconds_from(value: str) -> float | None:
    """Seconds from a Retry-After that is a decimal number or an HTTP date."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
    except (TypeError, ValueError):
        return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
