"""Contract duties on an injected clock: the schedule of a customer onboarded mid-year (due
dates worked out by hand: business days of SNAZ, holidays and weekends move to the next
opening), idempotent generation, reminders exactly once, completion from the chat, the review
result reaching the customer, the onboarding checklist, the contact's questions, roles."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from adapters.model import Sender, without_marks
from bot.duty_watch import DutyWatcher
from dialogs.duties import QUESTIONS, generate_all
from dialogs.managers import weekly_card
from storage.directory import Directory
from storage.duties import plan_duties
from storage.models import DutyRow, DutyStatus, OutboxRow
from storage.repositories import DialogKey, Store
from storage.sla import SlaCatalog
from tests.transcript import Transcript, customer_contact, staff_member

VIENNA = ZoneInfo("Europe/Vienna")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def vienna(text: str) -> datetime:
    """A local Vienna time (whatever its UTC offset that day)."""
    return datetime.fromisoformat(text).replace(tzinfo=VIENNA)


def local(instant: datetime) -> str:
    here = instant.astimezone(VIENNA)
    return f"{WEEKDAYS[here.weekday()]} {here:%d.%m.%Y %H:%M}"


@pytest.fixture
async def bot(directory: Directory, store: Store, tmp_path: Path) -> Transcript:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-07-01T00:00"))
    transcript = Transcript(directory, store, blob_root=tmp_path / "files")
    transcript.now = vienna("2026-07-15T09:00")  # Wednesday, the demo customer's first day
    return transcript


@pytest.fixture
def clara(directory: Directory) -> Sender:
    return customer_contact(directory)


@pytest.fixture
def megan(directory: Directory) -> Sender:
    return staff_member(directory, "engineer")


@pytest.fixture
def adele(directory: Directory) -> Sender:
    return staff_member(directory, "manager")


async def duties(store: Store) -> list[DutyRow]:
    async with store.database.session() as session:
        query = select(DutyRow).order_by(col(DutyRow.due_at), col(DutyRow.id))
        return list((await session.scalars(query)).all())


async def outbox(store: Store) -> list[OutboxRow]:
    async with store.database.session() as session:
        return list((await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all())


async def duty(store: Store, kind: str, period: str) -> DutyRow:
    return next(d for d in await duties(store) if (d.kind, d.period) == (kind, period))


def text_of(row: OutboxRow) -> str:
    return without_marks(str(row.payload["answers"][0]["text"]))  # as people read it


async def clara_has_a_chat(bot: Transcript, clara: Sender) -> None:
    """Clara has written to the bot in her 1:1 chat (the adapter stores the reference)."""
    await bot.say("whoami", sender=clara)
    await bot.services.store.conversations.save(
        channel="teams",
        conversation_id=f"personal:{clara.user_id}",
        kind="personal",
        user_id=clara.user_id,
        reference={"conversation": {"id": f"personal:{clara.user_id}"}},
        now=bot.now,
    )


# --- the schedule ------------------------------------------------------------------------------

# Demo customer: onboarded Wed 15.07.2026, CCSB defaults (review 6, update check 3, security
# updates 1 month; onboarding within 10 business days). Recurring duties fall on the 15th of
# the block's last month; 15.08. (Saturday, Assumption Day), 15.11. (Sunday) and 15.05.2027
# (Saturday; Monday 17.05.2027 is Whit Monday) move to the next business day's opening.
EXPECTED = {
    # onboarding: 10 business days counted from the first day: 16., 17., 20.–24., 27., 28., 29.
    **{
        (f"onboarding:{item}", "onboarding"): "Wed 29.07.2026 08:00"
        for item in (
            "admin-account",
            "provider-systems",
            "technical-contact",
            "service-contracts",
            "licensing",
        )
    },
    ("review", "2026-H2"): "Tue 15.12.2026 08:00",
    ("review", "2027-H1"): "Tue 15.06.2027 08:00",
    ("update-check", "2026-Q3"): "Tue 15.09.2026 08:00",
    ("update-check", "2026-Q4"): "Tue 15.12.2026 08:00",
    ("update-check", "2027-Q1"): "Mon 15.03.2027 08:00",
    ("update-check", "2027-Q2"): "Tue 15.06.2027 08:00",
    # the first security updates are due a month in (15.07. is the onboarding day itself)
    ("security-updates", "2026-08"): "Mon 17.08.2026 08:00",
    ("security-updates", "2026-09"): "Tue 15.09.2026 08:00",
    ("security-updates", "2026-10"): "Thu 15.10.2026 08:00",
    ("security-updates", "2026-11"): "Mon 16.11.2026 08:00",
    ("security-updates", "2026-12"): "Tue 15.12.2026 08:00",
    ("security-updates", "2027-01"): "Fri 15.01.2027 08:00",
    ("security-updates", "2027-02"): "Mon 15.02.2027 08:00",
    ("security-updates", "2027-03"): "Mon 15.03.2027 08:00",
    ("security-updates", "2027-04"): "Thu 15.04.2027 08:00",
    ("security-updates", "2027-05"): "Tue 18.05.2027 08:00",
    ("security-updates", "2027-06"): "Tue 15.06.2027 08:00",
    ("security-updates", "2027-07"): "Thu 15.07.2027 08:00",  # the 12-month horizon's end
}


async def test_a_year_of_duties_for_a_customer_onboarded_mid_year(bot: Transcript) -> None:
    store = bot.services.store

    assert await generate_all(bot.services) == len(EXPECTED)

    rows = await duties(store)
    assert {(d.kind, d.period): local(d.due_at) for d in rows} == EXPECTED
    assert all(d.status == DutyStatus.OPEN and d.owner is None for d in rows)
    parties = {d.kind.removeprefix("onboarding:"): d.party for d in rows}
    assert parties["admin-account"] == parties["provider-systems"] == "provider"
    assert parties["technical-contact"] == parties["service-contracts"] == "customer"
    assert parties["licensing"] == "customer"
    assert parties["review"] == "provider"

    # Again the same day, and from the watcher: nothing new, nothing moved.
    assert await generate_all(bot.services) == 0
    assert await DutyWatcher(bot.services).tick() == 1  # the onboarding reminder; nobody asked
    assert len(await duties(store)) == len(EXPECTED)

    # A month later the horizon has moved: 15.08.2027 is a Sunday (and Assumption Day).
    bot.now = vienna("2026-08-20T09:00")
    assert await generate_all(bot.services) == 1
    added = await duty(store, "security-updates", "2027-08")
    assert local(added.due_at) == "Mon 16.08.2027 08:00"
    assert {(d.kind, d.period): local(d.due_at) for d in await duties(store)} == {
        **EXPECTED,
        ("security-updates", "2027-08"): "Mon 16.08.2027 08:00",
    }


@pytest.mark.parametrize(
    ("onboarded", "kind", "period", "due"),
    [
        # 08.12. Immaculate Conception (Tuesday) -> Wednesday
        (date(2026, 6, 8), "security-updates", "2026-12", "Wed 09.12.2026 08:00"),
        (date(2026, 6, 8), "review", "2026-H2", "Wed 09.12.2026 08:00"),
        # 26.10. National Day (Monday) -> Tuesday
        (date(2026, 4, 26), "security-updates", "2026-10", "Tue 27.10.2026 08:00"),
        # 26.12. St Stephen's Day (Saturday), Sunday -> Monday 28.12.
        (date(2026, 4, 26), "update-check", "2026-Q4", "Mon 28.12.2026 08:00"),
        # the 31st clamps to 28.02. (Saturday) -> Monday 02.03.
        (date(2026, 1, 31), "security-updates", "2026-02", "Mon 02.03.2026 08:00"),
        # 24.12. is a closed day of SNAZ, 25./26. holidays, then the weekend -> Monday
        (date(2026, 6, 24), "review", "2026-H2", "Mon 28.12.2026 08:00"),
    ],
)
def test_due_dates_never_fall_on_a_holiday_or_weekend(
    directory: Directory, onboarded: date, kind: str, period: str, due: str
) -> None:
    customer = directory.customers[0].model_copy(update={"onboarded": onboarded})
    calendar = SlaCatalog(directory).calendar("SNAZ")
    schedule = directory.contracts["CCSB"].duties

    planned = plan_duties(customer, schedule, calendar, onboarded)

    found = {(p.kind, p.period): local(p.due_at) for p in planned}
    assert found[(kind, period)] == due


def test_non_calendar_intervals_count_from_the_onboarding_month(directory: Directory) -> None:
    schedule = directory.contracts["CCSB"].duties.model_copy(update={"review_every_months": 5})
    customer = directory.customers[0]
    calendar = SlaCatalog(directory).calendar("SNAZ")

    planned = plan_duties(customer, schedule, calendar, date(2026, 7, 15))

    reviews = [(p.period, local(p.due_at)) for p in planned if p.kind == "review"]
    assert reviews == [
        ("2026-07/5m", "Mon 16.11.2026 08:00"),
        ("2026-12/5m", "Thu 15.04.2027 08:00"),
    ]


def test_no_backlog_for_a_customer_onboarded_long_ago(directory: Directory) -> None:
    customer = directory.customers[0].model_copy(update={"onboarded": date(2024, 3, 15)})
    calendar = SlaCatalog(directory).calendar("SNAZ")

    planned = plan_duties(customer, directory.contracts["CCSB"].duties, calendar, date(2026, 7, 1))

    assert not [p for p in planned if p.kind.startswith("onboarding:")]
    assert min(p.due_at for p in planned) == vienna("2026-07-15T08:00")


# --- reminders ---------------------------------------------------------------------------------


async def test_reminders_before_due_and_when_overdue_go_out_once_each_on_time(
    bot: Transcript,
) -> None:
    store, watcher = bot.services.store, DutyWatcher(bot.services)
    await watcher.tick()
    august = await duty(store, "security-updates", "2026-08")  # due Mon 17.08. 08:00

    async def keys_at(when: str) -> list[str]:
        bot.now = vienna(when)
        await watcher.tick()
        return [r.dedupe_key for r in await outbox(store) if f":D{august.id}:" in r.dedupe_key]

    assert await keys_at("2026-08-07T16:59") == []  # Friday: 6 business days ahead
    assert await keys_at("2026-08-10T07:59") == []  # Monday, before the opening
    assert await keys_at("2026-08-10T08:00") == [f"duty:D{august.id}:before:engineers:teams"]
    assert await keys_at("2026-08-10T08:01") == [f"duty:D{august.id}:before:engineers:teams"]
    assert await keys_at("2026-08-14T16:00") == [f"duty:D{august.id}:before:engineers:teams"]
    # at night nothing new
    assert await keys_at("2026-08-17T03:00") == [f"duty:D{august.id}:before:engineers:teams"]
    assert await keys_at("2026-08-17T08:00") == [
        f"duty:D{august.id}:before:engineers:teams",
        f"duty:D{august.id}:overdue:engineers:teams",
    ]
    assert len(await keys_at("2026-08-18T10:00")) == 2  # never again

    row = await store.duties.get(august.id or 0)
    assert row is not None
    assert [k for k in row.reminders if not k.startswith("daily:")] == ["before", "overdue"]
    texts = [text_of(r) for r in await outbox(store) if f":D{august.id}:" in r.dedupe_key]
    assert texts[0].startswith(f"🗓️ Due Mon 17.08.2026 08:00: D{august.id} Security updates")
    assert "Demo Customer GmbH (unassigned)" in texts[0]
    assert texts[1].startswith("⏰ Overdue since Mon 17.08.2026 08:00")
    assert f"`done D{august.id} <summary>`" in texts[1]


async def test_a_missed_reminder_ahead_is_not_sent_once_the_duty_is_overdue(
    bot: Transcript,
) -> None:
    store, watcher = bot.services.store, DutyWatcher(bot.services)
    await watcher.tick()
    check = await duty(store, "update-check", "2026-Q3")  # due Tue 15.09., ahead Tue 08.09.

    bot.now = vienna("2026-09-15T09:30")  # the bot was down since the summer
    await watcher.tick()

    keys = [r.dedupe_key for r in await outbox(store) if f":D{check.id}:" in r.dedupe_key]
    assert keys == [f"duty:D{check.id}:overdue:engineers:teams"]


async def test_open_onboarding_items_are_reminded_once_per_business_day(
    bot: Transcript, megan: Sender
) -> None:
    store, watcher = bot.services.store, DutyWatcher(bot.services)

    async def daily() -> list[str]:
        await watcher.tick()
        return [r.dedupe_key for r in await outbox(store) if ":onboarding:" in r.dedupe_key]

    bot.now = vienna("2026-07-15T07:30")  # before the opening: nothing
    assert await daily() == []
    bot.now = vienna("2026-07-15T09:00")
    assert await daily() == ["duty:onboarding:demo:2026-07-15:engineers:teams"]
    bot.now = vienna("2026-07-15T15:00")
    assert len(await daily()) == 1
    bot.now = vienna("2026-07-18T10:00")  # Saturday
    assert len(await daily()) == 1
    bot.now = vienna("2026-07-20T08:00")  # Monday
    assert (await daily())[-1] == "duty:onboarding:demo:2026-07-20:engineers:teams"
    first = next(r for r in await outbox(store) if ":onboarding:" in r.dedupe_key)
    assert text_of(first).startswith("📋 Onboarding of Demo Customer GmbH: 5 item(s) open, due")
    assert "waiting for the customer" in text_of(first)

    for item in "abcde":
        await bot.say(f"onboarding demo done {item} ok", sender=megan)
    bot.now = vienna("2026-07-21T08:00")
    assert len(await daily()) == 2  # all done: no more


# --- completion from the chat --------------------------------------------------------------------


async def test_done_from_the_chat_and_the_review_result_reaches_the_customer(
    bot: Transcript, megan: Sender, adele: Sender, clara: Sender
) -> None:
    store = bot.services.store
    await clara_has_a_chat(bot, clara)
    await generate_all(bot.services)
    review = await duty(store, "review", "2026-H2")
    patch = await duty(store, "security-updates", "2026-08")

    bot.now = vienna("2026-12-14T11:00")
    [missing] = await bot.say(f"done D{patch.id}", sender=megan)
    assert "Please add what was done" in missing.text
    [answer] = await bot.say(
        f"done D{review.id} Licences fit; new Webex AI features presented", sender=megan
    )

    assert answer.text.startswith(f"✅ D{review.id} Feature and licence review 2026-H2")
    assert "The result was sent to Clara Contact." in answer.text
    row = await store.duties.get(review.id or 0)
    assert row is not None and row.status == DutyStatus.DONE
    assert row.done_by == "Megan Bowen" and row.done_at == bot.now
    assert row.result == "Licences fit; new Webex AI features presented"
    [sent] = [r for r in await outbox(store) if r.kind == "conversation"]
    assert sent.target == {"conversation_id": f"personal:{clara.user_id}"}
    assert "Feature and licence review 2026-H2" in text_of(sent)
    assert "Licences fit; new Webex AI features presented" in text_of(sent)

    [again] = await bot.say(f"done D{review.id} once more", sender=megan)
    assert "was done already by Megan Bowen" in again.text
    assert len([r for r in await outbox(store) if r.kind == "conversation"]) == 1
    [unknown] = await bot.say("done D99999 whatever", sender=megan)
    assert "Which duty?" in unknown.text

    [listing] = await bot.say("duties demo", sender=adele)
    assert listing.card is not None
    labels = [f.label for f in listing.card.facts]
    assert labels.index("**Overdue**") < labels.index("**Due**") < labels.index("**Done**")
    done_part = labels[labels.index("**Done**") :]
    assert f"D{review.id} · Tue 15.12.2026" in done_part
    overdue_part = labels[labels.index("**Overdue**") + 1 : labels.index("**Due**")]
    assert f"D{patch.id} · Mon 17.08.2026" in overdue_part
    due_part = labels[labels.index("**Due**") + 1 : labels.index("**Done**")]
    assert due_part[0].endswith("Tue 15.12.2026")  # ordered by due date
    assert "Licences fit" in listing.text  # the text fallback


async def test_taking_a_duty_names_its_owner_in_lists_and_reminders(
    bot: Transcript, megan: Sender
) -> None:
    store = bot.services.store
    await generate_all(bot.services)
    august = await duty(store, "security-updates", "2026-08")

    [taken] = await bot.say(f"duties take D{august.id}", sender=megan)
    assert "is yours, Megan Bowen" in taken.text
    bot.now = vienna("2026-08-10T08:00")
    await DutyWatcher(bot.services).tick()
    [before] = [r for r in await outbox(store) if f":D{august.id}:" in r.dedupe_key]
    assert "(Megan Bowen)" in text_of(before)


async def test_the_german_sub_command_words_work_for_everyone(
    bot: Transcript, megan: Sender, adele: Sender
) -> None:
    store = bot.services.store
    await generate_all(bot.services)
    august = await duty(store, "security-updates", "2026-08")
    september = await duty(store, "security-updates", "2026-09")

    [taken] = await bot.say(f"pflichten übernehmen D{august.id}", sender=megan)
    assert taken.text.endswith("is yours, Megan Bowen.")
    [taken] = await bot.say(f"duties D{september.id} uebernehmen", sender=adele)  # verb last
    assert taken.text.endswith("is yours, Adele Vance.")

    [ticked] = await bot.say("onboarding demo erledigt a admin@demo handed over", sender=megan)
    assert "done: admin@demo handed over" in ticked.text
    [ticked] = await bot.say("onboarding Demo Customer GmbH: abhaken b", sender=megan)
    assert "3 item(s) open" in ticked.text
    [asked] = await bot.say("onboarding demo fragen", sender=megan)
    assert asked.card is None  # not the checklist: the contact is asked (nobody has a chat)
    assert asked.text.startswith("No contact of Demo Customer GmbH has a chat with the bot")
    assert "`onboarding demo done <item> <answer>`" in asked.text


async def test_the_weekly_digest_lists_overdue_duties(bot: Transcript) -> None:
    await generate_all(bot.services)
    bot.now = vienna("2026-08-17T08:30")

    card = await weekly_card(bot.services, vienna("2026-08-10T08:00"), vienna("2026-08-17T08:00"))

    assert "Contract duties overdue: 6" in card.paragraphs[-1]  # onboarding (5) and August's
    assert "Security updates 2026-08" in card.paragraphs[-1]


# --- onboarding ----------------------------------------------------------------------------------


async def test_the_onboarding_checklist_is_shown_and_ticked(bot: Transcript, megan: Sender) -> None:
    [shown] = await bot.say("onboarding demo", sender=megan)  # generates on first use
    assert shown.card is not None
    assert shown.card.title == "Onboarding – Demo Customer GmbH"
    assert [f.label for f in shown.card.facts] == [
        "a) Administrative account for Microsoft Calling created and handed over [provider]",
        "b) Customer onboarded into the provider's systems [provider]",
        "c) Technically qualified contact named [customer]",
        "d) Hardware service-contract details received [customer]",
        "e) Licensing confirmed [customer]",
    ]
    assert all(f.value.startswith("⬜ open (D") for f in shown.card.facts)
    assert "due Wed 29.07.2026 08:00. 0 of 5 done." in shown.text

    bot.now = vienna("2026-07-16T10:15")
    [ticked] = await bot.say("onboarding demo done a admin@demo handed over to Clara", sender=megan)
    assert "done: admin@demo handed over to Clara" in ticked.text
    assert "Onboarding: 4 item(s) open." in ticked.text
    [by_key] = await bot.say("onboarding Demo Customer GmbH done provider-systems", sender=megan)
    assert "3 item(s) open" in by_key.text

    [shown] = await bot.say("onboarding demo", sender=megan)
    assert shown.card is not None
    assert shown.card.facts[0].value == (
        "✅ done by Megan Bowen Thu 16.07.2026 10:15: admin@demo handed over to Clara"
    )
    assert "2 of 5 done" in shown.text
    [twice] = await bot.say("onboarding demo done a", sender=megan)
    assert "was done already by Megan Bowen" in twice.text
    [unknown] = await bot.say("onboarding demo done z", sender=megan)
    assert "I know no onboarding item “z”" in without_marks(unknown.text)
    [nobody] = await bot.say("onboarding acme", sender=megan)
    assert "Which customer?" in nobody.text


async def test_the_contact_is_asked_in_chat_and_their_answers_are_recorded(
    bot: Transcript, megan: Sender, clara: Sender
) -> None:
    store, watcher = bot.services.store, DutyWatcher(bot.services)
    await clara_has_a_chat(bot, clara)

    assert await watcher.tick() == 2  # the daily onboarding reminder and the question
    [asked] = [r for r in await outbox(store) if r.kind == "conversation"]
    assert asked.target == {"conversation_id": f"personal:{clara.user_id}"}
    assert text_of(asked).startswith("Hello Clara Contact! To complete your onboarding")
    assert "technically qualified contact" in text_of(asked)
    key = DialogKey("teams", f"personal:{clara.user_id}", clara.user_id)
    assert (await store.dialog_states.load(key)).dialog == QUESTIONS
    bot.now = vienna("2026-07-15T09:05")
    assert await watcher.tick() == 0  # asked once

    bot.now = vienna("2026-07-15T10:00")
    thanks, second = await bot.say("Tom Tech, tom@demo-customer.example, +43 1 555", sender=clara)
    assert thanks.text == "Thank you, noted."
    assert "service contracts" in second.text
    [skipped] = await bot.say("skip", sender=clara)
    assert "licensing" in skipped.text
    [finished] = await bot.say("Webex Calling Professional x50, renews 01/2027", sender=clara)
    assert "that is all for now" in finished.text
    assert (await store.dialog_states.load(key)).dialog is None

    rows = {d.kind: d for d in await duties(store)}
    contact = rows["onboarding:technical-contact"]
    assert contact.status == DutyStatus.DONE and contact.done_by == "Clara Contact"
    assert contact.result == "Tom Tech, tom@demo-customer.example, +43 1 555"
    assert rows["onboarding:service-contracts"].status == DutyStatus.OPEN
    assert rows["onboarding:licensing"].result.startswith("Webex Calling Professional")
    answered = [text_of(r) for r in await outbox(store) if ":answer:" in r.dedupe_key]
    assert answered[0].startswith("📋 Clara Contact (Demo Customer GmbH) answered")
    assert len(answered) == 2

    [shown] = await bot.say("onboarding demo", sender=megan)
    assert shown.card is not None
    assert shown.card.facts[2].value.startswith("✅ done by Clara Contact")
    assert shown.card.facts[3].value.endswith("customer asked (Clara Contact)")

    [again] = await bot.say("onboarding demo ask", sender=megan)
    assert again.text == "Asked Clara Contact (1 question(s)) in their chat with the bot."
    asks = [r for r in await outbox(store) if r.kind == "conversation"]
    assert len(asks) == 2 and "service contracts" in text_of(asks[1])
    [answer] = await bot.say("HP Care Pack 12345 until 2028", sender=clara)
    assert "that is all for now" in answer.text
    [done] = [d for d in await duties(store) if d.kind == "onboarding:service-contracts"]
    assert done.status == DutyStatus.DONE


async def test_nobody_is_asked_without_a_chat_or_in_the_middle_of_another_dialog(
    bot: Transcript, megan: Sender, clara: Sender
) -> None:
    [nobody] = await bot.say("onboarding demo ask", sender=megan)
    assert "No contact of Demo Customer GmbH has a chat with the bot yet" in nobody.text

    await clara_has_a_chat(bot, clara)
    await bot.say("report a fault", sender=clara)  # a fault report in progress
    assert await DutyWatcher(bot.services).tick() == 1  # only the engineers' reminder
    assert not [r for r in await outbox(bot.services.store) if r.kind == "conversation"]


async def test_contacts_cannot_run_the_duty_commands(
    bot: Transcript, clara: Sender, megan: Sender
) -> None:
    await generate_all(bot.services)
    first = (await duties(bot.services.store))[0]
    for text in ("duties", "duties demo", "onboarding demo", f"done D{first.id} sure",
                 "onboarding demo done a"):  # fmt: skip
        [answer] = await bot.say(text, sender=clara)
        assert "That is something our staff do" in answer.text, text
    [internal] = await bot.say(QUESTIONS, sender=clara)  # only the duty watcher starts it
    assert "That is something our staff do" in internal.text or "not sure" in internal.text
    assert all(d.status == DutyStatus.OPEN for d in await duties(bot.services.store))

    [help_contact] = await bot.say("help", sender=clara)
    [help_engineer] = await bot.say("help", sender=megan)
    assert "onboarding" not in help_contact.text and "duties" not in help_contact.text
    assert "`done D‹n› ‹summary›`" in help_engineer.text
    assert QUESTIONS not in help_engineer.text
