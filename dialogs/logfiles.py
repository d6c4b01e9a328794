"""Logfiles: received in the intake dialog, with `add logs <ticket>`, or simply sent while a
ticket is open. Each file is downloaded from its channel as a stream, checked (type, size,
malware scan state), stored once by SHA-256, attached to the ticket and confirmed by name and
size; a refused file gets its reason. A file for a ticket that waits for the customer starts
the SLA clock again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from adapters.model import FileRef, Outgoing, customer_text
from dialogs.access import TICKET_NUMBER, ticket_for
from dialogs.base import DialogStep
from dialogs.context import Language, Turn
from dialogs.texts import t
from storage.errors import FileRejected
from storage.files import check_type, safe_name
from storage.models import TicketRow, TicketStatus
from storage.sla import SlaEventKind

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

DONE_WORDS = frozenset({"done", "fertig", "ok", "finished", "that's all", "das war's"})
_REFUSALS = {
    "too_large": "logs_too_large",
    "type": "logs_wrong_type",
    "infected": "logs_infected",
    "unscannable": "logs_unscannable",
    "not_ready": "logs_not_ready",
    "untrusted_source": "logs_untrusted_source",
}


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """A file that is on disk (by hash), not yet necessarily attached to a ticket."""

    sha256: str
    name: str
    size: int
    content_type: str


def human_size(size: int) -> str:
    """`812 B`, `14.2 KB`, `3.4 MB`."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


async def receive(
    turn: Turn, context: CommandContext, files: tuple[FileRef, ...]
) -> tuple[list[ReceivedFile], list[str]]:
    """Download and store the files; (stored files, one refusal sentence per refused file)."""
    source = context.services.file_sources.get(turn.incoming.channel)
    blobs = context.services.blobs
    received, refusals = [], []
    for file in files:
        name = safe_name(file.name)
        try:
            check_type(name)
            if source is None:
                raise FileRejected("download_failed", "no file source for this channel")
            blob = await blobs.store(source.download(file))
        except FileRejected as refused:
            refusals.append(_refusal(refused, name, turn.actor.language, blobs.max_bytes))
            continue
        received.append(ReceivedFile(blob.sha256, name, blob.size, file.content_type))
    return received, refusals


async def attach(
    turn: Turn, context: CommandContext, ticket: TicketRow, files: list[ReceivedFile]
) -> list[str]:
    """Attach stored files to the ticket; a sentence per file, and one if the clock resumes.
    The ticket's thread hears about new files; a waiting ticket's SLA clock runs again."""
    assert ticket.id is not None
    lang, store, now = turn.actor.language, context.services.store, context.services.clock()
    sentences, added = [], []
    for file in files:
        attached = await store.logfiles.attach(
            ticket_id=ticket.id,
            sha256=file.sha256,
            name=file.name,
            size=file.size,
            content_type=file.content_type,
            uploaded_by=turn.actor.user_id,
            channel=turn.incoming.channel.value,
            now=now,
        )
        key = "logs_received" if attached else "logs_duplicate"
        size = human_size(file.size)
        sentences.append(t(key, lang, name=file.name, size=size, number=ticket.number))
        if attached:
            added.append(f"{customer_text(file.name)} ({size})")
            await store.tickets.append(
                ticket.id,
                kind="logfile_added",
                at=now,
                actor=turn.actor.user_id,
                data={"sha256": file.sha256, "name": file.name},
            )
    if not added:
        return sentences
    resumed = ticket.status == TicketStatus.WAITING_FOR_CUSTOMER
    if resumed:
        await store.tickets.append(
            ticket.id,
            kind=SlaEventKind.RESUMED,
            at=now,
            actor=turn.actor.user_id,
            data={"reason": "logfiles received"},
            status=TicketStatus.OPEN,
        )
        sentences.append(t("logs_resumed", lang, number=ticket.number))
    await _tell_the_thread(turn, context, ticket, added, resumed=resumed)
    return sentences


async def _tell_the_thread(
    turn: Turn, context: CommandContext, ticket: TicketRow, added: list[str], *, resumed: bool
) -> None:
    from dialogs.ticket_state import after_change

    services = context.services
    event = f"logs:{ticket.number}:{turn.incoming.channel.value}:{turn.incoming.event_id}"
    lines = [f"📎 {customer_text(turn.actor.name)} sent {', '.join(added)} for {ticket.number}."]
    if resumed:
        lines.append("The customer delivered: the SLA clock runs again.")
    answer = Outgoing(turn.incoming.conversation, " ".join(lines))
    await services.notify.to_thread(ticket, [answer], event=event)
    await after_change(services, ticket, event)


