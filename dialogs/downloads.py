"""What becomes of a file once its download job has ended: it is attached to its ticket (or
kept for the fault report still being written), or the person learns why not; the ticket's
thread hears either way. Messages are keyed by the job, so telling again (after a restart in
between) tells nobody twice.
"""

from __future__ import annotations

from adapters.model import Channel, ConversationRef, Outgoing, customer_text
from dialogs import formats
from dialogs.context import Language, as_language
from dialogs.i18n import N_, gettext_for
from dialogs.logfiles import ReceivedFile, Uploader, attach, human_size, refusal_sentence
from dialogs.services import Services
from storage.errors import FileRejected
from storage.models import DownloadJobRow, DownloadStatus, TicketRow

# What the ticket's thread is told about a file that did not arrive.
_WHY_NOT = {
    "too_slow": N_("the upload took too long"),
    "too_large": N_("it is too large"),
    "infected": N_("the malware scan flagged it"),
    "unscannable": N_("it could not be scanned for malware"),
    "not_ready": N_("the malware scan did not finish"),
    "untrusted_source": N_("its link does not point to the chat system's file storage"),
}
_WHY_NOT_OTHER = N_("it could not be downloaded")


async def tell_outcome(services: Services, job: DownloadJobRow) -> None:
    """Attach a stored file and tell the person (and the ticket's thread) how it went."""
    assert job.id is not None
    ticket = await _ticket_of(services, job)
    if job.status == DownloadStatus.STORED:
        text = await _stored(services, job, ticket)
    else:
        text = _not_taken(services, job)
        if ticket is not None:
            await _tell_thread_not_taken(services, job, ticket)
    channel = Channel(job.channel)
    answer = Outgoing(ConversationRef(channel, job.conversation_id), text)
    await services.notify.to_conversation(
        channel, job.conversation_id, answer, event=f"download:{job.id}"
    )


async def received_for_draft(services: Services, draft_key: str) -> list[ReceivedFile]:
    """The files of a fault report (not yet a ticket) whose download has stored them."""
    jobs = await services.store.downloads.for_draft(draft_key)
    return [_received(job) for job in jobs if job.status == DownloadStatus.STORED]


async def _stored(services: Services, job: DownloadJobRow, ticket: TicketRow | None) -> str:
    received = _received(job)
    if ticket is None:  # the report is still being written: attached when it is sent
        _ = gettext_for(_language(job))
        kept = _("Received **{name}** ({size}); it will be attached to your ticket.")
        return kept.format(name=job.name, size=human_size(received.size))
    sentences = await attach(services, ticket, [received], _uploader(job))
    return "\n".join(sentences)


def _not_taken(services: Services, job: DownloadJobRow) -> str:
    lang = _language(job)
    _ = gettext_for(lang)
    if job.status == DownloadStatus.TIMED_OUT:
        limit = formats.rounded_duration(services.tunables.download_timeout, lang)
        return _(
            "The upload of **{name}** took too long (more than {limit}), so I "
            "stopped it. Please send it again."
        ).format(name=job.name, limit=limit)
    refused = FileRejected(job.reason or "download_failed")
    return refusal_sentence(refused, job.name, lang, services.blobs.max_bytes)


async def _tell_thread_not_taken(
    services: Services, job: DownloadJobRow, ticket: TicketRow
) -> None:
    _ = gettext_for(services.notify.engineers_language(ticket.customer_key))
    why = _(_WHY_NOT.get(job.reason or "", _WHY_NOT_OTHER))
    text = _(
        "📎 {name} tried to send {file} for {number}, but it was not taken: {why}. They were "
        "asked to send it again."
    ).format(
        name=customer_text(job.user_name),
        file=customer_text(job.name),
        number=ticket.number,
        why=why,
    )
    answer = Outgoing(ConversationRef(Channel(job.channel), job.conversation_id), text)
    await services.notify.to_thread(ticket, [answer], event=f"download:{job.id}")


async def _ticket_of(services: Services, job: DownloadJobRow) -> TicketRow | None:
    tickets = services.store.tickets
    if job.ticket_number is not None:
        return await tickets.by_number(job.ticket_number)
    if job.draft_key is not None:
        return await tickets.by_source(job.draft_key)
    return None


def _received(job: DownloadJobRow) -> ReceivedFile:
    assert job.sha256 is not None
    assert job.size is not None
    return ReceivedFile(job.sha256, job.name, job.size, job.content_type, job.original_name)


def _uploader(job: DownloadJobRow) -> Uploader:
    channel = Channel(job.channel)
    return Uploader(
        user_id=job.user_id,
        name=job.user_name,
        language=_language(job),
        channel=channel,
        conversation=ConversationRef(channel, job.conversation_id),
        event=f"download:{job.id}",
    )


def _language(job: DownloadJobRow) -> Language:
    return as_language(job.language) or "en"
