"""What a customer contact does with a ticket they already have: add a message to it, and
reopen it when the fault is back within a few days of its resolution (engineers are told and a
new reaction cycle starts, as the SLA rules say)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from adapters.model import Card, Outgoing, customer_text
from dialogs import engineering
from dialogs.access import TICKET_NUMBER, ticket_for
from dialogs.context import Turn
from dialogs.engineering import event_key, relay_to_ticket, reopen_ticket
from dialogs.i18n import gettext_for
from dialogs.resolution import follow_up_report
from storage.models import TicketRow, TicketStatus
from storage.sla import SlaEventKind

if TYPE_CHECKING:
    from dialogs.commands import CommandContext


async def message_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """`message <ticket> <text>`: the contact's words added to that ticket (the button behind
    "add this to CCS-…" sends it)."""
    ticket, text = await ticket_for(turn, context, args)
    _ = gettext_for(turn.actor.language)
    if ticket is None or not text:
        return [
            turn.reply(
                _(
                    "Which ticket? Write its number, e.g. `status CCS-2026-000012`, or "
                    "`my tickets` for the list."
                )
            )
        ]
    if ticket.status == TicketStatus.RESOLVED:
        return [
            turn.reply(
                _("{number} is resolved. If the fault is back, write `reopen {number}`.").format(
                    number=ticket.number
                )
            )
        ]
    return await relay_to_ticket(turn, context, ticket, text)


async def reopen_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """Engineers reopen any resolved ticket; a contact their own organisation's, for a few
    days after its resolution."""
    if turn.actor.is_staff:
        return await engineering.on_ticket(engineering.reopen, open_only=False)(turn, context, args)
    ticket, _rest = await ticket_for(turn, context, args)
    if ticket is None and not TICKET_NUMBER.search(args):
        candidates = await recently_resolved(turn, context)
        ticket = candidates[0] if candidates else None
    lang = turn.actor.language
    _ = gettext_for(lang)
    if ticket is None:
        return [
            turn.reply(
                _(
                    "I found no ticket of yours resolved in the last days. Shall we "
                    "report a new fault? Type **report a fault**."
                )
            )
        ]
    if ticket.status != TicketStatus.RESOLVED:
        return [
            turn.reply(
                _(
                    "{number} is still open; the engineers are on it. Anything you write "
                    "about it reaches them."
                ).format(number=ticket.number)
            )
        ]
    if not await _reopenable(context, [ticket]):
        return [_too_late(turn, ticket)]
    return await _reopen(turn, context, ticket)


def _too_late(turn: Turn, ticket: TicketRow) -> Outgoing:
    """A polite no, with a button that starts a new report referring to the old ticket."""
    lang = turn.actor.language
    _ = gettext_for(lang)
    text = _(
        "{number} was resolved too long ago to reopen it. Please report a new "
        "fault (**report a fault**); mention {number} in it."
    ).format(number=ticket.number)
    card = Card(title=ticket.number, paragraphs=(text,), actions=(follow_up_report(ticket, lang),))
    return turn.reply(text, card=card)


async def recently_resolved(turn: Turn, context: CommandContext) -> list[TicketRow]:
    """The contact's own tickets resolved within the reopen period, newest first."""
    tickets = await context.services.store.tickets.reported_by(
        channel=turn.incoming.channel.value, user_id=turn.actor.user_id
    )
    resolved = [row for row in tickets if row.status == TicketStatus.RESOLVED][:10]
    return await _reopenable(context, resolved)


async def _reopenable(context: CommandContext, tickets: Sequence[TicketRow]) -> list[TicketRow]:
    """Those of the tickets resolved within the reopen period (their logs in one query)."""
    ids = [row.id for row in tickets if row.id is not None]
    logs = await context.services.store.tickets.events_of(ids) if ids else {}
    since = context.services.clock() - context.services.tunables.reopen_within

    def recent(row: TicketRow) -> bool:
        resolved = [e.at for e in logs.get(row.id or 0, []) if e.kind == SlaEventKind.RESOLVED]
        return bool(resolved) and max(resolved) >= since

    return [row for row in tickets if recent(row)]


def _reopen_notice(turn: Turn, context: CommandContext, ticket: TicketRow) -> str:
    """What the ticket's thread hears, in the engineers' channel's language."""
    _ = gettext_for(context.services.notify.engineers_language(ticket.customer_key))
    said = turn.incoming.text.strip()
    name = customer_text(turn.actor.name)
    lines = [
        _("🔁 **{name}** reopened {number}: the fault is back.").format(
            name=name, number=ticket.number
        )
    ]
    if said and not said.startswith(("{", "reopen")):
        lines += [_("💬 Customer wrote:"), customer_text(said)]
    return "\n\n".join(lines)


async def _reopen(turn: Turn, context: CommandContext, ticket: TicketRow) -> list[Outgoing]:
    notice = Outgoing(turn.incoming.conversation, _reopen_notice(turn, context, ticket))
    event = event_key(turn, "customer-reopen", ticket)
    await context.services.notify.to_thread(ticket, [notice], event=event)
    lang = turn.actor.language
    data = {"by": turn.actor.name, "text": turn.incoming.text[:2000]}
    when = await reopen_ticket(turn, context, ticket, event=event, language=lang, data=data)
    _ = gettext_for(lang)
    return [
        turn.reply(
            _(
                "I reopened {number} and told the engineers. The new reaction "
                "deadline is {deadline}."
            ).format(number=ticket.number, deadline=when)
        )
    ]
