"""Logfiles: received in the intake dialog, with `add logs <ticket>`, or simply sent while a
ticket is open. The turn that receives a file only checks what it can without a download (name,
declared size, where it comes from), queues it as a download job and says "receiving"; the
download workers (`bot/downloads.py`) fetch it outside the turn, so a slow upload never holds
up anyone's conversation. Then the file is stored once by SHA-256, attached to the ticket and
confirmed by name and size (`dialogs/downloads.py`); a refused file gets its reason. A file for
a ticket that waits for the customer starts the SLA clock again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

from babel.numbers import format_decimal

from adapters.model import Channel, ConversationRef, FileRef, Outgoing, customer_text
from dialogs.access import TICKET_NUMBER, ticket_for
from dialogs.base import DialogStep
from dialogs.context import Language, Turn
from dialogs.i18n import BABEL_LOCALE, N_, gettext_for
from storage.downloads import NewDownload
from storage.errors import FileRejected
from storage.files import check_type, original_name, safe_name
from storage.models import TicketRow, TicketStatus
from storage.sla import SlaEventKind

if TYPE_CHECKING:
    from dialogs.commands import CommandContext
    from dialogs.services import Services

DONE_WORDS = frozenset({"done", "fertig", "ok", "finished", "that's all", "das war's"})
_REFUSALS: Final = {
    "too_large": N_("**{name}** is larger than {limit}; please split it or compress it."),
    "type": N_(
        "I cannot accept **{name}**: logfiles should be archives, logs or text, "
        "HAR, JSON, CSV, captures or screenshots."
    ),
    "infected": N_("**{name}** was flagged as infected by the malware scan and was not taken."),
    "unscannable": N_(
        "**{name}** could not be scanned for malware and was not taken; please send it as a ZIP."
    ),
    "not_ready": N_(
        "**{name}** is still being scanned for malware; please send it again in a minute."
    ),
    "untrusted_source": N_(
        "I did not download **{name}**: it does not come from where Teams keeps "
        "attached files, so I cannot trust the link. Please attach the file "
        "again with the paperclip (Attach) button in our 1:1 chat."
    ),
}
_RECEIVED: Final = N_("Received **{name}** ({size}) for {number}.")
_DUPLICATE: Final = N_("I already have **{name}** for {number} (same content); nothing to do.")
_REFUSAL_OTHER: Final = N_("I could not download **{name}**; please send it again.")


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """A file that is on disk (by hash), not yet necessarily attached to a ticket."""

    sha256: str
    name: str
    size: int
    content_type: str
    original_name: str = ""


def human_size(size: int, language: Language = "en") -> str:
    """`812 B`, `14.2 KB`, `3.4 MB` (German: `14,2 KB`), numbers as the language writes them."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            pattern = "#,##0" if unit == "B" else "#,##0.0"
            number = format_decimal(value, format=pattern, locale=BABEL_LOCALE[language])
            return f"{number} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Uploader:
    """Who sent files, from where, and which upload it was: what attaching them and telling
    the ticket's thread needs, during the turn or long after it (a download job)."""

    user_id: str
    name: str
    language: Language
    channel: Channel
    conversation: ConversationRef
    # Names the upload in the outbox keys, so each thread hears about it once.
    event: str

    @classmethod
    def of(cls, turn: Turn) -> Uploader:
        """The person speaking in this turn."""
        incoming = turn.incoming
        return cls(
            user_id=turn.actor.user_id,
            name=turn.actor.name,
            language=turn.actor.language,
            channel=incoming.channel,
            conversation=incoming.conversation,
            event=f"{incoming.channel.value}:{incoming.event_id}",
        )


async def queue_downloads(
    turn: Turn,
    context: CommandContext,
    files: tuple[FileRef, ...],
    *,
    ticket: TicketRow | None = None,
    draft_key: str | None = None,
) -> list[str]:
    """Queue the files for the download workers (for `ticket`, or for the fault report
    `draft_key` whose ticket does not exist yet); one sentence per file: "receiving", or why
    it is refused without even downloading it."""
    services, lang = context.services, turn.actor.language
    sentences = []
    _ = gettext_for(lang)
    for index, file in enumerate(files):
        name = safe_name(file.name)
        try:
            _refuse_early(services, turn.incoming.channel, file, name)
        except FileRejected as refused:
            sentences.append(refusal_sentence(refused, name, lang, services.blobs.max_bytes))
            continue
        await services.store.downloads.enqueue(
            _new_download(turn, file, name, index, ticket=ticket, draft_key=draft_key),
            now=services.clock(),
        )
        if file.scanning:
            sentences.append(_still_scanned(lang, ticket))
        elif ticket is not None:
            sentences.append(
                _(
                    "📥 Receiving **{name}** for {number} … I'll tell you here as soon as "
                    "it is stored."
                ).format(name=name, number=ticket.number)
            )
        else:
            sentences.append(
                _(
                    "📥 Receiving **{name}** … it will be attached to your ticket; I'll "
                    "tell you here when it is stored."
                ).format(name=name)
            )
    services.wake_downloads()
    return sentences


