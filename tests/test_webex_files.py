"""Files in Webex: downloads that respect the malware scan, and files the bot sends; through
the real SDK against the fake Webex."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.model import Channel, ConversationRef, FileRef
from adapters.ports import FileSource
from adapters.retry import RetryPolicy
from adapters.webex import DownloadedFile, FileNotReady, FileRefused
from adapters.webex.files import download
from adapters.webex.sdk import WebexApi
from bot.app import WEBEX, create_app
from bot.settings import Settings
from storage.directory import Directory
from storage.errors import FileRejected, PermanentChannelError
from tests.fake_webex import FakeWebex, bot_settings, running_fake_webex

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


async def test_a_clean_file_is_downloaded_with_its_name_and_type(
    api: WebexApi, webex: FakeWebex
) -> None:
    url = webex.add_file("sip trace.log", LOG, content_type="text/plain")

    result = await download(api, ref(url))

    assert result == DownloadedFile(name="sip trace.log", content_type="text/plain", data=LOG)


async def test_a_file_still_being_scanned_is_fetched_once_the_scan_is_done(
    api: WebexApi, webex: FakeWebex
) -> None:
    url = webex.add_file("trace.log", LOG, scan=("scanning", "scanning"))

    result = await download(api, ref(url))

    assert isinstance(result, DownloadedFile)
    assert result.data == LOG
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


async def test_a_missing_file_is_a_permanent_error(api: WebexApi, webex: FakeWebex) -> None:
    with pytest.raises(PermanentChannelError, match="HTTP 404"):
        await download(api, ref(f"{webex.base_url}contents/gone"))


async def test_the_bot_token_is_never_sent_to_another_host(api: WebexApi, webex: FakeWebex) -> None:
    with pytest.raises(PermanentChannelError, match="other than the Webex API"):
        await download(api, ref("https://files.attacker.example/v1/contents/x"))
    assert webex.calls == []


async def test_the_adapter_downloads_and_sends_files(
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

    fetched = await adapter.fetch_file(ref(webex.add_file("a.log", LOG)))
    conversation = ConversationRef(Channel.WEBEX, room["id"], kind="group", thread_id="root-1")
    await adapter.send_file(conversation, report, text="**Your report**")

    assert isinstance(fetched, DownloadedFile)
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

    assert b"".join(chunks) == big
    assert len(chunks) > 1
    with pytest.raises(FileRejected) as refused:
        _ = [chunk async for chunk in source.download(ref(infected))]
    assert refused.value.reason == "infected"
    with pytest.raises(FileRejected) as later:
        _ = [chunk async for chunk in source.download(ref(scanning))]
    assert (later.value.reason, later.value.retry_after) == ("not_ready", 0.0)
