"""Files in Webex: downloads that respect the malware scan, and files the bot sends; through
the real SDK against the fake Webex."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.model import Channel, ConversationRef, FileRef
from adapters.ports import CorePort, FileSource
from adapters.retry import RetryPolicy
from adapters.webex import DownloadedFile, FileNotReady, FileRefused, WebexAdapter, files, sdk
from adapters.webex.files import Download, describe, download
from adapters.webex.sdk import CHUNK_BYTES, FileStream, WebexApi
from bot.app import STORE, WEBEX, create_app
from bot.settings import Settings
from storage.directory import Directory
from storage.errors import FileRejected, PermanentChannelError
from storage.files import BlobStore
from storage.models import TicketRow
from tests.fake_webex import FakeWebex, Json, Transfer, bot_settings, running_fake_webex
from tests.samples import sample_ticket

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
LOG = b"2026-01-07 14:30:00 INVITE sip:+431234@pbx.example SIP/2.0\n"


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


@pytest.fixture
async def api(webex: FakeWebex) -> AsyncIterator[WebexApi]:
    client = WebexApi(
        token=webex.token, base_url=webex.base_url, retry=RetryPolicy(attempts=3, base_delay=0.01)
    )
    yield client
    await client.close()


def ref(url: str) -> FileRef:
    return FileRef(name="attachment-1", url=url)


async def body(result: Download) -> bytes:
    """A downloaded file's bytes, read to the end (and the download closed)."""
    assert isinstance(result, DownloadedFile)
    async with result:
        return b"".join([chunk async for chunk in result])


async def test_a_clean_file_is_downloaded_with_its_name_and_type(
    api: WebexApi, webex: FakeWebex
) -> None:
    url = webex.add_file("sip trace.log", LOG, content_type="text/plain")

    result = await download(api, ref(url))

    assert isinstance(result, DownloadedFile)
    assert (result.name, result.content_type) == ("sip trace.log", "text/plain")
    assert result.size == len(LOG)
    assert await body(result) == LOG


async def test_a_file_still_being_scanned_is_fetched_once_the_scan_is_done(
    api: WebexApi, webex: FakeWebex
) -> None:
    url = webex.add_file("trace.log", LOG, scan=("scanning", "scanning"))

    result = await download(api, ref(url))

    assert await body(result) == LOG
    assert webex.calls.count(("GET", url.rsplit("/v1/", 1)[1])) == 3


async def test_a_scan_that_takes_long_says_when_to_ask_again(
    api: WebexApi, webex: FakeWebex
) -> None:
    url = webex.add_file("trace.log", LOG, scan=("scanning",) * 10)

    assert await download(api, ref(url)) == FileNotReady(retry_after=0.0)


@pytest.mark.parametrize(
    ("state", "reason"), [("infected", "infected"), ("unscannable", "unscannable")]
)
async def test_an_infected_or_unscannable_file_is_refused(
    api: WebexApi, webex: FakeWebex, state: str, reason: str
) -> None:
    url = webex.add_file("invoice.pdf.exe", b"MZ...", scan=(state,))

    result = await download(api, ref(url))

    assert isinstance(result, FileRefused)
    assert result.reason == reason


async def test_an_unscannable_file_can_be_accepted_explicitly(
    api: WebexApi, webex: FakeWebex
) -> None:
    url = webex.add_file("capture.pcap", b"\xd4\xc3\xb2\xa1", scan=("unscannable",))
    webex.files[url.rsplit("/", 1)[1]].final = "unscannable"

    result = await download(api, ref(url), allow_unscannable=True)

    assert isinstance(result, DownloadedFile)
    assert result.name == "capture.pcap"
    assert await body(result) == b"\xd4\xc3\xb2\xa1"


async def test_a_missing_file_is_a_permanent_error(api: WebexApi, webex: FakeWebex) -> None:
    with pytest.raises(PermanentChannelError, match="HTTP 404"):
        await download(api, ref(f"{webex.base_url}contents/gone"))


