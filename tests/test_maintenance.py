"""Maintenance windows as transcripts: engineers propose inside the service time (SNAZ,
Mon–Fri 08:00–17:00 Vienna, Austrian holidays and 24.12./31.12. closed), the contact confirms or
moves, the reminder on the day comes once. What the contact and the engineers' channel are told
is read from the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from adapters.model import Sender, outgoing_from_json, without_marks
from bot.maintenance_watch import MaintenanceReminder
from storage.calendar import BusinessCalendar
from storage.directory import Directory
from storage.maintenance import fits, next_fit
from storage.models import MaintenanceWindowRow, OutboxRow, WindowStatus
from storage.repositories import DialogKey, Store
from tests.test_customer_text import check_channels, literal_runs, rendered
from tests.transcript import Transcript, customer_contact, staff_member

VIENNA = ZoneInfo("Europe/Vienna")
CHAT = "personal:29:Clara Contact"
PROPOSE = "maintenance demo 2026-03-03 09:00 2h Security updates for the desk phones"


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VIENNA)


@pytest.fixture
def clara(directory: Directory) -> Sender:
    return customer_contact(directory)


@pytest.fixture
def erika(directory: Directory) -> Sender:
    return staff_member(directory, "engineer")


async def _bot(directory: Directory, store: Store, tmp_path: Path) -> Transcript:
    transcript = Transcript(directory, store, blob_root=tmp_path / "files")
    transcript.now = vienna("2026-03-02 10:00")  # a Monday
    return transcript


@pytest.fixture
async def bot(directory: Directory, store: Store, tmp_path: Path, clara: Sender) -> Transcript:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01 00:00"))
    transcript = await _bot(directory, store, tmp_path)
    # Clara has written to the bot in her 1:1 chat (the pipeline stores the reference).
    transcript.now = vienna("2026-03-02 09:00")
    await transcript.say("help", sender=clara)
    await store.conversations.save(
        channel="teams",
        conversation_id=CHAT,
        kind="personal",
        user_id=clara.user_id,
        reference={"conversation": {"id": CHAT}},
        now=transcript.now,
    )
    transcript.now = vienna("2026-03-02 10:00")
    return transcript


async def outbox(store: Store, kind: str | None = None) -> list[OutboxRow]:
    async with store.database.session() as session:
        rows = list((await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all())
    return [row for row in rows if kind is None or row.kind == kind]


def texts(rows: list[OutboxRow]) -> list[str]:
    return [without_marks(row.payload["answers"][0]["text"]) for row in rows]


async def windows(store: Store) -> list[MaintenanceWindowRow]:
    async with store.database.session() as session:
        query = select(MaintenanceWindowRow).order_by(col(MaintenanceWindowRow.id))
        return list((await session.scalars(query)).all())


async def the_window(store: Store) -> MaintenanceWindowRow:
    [window] = await windows(store)
    return window


# --- the rules, worked out by hand -----------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "why", "suggestion"),
    [
        pytest.param(
            "2026-03-03 17:30 2h", "does not lie entirely inside",
            "Wed 04.03.2026 08:00–10:00", id="evening",
        ),
        pytest.param(
            "2026-03-07 10:00 1h", "does not lie entirely inside",
            "Mon 09.03.2026 08:00–09:00", id="saturday",
        ),
        pytest.param(  # Friday 1 May, Staatsfeiertag
            "2026-05-01 09:00 1h", "does not lie entirely inside",
            "Mon 04.05.2026 08:00–09:00", id="holiday",
        ),
        pytest.param(  # Christmas Eve closed, 25./26. holidays, then the weekend
            "2026-12-24 10:00 1h", "does not lie entirely inside",
            "Mon 28.12.2026 08:00–09:00", id="closed-day",
        ),
        pytest.param(  # 16:00 + 2h runs past 17:00: the next stretch that holds 2h
            "2026-03-03 16:00 2h", "does not lie entirely inside",
            "Wed 04.03.2026 08:00–10:00", id="crossing-closing",
        ),
        pytest.param(  # 07:30 starts before opening: the same day's opening fits
            "2026-03-03 07:30 1h", "does not lie entirely inside",
            "Tue 03.03.2026 08:00–09:00", id="before-opening",
        ),
        pytest.param(  # Monday 09:00 at 10:00 is gone: from now on
            "2026-03-02 09:00 1h", "lies in the past",
            "Mon 02.03.2026 10:00–11:00", id="past",
        ),
    ],
)  # fmt: skip
async def test_a_window_outside_the_service_time_is_refused_with_the_next_slot(
    bot: Transcript, erika: Sender, store: Store, asked: str, why: str, suggestion: str
) -> None:
    [answer] = await bot.say(f"maintenance demo {asked} Security updates", sender=erika)

    assert answer.text.startswith("Not proposed:")
    assert why in answer.text
    assert f"The next possible slot: {suggestion}." in answer.text
    start = suggestion.split(" ", 2)[1:]
    typed = f"{date(*map(int, reversed(start[0].split('.')))).isoformat()} {start[1][:5]}"
    assert f"`maintenance demo {typed} {asked.split()[2]} Security updates`" in answer.text
    assert await windows(store) == []
    assert await outbox(store) == []


async def test_a_window_longer_than_a_service_day_gets_no_suggestion(
    bot: Transcript, erika: Sender, store: Store
) -> None:
    [answer] = await bot.say("maintenance demo 2026-03-03 08:00 10h Migration", sender=erika)
    assert "No single service-time stretch is 10 hrs long" in answer.text
    assert await windows(store) == []


def test_fits_and_next_fit_merge_adjacent_windows() -> None:
    split_day = BusinessCalendar(
        zone=VIENNA,
        windows={day: [(8 * 60, 12 * 60), (12 * 60, 17 * 60)] for day in range(5)},
        closed_days_of=lambda _year: {},
    )
    start = vienna("2026-03-03 10:00").astimezone(UTC)
    assert fits(split_day, start, start + timedelta(hours=6))  # across 12:00: one stretch
    assert not fits(split_day, start, start + timedelta(hours=8))
    assert next_fit(split_day, start, timedelta(hours=8)) == vienna("2026-03-04 08:00")
    # business time equals wall time in a week with a DST change (29 March 2026)
    monday = vienna("2026-03-30 08:00").astimezone(UTC)
    assert fits(split_day, monday, monday + timedelta(hours=9))


# --- proposing and answering ---------------------------------------------------------------


async def test_a_proposal_reaches_the_contact_who_confirms_in_text(
    bot: Transcript, erika: Sender, clara: Sender, store: Store
) -> None:
    [answer] = await bot.say(PROPOSE, sender=erika)

    assert answer.text.startswith("Proposed W1 to Clara Contact of Demo Customer GmbH")
    assert "Tue 03.03.2026 09:00–11:00" in answer.text
    [proposal] = await outbox(store, "conversation")
    assert proposal.target == {"conversation_id": CHAT}
    card = proposal.payload["answers"][0]["card"]
    assert card["title"] == "Maintenance window proposed"
    facts = {fact["label"]: without_marks(fact["value"]) for fact in card["facts"]}
    assert facts == {
        "Work": "Security updates for the desk phones",
        "When": "Tue 03.03.2026 09:00–11:00",
        "Reference": "W1",
    }
    assert [a["title"] for a in card["actions"]] == ["Confirm", "Propose another time"]
    assert "Reply **confirm**" in proposal.payload["answers"][0]["text"]
    state = await store.dialog_states.load(DialogKey("teams", CHAT, clara.user_id))
    assert state.dialog == "maintenance_answer"
    assert state.state == {"window": 1}

    bot.now = vienna("2026-03-02 11:00")
    [thanks] = await bot.say("confirm", sender=clara)

    assert thanks.text.startswith(
        "Thank you: maintenance window W1 is confirmed for Tue 03.03.2026 09:00–11:00."
    )
    window = await the_window(store)
    assert window.status == WindowStatus.CONFIRMED
    assert window.decided_by == "Clara Contact"
    assert [(e["what"], e["by"]) for e in window.history] == [
        ("proposed", "Megan Bowen"),
        ("sent", "bot"),
        ("confirmed", "Clara Contact"),
    ]
    assert window.history[2]["at"] == "2026-03-02T10:00:00+00:00"
    [post] = texts(await outbox(store, "channel"))
    assert post.startswith("✅ Demo Customer GmbH: Clara Contact confirmed W1")
    assert (await store.dialog_states.load(DialogKey("teams", CHAT, clara.user_id))).dialog is None


async def test_the_title_an_engineer_typed_is_shown_to_the_contact_as_typed(
    bot: Transcript, erika: Sender, clara: Sender, store: Store
) -> None:
    title = "Updates for <desk phones> see [notes](https://evil.example) <@all> **now**"
    await bot.say(f"maintenance demo 2026-03-03 09:00 2h {title}", sender=erika)
    [row] = await outbox(store, "conversation")
    proposal = outgoing_from_json(row.payload["answers"][0])

    check_channels(proposal)  # no link, mention, tag or emphasis on either channel
    out = rendered(proposal)
    assert title in literal_runs(out["teams_card"]) and title in literal_runs(out["webex_card"])
    assert f"planned work: {title}." in out["webex_text"]
    bot.now = vienna("2026-03-02 11:00")
    await bot.say("confirm", sender=clara)
    [post] = [answer for row in await outbox(store, "channel") for answer in row.payload["answers"]]
    check_channels(outgoing_from_json(post))


async def test_the_confirm_button_works_even_after_a_restart(
    bot: Transcript, erika: Sender, clara: Sender, store: Store, directory: Directory,
    tmp_path: Path,
) -> None:  # fmt: skip
    await bot.say(PROPOSE, sender=erika)
    [proposal] = await outbox(store, "conversation")
    confirm = proposal.payload["answers"][0]["card"]["actions"][0]

    restarted = await _bot(directory, store, tmp_path)  # a new process, the same database
    [thanks] = await restarted.say("", sender=clara, value=confirm["data"])

    assert "W1 is confirmed" in thanks.text
    assert (await the_window(store)).status == WindowStatus.CONFIRMED

    [again] = await restarted.say("", sender=clara, value=confirm["data"])
    assert (
        again.text == "Maintenance window W1 is already confirmed for Tue 03.03.2026 09:00–11:00."
    )
    assert len(await outbox(store, "channel")) == 1  # the engineers are told once


async def test_the_contact_moves_the_window_and_a_time_outside_is_refused(
    bot: Transcript, erika: Sender, clara: Sender, store: Store
) -> None:
    await bot.say(PROPOSE, sender=erika)

    [refused] = await bot.say("move 2026-03-04 16:00", sender=clara)
    assert refused.text == (
        "Wed 04.03.2026 16:00–18:00 does not lie entirely inside the service time "
        "(Normal working hours (SNAZ)). The next possible slot: Thu 05.03.2026 08:00–10:00. "
        "Write `move 2026-03-05 08:00` to take it."
    )
    assert (await the_window(store)).status == WindowStatus.PROPOSED
    [weekend] = await bot.say("move 2026-03-08 10:00", sender=clara)
    assert "The next possible slot: Mon 09.03.2026 08:00–10:00." in weekend.text
    [unclear] = await bot.say("next week maybe", sender=clara)
    assert "**confirm**, or another start such as “Thursday 10:00”" in unclear.text

    [moved] = await bot.say("move 2026-03-05 08:00", sender=clara)

    assert moved.text.startswith(
        "Thank you: maintenance window W1 is moved to Thu 05.03.2026 08:00–10:00 and confirmed."
    )
    window = await the_window(store)
    assert window.status == WindowStatus.CONFIRMED
    assert window.starts_at == vienna("2026-03-05 08:00")
    assert window.ends_at == vienna("2026-03-05 10:00")
    moved_entry = window.history[-1]
    assert moved_entry["what"] == "moved"
    assert moved_entry["by"] == "Clara Contact"
    assert moved_entry["previous_starts_at"] == "2026-03-03T08:00:00+00:00"
    [post] = texts(await outbox(store, "channel"))
    assert "moved W1" in post
    assert "from Tue 03.03.2026 09:00–11:00 to Thu 05.03.2026 08:00–10:00" in post


async def test_the_contact_answers_in_their_own_words(
    bot: Transcript, erika: Sender, clara: Sender, store: Store
) -> None:
    await bot.say(PROPOSE, sender=erika)

    [moved] = await bot.say("Dienstag passt nicht, lieber am Donnerstag um 10", sender=clara)
    assert "W1 is moved to Thu 05.03.2026 10:00–12:00 and confirmed" in moved.text

    await bot.say("maintenance move W1 2026-03-10 09:00", sender=erika)  # proposed again
    [agreed] = await bot.say("passt so, danke!", sender=clara)
    assert "W1 is confirmed for Tue 10.03.2026 09:00–11:00" in agreed.text
    assert (await the_window(store)).status == WindowStatus.CONFIRMED


async def test_propose_another_time_by_button_with_the_new_start(
    bot: Transcript, erika: Sender, clara: Sender, store: Store
) -> None:
    await bot.say(PROPOSE, sender=erika)
    [proposal] = await outbox(store, "conversation")
    move = proposal.payload["answers"][0]["card"]["actions"][1]

    [ask] = await bot.say("", sender=clara, value={**move["data"], "start": ""})
    assert "When would suit you for W1?" in ask.text
    [moved] = await bot.say("", sender=clara, value={**move["data"], "start": "2026-03-06 14:00"})

    assert "moved to Fri 06.03.2026 14:00–16:00 and confirmed" in moved.text
    assert (await the_window(store)).starts_at == vienna("2026-03-06 14:00")


async def test_engineers_list_move_and_cancel(
    bot: Transcript, erika: Sender, clara: Sender, store: Store
) -> None:
    await bot.say(PROPOSE, sender=erika)
    await bot.say("confirm", sender=clara)

    [twice] = await bot.say(PROPOSE, sender=erika)
    assert without_marks(twice.text) == (
        "W1 “Security updates for the desk phones” is already confirmed for "
        "Tue 03.03.2026 09:00–11:00."
    )
    [listing] = await bot.say("maintenance demo", sender=erika)
    assert listing.card is not None
    assert [(f.label, without_marks(f.value)) for f in listing.card.facts] == [
        ("W1", "Tue 03.03.2026 09:00–11:00 · Security updates for the desk phones · "
               "confirmed · demo"),
    ]  # fmt: skip
    [outside] = await bot.say("maintenance move W1 2026-03-04 18:00", sender=erika)
    assert outside.text.startswith("Not moved:")

    [asked] = await bot.say("maintenance move W1 2026-03-04 13:00", sender=erika)
    assert asked.text == "Asked Clara Contact again: W1 at Wed 04.03.2026 13:00–15:00."
    window = await the_window(store)
    assert window.status == WindowStatus.PROPOSED
    assert len(await outbox(store, "conversation")) == 2  # a second proposal card
    [contacts_view] = (await bot.say("windows", sender=clara))[:1]
    assert "proposed" in contacts_view.text

    [cancelled] = await bot.say("maintenance cancel W1 hardware delayed", sender=erika)
    assert cancelled.text == "W1 cancelled; the contact is told."
    assert texts(await outbox(store, "conversation"))[-1] == (
        "Maintenance window W1 “Security updates for the desk phones” "
        "(Wed 04.03.2026 13:00–15:00) is cancelled."
    )
    [late] = await bot.say("confirm", sender=clara)
    assert late.text == "Maintenance window W1 is no longer open for an answer."
    assert [e["what"] for e in (await the_window(store)).history] == [
        "proposed", "sent", "confirmed", "re-proposed", "cancelled",
    ]  # fmt: skip


async def test_the_german_sub_command_words_work_in_either_order(
    bot: Transcript, erika: Sender, clara: Sender, store: Store
) -> None:
    await bot.say(PROPOSE, sender=erika)
    await bot.say("cancel", sender=clara)  # she answers later, from the list
    [confirmed] = await bot.say("wartungsfenster W1 bestätigen", sender=clara)
    assert confirmed.text.startswith("Thank you: maintenance window W1 is confirmed")

    [asked] = await bot.say("wartung verschieben W1 2026-03-04 13:00", sender=erika)
    assert asked.text == "Asked Clara Contact again: W1 at Wed 04.03.2026 13:00–15:00."
    await bot.say("bestaetigen", sender=clara)
    [done] = await bot.say("Wartung W1 erledigt", sender=erika)
    assert done.text == "W1 is done."

    await bot.say("maintenance demo 2026-03-05 09:00 1h Firmware", sender=erika)
    [cancelled] = await bot.say("wartung W2 absagen Hardware fehlt", sender=erika)
    assert cancelled.text == "W2 cancelled; the contact is told."
    assert (await windows(store))[1].history[-1]["reason"] == "Hardware fehlt"
    [unknown] = await bot.say("wartung absagen W9", sender=erika)
    assert without_marks(unknown.text) == "I know no maintenance window “W9”."


async def test_a_customer_without_a_reachable_contact_gets_no_proposal(
    directory: Directory, store: Store, tmp_path: Path, erika: Sender
) -> None:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01 00:00"))
    bot = await _bot(directory, store, tmp_path)
    [answer] = await bot.say(PROPOSE, sender=erika)
    assert "No contact of Demo Customer GmbH has written to me" in answer.text
    assert await windows(store) == []


async def test_roles(bot: Transcript, erika: Sender, clara: Sender, store: Store) -> None:
    # each role's own view of the windows, whichever word they use; nothing proposed
    [contact_tries] = await bot.say("maintenance demo 2026-03-03 09:00 2h Updates", sender=clara)
    assert contact_tries.text == "No maintenance windows are planned for your organisation."
    assert await windows(store) == []
    [engineer_tries] = await bot.say("windows", sender=erika)
    assert "**Maintenance windows**: none coming up" in engineer_tries.text
    [nothing] = await bot.say("windows", sender=clara)
    assert nothing.text == "No maintenance windows are planned for your organisation."
    [unknown] = await bot.say("windows confirm W99", sender=clara)
    assert unknown.text == "I know no maintenance window of your organisation by that reference."


# --- the reminder on the day ---------------------------------------------------------------


async def test_the_reminder_comes_at_the_opening_of_the_day_exactly_once(
    bot: Transcript, erika: Sender, clara: Sender, store: Store
) -> None:
    await bot.say(PROPOSE, sender=erika)
    reminder = MaintenanceReminder(bot.services)
    bot.now = vienna("2026-03-02 12:00")
    assert await reminder.tick() == []  # only proposed: nothing to remind
    await bot.say("confirm", sender=clara)
    before = len(await outbox(store))

    for moment in ("2026-03-02 16:00", "2026-03-03 07:59"):
        bot.now = vienna(moment)
        assert await reminder.tick() == []
    bot.now = vienna("2026-03-03 08:00")
    assert await reminder.tick() == [1]
    for moment in ("2026-03-03 08:00", "2026-03-03 08:30", "2026-03-03 08:59"):
        bot.now = vienna(moment)
        assert await reminder.tick() == []

    rows = (await outbox(store))[before:]
    assert [row.kind for row in rows] == ["conversation", "channel"]
    assert texts(rows)[0] == (
        "Reminder: maintenance window W1 “Security updates for the desk phones” is today, "
        "Tue 03.03.2026 09:00–11:00."
    )
    assert texts(rows)[1].startswith("🛠️ Today: maintenance window W1")
    window = await the_window(store)
    assert window.reminded
    assert window.history[-1]["what"] == "reminded"
    assert [e["what"] for e in window.history].count("reminded") == 1


async def test_a_window_moved_to_another_day_is_reminded_on_the_new_day(
    bot: Transcript, erika: Sender, clara: Sender, store: Store
) -> None:
    await bot.say("maintenance demo 2026-03-03 13:00 1h Firmware", sender=erika)
    await bot.say("move 2026-03-04 13:00", sender=clara)  # confirmed on Wednesday
    reminder = MaintenanceReminder(bot.services)
    bot.now = vienna("2026-03-03 08:00")
    assert await reminder.tick() == []
    bot.now = vienna("2026-03-04 08:01")
    assert await reminder.tick() == [1]
    assert await reminder.tick() == []
    assert len([t for t in texts(await outbox(store)) if t.startswith("Reminder:")]) == 1
