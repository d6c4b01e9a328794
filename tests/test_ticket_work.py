"""What engineers see of a ticket and how they close it, as transcripts on both channels: the
alert and `show` carry what the customer told us, the SLA state and the files with download
links; only buttons that still apply are offered; Resolve asks for the resolution, which the
customer receives."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import col, select

from adapters.cards import render_adaptive_card
from adapters.model import Card, Channel, Outgoing, Sender, outgoing_from_json, without_marks
from storage.directory import Directory
from storage.links import SignedFiles
from storage.models import OutboxRow, TicketStatus
from storage.repositories import Store
from tests.transcript import (
    GOOD_FORM,
    FakeFiles,
    Transcript,
    customer_contact,
    report_by_card,
    staff_member,
    webex_contact,
    webex_staff,
)

NUMBER = "CCS-2026-000001"
LINK = re.compile(r"\]\((https://bot\.example/files/logfiles/[^)\s]+)\)")


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+01:00")


@pytest.fixture(params=[Channel.TEAMS, Channel.WEBEX], ids=["teams", "webex"])
def channel(request: pytest.FixtureRequest) -> Channel:
    return Channel(request.param)


@pytest.fixture
def contact(directory: Directory, channel: Channel) -> Sender:
    return webex_contact(directory) if channel is Channel.WEBEX else customer_contact(directory)


@pytest.fixture
def engineer(directory: Directory, channel: Channel) -> Sender:
    if channel is Channel.WEBEX:
        return webex_staff(directory, "engineer")
    return staff_member(directory, "engineer")


@pytest.fixture
def files() -> FakeFiles:
    return FakeFiles()


@pytest.fixture
async def bot(
    directory: Directory,
    store: Store,
    tmp_path: Path,
    channel: Channel,
    contact: Sender,
    files: FakeFiles,
) -> Transcript:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01T00:00"))
    transcript = Transcript(directory, store, blob_root=tmp_path / "files")
    transcript.services.links = SignedFiles(
        root=tmp_path / "reports", secret=b"k" * 32, base_url="https://bot.example"
    )
    transcript.services.file_sources[channel] = files
    transcript.now = vienna("2026-01-07T15:30")
    await report_by_card(transcript, contact, channel=channel)
    transcript.now += timedelta(minutes=20)
    return transcript


async def outbox(bot: Transcript, kind: str | None = None) -> list[OutboxRow]:
    async with bot.services.store.database.session() as session:
        rows = list((await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all())
    return [row for row in rows if kind is None or row.kind == kind]


def answers_of(rows: list[OutboxRow]) -> list[Outgoing]:
    return [outgoing_from_json(answer) for row in rows for answer in row.payload["answers"]]


async def latest_card(bot: Transcript) -> Card:
    """The alert card as the engineers' channel shows it now (the last update, else the post)."""
    [*_, last] = answers_of(await outbox(bot, "update")) or answers_of(await outbox(bot, "channel"))
    assert last.card is not None
    return last.card


def rendered(card: Card) -> dict[str, Any]:
    return render_adaptive_card(card, version="1.3")


def buttons(card: Card) -> list[str]:
    """Button titles, those inside an unfolding button after a `>`."""
    found = []
    for action in rendered(card).get("actions", ()):
        found.append(action["title"])
        found += [f"> {inner['title']}" for inner in action.get("card", {}).get("actions", ())]
    return found


def assert_renders_cleanly(card: Card) -> None:
    """No empty fact sets, and every button does something: a submit sends a command, an
    unfolding button holds a field and a submit."""
    body = rendered(card)
    for item in body["body"]:
        assert item["type"] != "FactSet" or item["facts"]
    for action in body.get("actions", ()):
        if action["type"] == "Action.Submit":
            assert action["data"]["command"]
        else:
            assert action["type"] == "Action.ShowCard"
            inner = action["card"]
            assert inner["body"] and inner["actions"]
            assert all(
                a["type"] == "Action.Submit" and a["data"]["command"] for a in inner["actions"]
            )


