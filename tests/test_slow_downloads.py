"""A slow upstream stalls nobody: files are fetched by download jobs of their own.

Over real HTTP: the bot on a free port, a fake Bot Connector, and a fake SharePoint on port 0
that drips a file's bytes slowly until the test lets it finish. A turn that receives a file
only says "receiving"; the download runs outside the turn slots, within a total time limit,
and what became of it is told afterwards, exactly once, also across a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import col, select

from bot.app import STORE, Overrides, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from storage.directory import Directory
from storage.models import DownloadStatus, OutboxRow, TicketRow
from storage.repositories import Store
from tests.activities import personal_message
from tests.fakes import FakeBotConnector
from tests.samples import sample_ticket
from tests.serving import Bot, running

ClientFactory = Callable[[web.Application], Awaitable[Bot]]
FAKE_SHAREPOINT = "contoso-my.sharepoint.com"
CLARA, DORA = "29:clara", "29:dora"


@dataclass
class DrippingFileHost:
    """Serves `/<name>` one byte at a time, a byte every few hundredths of a second, until
    `release` is set; then the rest at once. Records which downloads started, finished, or
    were given up by the bot (the connection closed under it)."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    started: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    server: TestServer | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Return once `predicate` holds (checked whenever a download starts or ends)."""
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(predicate)

    async def _record(self, happened: list[str], name: str) -> None:
        happened.append(name)
        async with self.changed:
            self.changed.notify_all()

    @staticmethod
    def content(name: str) -> bytes:
        return f"{name}: 2026-03-02 09:14 INVITE failed 503\n".encode() * 20

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{name}", self._serve)
        return app

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        body = self.content(name)
        await self._record(self.started, name)
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        try:
            sent = 0
            while not self.release.is_set():
                await response.write(body[sent : sent + 1])
                sent += 1
                await _within(self.release.wait(), 0.05)
            await response.write(body[sent:])
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            await asyncio.shield(self._record(self.abandoned, name))
            raise
        await self._record(self.finished, name)
        return response

    def url(self, name: str) -> str:
        assert self.server is not None
        return f"http://{FAKE_SHAREPOINT}:{self.server.port}/{name}"


async def _within(waiting: Any, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(waiting, seconds)


@pytest.fixture
async def drips() -> AsyncIterator[DrippingFileHost]:
    fake = DrippingFileHost()
    fake.server = TestServer(fake.app(), host="127.0.0.1")
    await fake.server.start_server()
    yield fake
    fake.release.set()
    await fake.server.close()


def bot_app(settings: Settings, directory: Directory) -> web.Application:
    overrides = Overrides(teams_file_test_hosts={FAKE_SHAREPOINT: "127.0.0.1"})
    return create_app(settings, directory=directory, overrides=overrides)


def settings_with(tmp_path: Path, **changes: Any) -> Settings:
    return Settings(data_dir=tmp_path / "var", directory=EXAMPLE_DIRECTORY, **changes)


async def open_ticket_for(store: Store, user: str) -> TicketRow:
    ticket, _ = await store.tickets.create(
        sample_ticket(reporter_user_id=user, conversation_id=f"a:personal-{user}"),
        prefix="CCS",
        year=2026,
        now=datetime.now(UTC),
    )
    return ticket


def file_message(
    directory: Directory, connector: FakeBotConnector, drips: DrippingFileHost, name: str
) -> dict[str, Any]:
    activity = personal_message(directory, "", service_url=connector.url, user=CLARA)
    activity["attachments"] = [
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "name": name,
            "content": {"downloadUrl": drips.url(name), "uniqueId": name, "fileType": "log"},
        }
    ]
    return activity


def texts_to(connector: FakeBotConnector, user: str, containing: str) -> list[str]:
    return [
        call.body.get("text", "")
        for call in connector.messages
        if call.conversation_id == f"a:personal-{user}" and containing in call.body.get("text", "")
    ]


async def thread_posts(store: Store) -> list[str]:
    async with store.database.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all()
    return [row.payload["answers"][0]["text"] for row in rows if row.kind == "thread"]


