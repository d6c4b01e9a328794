"""Fault intake as transcripts: card and text, validation, back, cancel, restart, expiry, scope
guard, change requests, languages, and logfiles with every refusal.

The clock stands at Wednesday 07.01.2026 15:30 Vienna time; a P2 report (4h reaction in SNAZ)
is due tomorrow 10:30.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.model import (
    Card,
    ChoiceInput,
    Outgoing,
    Sender,
    SubmitAction,
    TextInput,
    without_marks,
)
from bot.drafts import DraftSweeper
from dialogs.services import Tunables
from storage.directory import Directory, Product
from storage.errors import FileRejected
from storage.models import TicketStatus
from storage.repositories import Store
from tests.transcript import (
    FIXED_NOW,
    GOOD_FORM,
    FakeFiles,
    Transcript,
    customer_contact,
    report_by_card,
    staff_member,
)

FORM_FIELDS = ["product", "priority", "description", "since", "affected", "tested", "phone"]


@pytest.fixture
async def world(directory: Directory, store: Store) -> Store:
    await store.customers.sync(customers=directory.customers, now=FIXED_NOW)
    return store


@pytest.fixture
def files() -> FakeFiles:
    return FakeFiles()


@pytest.fixture
def bot(directory: Directory, world: Store, files: FakeFiles, tmp_path: Path) -> Transcript:
    return _bot(directory, world, files, tmp_path)


def _bot(
    directory: Directory, store: Store, files: FakeFiles, tmp_path: Path, **options: Any
) -> Transcript:
    transcript = Transcript(directory, store, blob_root=tmp_path / "files", **options)
    transcript.services.file_sources[transcript_channel()] = files
    return transcript


def transcript_channel() -> Any:
    from adapters.model import Channel

    return Channel.TEAMS


@pytest.fixture
def clara(directory: Directory) -> Sender:
    return customer_contact(directory)


def card_of(answer: Outgoing) -> Card:
    assert answer.card is not None, answer.text
    return answer.card


def texts(answers: list[Outgoing]) -> str:
    return "\n".join(answer.text for answer in answers)


# ------------------------------------------------------------------------------ the card


async def test_the_form_has_the_stable_input_ids(bot: Transcript, clara: Sender) -> None:
    [form] = await bot.say("report a fault", sender=clara)
    card = card_of(form)

    assert [field.id for field in card.inputs] == FORM_FIELDS
    product = card.inputs[0]
    assert isinstance(product, ChoiceInput)
    assert [c.value for c in product.choices] == [p.value for p in Product]
    priority = card.inputs[1]
    assert isinstance(priority, ChoiceInput)
    assert [c.value for c in priority.choices] == ["P1", "P2", "P3", "P4"]
    assert "total outage" in priority.choices[0].title
    [submit] = card.actions
    assert isinstance(submit, SubmitAction)
    assert submit.data == {"action": "submit_fault_report"}
    # clients without cards read the first question in the text fallback
    assert "Which product is affected?" in form.text


async def test_a_report_by_card_ends_with_a_ticket_and_its_deadline(
    bot: Transcript, clara: Sender, world: Store
) -> None:
    await bot.say("report a fault", sender=clara)
    [follow_ups] = await bot.say("", sender=clara, value=GOOD_FORM)
    assert [field.id for field in card_of(follow_ups).inputs] == ["tracking_id", "device_model"]

    [summary] = await bot.say(
        "",
        sender=clara,
        value={"action": "submit_followups", "tracking_id": "ABC-123", "device_model": ""},
    )
    facts = {fact.label: fact.value for fact in card_of(summary).facts}
    assert facts["Affected product"] == "Webex Calling"
    assert facts["Since when?"] == "07.01.2026 09:30"
    assert "ABC-123" in facts["Details"]

    confirmation, coaching = await bot.say("", sender=clara, value={"action": "confirm_report"})

    assert "Ticket **CCS-2026-000001** is open: Webex Calling, P2" in confirmation.text
    assert "**tomorrow 10:30**" in confirmation.text
    assert "does not count as that reaction" in confirmation.text
    assert "Send logs" in coaching.text
    ticket = await world.tickets.by_number("CCS-2026-000001")
    assert ticket is not None
    assert (ticket.product, ticket.priority, ticket.customer_key) == ("webex-calling", "P2", "demo")
    assert ticket.since == datetime(2026, 1, 7, 8, 30, tzinfo=UTC)
    assert ticket.details == {"tracking_id": "ABC-123"}
    # the watcher looks again at 50 % of the reaction time: Thursday 08:30 Vienna
    assert ticket.sla_next_due == datetime(2026, 1, 8, 7, 30, tzinfo=UTC)
    assert ticket.id is not None
    assert [event.kind for event in await world.tickets.events(ticket.id)] == ["created"]


async def test_ticket_numbers_count_up(bot: Transcript, clara: Sender) -> None:
    first = await report_by_card(bot, clara)
    second = await report_by_card(bot, clara)
    assert "CCS-2026-000001" in first[0].text
    assert "CCS-2026-000002" in second[0].text


async def test_a_form_with_mistakes_comes_back_filled_in_with_the_reasons(
    bot: Transcript, clara: Sender
) -> None:
    await bot.say("report a fault", sender=clara)
    bad = {**GOOD_FORM, "description": "broken", "phone": "call me", "since": "next year"}

    [again] = await bot.say("", sender=clara, value=bad)

    card = card_of(again)
    assert "Please check these fields:" in card.paragraphs
    problems = " ".join(card.paragraphs)
    assert "What is wrong?: Please describe the fault in a few more words" in problems
    assert "Callback number: That does not look like a phone number" in problems
    assert "Since when?: I could not read that time" in problems
    values = {field.id: field.value for field in card.inputs}
    assert values["phone"] == "call me"
    assert values["affected"] == GOOD_FORM["affected"]


# ------------------------------------------------------------------------------ the text path


async def test_a_report_step_by_step_in_text_with_every_check(
    bot: Transcript, clara: Sender, world: Store
) -> None:
    async def say(text: str) -> str:
        return texts(await bot.say(text, sender=clara))

    await say("report a fault")
    assert "I don't know that product" in await say("banana")
    assert "How bad is it?" in await say("1")
    assert "Please answer with P1, P2, P3 or P4" in await say("P9")
    assert "Which product is affected?" in await say("back")
    assert "How bad is it?" in await say("Teams")
    assert "What is wrong?" in await say("2")
    assert "a few more words" in await say("broken")
    assert "Since when" in await say("No dial tone on all Teams phones since this morning")
    assert "lies in the future" in await say("09.01. 09:00")
    assert "could not read that time" in await say("gibberish")
    assert "Who or what is affected?" in await say("today 08:15")
    assert "Please fill this in" in await say("x")
    assert "What did you already try?" in await say("All 40 users at the Vienna office")
    assert "Which number can we call you back on?" in await say("Restarted the Teams client")
    assert "does not look like a phone number" in await say("call me")
    assert "Call ID" in await say("+43 1 234 5678")
    assert "Direct Routing" in await say("skip")
    summary = await say("Direct Routing")
    assert "Please check your report" in summary
    assert "Microsoft Teams Calling" in summary

    answer = await say("yes")

    assert "CCS-2026-000001" in answer
    assert "Ctrl+Alt+Shift+1" in answer  # the Teams coaching follows
    ticket = await world.tickets.by_number("CCS-2026-000001")
    assert ticket is not None
    assert ticket.product == "microsoft-calling"
    assert ticket.since == datetime(2026, 1, 7, 7, 15, tzinfo=UTC)
    assert ticket.details == {"pstn_connectivity": "Direct Routing"}


async def test_typing_while_the_form_is_shown_switches_to_text(
    bot: Transcript, clara: Sender
) -> None:
    await bot.say("report a fault", sender=clara)
    [answer] = await bot.say("webex contact center", sender=clara)
    assert "How bad is it?" in answer.text


async def test_back_at_the_first_question_says_so(bot: Transcript, clara: Sender) -> None:
    await bot.say("report a fault", sender=clara)
    [answer] = await bot.say("back", sender=clara)
    assert "nothing before it" in answer.text


async def test_cancel_at_any_time_keeps_nothing(
    bot: Transcript, clara: Sender, world: Store
) -> None:
    await bot.say("report a fault", sender=clara)
    await bot.say("1", sender=clara)
    [answer] = await bot.say("cancel", sender=clara)

    assert "Cancelled" in answer.text
    assert await world.tickets.open_for_reporter(channel="teams", user_id=clara.user_id) == []
    [help_card] = await bot.say("help", sender=clara)
    assert card_of(help_card).title == "What I can do for you"


async def test_a_restart_mid_report_resumes_at_the_same_question(
    directory: Directory, world: Store, files: FakeFiles, tmp_path: Path, clara: Sender
) -> None:
    first = _bot(directory, world, files, tmp_path)
    await first.say("report a fault", sender=clara)
    await first.say("Luware Recording", sender=clara)

    after_restart = _bot(directory, world, files, tmp_path)
    [answer] = await after_restart.say("P3", sender=clara)

    assert "What is wrong?" in answer.text


# ------------------------------------------------------------------------------ scope guard


async def test_hardware_replacement_is_explained_and_the_contact_decides(
    bot: Transcript, clara: Sender
) -> None:
    await bot.say("report a fault", sender=clara)
    await bot.say("1", sender=clara)
    await bot.say("P3", sender=clara)
    [gate] = await bot.say("My desk phone is broken, please send a new one", sender=clara)
    assert "not part of" in gate.text
    assert {a.data["action"] for a in card_of(gate).actions if isinstance(a, SubmitAction)} == {
        "gate_yes",
        "gate_no",
    }

    [answer] = await bot.say("no", sender=clara)
    assert "did not open a ticket" in answer.text


async def test_client_side_connectivity_may_still_be_reported(
    bot: Transcript, clara: Sender
) -> None:
    await bot.say("report a fault", sender=clara)
    await bot.say("1", sender=clara)
    await bot.say("P2", sender=clara)
    [gate] = await bot.say("Since the new firewall was installed no calls work", sender=clara)
    assert "firewall" in gate.text.lower()

    [answer] = await bot.say("", sender=clara, value={"action": "gate_yes"})
    assert "Since when" in answer.text


async def test_a_configuration_change_becomes_a_change_request_with_consent(
    bot: Transcript, clara: Sender, world: Store
) -> None:
    await bot.say("report a fault", sender=clara)
    await bot.say("Teams", sender=clara)
    await bot.say("P4", sender=clara)
    [consent] = await bot.say("Please add a new user to the hunt group", sender=clara)
    assert "billed by effort" in consent.text

    for answer in ("yes", "now", "Anna Example", "nothing yet", "+43 1 234 5678", "skip"):
        await bot.say(answer, sender=clara)
    summary = texts(await bot.say("skip", sender=clara))
    assert "Change request (billed by effort, with your consent)" in summary
    answers = await bot.say("yes", sender=clara)

    assert len(answers) == 1  # no logfile coaching for a change
    assert "Change request **CCS-2026-000001** is recorded" in answers[0].text
    ticket = await world.tickets.by_number("CCS-2026-000001")
    assert ticket is not None and ticket.kind == "change_request"


async def test_a_product_outside_the_contract_is_named_not_refused(
    directory: Directory, world: Store, files: FakeFiles, tmp_path: Path, clara: Sender
) -> None:
    ccsb = directory.contracts["CCSB"].model_copy(update={"products": (Product.WEBEX_CALLING,)})
    narrow = directory.model_copy(update={"contracts": {"CCSB": ccsb}})
    bot = _bot(narrow, world, files, tmp_path)
    await bot.say("report a fault", sender=clara)

    [answer] = await bot.say("Luware Recording", sender=clara)

    assert "Luware Recording" in answer.text
    assert "not" in answer.text  # … is not covered by your contract …
    assert "How bad is it?" in answer.text


# ------------------------------------------------------------------------------ entry points


async def test_a_first_message_about_a_problem_starts_a_report(
    bot: Transcript, clara: Sender
) -> None:
    note, form = await bot.say("Our phones have no dial tone since this morning", sender=clara)

    assert "sounds like a fault" in note.text
    description = next(f for f in card_of(form).inputs if f.id == "description")
    assert isinstance(description, TextInput)
    assert description.value == "Our phones have no dial tone since this morning"


async def test_staff_do_not_report_faults(bot: Transcript, directory: Directory) -> None:
    [answer] = await bot.say("report a fault", sender=staff_member(directory, "engineer"))
    assert "That is something customer contacts do" in answer.text


async def test_german_from_the_client_and_by_command(bot: Transcript, clara: Sender) -> None:
    [form] = await bot.say("störung melden", sender=clara, locale="de-AT")
    assert card_of(form).title == "Störung melden"
    assert "Welches Produkt ist betroffen?" in form.text
    await bot.say("abbrechen", sender=clara, locale="de-AT")

    [switched] = await bot.say("language de", sender=clara, locale="en-US")
    [help_card] = await bot.say("help", sender=clara, locale="en-US")

    assert switched.text == "Ab jetzt antworte ich auf Deutsch."
    assert card_of(help_card).title == "Was ich für Sie tun kann"


async def test_a_german_report_gets_a_german_deadline(bot: Transcript, clara: Sender) -> None:
    await bot.say("language de", sender=clara)
    confirmation, coaching = await report_by_card(bot, clara)
    assert "bis **morgen 10:30**" in confirmation.text
    assert "Protokolle senden" in coaching.text


# ------------------------------------------------------------------------------ drafts


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_proactive(self, reference: dict[str, Any], answers: Any) -> None:
        self.sent += [answer.text for answer in answers]


async def test_a_draft_left_alone_is_reminded_once_and_then_expires(
    bot: Transcript, clara: Sender, world: Store
) -> None:
    sender = RecordingSender()
    bot.services.senders[transcript_channel()] = sender
    bot.services.tunables = Tunables(
        draft_remind_after=timedelta(minutes=30), draft_expire_after=timedelta(hours=24)
    )
    await world.conversations.save(
        channel="teams",
        conversation_id=f"personal:{clara.user_id}",
        kind="personal",
        user_id=clara.user_id,
        reference={"conversation": {"id": "x"}},
        now=FIXED_NOW,
    )
    await bot.say("report a fault", sender=clara)
    sweeper = DraftSweeper(bot.services)

    bot.now = FIXED_NOW + timedelta(minutes=10)
    assert await sweeper.sweep() == 0
    bot.now = FIXED_NOW + timedelta(minutes=31)
    assert await sweeper.sweep() == 1
    assert await sweeper.sweep() == 0  # only once
    assert "not finished yet" in sender.sent[-1]

    bot.now = FIXED_NOW + timedelta(hours=24, minutes=1)
    assert await sweeper.sweep() == 1
    assert "expired" in sender.sent[-1]
    [answer] = await bot.say("1", sender=clara)
    assert "can't find a ticket “1” among yours" in answer.text  # the draft is gone


async def test_an_answer_resets_the_reminder_clock(
    bot: Transcript, clara: Sender, world: Store
) -> None:
    sender = RecordingSender()
    bot.services.senders[transcript_channel()] = sender
    await bot.say("report a fault", sender=clara)
    bot.now = FIXED_NOW + timedelta(minutes=25)
    await bot.say("1", sender=clara)
    bot.now = FIXED_NOW + timedelta(minutes=40)

    assert await DraftSweeper(bot.services).sweep() == 0
    assert sender.sent == []


# ------------------------------------------------------------------------------ logfiles

ZIP = b"PK\x03\x04" + bytes(range(256)) * 20


async def test_a_file_sent_after_the_report_is_attached(
    bot: Transcript, clara: Sender, files: FakeFiles, world: Store, tmp_path: Path
) -> None:
    await report_by_card(bot, clara)

    [ack] = await bot.say("", sender=clara, files=(files.add("webex logs.zip", ZIP),))
    assert ack.text.startswith("📥 Receiving **webex_logs.zip** for CCS-2026-000001")

    assert await bot.downloaded() == ["Received **webex_logs.zip** (5.0 KB) for CCS-2026-000001."]
    sha = hashlib.sha256(ZIP).hexdigest()
    assert (tmp_path / "files" / sha[:2] / sha[2:4] / sha).read_bytes() == ZIP
    ticket = await world.tickets.by_number("CCS-2026-000001")
    assert ticket is not None and ticket.id is not None
    [logfile] = await world.logfiles.of_ticket(ticket.id)
    assert (logfile.name, logfile.size, logfile.sha256) == ("webex_logs.zip", len(ZIP), sha)

    await bot.say("", sender=clara, files=(files.add("copy.zip", ZIP),))
    [again] = await bot.downloaded()
    assert "already have" in again


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("setup.exe", b"MZ", "cannot accept **setup.exe**"),
        ("trace.log", FileRejected("infected"), "flagged as infected"),
        ("trace.har", FileRejected("unscannable"), "could not be scanned"),
        ("trace.txt", FileRejected("download_failed", "HTTP 404"), "could not download"),
    ],
)
async def test_refused_files_get_their_reason(
    bot: Transcript, clara: Sender, files: FakeFiles, name: str, content: Any, reason: str
) -> None:
    await report_by_card(bot, clara)
    [answer] = await bot.say("", sender=clara, files=(files.add(name, content),))
    told = [answer.text, *await bot.downloaded()]
    assert reason in "\n".join(told)


async def test_a_file_still_being_scanned_is_fetched_once_the_scan_is_done(
    bot: Transcript, clara: Sender, files: FakeFiles
) -> None:
    await report_by_card(bot, clara)
    ref = files.add("trace.txt", FileRejected("not_ready", retry_after=5))
    await bot.say("", sender=clara, files=(ref,))

    assert await bot.downloaded() == []  # nobody is told anything while Webex scans
    files.files[ref.url] = b"scanned\n"
    bot.now += timedelta(seconds=6)

    assert await bot.downloaded() == ["Received **trace.txt** (8 B) for CCS-2026-000001."]


async def test_a_scan_that_never_ends_is_given_up_with_the_reason(
    bot: Transcript, clara: Sender, files: FakeFiles
) -> None:
    await report_by_card(bot, clara)
    await bot.say("", sender=clara, files=(files.add("trace.txt", FileRejected("not_ready")),))

    told = []
    for _attempt in range(6):
        told += await bot.downloaded()
        bot.now += timedelta(minutes=1)

    [answer] = told
    assert "still being scanned" in answer


async def test_a_file_over_the_limit_is_refused_and_not_kept(
    directory: Directory, world: Store, files: FakeFiles, tmp_path: Path, clara: Sender
) -> None:
    bot = _bot(directory, world, files, tmp_path, max_file_bytes=4096)
    await report_by_card(bot, clara)

    await bot.say("", sender=clara, files=(files.add("big.zip", ZIP),))

    [answer] = await bot.downloaded()
    assert "larger than 4.0 KB" in answer
    stored = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert stored == []


async def test_files_in_a_teams_channel_are_asked_for_in_the_personal_chat(
    bot: Transcript, clara: Sender
) -> None:
    await report_by_card(bot, clara)
    [answer] = await bot.say(
        "here are the logs",
        sender=clara,
        kind="channel",
        conversation_id="19:general",
        unreadable_files=True,
    )
    assert "1:1 chat" in answer.text


async def test_add_logs_names_the_ticket(bot: Transcript, clara: Sender, files: FakeFiles) -> None:
    await report_by_card(bot, clara)
    await report_by_card(bot, clara)

    [which] = await bot.say("", sender=clara, files=(files.add("a.log", b"line\n"),))
    assert "several open tickets (CCS-2026-000002, CCS-2026-000001)" in which.text

    [ready] = await bot.say("add logs ccs-2026-000001", sender=clara)
    assert "send the files for CCS-2026-000001 now" in ready.text
    [got] = await bot.say("", sender=clara, files=(files.add("a.log", b"line\n"),))
    assert "for CCS-2026-000001" in got.text
    assert await bot.downloaded() == ["Received **a.log** (5 B) for CCS-2026-000001."]
    [done] = await bot.say("done", sender=clara)
    assert "that's all for CCS-2026-000001" in done.text
    [unknown] = await bot.say("add logs CCS-2026-000099", sender=clara)
    assert "can't find a ticket “CCS-2026-000099” among yours" in unknown.text


async def test_files_sent_during_the_report_are_attached_to_the_new_ticket(
    bot: Transcript, clara: Sender, files: FakeFiles, world: Store
) -> None:
    await bot.say("report a fault", sender=clara)
    [kept] = await bot.say("", sender=clara, files=(files.add("before.zip", ZIP),))
    assert "it will be attached to your ticket" in kept.text
    [stored] = await bot.downloaded()
    assert "Received **before.zip** (5.0 KB); it will be attached to your ticket" in stored

    await bot.say("", sender=clara, value=GOOD_FORM)
    await bot.say("", sender=clara, value={"action": "skip_followups"})
    answers = await bot.say("", sender=clara, value={"action": "confirm_report"})

    assert "Received **before.zip** (5.0 KB) for CCS-2026-000001." in texts(answers)
    ticket = await world.tickets.by_number("CCS-2026-000001")
    assert ticket is not None and ticket.id is not None
    assert len(await world.logfiles.of_ticket(ticket.id)) == 1


async def test_a_file_for_a_waiting_ticket_starts_the_clock_again(
    bot: Transcript, clara: Sender, files: FakeFiles, world: Store
) -> None:
    await report_by_card(bot, clara)
    ticket = await world.tickets.by_number("CCS-2026-000001")
    assert ticket is not None and ticket.id is not None
    bot.now = FIXED_NOW + timedelta(minutes=10)
    await world.tickets.append(
        ticket.id,
        kind="paused",
        at=bot.now,
        data={"reason": "waiting for logfiles"},
        status=TicketStatus.WAITING_FOR_CUSTOMER,
    )
    bot.now = FIXED_NOW + timedelta(hours=1)

    await bot.say("", sender=clara, files=(files.add("logs.zip", ZIP),))

    [answer] = await bot.downloaded()
    assert "no longer waits for you" in answer
    ticket = await world.tickets.by_number("CCS-2026-000001")
    assert ticket is not None and ticket.id is not None
    assert ticket.status == TicketStatus.OPEN
    kinds = [event.kind for event in await world.tickets.events(ticket.id)]
    assert kinds == ["created", "paused", "logfile_added", "resumed"]
    # 10 min counted before the pause (15:30–15:40), resumed 16:30: 50 % (2h) is reached
    # after 30 min more on Wednesday and 1h20 on Thursday: 09:20 Vienna
    assert ticket.sla_next_due == datetime(2026, 1, 8, 8, 20, tzinfo=UTC)


async def test_confirming_twice_at_once_opens_one_ticket(
    bot: Transcript, clara: Sender, world: Store
) -> None:
    import asyncio

    await bot.say("report a fault", sender=clara)
    await bot.say("", sender=clara, value=GOOD_FORM)
    await bot.say("", sender=clara, value={"action": "skip_followups"})

    first, second = await asyncio.gather(
        bot.say("", sender=clara, value={"action": "confirm_report"}),
        bot.say("", sender=clara, value={"action": "confirm_report"}),
    )

    numbers = {a.text for a in (*first, *second) if "CCS-" in a.text and "is open" in a.text}
    assert all("CCS-2026-000001" in text for text in numbers)
    assert await world.tickets.by_number("CCS-2026-000002") is None
    assert len(await world.tickets.open_for_reporter(channel="teams", user_id=clara.user_id)) == 1


async def test_an_old_forms_button_is_explained(bot: Transcript, clara: Sender) -> None:
    await report_by_card(bot, clara)
    [answer] = await bot.say("", sender=clara, value={"action": "confirm_report"})
    assert "already sent or has expired" in answer.text


async def test_an_old_summary_button_cannot_skip_questions(bot: Transcript, clara: Sender) -> None:
    await bot.say("report a fault", sender=clara)
    [answer] = await bot.say("", sender=clara, value={"action": "confirm_report"})
    assert "Which product is affected?" in answer.text


async def test_an_upload_is_told_to_the_tickets_thread(
    bot: Transcript, clara: Sender, files: FakeFiles, world: Store
) -> None:
    await report_by_card(bot, clara)
    await bot.say("", sender=clara, files=(files.add("trace.log", b"SIP/2.0 200 OK\n"),))
    await bot.downloaded()

    from sqlmodel import col, select

    from storage.models import OutboxRow

    async with world.database.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all()
    [thread] = [row for row in rows if row.kind == "thread"]
    assert without_marks(thread.payload["answers"][0]["text"]) == (
        "📎 Clara Contact sent for CCS-2026-000001:\n- trace.log · 15 B · today 15:30"
    )


async def thread_texts(world: Store) -> list[str]:
    """What the tickets' threads were told, oldest first."""
    from sqlmodel import col, select

    from storage.models import OutboxRow

    async with world.database.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all()
    return [
        without_marks(answer["text"])
        for row in rows
        if row.kind == "thread"
        for answer in row.payload["answers"]
    ]