async def say(bot: Transcript, text: str, sender: Sender, channel: Channel, **options: Any) -> str:
    answers = await bot.say(text, sender=sender, channel=channel, **options)
    return "\n".join(answer.text for answer in answers)


async def test_the_alert_carries_what_the_customer_told_us_and_the_sla_state(
    bot: Transcript, engineer: Sender, channel: Channel
) -> None:
    [posted] = answers_of(await outbox(bot, "channel"))
    assert posted.card is not None
    facts = {fact.label: without_marks(fact.value) for fact in posted.card.facts}

    assert facts["Since"] == "today 09:30"
    assert facts["Tried"] == "Restarted the phones and the router"
    assert facts["Reported by"] == "Clara Contact (+43 664 1234567)"
    assert facts["Reaction time"] == "0 mins of 4 hrs used, 4 hrs left"
    assert facts["Next warning"] == "50 % at tomorrow 08:30"
    assert_renders_cleanly(posted.card)

    [shown] = await bot.say(f"show {NUMBER}", sender=engineer, channel=channel)
    assert shown.card is not None
    shown_facts = {fact.label: without_marks(fact.value) for fact in shown.card.facts}
    assert shown_facts["Reaction time"] == "20 mins of 4 hrs used, 3 hrs 40 mins left"
    assert shown_facts["Owner"] == "–"


async def test_the_products_follow_up_answers_are_on_the_alert(
    directory: Directory, store: Store, tmp_path: Path, channel: Channel, contact: Sender
) -> None:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01T00:00"))
    bot = Transcript(directory, store, blob_root=tmp_path / "files")
    bot.now = vienna("2026-01-07T15:30")
    await bot.say("report a fault", sender=contact, channel=channel)
    await bot.say("", sender=contact, value=GOOD_FORM, channel=channel)
    details = {"action": "submit_followups", "tracking_id": "ROUTER_6543 <@all>"}
    await bot.say("", sender=contact, value=details, channel=channel)
    await bot.say("", sender=contact, value={"action": "confirm_report"}, channel=channel)

    [posted] = answers_of(await outbox(bot, "channel"))
    assert posted.card is not None
    [tracking] = [f for f in posted.card.facts if f.label.startswith("Tracking ID")]
    assert without_marks(tracking.value) == "ROUTER_6543 <@all>"
    # customer text: shown literally in the quoted box, never as markdown (no mention starts)
    box = next(i for i in rendered(posted.card)["body"] if i["type"] == "Container")
    runs = [run["text"] for item in box["items"] for run in item.get("inlines", ())]
    assert "ROUTER_6543 <@all>" in runs


async def test_buttons_that_no_longer_apply_disappear(
    bot: Transcript, engineer: Sender, channel: Channel, directory: Directory
) -> None:
    assert buttons(await latest_card(bot)) == [
        "Acknowledge",
        "Take",
        "Ask for logs",
        "Resolve",
        f"> Resolve {NUMBER}",
    ]

    await bot.say(f"ack {NUMBER}", sender=engineer, channel=channel)
    assert buttons(await latest_card(bot)) == ["Ask for logs", "Resolve", f"> Resolve {NUMBER}"]
    # acknowledging made Megan the owner: neither the channel's card nor her `show` offers Take
    [mine] = await bot.say(f"show {NUMBER}", sender=engineer, channel=channel)
    assert mine.card is not None
    assert "Take" not in buttons(mine.card)

    await bot.say(f"ask-logs {NUMBER} the HAR file", sender=engineer, channel=channel)
    assert buttons(await latest_card(bot)) == ["Resolve", f"> Resolve {NUMBER}"]

    await bot.say(f"resolve {NUMBER} The trunk was restarted", sender=engineer, channel=channel)
    card = await latest_card(bot)
    assert buttons(card) == []
    assert "actions" not in rendered(card)


