"""Managers' reports, breaches and digest by chat; report files behind signed, expiring links."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlmodel import col, select

from adapters.model import OpenUrlAction, Sender
from bot.app import SERVICES, create_app
from bot.digest import DigestPoster
from bot.settings import Settings
from dialogs.managers import weekly_card
from storage.directory import Directory
from storage.links import SignedFiles
from storage.models import OutboxRow
from storage.repositories import Store
from tests.transcript import Transcript, customer_contact, report_by_card, staff_member

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+01:00")


@pytest.fixture
async def bot(directory: Directory, store: Store, tmp_path: Path) -> Transcript:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01T00:00"))
    transcript = Transcript(directory, store, blob_root=tmp_path / "files")
    transcript.services.links = SignedFiles(
        root=tmp_path / "reports", secret=b"k" * 32, base_url="https://bot.example"
    )
    clara = customer_contact(directory)
    erika = staff_member(directory, "engineer")
    # a ticket answered after 1h, and one nobody answered in time
    transcript.now = vienna("2026-01-07T09:00")
    await report_by_card(transcript, clara, since="")
    transcript.now = vienna("2026-01-07T10:00")
    await transcript.say("ack CCS-2026-000001", sender=erika)
    transcript.now = vienna("2026-01-08T09:00")
    await report_by_card(transcript, clara, since="", product="microsoft-calling")
    transcript.now = vienna("2026-01-09T16:00")
    return transcript


@pytest.fixture
def manager(directory: Directory) -> Sender:
    return staff_member(directory, "manager")


async def test_the_monthly_report_with_chart_and_csv(bot: Transcript, manager: Sender) -> None:
    [answer] = await bot.say("report 2026-01", sender=manager)

    assert answer.card is not None
    assert answer.card.title == "SLA report January 2026"
    assert "50" in answer.card.paragraphs[0]  # one of two first reactions met
    assert answer.card.image_url is not None
    assert urlsplit(answer.card.image_url).path.endswith(".png")
    [csv_link] = answer.card.actions
    assert isinstance(csv_link, OpenUrlAction)
    links = bot.services.links
    assert links is not None
    name = urlsplit(csv_link.url).path.rsplit("/", 1)[1]
    query = dict(part.split("=") for part in urlsplit(csv_link.url).query.split("&"))
    assert query["name"] == "sla-2026-01.csv"  # the name it downloads as, signed with the rest
    assert links.path_if_valid(name, query["expires"], query["sig"], bot.now) is None
    path = links.path_if_valid(name, query["expires"], query["sig"], bot.now, query["name"])
    assert path is not None
    assert links.path_if_valid(name, query["expires"], query["sig"], bot.now, "x.csv") is None
    rows = path.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 3  # header and two tickets
    assert "CCS-2026-000002" in rows[2]


async def test_the_report_has_one_title_product_names_and_no_weeks_to_come(
    bot: Transcript, manager: Sender
) -> None:
    [answer] = await bot.say("report 2026-01", sender=manager)

    assert answer.card is not None
    [summary] = answer.card.paragraphs
    assert "SLA report" not in summary  # the card's title is the only one
    assert answer.text.count("SLA report January 2026") == 1
    assert "By product: Microsoft Teams Calling 1 · Webex Calling 1" in summary
    # on 9 January the month's first two weeks have begun; the rest are left out
    assert "By week (met/known): 2026-W01 0/0 · 2026-W02 1/2" in summary


async def test_breaches_lists_the_late_ones(bot: Transcript, manager: Sender) -> None:
    [answer] = await bot.say("breaches 2026-01", sender=manager)
    assert answer.card is not None
    assert answer.card.title == "Breaches in 2026-01: 1"
    assert [f.label for f in answer.card.facts] == ["CCS-2026-000002"]
    [bad] = await bot.say("breaches someday", sender=manager)
    assert "someday" in bad.text


async def test_contacts_get_no_reports(bot: Transcript, directory: Directory) -> None:
    clara = customer_contact(directory)
    for command in ("report 2026-01", "breaches this month", "digest on"):
        [answer] = await bot.say(command, sender=clara)
        assert "SLA report" not in answer.text
        assert "Breaches" not in answer.text
        assert "Digest" not in answer.text


async def test_the_digest_is_posted_once_a_day_and_weekly_on_monday(
    bot: Transcript, manager: Sender, store: Store
) -> None:
    services = bot.services
    digest = DigestPoster(services, weekly=lambda s, e: weekly_card(services, s, e))
    assert await digest.tick() == []  # off
    [on] = await bot.say("digest on", sender=manager)
    assert "Digest on" in on.text

    bot.now = vienna("2026-01-12T07:55")  # Monday before opening
    assert await digest.tick() == []
    bot.now = vienna("2026-01-12T08:05")
    assert await digest.tick() == ["digest:daily:2026-01-12", "digest:weekly:2026-W03"]
    bot.now = vienna("2026-01-12T09:05")
    await digest.tick()
    bot.now = vienna("2026-01-13T08:00")  # Tuesday: daily only
    assert await digest.tick() == ["digest:daily:2026-01-13"]

    async with store.database.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all()
    digests = [
        row.dedupe_key.split(":managers:")[0]
        for row in rows
        if row.dedupe_key.startswith("digest:")
    ]
    assert digests == [
        "digest:daily:2026-01-12",
        "digest:weekly:2026-W03",
        "digest:daily:2026-01-13",
    ]
    await bot.say("digest off", sender=manager)
    bot.now = vienna("2026-01-14T08:00")
    assert await digest.tick() == []


async def test_signed_links_are_served_until_they_expire(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory
) -> None:
    client = await aiohttp_client(create_app(settings, directory=directory))
    links = client.app[SERVICES].links
    assert links is not None
    url = await links.publish(
        b"number,customer\n",
        suffix="csv",
        now=datetime.now().astimezone(),
        ttl=timedelta(minutes=5),
    )
    path = urlsplit(url).path + "?" + urlsplit(url).query

    good = await client.get(path)
    assert good.status == 200
    assert await good.read() == b"number,customer\n"
    assert good.content_type == "text/csv"
    tampered = await client.get(path.replace("sig=", "sig=0"))
    assert tampered.status == 403
    expired_url = await links.publish(
        b"x", suffix="csv", now=datetime.now().astimezone(), ttl=timedelta(seconds=-1)
    )
    expired = await client.get(urlsplit(expired_url).path + "?" + urlsplit(expired_url).query)
    assert expired.status == 403