async def test_words_sent_with_a_file_reach_the_ticket_like_any_message(
    bot: Transcript, clara: Sender, files: FakeFiles, world: Store
) -> None:
    await report_by_card(bot, clara)

    answers = await bot.say(
        "Here is the trace, it happened again at 10:40",
        sender=clara,
        files=(files.add("trace.log", b"SIP/2.0 200 OK\n"),),
    )
    await bot.downloaded()

    said = texts(answers)
    assert "CCS-2026-000001" in said
    assert "Receiving **trace.log**" in said
    told = await thread_texts(world)
    assert any("it happened again at 10:40" in text for text in told)
    assert any(
        text.startswith("📎 Clara Contact sent for") and "trace.log" in text for text in told
    )
    ticket = await world.tickets.by_number("CCS-2026-000001")
    assert ticket is not None and ticket.id is not None
    kinds = [event.kind for event in await world.tickets.events(ticket.id)]
    assert "customer_message" in kinds


async def test_a_file_with_words_naming_a_ticket_goes_to_that_ticket(
    bot: Transcript, clara: Sender, files: FakeFiles, world: Store
) -> None:
    await report_by_card(bot, clara)
    await report_by_card(bot, clara)  # two open tickets: the words say which

    answers = await bot.say(
        "log for CCS-2026-000001 as promised",
        sender=clara,
        files=(files.add("trace.log", b"SIP/2.0 200 OK\n"),),
    )

    assert "Receiving **trace.log** for CCS-2026-000001" in texts(answers)
    assert any("as promised" in text for text in await thread_texts(world))