async def test_show_offers_take_to_an_engineer_who_does_not_own_it(
    bot: Transcript, engineer: Sender, channel: Channel
) -> None:
    await bot.say(f"assign {NUMBER} Adele", sender=engineer, channel=channel)
    assert "Take" not in buttons(await latest_card(bot))  # the channel's card: it has an owner

    [shown] = await bot.say(f"show {NUMBER}", sender=engineer, channel=channel)
    assert shown.card is not None
    assert "Take" in buttons(shown.card)


async def test_the_resolve_button_asks_for_the_resolution_the_customer_receives(
    bot: Transcript, engineer: Sender, channel: Channel
) -> None:
    card = await latest_card(bot)
    [unfold] = [a for a in rendered(card)["actions"] if a["type"] == "Action.ShowCard"]
    [field] = unfold["card"]["body"]
    assert field["type"] == "Input.Text" and field["isRequired"] is True
    assert field["errorMessage"] == "Please write what was done: the customer receives it."
    [confirm] = unfold["card"]["actions"]

    # the card sends the button's data merged with the field
    value = {**confirm["data"], field["id"]: "The SIP trunk was restarted.\nCalls work again."}
    answer = await say(bot, "", engineer, channel, value=value)

    assert answer == f"{NUMBER} resolved."
    told = [without_marks(a.text) for a in answers_of(await outbox(bot, "conversation"))]
    assert told[-1].startswith(
        f"Your ticket {NUMBER} is resolved:\n\nThe SIP trunk was restarted.\nCalls work again.\n\n"
    )
    ticket = await bot.services.store.tickets.by_number(NUMBER)
    assert ticket is not None and ticket.status == TicketStatus.RESOLVED


async def test_a_resolve_without_a_summary_asks_for_it(
    bot: Transcript, engineer: Sender, channel: Channel
) -> None:
    asked = await say(bot, f"resolve {NUMBER}", engineer, channel)
    assert asked.startswith(f"What was done to resolve {NUMBER}?")
    assert (await bot.services.store.tickets.by_number(NUMBER)).status == TicketStatus.OPEN  # type: ignore[union-attr]

    done = await say(bot, "Licence was missing; assigned it", engineer, channel)

    assert done == f"{NUMBER} resolved."
    told = [without_marks(a.text) for a in answers_of(await outbox(bot, "conversation"))]
    assert told[-1].startswith(
        f"Your ticket {NUMBER} is resolved:\n\nLicence was missing; assigned it\n\n"
    )


async def test_an_empty_resolution_field_asks_instead_of_resolving(
    bot: Transcript, engineer: Sender, channel: Channel
) -> None:
    value = {"command": f"resolve {NUMBER}", "resolution": "   "}
    asked = await say(bot, "", engineer, channel, value=value)
    assert asked.startswith(f"What was done to resolve {NUMBER}?")

    cancelled = await say(bot, "cancel", engineer, channel)

    assert cancelled.startswith("Cancelled.")
    ticket = await bot.services.store.tickets.by_number(NUMBER)
    assert ticket is not None and ticket.status == TicketStatus.OPEN
    assert all("resolved" not in a.text for a in answers_of(await outbox(bot, "conversation")))


