"""Who may see which ticket: the one place every command that takes a ticket goes through.

Staff (engineers, managers) see every ticket. A customer contact sees the tickets of their own
organisation only; a ticket of another organisation gets exactly the same answer as a number
that does not exist, so nothing can be learnt by guessing numbers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dialogs.context import Turn
from storage.models import TicketRow

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

TICKET_NUMBER = re.compile(r"\b[A-Z]{2,10}-\d{4}-\d{6}\b", re.IGNORECASE)


def may_see(turn: Turn, ticket: TicketRow) -> bool:
    """True when the person speaking may see (and act on) this ticket."""
    if turn.actor.is_staff:
        return True
    customer = turn.actor.customer
    return customer is not None and ticket.customer_key == customer.key


async def ticket_for(
    turn: Turn, context: CommandContext, args: str
) -> tuple[TicketRow | None, str]:
    """The ticket named in `args` (staff: or whose thread this is) if the speaker may see it,
    and the rest of `args`. None for unknown and for not-yours alike."""
    store = context.services.store
    match = TICKET_NUMBER.search(args)
    if match is not None:
        rest = (args[: match.start()] + args[match.end() :]).strip()
        ticket = await store.tickets.by_number(match[0].upper())
        return (ticket if ticket is not None and may_see(turn, ticket) else None), rest
    thread = turn.incoming.conversation.thread_id
    if thread and turn.actor.is_staff:
        ticket_id = await store.threads.ticket_of(
            channel=turn.incoming.channel.value, root_message_id=thread
        )
        if ticket_id is not None:
            return await store.tickets.get(ticket_id), args.strip()
    return None, args.strip()