async def test_another_persons_help_is_answered_while_many_downloads_drip(
    aiohttp_client: ClientFactory,
    tmp_path: Path,
    directory: Directory,
    connector: FakeBotConnector,
    drips: DrippingFileHost,
) -> None:
    settings = settings_with(tmp_path, max_concurrent_downloads=8)
    bot = await aiohttp_client(bot_app(settings, directory))
    ticket = await open_ticket_for(bot.app[STORE], CLARA)
    names = [f"trace-{n}.log" for n in range(10)]

    for name in names:
        response = await bot.post(
            "/api/messages", json=file_message(directory, connector, drips, name)
        )
        assert response.status == 200
    await connector.wait_until(lambda: len(texts_to(connector, CLARA, "Receiving")) == 10)
    await drips.wait_until(lambda: len(drips.started) == 8)  # the download pool is full

    help_request = personal_message(directory, "help", service_url=connector.url, user=DORA)
    assert (await bot.post("/api/messages", json=help_request)).status == 200
    await connector.wait_until(lambda: bool(texts_to(connector, DORA, "")))

    # Dora was answered while every one of Clara's files was still dripping in.
    assert drips.finished == []
    assert texts_to(connector, CLARA, "Received") == []

    drips.release.set()
    await connector.wait_until(
        lambda: len(texts_to(connector, CLARA, "Received")) == 10, timeout=20
    )
    assert sorted(drips.finished) == sorted(names)
    attached = await bot.app[STORE].logfiles.of_ticket(ticket.id or 0)
    assert sorted(logfile.name for logfile in attached) == sorted(names)


async def test_a_download_over_the_time_limit_is_abandoned_and_the_person_told(
    aiohttp_client: ClientFactory,
    tmp_path: Path,
    directory: Directory,
    connector: FakeBotConnector,
    drips: DrippingFileHost,
) -> None:
    settings = settings_with(tmp_path, download_timeout=1.0)
    bot = await aiohttp_client(bot_app(settings, directory))
    ticket = await open_ticket_for(bot.app[STORE], CLARA)

    message = file_message(directory, connector, drips, "trace.log")
    assert (await bot.post("/api/messages", json=message)).status == 200

    await connector.wait_until(
        lambda: bool(texts_to(connector, CLARA, "took too long")), timeout=10
    )
    [told] = texts_to(connector, CLARA, "took too long")
    assert "upload of **trace.log** took too long (more than 1 second)" in told
    assert "Please send it again" in told
    await drips.wait_until(lambda: drips.abandoned == ["trace.log"])
    assert drips.finished == []
    assert await bot.app[STORE].logfiles.of_ticket(ticket.id or 0) == []
    [job] = await bot.app[STORE].downloads.all()
    assert (job.status, job.reported) == (DownloadStatus.TIMED_OUT, True)
    [post] = await thread_posts(bot.app[STORE])
    assert "the upload took too long" in post


async def test_a_download_cut_off_by_a_restart_is_fetched_after_it_exactly_once(
    tmp_path: Path,
    directory: Directory,
    connector: FakeBotConnector,
    drips: DrippingFileHost,
) -> None:
    settings = settings_with(tmp_path)

    async with running(bot_app(settings, directory)) as before:
        ticket = await open_ticket_for(before.app[STORE], CLARA)
        message = file_message(directory, connector, drips, "trace.log")
        assert (await before.post("/api/messages", json=message)).status == 200
        await drips.wait_until(lambda: drips.started == ["trace.log"])
    # stopped in the middle of the download: nothing stored, nobody told yet
    assert drips.abandoned == ["trace.log"]
    assert texts_to(connector, CLARA, "Received") == []

    drips.release.set()
    async with running(bot_app(settings, directory)) as after:
        await connector.wait_until(lambda: bool(texts_to(connector, CLARA, "Received")))
        [job] = await after.app[STORE].downloads.all()
        await drips.wait_until(lambda: drips.finished == ["trace.log"])
        store = after.app[STORE]
        [logfile] = await store.logfiles.of_ticket(ticket.id or 0)
        assert logfile.name == "trace.log"

    async with running(bot_app(settings, directory)) as again:  # a second restart does nothing
        [job] = await again.app[STORE].downloads.all()
        assert (job.status, job.reported) == (DownloadStatus.STORED, True)
    assert texts_to(connector, CLARA, "Received") == [
        f"Received **trace.log** ({len(drips.content('trace.log'))} B) for {ticket.number}."
    ]
    assert drips.started == ["trace.log", "trace.log"]
