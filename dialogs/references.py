"""Ticket references as people write them ("12", "#12", "CCS-12", "the last one", "das Ticket
von gestern", "the Luware one"), resolved only among the tickets the speaker may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dialogs.access import may_see
from dialogs.context import Turn
from dialogs.understanding import TicketRef
from storage.models import TicketRow

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

_DAY_OFFSET = {"today": 0, "yesterday": 1, "day-before-yesterday": 2}


@dataclass(frozen=True, slots=True)
class Resolved:
    """The ticket a reference names; or the candidates when it could name several."""

    ticket: TicketRow | None = None
    candidates: Sequence[TicketRow] = field(default_factory=tuple)

    @property
    def ambiguous(self) -> bool:
        return self.ticket is None and len(self.candidates) > 1


async def resolve(turn: Turn, context: CommandContext, ref: TicketRef, zone: ZoneInfo) -> Resolved:
    """The ticket `ref` names for this speaker (nothing they may not see, ever)."""
    tickets = context.services.store.tickets
    customer = None if turn.actor.is_staff else turn.actor.customer
    if not turn.actor.is_staff and customer is None:
        return Resolved()
    key = customer.key if customer is not None else None
    match ref.kind:
        case "number":
            found = await tickets.by_number(ref.value)
            return Resolved(found if found is not None and may_see(turn, found) else None)
        case "sequence":
            rows = await tickets.referable(customer_key=key, sequence=int(ref.value), limit=1)
        case "last":
            rows = await _latest(turn, context, key)
        case "day":
            rows = await tickets.referable(
                customer_key=key, created=_day(turn.now, zone, ref.value)
            )
        case _:
            rows = await tickets.referable(customer_key=key, product=ref.value, open_only=True)
    visible = [row for row in rows if may_see(turn, row)]
    if len(visible) == 1:
        return Resolved(visible[0])
    return Resolved(None, visible)


async def _latest(turn: Turn, context: CommandContext, key: str | None) -> Sequence[TicketRow]:
    """A contact's "last one" is the newest they reported themselves, else their
    organisation's; staff mean the newest ticket of all."""
    store = context.services.store.tickets
    if key is not None:
        own = await store.reported_by(
            channel=turn.incoming.channel.value, user_id=turn.actor.user_id
        )
        if own:
            return [max(own, key=lambda row: row.id or 0)]
    return await store.referable(customer_key=key, limit=1)


def _day(now: datetime, zone: ZoneInfo, which: str) -> tuple[datetime, datetime]:
    local = now.astimezone(zone).date() - timedelta(days=_DAY_OFFSET.get(which, 0))
    start = datetime(local.year, local.month, local.day, tzinfo=zone)
    return start, start + timedelta(days=1)