async def test_the_bot_token_is_never_sent_to_another_host(api: WebexApi, webex: FakeWebex) -> None:
    with pytest.raises(PermanentChannelError, match="other than the Webex API"):
        await download(api, ref("https://files.attacker.example/v1/contents/x"))
    assert webex.calls == []


async def test_a_file_that_redirects_elsewhere_is_not_followed(
    api: WebexApi, webex: FakeWebex
) -> None:
    hits: list[str] = []

    async def internal(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=LOG)

    app = web.Application()
    app.router.add_get("/{tail:.*}", internal)
    inside = TestServer(app, host="127.0.0.1")
    await inside.start_server()
    try:
        url = webex.add_file("trace.log", LOG)
        webex.file(url).redirect_to = str(inside.make_url("/metrics"))
        with pytest.raises(PermanentChannelError, match="HTTP 302"):
            await download(api, ref(url))
        with pytest.raises(PermanentChannelError, match="HTTP 302"):
            await api.head(url)
    finally:
        await inside.close()

    assert hits == []


async def test_the_adapter_sends_files(
    aiohttp_client: ClientFactory,
    settings: Settings,
    directory: Directory,
    webex: FakeWebex,
    tmp_path: Path,
) -> None:
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    adapter = bot.app[WEBEX]
    room = webex.add_room("group")
    report = tmp_path / "report.txt"
    report.write_text("SLA report\n", encoding="utf-8")

    conversation = ConversationRef(Channel.WEBEX, room["id"], kind="group", thread_id="root-1")
    await adapter.send_file(conversation, report, text="**Your report**")

    [sent] = webex.sent
    assert sent["markdown"] == "**Your report**"
    assert sent["parentId"] == "root-1"
    [file_url] = sent["files"]
    uploaded = webex.files[file_url.rsplit("/", 1)[1]]
    assert (uploaded.name, uploaded.data) == ("report.txt", b"SLA report\n")