def _still_scanned(lang: Language, ticket: TicketRow | None) -> str:
    """A file whose name the chat system keeps until its malware scan is done."""
    _ = gettext_for(lang)
    if ticket is None:
        return _(
            "Your file is still being scanned for malware. I'll pick it up as soon as the "
            "scan is done and add it to your report."
        )
    return _(
        "Your file is still being scanned for malware. I'll pick it up as soon as the scan "
        "is done, add it to {number} and tell you here."
    ).format(number=ticket.number)


def _refuse_early(services: Services, channel: Channel, file: FileRef, name: str) -> None:
    """Raise `FileRejected` for what would certainly be refused: nobody waits for a download
    to learn that an .exe is not a logfile. A file still being scanned has no real name yet:
    its type is judged when it is fetched."""
    if not file.scanning:
        check_type(name)
    source = services.file_sources.get(channel)
    if source is None:
        raise FileRejected("download_failed", "no file source for this channel")
    if file.size is not None and file.size > services.blobs.max_bytes:
        raise FileRejected("too_large", str(services.blobs.max_bytes))
    source.check(file)


def _new_download(
    turn: Turn,
    file: FileRef,
    name: str,
    index: int,
    *,
    ticket: TicketRow | None,
    draft_key: str | None,
) -> NewDownload:
    incoming = turn.incoming
    conversation = incoming.conversation
    return NewDownload(
        dedupe_key=f"{incoming.channel.value}:{conversation.conversation_id}:"
        f"{incoming.event_id}:{index}",
        channel=incoming.channel.value,
        conversation_id=conversation.conversation_id,
        user_id=turn.actor.user_id,
        user_name=turn.actor.name,
        language=turn.actor.language,
        name=name,
        url=file.url,
        content_type=file.content_type,
        ticket_number=ticket.number if ticket is not None else None,
        draft_key=draft_key,
        original_name=original_name(file.name),
    )


async def attach(
    services: Services, ticket: TicketRow, files: list[ReceivedFile], by: Uploader
) -> list[str]:
    """Attach stored files to the ticket; a sentence per file, and one if the clock resumes.
    The ticket's thread hears about new files (each with a link to download it); a waiting
    ticket's SLA clock runs again."""
    assert ticket.id is not None
    lang, store, now = by.language, services.store, services.clock()
    sentences, added = [], []
    for file in files:
        attached = await store.logfiles.attach(
            ticket_id=ticket.id,
            sha256=file.sha256,
            name=file.name,
            size=file.size,
            content_type=file.content_type,
            uploaded_by=by.user_id,
            channel=by.channel.value,
            now=now,
            original_name=file.original_name,
        )
        size = human_size(file.size, lang)
        sentence = _RECEIVED if attached else _DUPLICATE
        sentences.append(
            gettext_for(lang)(sentence).format(name=file.name, size=size, number=ticket.number)
        )
        if attached:
            added.append(file.sha256)
            await store.tickets.append(
                ticket.id,
                kind="logfile_added",
                at=now,
                actor=by.user_id,
                data={"sha256": file.sha256, "name": file.name},
            )
    if not added:
        return sentences
    resumed = ticket.status == TicketStatus.WAITING_FOR_CUSTOMER
    _ = gettext_for(lang)
    if resumed:
        await store.tickets.append(
            ticket.id,
            kind=SlaEventKind.RESUMED,
            at=now,
            actor=by.user_id,
            data={"reason": N_("logfiles received")},
            status=TicketStatus.OPEN,
        )
        sentences.append(
            _("Thank you – {number} no longer waits for you; the SLA clock runs again.").format(
                number=ticket.number
            )
        )
    await _tell_the_thread(services, ticket, added, by, resumed=resumed)
    return sentences


async def _tell_the_thread(
    services: Services, ticket: TicketRow, added: list[str], by: Uploader, *, resumed: bool
) -> None:
    from dialogs.ticket_files import file_lines
    from dialogs.ticket_state import after_change

    event = f"logs:{ticket.number}:{by.event}"
    language = services.notify.engineers_language(ticket.customer_key)
    files = await file_lines(services, ticket, language=language, only=added)
    _ = gettext_for(language)
    heading = _("📎 {name} sent for {number}:").format(
        name=customer_text(by.name), number=ticket.number
    )
    lines = [heading, *(f"- {line}" for line in files)]
    if resumed:
        lines.append(_("The customer delivered: the SLA clock runs again."))
    answer = Outgoing(by.conversation, "\n".join(lines))
    await services.notify.to_thread(ticket, [answer], event=event)
    await after_change(services, ticket, event)


async def collect(turn: Turn, context: CommandContext, ticket: TicketRow) -> list[Outgoing]:
    """Queue this message's files for `ticket` and say so (or why one is refused at once)."""
    sentences = await queue_downloads(turn, context, turn.incoming.files, ticket=ticket)
    return [turn.reply("\n".join(sentences))] if sentences else []


