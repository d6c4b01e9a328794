"""Status by chat command, and isolation: a contact learns nothing about another organisation's
tickets — the answer is the same as for a ticket that does not exist."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.model import Outgoing, Sender
from storage.directory import Directory
from storage.repositories import Store
from tests.transcript import Transcript, report_by_card, staff_member

OURS, THEIRS, NOBODYS = "CCS-2026-000001", "CCS-2026-000002", "CCS-2026-000099"


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+01:00")


@pytest.fixture
def two_customers(directory: Directory) -> Directory:
    demo = directory.customers[0]
    acme = demo.model_copy(
        update={
            "key": "acme",
            "name": "ACME AG",
            "teams_tenant_ids": ("tenant-acme",),
            "webex_org_ids": (),
            "email_domains": (),
        }
    )
    return directory.model_copy(update={"customers": (demo, acme)})


def contact(directory: Directory, index: int, name: str) -> Sender:
    customer = directory.customers[index]
    return Sender(user_id=f"29:{name}", name=name, tenant_id=customer.teams_tenant_ids[0])


@pytest.fixture
async def bot(two_customers: Directory, store: Store, tmp_path: Path) -> Transcript:
    await store.customers.sync(customers=two_customers.customers, now=vienna("2026-01-01T00:00"))
    transcript = Transcript(two_customers, store, blob_root=tmp_path / "files")
    transcript.now = vienna("2026-01-07T15:30")
    await report_by_card(transcript, contact(two_customers, 0, "Clara"))
    await report_by_card(
        transcript, contact(two_customers, 1, "Anton"), product="microsoft-calling"
    )
    transcript.now += timedelta(minutes=30)
    return transcript


COMMANDS = ["status {n}", "add logs {n}", "why {n}", "ack {n}", "resolve {n} done", "show {n}"]


@pytest.mark.parametrize("command", COMMANDS)
async def test_another_organisations_ticket_looks_like_no_ticket(
    bot: Transcript, two_customers: Directory, store: Store, command: str
) -> None:
    clara = contact(two_customers, 0, "Clara")
    theirs = await store.tickets.by_number(THEIRS)
    assert theirs is not None and theirs.id is not None
    events_before = len(await store.tickets.events(theirs.id))

    about_theirs = await bot.say(command.format(n=THEIRS), sender=clara)
    about_nobodys = await bot.say(command.format(n=NOBODYS), sender=clara)

    def seen(answers: list[Outgoing]) -> list[str]:
        return [a.text.replace(THEIRS, "N").replace(NOBODYS, "N") for a in answers]

    assert seen(about_theirs) == seen(about_nobodys)
    assert "ACME" not in " ".join(seen(about_theirs))
    assert "Microsoft" not in " ".join(seen(about_theirs))
    assert len(await store.tickets.events(theirs.id)) == events_before


async def test_a_contact_sees_the_state_of_their_ticket(
    bot: Transcript, two_customers: Directory
) -> None:
    [answer] = await bot.say(f"status {OURS}", sender=contact(two_customers, 0, "Clara"))
    assert answer.card is not None
    facts = {f.label: f.value for f in answer.card.facts}
    assert facts["State"] == "new"
    assert facts["Reaction"] == "reaction due by Thu 10:30"
    assert facts["Waiting for"] == "an engineer to pick it up"


async def test_my_tickets_lists_only_mine(bot: Transcript, two_customers: Directory) -> None:
    [answer] = await bot.say("my tickets", sender=contact(two_customers, 0, "Clara"))
    assert answer.card is not None
    assert [f.label for f in answer.card.facts] == [OURS]


async def test_managers_see_the_whole_service_and_why(
    bot: Transcript, two_customers: Directory
) -> None:
    manager = staff_member(two_customers, "manager")
    await bot.say(f"ack {OURS}", sender=staff_member(two_customers, "engineer"))

    [overview] = await bot.say("status", sender=manager)
    [acme] = await bot.say("status acme", sender=manager)
    [why] = await bot.say(f"why {THEIRS}", sender=manager)

    assert overview.card is not None and acme.card is not None
    facts = {f.label: f.value for f in overview.card.facts}
    assert (facts["Open"], facts["new"], facts["in progress"]) == ("2", "1", "1")
    assert facts["By priority"] == "P2 2"
    assert {f.label: f.value for f in acme.card.facts}["Open"] == "1"
    assert "Wed 07.01.2026 15:30 – Wed 07.01.2026 17:00: counted 1 hr 30 mins" in why.text