async def test_files_are_listed_with_size_time_and_a_download_link(
    bot: Transcript, contact: Sender, engineer: Sender, channel: Channel, files: FakeFiles
) -> None:
    sent = files.add("Größe trace.log", b"INVITE 503\n" * 150)
    await bot.say("", sender=contact, files=(sent,), channel=channel)
    await bot.downloaded()

    [notice] = answers_of(await outbox(bot, "thread"))
    lines = without_marks(notice.text).splitlines()
    assert lines[0] == f"📎 Clara Contact sent for {NUMBER}:"
    assert re.fullmatch(r"- \[Groe_trace\.log\]\(https://bot\.example/files/logfiles/\d+\?"
                        r"ticket=\d+&expires=\d+&sig=[0-9a-f]{64}\) · 1\.6 KB · today 15:50",
                        lines[1])  # fmt: skip

    [shown] = await bot.say(f"show {NUMBER}", sender=engineer, channel=channel)
    assert shown.card is not None
    assert shown.card.footer[0] == "📎 **Files**"
    assert LINK.search(shown.card.footer[1])
    assert LINK.search(shown.text)
    assert LINK.search("\n".join((await latest_card(bot)).footer))
    url = LINK.search(shown.card.footer[1])[1]  # type: ignore[index]
    links = bot.services.links
    assert links is not None
    query = dict(part.split("=") for part in urlsplit(url).query.split("&"))
    grant = links.logfile_if_valid(
        urlsplit(url).path.rsplit("/", 1)[1], query["ticket"], query["expires"], query["sig"],
        bot.now,
    )  # fmt: skip
    ticket = await bot.services.store.tickets.by_number(NUMBER)
    assert grant is not None and ticket is not None and grant.ticket_id == ticket.id


async def test_a_german_engineer_reads_show_in_german(
    bot: Transcript, engineer: Sender, channel: Channel, contact: Sender, files: FakeFiles
) -> None:
    await bot.say("", sender=contact, files=(files.add("trace.log", b"x" * 1600),), channel=channel)
    await bot.downloaded()
    await bot.say("language de", sender=engineer, channel=channel)

    [shown] = await bot.say(f"zeig {NUMBER}", sender=engineer, channel=channel)

    assert shown.card is not None
    facts = {fact.label: fact.value for fact in shown.card.facts}
    assert facts["Reaktionszeit"] == "20 Min. von 4 Std. verbraucht, 3 Std. 40 Min. übrig"
    assert facts["Nächste Warnung"] == "50 % um morgen 08:30"
    assert shown.card.footer[0] == "📎 **Dateien**"
    assert " · 1,6 KB · heute 15:50" in shown.card.footer[1]


async def test_why_leaves_out_stretches_shorter_than_a_minute(
    directory: Directory,
    store: Store,
    tmp_path: Path,
    channel: Channel,
    contact: Sender,
    engineer: Sender,
) -> None:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01T00:00"))
    bot = Transcript(directory, store, blob_root=tmp_path / "files")
    bot.now = vienna("2026-01-07T10:00")
    await report_by_card(bot, contact, channel=channel)
    bot.now += timedelta(seconds=20)  # logs asked for at once, and sent at once
    await bot.say(f"ask-logs {NUMBER}", sender=engineer, channel=channel)
    bot.now += timedelta(seconds=20)
    await bot.say("Here is what you asked for", sender=contact, channel=channel)
    bot.now += timedelta(hours=1)

    why = await say(bot, f"why {NUMBER}", engineer, channel)

    assert "10:00 – Wed 07.01.2026 10:00" not in why
    assert "0 mins" not in why
    assert "Wed 07.01.2026 10:00 – Wed 07.01.2026 14:00: counted 3 hrs 59 mins" in why


async def test_a_card_lists_the_newest_ten_files_and_counts_the_rest(
    bot: Transcript, contact: Sender, engineer: Sender, channel: Channel, files: FakeFiles
) -> None:
    for n in range(12):
        sent = files.add(f"trace-{n:02d}.log", f"trace {n}".encode())
        await bot.say("", sender=contact, files=(sent,), channel=channel)
        await bot.downloaded()

    [shown] = await bot.say(f"show {NUMBER}", sender=engineer, channel=channel)

    assert shown.card is not None
    _heading, more, *listed = shown.card.footer
    assert more == "- … and 2 earlier file(s)"
    assert [LINK.search(line) is not None for line in listed] == [True] * 10
    assert "trace-11.log" in listed[-1] and "trace-02.log" in listed[0]