async def test_add_logs_with_a_file_is_a_request_not_a_message(
    bot: Transcript, clara: Sender, files: FakeFiles, world: Store
) -> None:
    await report_by_card(bot, clara)

    await bot.say(
        "add logs CCS-2026-000001",
        sender=clara,
        files=(files.add("trace.log", b"SIP/2.0 200 OK\n"),),
    )

    assert not any("add logs" in text for text in await thread_texts(world))


async def test_words_sent_with_a_file_during_the_report_answer_the_question(
    bot: Transcript, clara: Sender, files: FakeFiles
) -> None:
    await bot.say("report a fault", sender=clara)
    await bot.say("Teams", sender=clara)

    answers = await bot.say("2", sender=clara, files=(files.add("trace.log", b"SIP/2.0 200 OK\n"),))

    said = texts(answers)
    assert "Receiving **trace.log**" in said
    assert "What is wrong?" in said  # "2" answered "How bad is it?"


# ------------------------------------------------------------------------------ the form as shown


def rendered_inputs(card: Card) -> dict[str, dict[str, Any]]:
    """The form's inputs as Teams (1.5) renders them; Webex (1.3) gets the same fields."""
    from adapters.cards import render_adaptive_card

    for version in ("1.3", "1.5"):
        body = render_adaptive_card(card, version=version)["body"]
    return {item["id"]: item for item in body if str(item["type"]).startswith("Input.")}