async def test_the_adapter_is_a_file_source_for_logfile_collection(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    source: FileSource = bot.app[WEBEX]
    big = bytes(range(256)) * 1000  # several chunks

    chunks = [chunk async for chunk in source.download(ref(webex.add_file("big.bin", big)))]
    infected = webex.add_file("x.exe", b"MZ", scan=("infected",))
    scanning = webex.add_file("y.log", LOG, scan=("scanning",) * 10)
    unscannable = webex.add_file("z.pcap", LOG, scan=("unscannable",))
    gone = f"{webex.base_url}contents/gone"

    assert b"".join(chunks) == big
    assert len(chunks) > 1
    with pytest.raises(FileRejected) as refused:
        _ = [chunk async for chunk in source.download(ref(infected))]
    assert refused.value.reason == "infected"
    with pytest.raises(FileRejected) as later:
        _ = [chunk async for chunk in source.download(ref(scanning))]
    assert (later.value.reason, later.value.retry_after) == ("not_ready", 0.0)
    with pytest.raises(FileRejected) as refused:
        _ = [chunk async for chunk in source.download(ref(unscannable))]
    assert refused.value.reason == "unscannable"
    with pytest.raises(FileRejected) as failed:
        _ = [chunk async for chunk in source.download(ref(gone))]
    assert failed.value.reason == "download_failed"
    assert webex.file(infected).transfers == webex.file(unscannable).transfers == []


# --- streaming ------------------------------------------------------------------------------

MB = 1024 * 1024


def big_file(size: int = 5 * MB) -> bytes:
    """Bytes that do not repeat in chunk-sized blocks (a misplaced chunk changes the hash)."""
    return random.Random(size).randbytes(size)


async def eventually(predicate: Callable[[], bool], *, timeout: float = 5.0) -> bool:
    """Whether `predicate` holds within `timeout` (polled: closing a connection is no call)."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - no event tells when a connection closes
            await asyncio.sleep(0.01)
    return True


async def connection_closed(transfer: Transfer) -> bool:
    """Whether the fake sees the client drop `transfer`'s connection soon."""
    return await eventually(lambda: transfer.connection_closed)


@pytest.fixture
async def one_worker(webex: FakeWebex) -> AsyncIterator[WebexApi]:
    """An API facade with a single worker thread: a thread left reading blocks the next call."""
    client = WebexApi(token=webex.token, base_url=webex.base_url, workers=1)
    yield client
    await client.close()


async def test_a_large_file_streams_to_disk_in_bounded_chunks_with_its_exact_bytes(
    aiohttp_client: ClientFactory,
    settings: Settings,
    directory: Directory,
    webex: FakeWebex,
    tmp_path: Path,
) -> None:
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    source: FileSource = bot.app[WEBEX]
    data = big_file()
    sha256 = hashlib.sha256(data).hexdigest()

    chunks = [chunk async for chunk in source.download(ref(webex.add_file("trace.log", data)))]
    blob = await BlobStore(tmp_path).store(source.download(ref(webex.add_file("t.log", data))))

    assert hashlib.sha256(b"".join(chunks)).hexdigest() == sha256
    assert len(chunks) >= len(data) // CHUNK_BYTES
    assert max(len(chunk) for chunk in chunks) <= CHUNK_BYTES
    assert (blob.sha256, blob.size) == (sha256, len(data))
    assert blob.path.read_bytes() == data


async def test_chunks_arrive_while_the_rest_of_the_file_is_still_on_the_wire(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    source: FileSource = bot.app[WEBEX]
    data, gate = big_file(), asyncio.Event()
    url = webex.add_file("trace.log", data, gate=gate)  # the server halts after one piece

    chunks = source.download(ref(url))
    async with asyncio.timeout(5):  # a download that waits for the whole body never gets here
        first = await anext(chunks)
    [transfer] = webex.file(url).transfers
    sent_so_far = transfer.sent
    gate.set()
    rest = [chunk async for chunk in chunks]

    assert sent_so_far < len(data)
    assert first + b"".join(rest) == data
    assert transfer.complete


async def test_closing_a_download_after_its_first_chunk_releases_the_connection(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    source: FileSource = bot.app[WEBEX]
    data, gate = big_file(), asyncio.Event()
    url = webex.add_file("trace.log", data, gate=gate)

    chunks = source.download(ref(url))
    first = await anext(chunks)
    await chunks.aclose()  # type: ignore[attr-defined]  # the adapter's is an async generator
    [transfer] = webex.file(url).transfers
    assert await connection_closed(transfer)
    gate.set()

    assert await eventually(lambda: transfer.aborted)
    assert first == data[: len(first)]
    assert not transfer.complete
    again = [chunk async for chunk in source.download(ref(webex.add_file("b.log", LOG)))]
    assert again == [LOG]


async def test_a_transfer_that_breaks_midway_fails_the_download(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    source: FileSource = bot.app[WEBEX]
    url = webex.add_file("trace.log", big_file())
    webex.file(url).cut_short = True

    with pytest.raises(FileRejected) as failed:
        _ = [chunk async for chunk in source.download(ref(url))]

    assert failed.value.reason == "download_failed"
    assert "contents.get" in failed.value.detail


async def test_a_consumer_that_gives_up_releases_the_connection_and_the_worker(
    webex: FakeWebex, one_worker: WebexApi, tmp_path: Path
) -> None:
    adapter = WebexAdapter(
        api=one_worker, core=cast(CorePort, None), webhook_secret="s", max_body_bytes=1
    )
    too_big = webex.add_file("huge.log", big_file())

    async def keep(url: str, *, max_bytes: int) -> str:
        """What the logfile dialog does: store the stream, or say why not."""
        try:
            await BlobStore(tmp_path, max_bytes=max_bytes).store(adapter.download(ref(url)))
        except FileRejected as refused:
            return refused.reason
        return "stored"

    assert await keep(too_big, max_bytes=200_000) == "too_large"
    [transfer] = webex.file(too_big).transfers
    assert await connection_closed(transfer)
    async with asyncio.timeout(5):  # the only worker thread is free again
        assert await keep(webex.add_file("small.log", LOG), max_bytes=200_000) == "stored"


async def test_a_file_past_webexs_limit_is_refused_before_or_while_reading(
    api: WebexApi, webex: FakeWebex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sdk, "MAX_FILE_BYTES", 200_000)
    declared = webex.add_file("a.log", big_file(300_000))
    undeclared = webex.add_file("b.log", big_file(300_000), chunked=True)

    with pytest.raises(PermanentChannelError, match="100 MB"):
        await download(api, ref(declared))
    opened = await download(api, ref(undeclared))
    assert isinstance(opened, DownloadedFile)
    assert opened.size is None
    with pytest.raises(PermanentChannelError, match="100 MB"):
        await body(opened)

    assert await connection_closed(webex.file(declared).transfers[0])
    assert await connection_closed(webex.file(undeclared).transfers[0])


# --- files sent while Webex still scans them ---------------------------------------------------


async def test_a_file_being_scanned_is_described_by_its_real_name_once_released(
    api: WebexApi, webex: FakeWebex
) -> None:
    url = webex.add_file("sip trace.log", LOG, scan=("scanning", "scanning"))

    [described] = await describe(api, (url,), wait=5)

    assert (described.name, described.content_type, described.scanning) == (
        "sip trace.log",
        "text/plain",
        False,
    )
    assert webex.calls.count(("HEAD", url.rsplit("/v1/", 1)[1])) == 3


async def test_a_scan_longer_than_the_wait_leaves_the_file_to_be_picked_up_later(
    api: WebexApi, webex: FakeWebex
) -> None:
    url = webex.add_file("sip trace.log", LOG)
    webex.file(url).final = "scanning"

    [described] = await describe(api, (url,), wait=0.2)

    assert described.scanning
    assert described.url == url


async def test_the_wait_honours_retry_after(
    api: WebexApi, webex: FakeWebex, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = webex.add_file("trace.log", LOG, scan=("scanning",))
    webex.fail_next(423, method="HEAD", path="contents", **{"Retry-After": "3"})
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)

    [described] = await describe(api, (url,), wait=10)

    assert described.name == "trace.log"
    assert pauses[0] == 3.0


async def contact_with_ticket(
    bot: TestClient[web.Request, web.Application], webex: FakeWebex, directory: Directory
) -> tuple[Json, Json, TicketRow]:
    """Clara of the demo customer in her 1:1 space, with one open ticket."""
    clara = webex.add_person(
        "Clara Contact", "clara@somewhere.example", org_id=directory.customers[0].webex_org_ids[0]
    )
    room = webex.add_room("direct")
    ticket, _ = await bot.app[STORE].tickets.create(
        sample_ticket(
            reporter_channel="webex", reporter_user_id=clara["id"], conversation_id=room["id"]
        ),
        prefix="CCS",
        year=2026,
        now=datetime.now(UTC),
    )
    return clara, room, ticket


async def test_a_file_still_scanned_is_fetched_later_under_its_real_name(
    aiohttp_client: ClientFactory,
    settings: Settings,
    directory: Directory,
    webex: FakeWebex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(files, "SCAN_WAIT_SECONDS", 0.2)
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    clara, room, ticket = await contact_with_ticket(bot, webex, directory)
    url = webex.add_file("sip-trace.log", LOG)
    webex.file(url).final = "scanning"  # 423 to HEAD and GET until the test releases it

    message = webex.say(clara, room, "", files=(url,))
    await webex.deliver(str(bot.make_url("/api/webex")), "messages", webex.message_data(message))
    [told] = await webex.wait_for_sent(1)
    jobs = await bot.app[STORE].downloads.all()

    assert "still being scanned for malware" in told["markdown"]
    assert ticket.number in told["markdown"]
    assert [(job.name, job.status) for job in jobs] == [("attachment-1", "pending")]

    webex.file(url).final = "clean"  # the download workers ask again by themselves
    await webex.wait_until(
        lambda: any("sip-trace.log" in m["markdown"] for m in webex.sent), timeout=30
    )
    [job] = await bot.app[STORE].downloads.all()

    assert (job.name, job.status, job.size) == ("sip-trace.log", "stored", len(LOG))
    arrived = next(m for m in webex.sent if "sip-trace.log" in m["markdown"])
    assert arrived["roomId"] == room["id"]
    assert "attachment-1" not in arrived["markdown"]


async def test_a_file_released_as_the_wrong_type_is_refused_by_its_real_name(
    aiohttp_client: ClientFactory,
    settings: Settings,
    directory: Directory,
    webex: FakeWebex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(files, "SCAN_WAIT_SECONDS", 0.2)
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    clara, room, _ticket = await contact_with_ticket(bot, webex, directory)
    url = webex.add_file("setup.exe", b"MZ")
    webex.file(url).final = "scanning"

    message = webex.say(clara, room, "", files=(url,))
    await webex.deliver(str(bot.make_url("/api/webex")), "messages", webex.message_data(message))
    await webex.wait_for_sent(1)
    webex.file(url).final = "clean"
    await webex.wait_until(
        lambda: any("setup.exe" in m["markdown"] for m in webex.sent), timeout=30
    )
    [job] = await bot.app[STORE].downloads.all()

    assert (job.name, job.status, job.reason) == ("setup.exe", "refused", "type")
    assert webex.file(url).transfers == []  # judged by its name: never downloaded


async def test_words_sent_with_a_file_are_added_to_the_ticket(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    clara, room, ticket = await contact_with_ticket(bot, webex, directory)
    url = webex.add_file("trace.log", LOG)

    message = webex.say(clara, room, "It happened again at 10:40", files=(url,))
    await webex.deliver(str(bot.make_url("/api/webex")), "messages", webex.message_data(message))
    sent = await webex.wait_for_sent(2)

    said = "\n".join(m["markdown"] for m in sent)
    assert f"Added to {ticket.number}" in said
    assert "trace.log" in said
    events = await bot.app[STORE].tickets.events(ticket.id or 0)
    assert [e.data["text"] for e in events if e.kind == "customer_message"] == [
        "It happened again at 10:40"
    ]


@pytest.fixture
def clara(webex: FakeWebex) -> Json:
    return webex.add_person("Clara Contact", "clara@somewhere.example")


async def read_until_stuck(stream: FileStream) -> None:
    """Read what the file host sent until a read waits for bytes that do not come; that read
    is cancelled, as a download over its time limit is."""
    while True:
        reading = asyncio.create_task(stream.read())
        done, _ = await asyncio.wait({reading}, timeout=0.5)
        if not done:
            reading.cancel()
            await asyncio.wait({reading})
            return


async def test_downloads_stuck_mid_read_never_hold_up_the_turns_calls(
    webex: FakeWebex, clara: Json
) -> None:
    # As many stuck downloads as the calls have threads: each was abandoned (its time limit
    # passed) while its thread waited for bytes that never come.
    client = WebexApi(token=webex.token, base_url=webex.base_url, workers=2, download_workers=4)
    never = asyncio.Event()
    message = webex.say(clara, webex.add_room("direct"), "help")
    try:
        for n in range(2):
            url = webex.add_file(f"stuck-{n}.log", big_file(), gate=never)
            stream = await client.open_file(url)
            await read_until_stuck(stream)
            await stream.aclose()  # abandoned, its thread still in the read

        async with asyncio.timeout(5):  # a turn's calls still go through at once
            assert (await client.message(message["id"]))["text"] == "help"
            assert (await client.me())["id"] == webex.bot["id"]
    finally:
        never.set()
        await client.close()
