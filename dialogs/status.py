"""Where tickets stand: `status <ticket>` and `my tickets` for customers (their organisation's
tickets only, through `dialogs.access`), `status [customer]` and `why <ticket>` for managers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from adapters.model import Card, Fact, Outgoing, customer_text
from dialogs import formats
from dialogs.access import TICKET_NUMBER, ticket_for
from dialogs.coaching import product_name
from dialogs.context import Language, Turn, service_zone
from dialogs.customers import customer_named
from dialogs.i18n import gettext_for
from dialogs.moments import moment_words
from dialogs.services import Services
from dialogs.ticket_state import VENDOR_CASE, TicketView, view
from dialogs.urgency import risk_line, views_of
from dialogs.why_text import why_text
from storage.directory import Product
from storage.models import TicketRow, TicketStatus
from storage.sla import SlaEventKind
from storage.sla_explain import explain
from storage.tickets import sla_events

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

AT_RISK_PERCENT = 75
# The managers' `status` lists this many open tickets, most at risk first, above the counts.
MOST_AT_RISK = 10


async def status_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """`status <ticket>` for anyone who may see it; `status [customer]` for staff (managers
    and engineers: the service status, never a contact's own list)."""
    _ = gettext_for(turn.actor.language)
    if TICKET_NUMBER.search(args) or turn.incoming.conversation.thread_id:
        ticket, _rest = await ticket_for(turn, context, args)
        if ticket is not None:
            return [await _ticket_status(turn, context, ticket)]
        if TICKET_NUMBER.search(args):
            return [
                turn.reply(
                    _("I know no ticket {number} that you may see.").format(number=_number(args))
                )
            ]
    if turn.actor.is_staff:
        return [await _overview(turn, context, args.strip())]
    return await my_tickets(turn, context, args)


async def my_tickets(turn: Turn, context: CommandContext, _args: str) -> list[Outgoing]:
    """The tickets the contact reported, open ones first."""
    services, lang = context.services, turn.actor.language
    tickets = await services.store.tickets.reported_by(
        channel=turn.incoming.channel.value, user_id=turn.actor.user_id
    )
    _ = gettext_for(lang)
    if not tickets:
        return [
            turn.reply(
                _("You have not reported any ticket yet. Type **report a fault** to report one.")
            )
        ]
    now, zone = services.clock(), service_zone(turn.actor, context.directory)
    facts = [_line(await view(services, ticket, now), now, lang, zone) for ticket in tickets[:20]]
    card = Card(title=_("Your tickets"), facts=tuple(facts))
    return [turn.reply(_as_text(card), card=card)]


async def why_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """The SLA explanation of a ticket in words."""
    ticket, _rest = await ticket_for(turn, context, args)
    _ = gettext_for(turn.actor.language)
    if ticket is None:
        return [
            turn.reply(
                _("I know no ticket {number} that you may see.").format(number=_number(args))
            )
        ]
    assert ticket.id is not None
    services = context.services
    events = sla_events(await services.store.tickets.events(ticket.id))
    explanation = explain(events, services.sla.terms_for(ticket.customer_key), services.clock())
    _ = gettext_for(turn.actor.language)
    heading = _("**Why {number} is where it is**").format(number=ticket.number)
    return [turn.reply(f"{heading}\n\n{why_text(explanation, turn.actor.language)}")]


async def _ticket_status(turn: Turn, context: CommandContext, ticket: TicketRow) -> Outgoing:
    services, lang = context.services, turn.actor.language
    now, zone = services.clock(), service_zone(turn.actor, context.directory)
    current = await view(services, ticket, now)
    _ = gettext_for(lang)
    facts = (
        Fact(_("Product"), product_name(Product(ticket.product), lang)),
        Fact(_("Priority"), ticket.priority),
        Fact(_("State"), state_words(current, lang)),
        Fact(_("Engineer"), ticket.owner_name or "–"),
        Fact(_("Reaction"), _reaction(current, now, lang, zone)),
        Fact(_("Waiting for"), _waiting_for(current, lang)),
    )
    card = Card(
        title=ticket.number,
        paragraphs=(customer_text(ticket.description),),
        facts=facts,
        quote_label=_("Description, as reported:"),
    )
    return turn.reply(_as_text(card), card=card)


async def _overview(turn: Turn, context: CommandContext, customer_filter: str) -> Outgoing:
    customer_key, lang = None, turn.actor.language
    if customer_filter:
        customer = customer_named(context.directory, customer_filter)
        if customer is None:
            _ = gettext_for(lang)
            return turn.reply(
                _("I know no customer called {words}.").format(
                    words=formats.quoted(customer_filter, lang)
                )
            )
        customer_key, customer_filter = customer.key, customer.name
    card = await service_overview(
        context.services, customer_key=customer_key, title_suffix=customer_filter, language=lang
    )
    return turn.reply(_as_text(card), card=card)


async def service_overview(
    services: Services,
    *,
    customer_key: str | None = None,
    title_suffix: str = "",
    language: Language = "en",
) -> Card:
    """The open tickets most at risk first, then the counts by state and priority, at risk
    and breached (the `status` card and the daily digest)."""
    now = services.clock()
    tickets = [
        ticket
        for ticket in await services.store.tickets.open_tickets()
        if customer_key is None or ticket.customer_key == customer_key
    ]
    views = await views_of(services, tickets, now)
    _ = gettext_for(language)
    states = Counter(state_words(v, language) for v in views)
    priorities = Counter(v.ticket.priority for v in views)
    at_risk = [v.ticket.number for v in views if _at_risk(v)]
    breached = [v.ticket.number for v in views if v.sla.reaction.breached]
    facts = (
        Fact(_("Open"), str(len(views))),
        *(Fact(state, str(count)) for state, count in sorted(states.items())),
        Fact(
            _("By priority"),
            ", ".join(f"{p} {priorities[p]}" for p in ("P1", "P2", "P3", "P4") if priorities[p])
            or "–",
        ),
        Fact(
            _("At risk (≥{percent} used)").format(percent=formats.percent(75, language)),
            ", ".join(at_risk) or "–",
        ),
        Fact(_("Breached"), ", ".join(breached) or "–"),
    )
    scope = f" – {title_suffix}" if title_suffix else ""
    return Card(
        title=_("Service status") + scope,
        paragraphs=(_most_at_risk(services, views, language),),
        facts=facts,
    )


def _most_at_risk(services: Services, views: list[TicketView], language: Language) -> str:
    """The open tickets, most at risk first (breached, then least time left), as a list."""
    _ = gettext_for(language)
    if not views:
        return _("No open tickets.")
    lines = [
        risk_line(v, services.directory, state_words(v, language), language)
        for v in views[:MOST_AT_RISK]
    ]
    heading = _("**Most at risk** ({shown} of {total} open)").format(
        shown=len(lines), total=len(views)
    )
    return "\n".join([heading, *lines])


def card_text(card: Card) -> str:
    """A card's text fallback: title, paragraphs, facts."""
    return _as_text(card)


def _at_risk(current: TicketView) -> bool:
    reaction = current.sla.reaction
    if not reaction.running or reaction.breached or not reaction.target:
        return False
    return reaction.used >= reaction.target * AT_RISK_PERCENT / 100


def state_words(current: TicketView, lang: Language) -> str:
    """The ticket's state in a word or two: new, in progress, waiting for …, resolved."""
    ticket = current.ticket
    _ = gettext_for(lang)
    if ticket.status == TicketStatus.RESOLVED:
        return _("resolved")
    if ticket.status == TicketStatus.WAITING_FOR_CUSTOMER:
        return _("waiting for the customer")
    if any(event.kind == VENDOR_CASE for event in current.events):
        return _("waiting for the vendor")
    if current.sla.reaction.stopped_at is not None:
        return _("in progress")
    return _("new")


def _reaction(current: TicketView, now: datetime, lang: Language, zone: ZoneInfo) -> str:
    """When the reaction is due, or when and by whom the ticket was answered, in the reader's
    time zone."""
    _ = gettext_for(lang)
    reaction = current.sla.reaction
    if reaction.stopped_at is not None:
        when = moment_words(reaction.stopped_at, now=now, zone=zone, language=lang)
        by = _answered_by(current)
        if by:
            return _("answered at {when} by {name}").format(when=when, name=by)
        if current.ticket.status == TicketStatus.RESOLVED:
            return _("resolved at {when}").format(when=when)
        return _("answered at {when}").format(when=when)
    if reaction.deadline is None:
        return _("paused")
    when = moment_words(reaction.deadline, now=now, zone=zone, language=lang)
    if reaction.breached:
        return _("reaction overdue since {when}").format(when=when)
    return _("reaction due by {when}").format(when=when)


def _answered_by(current: TicketView) -> str:
    """Who gave the first response of the current reaction cycle ("" if nobody did)."""
    for event in reversed(current.events):
        if event.kind == SlaEventKind.REOPENED:
            return ""
        if event.kind == SlaEventKind.RESPONDED:
            return str((event.data or {}).get("by") or "")
    return ""


def _waiting_for(current: TicketView, lang: Language) -> str:
    ticket = current.ticket
    _ = gettext_for(lang)
    if ticket.status == TicketStatus.WAITING_FOR_CUSTOMER:
        return _("you (logfiles or an answer)")
    if ticket.status == TicketStatus.RESOLVED:
        return "–"
    if current.sla.reaction.stopped_at is None:
        return _("an engineer to pick it up")
    return _("nothing from you – we are on it")


def _line(current: TicketView, now: datetime, lang: Language, zone: ZoneInfo) -> Fact:
    ticket = current.ticket
    product = product_name(Product(ticket.product), lang)
    return Fact(
        ticket.number,
        f"{product} · {ticket.priority} · {state_words(current, lang)} · "
        f"{_reaction(current, now, lang, zone)}",
    )


def _as_text(card: Card) -> str:
    return "\n".join(
        [
            f"**{card.title}**",
            *card.paragraphs,
            *(f"- {fact.label}: {fact.value}" for fact in card.facts),
        ]
    )


def _number(args: str) -> str:
    match = TICKET_NUMBER.search(args)
    return match[0].upper() if match else args.strip()
