"""Effort on tickets and the monthly billable-effort report, as transcripts with the injected
clock; the figures are checked against values worked out by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from adapters.model import (
    Channel,
    ConversationRef,
    Incoming,
    OpenUrlAction,
    Sender,
    without_marks,
)
from storage.directory import Directory, Priority
from storage.links import SignedFiles
from storage.repositories import Store
from storage.tickets import NewTicket
from tests.samples import sample_ticket
from tests.transcript import Transcript, customer_contact, staff_member, webex_staff

VIENNA = ZoneInfo("Europe/Vienna")
CR1, CR2, FAULT, ACME_CR = (f"CCS-2026-00000{n}" for n in range(1, 5))


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VIENNA)


@pytest.fixture
def two_customers(directory: Directory) -> Directory:
    demo = directory.customers[0]
    acme = demo.model_copy(
        update={
            "key": "acme",
            "name": "Acme AG",
            "teams_tenant_ids": ("tenant-acme",),
            "webex_org_ids": (),
            "email_domains": (),
        }
    )
    return directory.model_copy(update={"customers": (demo, acme)})


def _ticket(customer: str, kind: str) -> NewTicket:
    return sample_ticket(
        customer_key=customer,
        kind=kind,
        product="microsoft-calling",
        priority=Priority.P3,
        description="Add a new user to the hunt group",
        reporter_user_id=f"29:reporter-{customer}",
        reporter_name="Reporter",
        conversation_id=f"personal:29:reporter-{customer}",
    )


@pytest.fixture
async def bot(two_customers: Directory, store: Store, tmp_path: Path) -> Transcript:
    await store.customers.sync(customers=two_customers.customers, now=vienna("2026-01-01 00:00"))
    for customer, kind in (
        ("demo", "change_request"),
        ("demo", "change_request"),
        ("demo", "fault"),
        ("acme", "change_request"),
    ):
        await store.tickets.create(
            _ticket(customer, kind), prefix="CCS", year=2026, now=vienna("2026-02-20 09:00")
        )
    transcript = Transcript(two_customers, store, blob_root=tmp_path / "files")
    transcript.services.links = SignedFiles(
        root=tmp_path / "reports", secret=b"k" * 32, base_url="https://bot.example"
    )
    return transcript


@pytest.fixture
def erika(directory: Directory) -> Sender:
    return staff_member(directory, "engineer")


@pytest.fixture
def manager(directory: Directory) -> Sender:
    return staff_member(directory, "manager")


async def log(bot: Transcript, erika: Sender, when: str, text: str) -> str:
    bot.now = vienna(when)
    [answer] = await bot.say(text, sender=erika)
    return answer.text


async def test_effort_is_logged_totalled_and_shown(bot: Transcript, erika: Sender) -> None:
    first = await log(bot, erika, "2026-03-02 10:00", f"effort {CR1} 45m Added the user")
    assert first == (f"Logged 45 mins on {CR1}, billable (change request); total 45 mins (0.75 h).")
    second = await log(bot, erika, "2026-03-03 11:00", f"effort {CR1} 1h30m Hunt group rework")
    assert second.endswith("total 2 hrs 15 mins (2.25 h).")
    fault = await log(bot, erika, "2026-03-03 12:00", f"effort {FAULT} 2h Trace analysis")
    assert fault == f"Logged 2 hrs on {FAULT}, not billed (fault); total 2 hrs (2.00 h)."

    [shown] = await bot.say(f"effort {CR1}", sender=erika)
    assert shown.card is not None
    assert shown.card.title == f"Effort on {CR1}: 2 hrs 15 mins (2.25 h), billable (change request)"
    assert [(f.label, f.value) for f in shown.card.facts] == [
        ("02.03.2026 10:00", "45 mins · Megan Bowen · Added the user"),
        ("03.03.2026 11:00", "1 hr 30 mins · Megan Bowen · Hunt group rework"),
    ]
    [none] = await bot.say(f"effort {CR2}", sender=erika)
    assert none.text == f"No effort logged on {CR2} yet."


@pytest.mark.parametrize("channel", [Channel.TEAMS, Channel.WEBEX])
@pytest.mark.parametrize(
    "written", ["1,5h", "90 min", "1 h 30", "1:30", "anderthalb Stunden", "1.5 hours"]
)
async def test_effort_is_taken_as_people_write_it(
    bot: Transcript, directory: Directory, store: Store, channel: Channel, written: str
) -> None:
    engineer = webex_staff(directory, "engineer") if channel is Channel.WEBEX else None
    sender = engineer or staff_member(directory, "engineer")
    bot.now = vienna("2026-03-02 10:00")

    [logged] = await bot.say(f"effort {CR1} {written} dial plan", sender=sender, channel=channel)

    assert logged.text.startswith(f"Logged 1 hr 30 mins on {CR1}")
    [shown] = await bot.say(f"effort {CR1}", sender=sender, channel=channel)
    assert shown.card is not None
    assert [fact.value for fact in shown.card.facts] == ["1 hr 30 mins · Megan Bowen · dial plan"]


async def test_bad_durations_are_explained_and_nothing_is_logged(
    bot: Transcript, erika: Sender, store: Store
) -> None:
    bad = await log(bot, erika, "2026-03-02 10:00", f"effort {CR1} a while")
    assert "is not a duration like 4h, 90m or 1h30m" in bad
    too_much = await log(bot, erika, "2026-03-02 10:00", f"effort {CR1} 80h")
    assert "more than a day" in too_much
    [which] = await bot.say("effort 45m", sender=erika)
    assert "Which ticket?" in which.text
    ticket = await store.tickets.by_number(CR1)
    assert ticket is not None and ticket.id is not None
    assert await store.efforts.total_minutes(ticket.id) == 0


async def test_a_retried_message_logs_its_effort_once(
    bot: Transcript, erika: Sender, store: Store
) -> None:
    bot.now = vienna("2026-03-02 10:00")
    incoming = Incoming(
        channel=Channel.TEAMS,
        event_id="activity-42",
        conversation=ConversationRef(Channel.TEAMS, f"personal:{erika.user_id}"),
        sender=erika,
        text=f"effort {CR1} 45m Added the user",
        received_at=bot.now,
    )
    [first] = await bot.router.handle(incoming)
    [again] = await bot.router.handle(incoming)  # the channel delivers it a second time

    assert first.text.startswith(f"Logged 45 mins on {CR1}")
    assert again.text == (
        f"Already logged 45 mins on {CR1}, billable (change request); total 45 mins (0.75 h)."
    )
    ticket = await store.tickets.by_number(CR1)
    assert ticket is not None and ticket.id is not None
    assert len(await store.efforts.of_ticket(ticket.id)) == 1


async def test_the_monthly_billing_report_per_customer_with_csv(
    bot: Transcript, erika: Sender, manager: Sender
) -> None:
    # February: 20 minutes on CR1 late on the last evening (local time).
    await log(bot, erika, "2026-02-28 23:30", f"effort {CR1} 20m Preparation")
    # March (Vienna): demo CR1 45m + 1h30m, CR2 30m just after midnight on 1 March (still
    # February in UTC), the fault 2h (not billed); acme CR 1h.
    await log(bot, erika, "2026-03-01 00:15", f"effort {CR2} 30m Night change")
    await log(bot, erika, "2026-03-02 10:00", f"effort {CR1} 45m Added the user")
    await log(bot, erika, "2026-03-03 11:00", f"effort {CR1} 1h30m Hunt group rework")
    await log(bot, erika, "2026-03-03 12:00", f"effort {FAULT} 2h Trace analysis")
    await log(bot, erika, "2026-03-05 09:00", f"effort {ACME_CR} 1h New IVR prompt")
    bot.now = vienna("2026-03-31 16:00")

    [march] = await bot.say("billing 2026-03", sender=manager)

    assert march.card is not None
    assert march.card.title == "Billable effort March 2026"
    # demo: 45 + 90 + 30 = 165 min in 3 entries on 2 change requests; acme: 60 min; 225 in all
    assert march.card.paragraphs == ("Billable in total: 3 hrs 45 mins (3.75 h).",)
    assert [(f.label, f.value) for f in march.card.facts] == [
        ("Acme AG", "1 change request, 1 hr (1.00 h) in 1 entry"),
        (
            "Demo Customer GmbH",
            "2 change requests, 2 hrs 45 mins (2.75 h) in 3 entries; "
            "faults (not billed): 2 hrs (2.00 h)",
        ),
    ]
    [csv_link] = march.card.actions
    assert isinstance(csv_link, OpenUrlAction)
    rows = _download(bot, csv_link.url).splitlines()
    assert rows[0] == "customer,ticket,kind,billable,logged_at,minutes,hours,by,note"
    assert rows[1:] == [
        f"acme,{ACME_CR},change_request,yes,2026-03-05T09:00+01:00,60,1.00,"
        "meganb@example.com,New IVR prompt",
        f"demo,{CR1},change_request,yes,2026-03-02T10:00+01:00,45,0.75,"
        "meganb@example.com,Added the user",
        f"demo,{CR1},change_request,yes,2026-03-03T11:00+01:00,90,1.50,"
        "meganb@example.com,Hunt group rework",
        f"demo,{CR2},change_request,yes,2026-03-01T00:15+01:00,30,0.50,"
        "meganb@example.com,Night change",
        f"demo,{FAULT},fault,no,2026-03-03T12:00+01:00,120,2.00,meganb@example.com,Trace analysis",
    ]

    [february] = await bot.say("billing 2026-02 demo", sender=manager)
    assert february.card is not None
    assert february.card.title == "Billable effort February 2026 – Demo Customer GmbH"
    assert [(f.label, f.value) for f in february.card.facts] == [
        ("Demo Customer GmbH", "1 change request, 20 mins (0.33 h) in 1 entry"),
    ]
    [acme] = await bot.say("billing 2026-03 acme", sender=manager)
    assert acme.card is not None
    assert [f.label for f in acme.card.facts] == ["Acme AG"]
    [this_month] = await bot.say("billing", sender=manager)  # defaults to March
    assert this_month.card is not None and this_month.card.title == "Billable effort March 2026"
    [empty] = await bot.say("billing 2026-04", sender=manager)
    assert empty.text == "**Billable effort April 2026**: no effort logged."
    [unknown] = await bot.say("billing 2026-03 globex", sender=manager)
    assert without_marks(unknown.text) == "I know no customer called “globex”."


def _download(bot: Transcript, url: str) -> str:
    links = bot.services.links
    assert links is not None
    name = urlsplit(url).path.rsplit("/", 1)[1]
    query = dict(part.split("=") for part in urlsplit(url).query.split("&"))
    path = links.path_if_valid(name, query["expires"], query["sig"], bot.now)
    assert path is not None
    return path.read_text(encoding="utf-8")


async def test_roles(bot: Transcript, erika: Sender, directory: Directory, store: Store) -> None:
    clara = customer_contact(directory)
    bot.now = vienna("2026-03-02 10:00")
    [contact_effort] = await bot.say(f"effort {CR1} 45m", sender=clara)
    # not logged: about their own open ticket, it is a message for its engineers
    assert contact_effort.text == f"Added to {CR1}; the engineers see it."
    [contact_billing] = await bot.say("billing 2026-03", sender=clara)
    assert "That is something managers do" in contact_billing.text
    [engineer_billing] = await bot.say("billing 2026-03", sender=erika)
    assert "That is something managers do" in engineer_billing.text
    ticket = await store.tickets.by_number(CR1)
    assert ticket is not None and ticket.id is not None
    assert await store.efforts.total_minutes(ticket.id) == 0
