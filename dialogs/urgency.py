"""How urgent an open ticket is, for the lists people scan: `queue`, `mine` and the managers'
`status`. One line per ticket says number, customer, product, priority, state, owner, what the
customer wrote and the business time left to its deadline ("1 h 20 min left", "overdue by
35 min"); the lists are sorted breached first, then least time left, then priority.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.model import Fact, customer_text
from dialogs import formats
from dialogs.coaching import product_name
from dialogs.context import Language
from dialogs.i18n import gettext_for
from dialogs.services import Services
from dialogs.ticket_state import TicketView, view_of
from storage.directory import Directory, Product
from storage.models import TicketRow
from storage.sla import ClockState

# What a line shows of the customer's description: its first line, cut to this many characters.
DESCRIPTION_CHARS = 80


@dataclass(frozen=True, slots=True)
class Urgency:
    """The deadline that matters now (reaction until the first response, then resolution if the
    contract has a target) and how much business time is left to it."""

    clock: ClockState | None

    @property
    def breached(self) -> bool:
        """Its deadline has passed."""
        return self.clock is not None and self.clock.breached

    @property
    def left(self) -> timedelta | None:
        """Business time left (negative once overdue); None without a running deadline."""
        return self.clock.left if self.clock is not None else None

    def rank(self, priority: str) -> tuple[int, timedelta, str]:
        """Sort key: breached (most overdue first), then running deadlines (least left first),
        then paused ones, then tickets without a deadline; priority breaks ties."""
        if self.clock is None:
            return (3, timedelta(0), priority)
        group = 0 if self.breached else 2 if self.clock.is_paused else 1
        return (group, self.clock.left, priority)


def urgency(current: TicketView) -> Urgency:
    """The deadline of `current` that matters now."""
    reaction, resolution = current.sla.reaction, current.sla.resolution
    if reaction.stopped_at is None and reaction.running:
        return Urgency(reaction)
    if resolution is not None and resolution.stopped_at is None and resolution.running:
        return Urgency(resolution)
    return Urgency(None)


async def views_of(
    services: Services, tickets: Sequence[TicketRow], now: datetime
) -> list[TicketView]:
    """The tickets with their SLA state (their logs read in one query), most urgent first."""
    ids = [ticket.id for ticket in tickets if ticket.id is not None]
    logs = await services.store.tickets.events_of(ids) if ids else {}
    views = [view_of(services, ticket, logs.get(ticket.id or 0, []), now) for ticket in tickets]
    return sorted(views, key=lambda v: urgency(v).rank(v.ticket.priority))


def duration_words(duration: timedelta, language: Language) -> str:
    """Whole minutes as people say them (Babel): "35 mins", "2 hrs", "1 hr 20 mins"."""
    return formats.duration(max(duration, timedelta(0)), language)


def time_left_words(current: TicketView, language: Language) -> str:
    """The time left to the deadline that matters now, in words."""
    _ = gettext_for(language)
    found = urgency(current)
    if found.clock is None or found.left is None:
        return _("no deadline running")
    if found.breached:
        return _("overdue by {duration}").format(duration=duration_words(-found.left, language))
    left = duration_words(found.left, language)
    if found.clock.is_paused:
        return _("{duration} left (paused)").format(duration=left)
    return _("{duration} left").format(duration=left)


def one_line(text: str) -> str:
    """The first line of `text`, cut short with "…"."""
    first = (text.strip().splitlines() or [""])[0].strip()
    return first if len(first) <= DESCRIPTION_CHARS else first[: DESCRIPTION_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class TicketLine:
    """One ticket of a list, as a card fact and as a line of the text fallback."""

    fact: Fact
    text: str


def ticket_line(
    current: TicketView, directory: Directory, state: str, language: Language
) -> TicketLine:
    """Number, customer, product, priority, state, owner, time left and the description."""
    ticket = current.ticket
    customer = directory.customer(ticket.customer_key)
    parts = (
        customer.name if customer else ticket.customer_key,
        product_name(Product(ticket.product), language),
        ticket.priority,
        state,
        ticket.owner_name or "–",
        f"**{time_left_words(current, language)}**",
    )
    facts = " · ".join(parts)
    description = customer_text(one_line(ticket.description))
    return TicketLine(
        Fact(ticket.number, f"{facts} · {description}"),
        f"- **{ticket.number}** · {facts} · {description}",
    )


def risk_line(current: TicketView, directory: Directory, state: str, language: Language) -> str:
    """Number, customer, priority, state, owner and time left (the managers' `status`)."""
    ticket = current.ticket
    customer = directory.customer(ticket.customer_key)
    parts = (
        customer.name if customer else ticket.customer_key,
        ticket.priority,
        state,
        ticket.owner_name or "–",
        f"**{time_left_words(current, language)}**",
    )
    return f"- **{ticket.number}** · " + " · ".join(parts)