async def collect(turn: Turn, context: CommandContext, ticket: TicketRow) -> list[Outgoing]:
    """Receive this message's files for `ticket` and say what happened to each."""
    received, refusals = await receive(turn, context, turn.incoming.files)
    sentences = [*(await attach(turn, context, ticket, received)), *refusals]
    return [turn.reply("\n".join(sentences))] if sentences else []


async def files_without_command(turn: Turn, context: CommandContext) -> list[Outgoing]:
    """Files sent outside any dialog: attach them to the sender's only open ticket."""
    lang = turn.actor.language
    if turn.incoming.unreadable_files:
        return [turn.reply(t("logs_wrong_place", lang))]
    tickets = await context.services.store.tickets.open_for_reporter(
        channel=turn.incoming.channel.value, user_id=turn.actor.user_id
    )
    if not tickets:
        return [turn.reply(t("logs_no_ticket", lang))]
    if len(tickets) > 1:
        numbers = ", ".join(ticket.number for ticket in tickets)
        return [turn.reply(t("logs_which_ticket", lang, numbers=numbers))]
    return await collect(turn, context, tickets[0])


def _refusal(refused: FileRejected, name: str, lang: Language, limit: int) -> str:
    key = _REFUSALS.get(refused.reason, "logs_failed")
    return t(key, lang, name=name, limit=human_size(limit))


class LogfilesDialog:
    """`add logs <ticket>`: waits for files for one of the contact's open tickets."""

    name = "logfiles"

    async def start(self, turn: Turn, context: CommandContext, args: str) -> DialogStep:
        lang = turn.actor.language
        if turn.incoming.unreadable_files or turn.incoming.conversation.kind != "personal":
            return DialogStep([turn.reply(t("logs_wrong_place", lang))], None)
        ticket = await self._ticket(turn, context, args)
        if ticket is None:
            match = TICKET_NUMBER.search(args)
            if match is None:
                return DialogStep(await files_without_command(turn, context), None)
            return DialogStep(
                [turn.reply(t("logs_unknown_ticket", lang, number=match[0].upper()))], None
            )
        state = {"ticket": ticket.number}
        if turn.incoming.files:
            return DialogStep(await collect(turn, context, ticket), state)
        return DialogStep([turn.reply(t("logs_send_now", lang, number=ticket.number))], state)

    async def resume(
        self, turn: Turn, context: CommandContext, state: dict[str, Any]
    ) -> DialogStep:
        lang, number = turn.actor.language, str(state["ticket"])
        ticket = await context.services.store.tickets.by_number(number)
        if ticket is None or ticket.status == TicketStatus.RESOLVED:
            return DialogStep([turn.reply(t("logs_unknown_ticket", lang, number=number))], None)
        if turn.incoming.files:
            return DialogStep(await collect(turn, context, ticket), state)
        if turn.incoming.text.strip().lower() in DONE_WORDS:
            return DialogStep([turn.reply(t("logs_done", lang, number=number))], None)
        return DialogStep([turn.reply(t("logs_waiting", lang, number=number))], state)

    async def _ticket(self, turn: Turn, context: CommandContext, args: str) -> TicketRow | None:
        """The open ticket of the speaker's organisation named in `args` (through the one access
        check), or their only open ticket when none is named."""
        if TICKET_NUMBER.search(args) is None:
            tickets = await context.services.store.tickets.open_for_reporter(
                channel=turn.incoming.channel.value, user_id=turn.actor.user_id
            )
            return tickets[0] if len(tickets) == 1 else None
        ticket, _rest = await ticket_for(turn, context, args)
        return ticket if ticket is not None and ticket.status != TicketStatus.RESOLVED else None


def received_as_state(files: list[ReceivedFile]) -> list[dict[str, Any]]:
    """Files kept in a dialog's JSON state until their ticket exists."""
    return [asdict(file) for file in files]


def received_from_state(items: list[dict[str, Any]]) -> list[ReceivedFile]:
    """The inverse of `received_as_state`."""
    return [ReceivedFile(**item) for item in items]