async def test_required_fields_carry_one_star_and_say_what_is_wrong(
    bot: Transcript, clara: Sender
) -> None:
    [form] = await bot.say("report a fault", sender=clara)

    inputs = rendered_inputs(card_of(form))

    required = {key: field for key, field in inputs.items() if field.get("isRequired")}
    assert set(required) == {"product", "priority", "description", "affected", "tested", "phone"}
    # Teams marks a required field with its own "*": the label must not bring another one
    assert all("*" not in field["label"] for field in required.values())
    assert inputs["phone"]["errorMessage"].startswith("Please give a number we can call you")
    assert all(field["errorMessage"] != field["label"] for field in required.values())
    assert len({field["errorMessage"] for field in required.values()}) == len(required)


async def test_the_forms_error_texts_are_in_the_persons_language(
    bot: Transcript, clara: Sender
) -> None:
    await bot.say("language de", sender=clara)
    [form] = await bot.say("störung melden", sender=clara)

    inputs = rendered_inputs(card_of(form))

    assert inputs["phone"]["errorMessage"].startswith("Bitte geben Sie eine Rückrufnummer")


async def test_a_start_given_in_words_comes_back_in_the_form_as_people_write_it(
    bot: Transcript, clara: Sender
) -> None:
    await bot.say("report a fault", sender=clara)
    for answer in (
        "Teams",
        "2",
        "No dial tone on all Teams phones since this morning",
        "today 08:15",  # stored as an instant
        "All 40 users at the Vienna office",
        "Restarted the Teams client",
        "+43 1 234 5678",
        "skip",
        "skip",
    ):
        answers = await bot.say(answer, sender=clara)
    assert "Please check your report" in texts(answers)

    [form] = await bot.say("", sender=clara, value={"action": "edit_report"})  # "Change"
    since = rendered_inputs(card_of(form))["since"]

    assert since["value"] == "07.01.2026 08:15"


async def test_typing_hints_of_the_text_fallback_are_on_the_cards_too(
    bot: Transcript, clara: Sender
) -> None:
    [form] = await bot.say("report a fault", sender=clara)
    await bot.say("", sender=clara, value=GOOD_FORM)
    summary = (await bot.say("", sender=clara, value={"action": "skip_followups"}))[-1]

    assert "step by step in text" in form.text
    assert "step by step in text" in " ".join(card_of(form).paragraphs)
    assert "Reply **yes** to send it" in summary.text
    assert "Reply **yes** to send it" in " ".join(card_of(summary).paragraphs)
