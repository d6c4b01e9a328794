"""Downloading a ticket's logfile over HTTP through its signed link: the bytes with their stored
content type as an attachment under the name they were sent with; 403 for a forged or expired
link, 404 for a logfile that does not exist or belongs to another ticket, never a 500."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import SERVICES, STORE, Overrides, create_app
from bot.settings import Settings
from storage.directory import Directory
from storage.models import TicketRow
from tests.samples import sample_ticket

Bot = TestClient[web.Request, web.Application]
ClientFactory = Callable[[web.Application], Awaitable[Bot]]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONTENT = b"2026-03-02 09:14 INVITE failed 503\n" * 40


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, clock: Clock
) -> Bot:
    app = create_app(settings, directory=directory, overrides=Overrides(clock=clock))
    return await aiohttp_client(app)


async def ticket(bot: Bot, **fields: str) -> TicketRow:
    row, _ = await bot.app[STORE].tickets.create(
        sample_ticket(**fields), prefix="CCS", year=2026, now=NOW
    )
    return row


async def logfile(
    bot: Bot,
    row: TicketRow,
    *,
    name: str = "trace.log",
    original: str = "",
    content: bytes = CONTENT,
    content_type: str = "text/plain",
) -> int:
    """A delivered logfile of `row` (its bytes in the blob store); its id."""
    services = bot.app[SERVICES]

    async def chunks() -> AsyncIterator[bytes]:
        yield content

    blob = await services.blobs.store(chunks())
    assert row.id is not None
    await bot.app[STORE].logfiles.attach(
        ticket_id=row.id,
        sha256=blob.sha256,
        name=name,
        size=blob.size,
        content_type=content_type,
        uploaded_by="29:clara",
        channel="teams",
        now=NOW,
        original_name=original,
    )
    [*_, stored] = await bot.app[STORE].logfiles.of_ticket(row.id)
    assert stored.id is not None
    return stored.id


def link(bot: Bot, logfile_id: int, ticket_id: int, *, ttl: timedelta = timedelta(days=7)) -> str:
    links = bot.app[SERVICES].links
    assert links is not None
    url = links.logfile_link(logfile_id=logfile_id, ticket_id=ticket_id, now=NOW, ttl=ttl)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_link_downloads_the_file_as_an_attachment_with_its_name(bot: Bot) -> None:
    row = await ticket(bot)
    assert row.id is not None
    file_id = await logfile(bot, row, content_type="text/plain; charset=utf-8")

    response = await bot.get(link(bot, file_id, row.id))

    assert response.status == 200
    assert await response.read() == CONTENT
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["Content-Disposition"] == 'attachment; filename="trace.log"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_name_beyond_ascii_comes_back_exactly(bot: Bot) -> None:
    row = await ticket(bot)
    assert row.id is not None
    original = "Größe Ablauf 😀.har"
    file_id = await logfile(bot, row, name="Groe_Ablauf.har", original=original)

    response = await bot.get(link(bot, file_id, row.id))

    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Gr__e Ablauf _.har"; ')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded, encoding="utf-8") == original
    assert encoded.isascii()


async def test_a_declared_type_that_is_no_media_type_is_served_as_bytes(bot: Bot) -> None:
    row = await ticket(bot)
    assert row.id is not None
    file_id = await logfile(bot, row, content_type="text/html\r\nX-Evil: 1")

    response = await bot.get(link(bot, file_id, row.id))

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert "X-Evil" not in response.headers


async def test_forged_altered_or_expired_links_are_refused(bot: Bot, clock: Clock) -> None:
    row = await ticket(bot)
    assert row.id is not None
    file_id = await logfile(bot, row)
    good = link(bot, file_id, row.id, ttl=timedelta(hours=1))
    path, query = good.split("?")
    params = dict(part.split("=") for part in query.split("&"))
    forged_sig = "0" * 64
    variants = [
        f"{path}?ticket={row.id}&expires={params['expires']}&sig={forged_sig}",
        f"{path}?ticket={row.id}&expires={int(params['expires']) + 3600}&sig={params['sig']}",
        f"{path}?ticket={row.id}&expires={params['expires']}",
        f"/files/logfiles/{file_id + 1}?{query}",
        f"{path}?ticket=x&expires=1e9&sig=%C3%A4",
        f"/files/logfiles/..%2F..%2Fetc?{query}",
        f"/files/logfiles/-1?{query}",
    ]
    for url in variants:
        response = await bot.get(url)
        assert response.status == 403, url

    clock.now = NOW + timedelta(hours=2)
    assert (await bot.get(good)).status == 403


async def test_a_link_opens_only_the_tickets_own_files(bot: Bot) -> None:
    mine, theirs = await ticket(bot), await ticket(bot)
    assert mine.id is not None and theirs.id is not None
    their_file = await logfile(bot, theirs, content=b"someone else's trace")

    # genuinely signed, but for a ticket the file does not belong to
    response = await bot.get(link(bot, their_file, mine.id))

    assert response.status == 404
    assert b"someone else" not in await response.read()


async def test_unknown_or_vanished_files_are_not_found(bot: Bot) -> None:
    row = await ticket(bot)
    assert row.id is not None
    assert (await bot.get(link(bot, 987654, row.id))).status == 404

    file_id = await logfile(bot, row)
    [stored] = await bot.app[STORE].logfiles.of_ticket(row.id)
    bot.app[SERVICES].blobs.path_of(stored.sha256).unlink()

    assert (await bot.get(link(bot, file_id, row.id))).status == 404


def test_report_and_logfile_links_cannot_stand_in_for_each_other(settings: Settings) -> None:
    from storage.links import SignedFiles

    links = SignedFiles(root=settings.data_dir, secret=b"s" * 32, base_url="https://bot")
    name = f"{hashlib.sha256(b'x').hexdigest()}.csv"
    report = links.path_if_valid(name, "9999999999", links._sign(name, 9999999999), NOW)
    assert report is not None
    # a report's signature over (name, expiry) grants no logfile
    assert (
        links.logfile_if_valid("1", "2", "9999999999", links._sign(name, 9999999999), NOW) is None
    )
