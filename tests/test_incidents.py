"""Mass incidents: several customers reporting one product within minutes make one grouped
alert in the engineers' channel instead of a flood; the tickets stay separate."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from adapters.model import Channel, Sender
from bot.outbox import Dispatcher
from storage.directory import Directory
from storage.models import OutboxRow
from storage.repositories import Store
from tests.test_outbox import FakeChannel
from tests.transcript import Transcript, report_by_card

NOW = datetime.fromisoformat("2026-01-07T10:00:00+01:00")


@pytest.fixture
def four_customers(directory: Directory) -> Directory:
    demo = directory.customers[0]
    others = tuple(
        demo.model_copy(
            update={
                "key": key,
                "name": name,
                "teams_tenant_ids": (f"tenant-{key}",),
                "webex_org_ids": (),
                "email_domains": (),
            }
        )
        for key, name in (("acme", "ACME AG"), ("globex", "Globex GmbH"), ("initech", "Initech"))
    )
    return directory.model_copy(update={"customers": (demo, *others)})


@pytest.fixture
async def bot(four_customers: Directory, store: Store, tmp_path: Path) -> Transcript:
    await store.customers.sync(customers=four_customers.customers, now=NOW)
    transcript = Transcript(four_customers, store, blob_root=tmp_path / "files")
    transcript.now = NOW
    return transcript


def contact(directory: Directory, index: int) -> Sender:
    customer = directory.customers[index]
    return Sender(
        user_id=f"29:{customer.key}",
        name=f"Contact of {customer.name}",
        tenant_id=customer.teams_tenant_ids[0],
    )


async def outbox(store: Store) -> list[OutboxRow]:
    async with store.database.session() as session:
        return list((await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all())


async def test_a_burst_of_reports_makes_one_grouped_alert(
    bot: Transcript, four_customers: Directory, store: Store
) -> None:
    for index in range(4):
        await report_by_card(bot, contact(four_customers, index), since="")
        bot.now += timedelta(minutes=2)

    rows = await outbox(store)
    kinds = [row.kind for row in rows if row.kind in ("channel", "incident", "member")]
    # two ordinary alerts, then the third report tips it: one grouped alert, members inside
    assert kinds == ["channel", "channel", "incident", "member", "member"]
    [incident] = [row for row in rows if row.kind == "incident"]
    card = incident.payload["answers"][0]["card"]
    assert card["title"] == "Possible outage: Webex Calling"
    assert "3 customers reported Webex Calling within 10 minutes" in card["paragraphs"][0]
    assert [fact["label"] for fact in card["facts"]] == [
        "CCS-2026-000001",
        "CCS-2026-000002",
        "CCS-2026-000003",
    ]
    numbers = [f"CCS-2026-00000{n}" for n in range(1, 5)]
    tickets = [await store.tickets.by_number(number) for number in numbers]
    assert {ticket.incident_key for ticket in tickets if ticket} == {
        "webex-calling:CCS-2026-000001"
    }


async def test_other_products_and_later_reports_are_not_grouped(
    bot: Transcript, four_customers: Directory, store: Store
) -> None:
    for index in range(2):
        await report_by_card(bot, contact(four_customers, index), since="")
    await report_by_card(bot, contact(four_customers, 2), since="", product="microsoft-calling")
    bot.now += timedelta(minutes=30)
    await report_by_card(bot, contact(four_customers, 3), since="")

    kinds = [row.kind for row in await outbox(store) if row.kind != "conversation"]
    assert kinds == ["channel"] * 4


async def test_members_are_posted_into_the_grouped_alerts_thread(
    bot: Transcript, four_customers: Directory, store: Store
) -> None:
    for index in range(4):
        await report_by_card(bot, contact(four_customers, index), since="")
    await store.conversations.save(
        channel="teams",
        conversation_id="a:1",
        kind="personal",
        user_id="u",
        reference={"serviceUrl": "https://smba.example/", "conversation": {"id": "a:1"}},
        now=bot.now,
    )
    teams = FakeChannel()
    dispatcher = Dispatcher(
        store=store,
        senders={Channel.TEAMS: teams},
        posters={Channel.TEAMS: teams},
        notifier=bot.services.notify,
        clock=lambda: bot.now,
    )

    await dispatcher.deliver_due()
    bot.now += timedelta(seconds=10)
    await dispatcher.deliver_due()  # members whose incident was posted in the same pass

    titles = [text.split("\n")[0] for _target, text in teams.posts]
    assert titles == [
        "**CCS-2026-000001 · Fault · Demo Customer GmbH**",
        "**CCS-2026-000002 · Fault · ACME AG**",
        "**Possible outage: Webex Calling**",
    ]
    into_incident = [
        texts[0].split("\n")[0] for ref, texts in teams.sent if ref == {"thread": "root-3"}
    ]
    assert into_incident == [
        "**CCS-2026-000003 · Fault · Globex GmbH**",
        "**CCS-2026-000004 · Fault · Initech**",
    ]
