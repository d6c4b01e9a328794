"""The card a button was pressed on, shown again as it stands now: a button that no longer
applies (Acknowledge once acknowledged, Reopen once reopened) disappears from it.

The answer `replaces` the pressed card's message; each channel shows it in that card's place
(Teams edits it, Webex posts it anew and deletes the old one). Only cards whose buttons say
what they are (`dialogs.pressed`) are refreshed, and only for someone who may see the ticket.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from adapters.model import Outgoing
from dialogs.access import may_see
from dialogs.context import Turn
from dialogs.engineering import resolution_for_customer, staff_id
from dialogs.pressed import CARD_KIND, CARD_TICKET, RESOLUTION_CARD, TICKET_CARD
from dialogs.ticket_state import alert_for, view
from storage.models import TicketRow, TicketStatus
from storage.sla import SlaEventKind

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

Render = Callable[[Turn, "CommandContext", TicketRow], Awaitable[Outgoing | None]]


async def refreshed_card(turn: Turn, context: CommandContext) -> Outgoing | None:
    """The pressed card as it stands now, in place of the old one; None when the button
    does not say which card it is on or the channel did not say which message carried it."""
    value = turn.incoming.value or {}
    pressed = turn.incoming.card_message_id
    kind, number = value.get(CARD_KIND), value.get(CARD_TICKET)
    render = _RENDERERS.get(kind) if isinstance(kind, str) else None
    if pressed is None or render is None or not isinstance(number, str):
        return None
    ticket = await context.services.store.tickets.by_number(number)
    if ticket is None or not may_see(turn, ticket):
        return None
    answer = await render(turn, context, ticket)
    return replace(answer, replaces=pressed) if answer is not None else None


async def _ticket_card(turn: Turn, context: CommandContext, ticket: TicketRow) -> Outgoing | None:
    """An engineer's view of the ticket (as `show` gives it), for whoever pressed."""
    if not turn.actor.is_staff:
        return None
    current = await view(context.services, ticket, context.services.clock())
    card = await alert_for(
        context.services, current, viewer=staff_id(turn), language=turn.actor.language
    )
    return turn.reply(card.text, card=card.card)


async def _resolution_card(
    turn: Turn, context: CommandContext, ticket: TicketRow
) -> Outgoing | None:
    """The customer's resolution message; once reopened, without its Reopen button."""
    assert ticket.id is not None
    events = await context.services.store.tickets.events(ticket.id)
    resolved = [row for row in events if row.kind == SlaEventKind.RESOLVED]
    if not resolved:
        return None
    summary = str((resolved[-1].data or {}).get("summary") or "")
    text, card = resolution_for_customer(
        ticket,
        summary,
        context.services.tunables.reopen_within,
        reopened=ticket.status != TicketStatus.RESOLVED,
    )
    return turn.reply(text, card=card)


_RENDERERS: dict[str, Render] = {TICKET_CARD: _ticket_card, RESOLUTION_CARD: _resolution_card}
