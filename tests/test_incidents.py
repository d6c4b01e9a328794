"""Mass incidents: several customers reporting one product within minutes make one grouped
alert in the engineers' channel instead of a flood; the tickets stay separate."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from adapters.model import Channel, ConversationRef, Outgoing, Sender
from bot.outbox import MEMBERS_LISTED, Dispatcher
from dialogs.notify import MEMBER_DIGEST_EVERY, next_digest_slot
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
    assert "3 customers reported Webex Calling within 10 mins" in card["paragraphs"][0]
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


async def dispatcher_with_teams(bot: Transcript, store: Store) -> tuple[Dispatcher, FakeChannel]:
    """A dispatcher delivering to a fake Teams (which knows one conversation for its route)."""
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
    return dispatcher, teams


def into_thread(teams: FakeChannel, root: str) -> list[list[str]]:
    """The lines of each message sent into the thread that starts with post `root`."""
    return [texts[0].split("\n") for ref, texts in teams.sent if ref == {"thread": root}]


async def test_members_reported_together_are_one_post_in_the_grouped_alerts_thread(
    bot: Transcript, four_customers: Directory, store: Store
) -> None:
    for index in range(4):
        await report_by_card(bot, contact(four_customers, index), since="")
    dispatcher, teams = await dispatcher_with_teams(bot, store)

    await dispatcher.deliver_due()

    titles = [text.split("\n")[0] for _target, text in teams.posts]
    assert titles == [
        "**CCS-2026-000001 · Fault · Demo Customer GmbH**",
        "**CCS-2026-000002 · Fault · ACME AG**",
        "**Possible outage: Webex Calling**",
    ]
    [members] = into_thread(teams, "root-3")
    assert members[0] == "**2 tickets joined this possible outage**"
    assert members[1].startswith("- CCS-2026-000003: Globex GmbH · P2 · reaction ")
    assert members[2].startswith("- CCS-2026-000004: Initech · P2 · reaction ")
    assert len(members) == 3

    # A member's later news follows it into the incident's thread.
    ticket = await store.tickets.by_number("CCS-2026-000004")
    assert ticket is not None
    note = Outgoing(ConversationRef(Channel.TEAMS, ""), "Customer uploaded logs")
    await bot.services.notify.to_thread(ticket, [note], event="upload-1")
    await dispatcher.deliver_due()
    assert into_thread(teams, "root-3")[-1] == ["Customer uploaded logs"]


async def test_a_lone_member_is_posted_as_its_own_card_at_the_next_slot(
    bot: Transcript, four_customers: Directory, store: Store
) -> None:
    bot.now = NOW + timedelta(seconds=5)
    for index in range(3):
        await report_by_card(bot, contact(four_customers, index), since="")
    dispatcher, teams = await dispatcher_with_teams(bot, store)

    await dispatcher.deliver_due()
    assert [text.split("\n")[0] for _target, text in teams.posts][-1] == (
        "**Possible outage: Webex Calling**"
    )
    assert into_thread(teams, "root-3") == []  # members wait for the slot to end

    bot.now = NOW + MEMBER_DIGEST_EVERY
    await dispatcher.deliver_due()
    [member] = into_thread(teams, "root-3")
    assert member[0] == "**CCS-2026-000003 · Fault · Globex GmbH**"  # the full card


async def test_a_storm_of_members_is_one_post_that_lists_the_first_ones(
    bot: Transcript, four_customers: Directory, store: Store
) -> None:
    reports = 3 + MEMBERS_LISTED + 5
    for index in range(reports):
        sender = contact(four_customers, index % 4)
        sender = replace(sender, user_id=f"{sender.user_id}-{index}")
        await report_by_card(bot, sender, since="")
    dispatcher, teams = await dispatcher_with_teams(bot, store)

    assert await dispatcher.deliver_due() == 3 + (reports - 2)  # 2 alerts, incident, members

    [members] = into_thread(teams, "root-3")
    assert members[0] == f"**{reports - 2} tickets joined this possible outage**"
    assert members[1] == f"The first {MEMBERS_LISTED} are listed; `queue` shows every open ticket."
    assert len(members) == 2 + MEMBERS_LISTED
    assert members[2].startswith("- CCS-2026-000003: ")
    pending = [row for row in await outbox(store) if row.status != "sent"]
    assert [row.kind for row in pending if row.kind != "conversation"] == []


def test_digest_slots_are_the_same_on_every_replica() -> None:
    start = datetime.fromisoformat("2026-01-07T09:00:00+00:00")
    assert next_digest_slot(start) == start
    assert next_digest_slot(start + timedelta(microseconds=1)) == start + MEMBER_DIGEST_EVERY
    assert next_digest_slot(start + MEMBER_DIGEST_EVERY - timedelta(seconds=1)) == (
        start + MEMBER_DIGEST_EVERY
    )


async def test_an_incident_stops_taking_reports_once_the_burst_is_over(
    bot: Transcript, four_customers: Directory, store: Store
) -> None:
    for index in range(3):
        await report_by_card(bot, contact(four_customers, index), since="")
    bot.now += timedelta(minutes=8)
    await report_by_card(bot, contact(four_customers, 3), since="")  # 4 customers in 10 min
    bot.now += timedelta(minutes=9)
    # Only this one and the one 9 minutes ago are within the last 10 minutes: not a burst.
    await report_by_card(bot, contact(four_customers, 0), since="")

    late = await store.tickets.by_number("CCS-2026-000005")
    joined = await store.tickets.by_number("CCS-2026-000004")
    assert joined is not None and joined.incident_key == "webex-calling:CCS-2026-000001"
    assert late is not None and late.incident_key is None
    kinds = [row.kind for row in await outbox(store) if row.kind != "conversation"]
    assert kinds[-1] == "channel"  # an alert of its own


async def test_a_malformed_member_alert_is_given_up_not_retried_forever(
    bot: Transcript, four_customers: Directory, store: Store
) -> None:
    for index in range(4):
        await report_by_card(bot, contact(four_customers, index), since="")
    dispatcher, _teams = await dispatcher_with_teams(bot, store)
    await dispatcher.deliver_due()
    ticket = await store.tickets.by_number("CCS-2026-000004")
    assert ticket is not None and ticket.incident_key is not None
    broken = await store.outbox.enqueue(
        dedupe_key="broken-member",
        channel="teams",
        kind="member",
        target={"incident": ticket.incident_key},
        payload={"answers": []},
        now=bot.now,
        ticket_id=ticket.id,
    )
    assert broken is not None

    assert await dispatcher.deliver_due() == 0

    row = await store.outbox.get(broken)
    assert row is not None and row.status == "dead"
    assert "malformed member alert" in (row.last_error or "")