async def files_without_command(turn: Turn, context: CommandContext) -> list[Outgoing]:
    """Files sent outside any dialog: attach them to the ticket the message names, or the
    sender's only open ticket. Words sent with them are added to that ticket like any
    message (unless they only ask to add logs)."""
    lang = turn.actor.language
    _ = gettext_for(lang)
    if turn.incoming.unreadable_files:
        return [
            turn.reply(
                _(
                    "I cannot receive files in channels or group chats. Please send them "
                    "to me in our 1:1 chat."
                )
            )
        ]
    named = TICKET_NUMBER.search(turn.incoming.text) is not None
    if named:
        ticket, _rest = await ticket_for(turn, context, turn.incoming.text)
        tickets = [ticket] if ticket is not None and ticket.status != TicketStatus.RESOLVED else []
    else:
        tickets = list(
            await context.services.store.tickets.open_for_reporter(
                channel=turn.incoming.channel.value, user_id=turn.actor.user_id
            )
        )
    if not tickets and named:
        number = TICKET_NUMBER.search(turn.incoming.text)
        assert number is not None
        return [
            turn.reply(
                _("I found no open ticket {number} of yours.").format(number=number[0].upper())
            )
        ]
    if not tickets:
        return [
            turn.reply(
                _("You have no open ticket to attach files to. Type **report a fault** first.")
            )
        ]
    if len(tickets) > 1:
        numbers = ", ".join(ticket.number for ticket in tickets)
        return [
            turn.reply(
                _(
                    "You have several open tickets ({numbers}). Please write `add logs "
                    "<ticket>` and send the files."
                ).format(numbers=numbers)
            )
        ]
    answers = await collect(turn, context, tickets[0])
    words = turn.incoming.text.strip()
    if words and not _only_asks_to_add_logs(context, words):
        from dialogs.engineering import relay_to_ticket

        answers = [*await relay_to_ticket(turn, context, tickets[0], words), *answers]
    return answers


def _only_asks_to_add_logs(context: CommandContext, words: str) -> bool:
    """ "add logs CCS-…" (or an alias) with files is the request, not a message."""
    bare = " ".join(TICKET_NUMBER.sub(" ", words).lower().strip(" .,:;!?").split())
    return any(
        bare in (command.name, *command.aliases)
        for command in context.commands
        if command.dialog is not None and command.dialog.name == LogfilesDialog.name
    )


def refusal_sentence(refused: FileRejected, name: str, lang: Language, limit: int) -> str:
    """Why a file was not taken, in the person's language."""
    text = gettext_for(lang)(_REFUSALS.get(refused.reason, _REFUSAL_OTHER))
    return text.format(name=name, limit=human_size(limit))


class LogfilesDialog:
    """`add logs <ticket>`: waits for files for one of the contact's open tickets."""

    name = "logfiles"

    async def start(self, turn: Turn, context: CommandContext, args: str) -> DialogStep:
        lang = turn.actor.language
        _ = gettext_for(lang)
        if turn.incoming.unreadable_files or turn.incoming.conversation.kind != "personal":
            return DialogStep(
                [
                    turn.reply(
                        _(
                            "I cannot receive files in channels or group chats. Please send them "
                            "to me in our 1:1 chat."
                        )
                    )
                ],
                None,
            )
        ticket = await self._ticket(turn, context, args)
        if ticket is None:
            match = TICKET_NUMBER.search(args)
            if match is None:
                return DialogStep(await files_without_command(turn, context), None)
            return DialogStep(
                [
                    turn.reply(
                        _("I found no open ticket {number} of yours.").format(
                            number=match[0].upper()
                        )
                    )
                ],
                None,
            )
        state = {"ticket": ticket.number}
        if turn.incoming.files:
            return DialogStep(await collect(turn, context, ticket), state)
        return DialogStep(
            [
                turn.reply(
                    _(
                        "Please send the files for {number} now (in this 1:1 chat). Type "
                        "**done** when you are finished."
                    ).format(number=ticket.number)
                )
            ],
            state,
        )

    async def resume(
        self, turn: Turn, context: CommandContext, state: dict[str, Any]
    ) -> DialogStep:
        lang, number = turn.actor.language, str(state["ticket"])
        ticket = await context.services.store.tickets.by_number(number)
        _ = gettext_for(lang)
        if ticket is None or ticket.status == TicketStatus.RESOLVED:
            return DialogStep(
                [turn.reply(_("I found no open ticket {number} of yours.").format(number=number))],
                None,
            )
        if turn.incoming.files:
            return DialogStep(await collect(turn, context, ticket), state)
        if turn.incoming.text.strip().lower() in DONE_WORDS:
            return DialogStep(
                [turn.reply(_("Thanks, that's all for {number}.").format(number=number))], None
            )
        return DialogStep(
            [
                turn.reply(
                    _("I'm waiting for files for {number}; send them, or type **done**.").format(
                        number=number
                    )
                )
            ],
            state,
        )

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
