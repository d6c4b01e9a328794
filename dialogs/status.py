"""Where tickets stand: `status <ticket>` and `my tickets` for customers (their organisation's
tickets only, through `dialogs.access`), `status [customer]` and `why <ticket>` for managers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.model import Card, Fact, Outgoing, customer_text
from dialogs.access import TICKET_NUMBER, ticket_for
from dialogs.coaching import product_name
from dialogs.context import Language, Turn
from dialogs.services import Services
from dialogs.texts import t
from dialogs.ticket_state import VENDOR_CASE, TicketView, view
from dialogs.when import in_words
from storage.directory import Product, Role
from storage.models import TicketRow, TicketStatus
from storage.sla_explain import explain
from storage.tickets import sla_events

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

AT_RISK_PERCENT = 75


async def status_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """`status <ticket>` for anyone who may see it; `status [customer]` for managers."""
    if TICKET_NUMBER.search(args) or turn.incoming.conversation.thread_id:
        ticket, _rest = await ticket_for(turn, context, args)
        if ticket is not None:
            return [await _ticket_status(turn, context, ticket)]
        if TICKET_NUMBER.search(args):
            return [turn.reply(t("status_unknown", turn.actor.language, number=_number(args)))]
    if turn.actor.may(Role.MANAGER):
        return [await _overview(turn, context, args.strip())]
    return await my_tickets(turn, context, args)


async def my_tickets(turn: Turn, context: CommandContext, _args: str) -> list[Outgoing]:
    """The tickets the contact reported, open ones first."""
    services, lang = context.services, turn.actor.language
    tickets = await services.store.tickets.reported_by(
        channel=turn.incoming.channel.value, user_id=turn.actor.user_id
    )
    if not tickets:
        return [turn.reply(t("my_tickets_none", lang))]
    now = services.clock()
    facts = [_line(await view(services, ticket, now), now, lang) for ticket in tickets[:20]]
    card = Card(title=t("my_tickets_title", lang), facts=tuple(facts))
    return [turn.reply(_as_text(card), card=card)]


async def why_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """The SLA explanation of a ticket in words."""
    ticket, _rest = await ticket_for(turn, context, args)
    if ticket is None:
        return [turn.reply(t("status_unknown", turn.actor.language, number=_number(args)))]
    assert ticket.id is not None
    services = context.services
    events = sla_events(await services.store.tickets.events(ticket.id))
    explanation = explain(events, services.sla.terms_for(ticket.customer_key), services.clock())
    return [turn.reply(f"**Why {ticket.number} is where it is**\n\n{explanation.render()}")]


async def _ticket_status(turn: Turn, context: CommandContext, ticket: TicketRow) -> Outgoing:
    services, lang = context.services, turn.actor.language
    now = services.clock()
    current = await view(services, ticket, now)
    facts = (
        Fact(t("label_product", lang), product_name(Product(ticket.product), lang)),
        Fact(t("label_priority", lang), ticket.priority),
        Fact(t("status_state", lang), _state(current, lang)),
        Fact(t("status_owner", lang), ticket.owner_name or "–"),
        Fact(t("status_reaction", lang), _reaction(current, now, lang)),
        Fact(t("status_waiting", lang), _waiting_for(current, lang)),
    )
    card = Card(
        title=ticket.number,
        paragraphs=(customer_text(ticket.description),),
        facts=facts,
        quote_label=t("quote_description", lang),
    )
    return turn.reply(_as_text(card), card=card)


async def _overview(turn: Turn, context: CommandContext, customer_filter: str) -> Outgoing:
    customer_key = None
    if customer_filter:
        wanted = customer_filter.lower()
        customer = next(
            (c for c in context.directory.customers if wanted in (c.key, c.name.lower())), None
        )
        if customer is None:
            return turn.reply(f"I know no customer called {customer_filter!r}.")
        customer_key = customer.key
    card = await service_overview(
        context.services, customer_key=customer_key, title_suffix=customer_filter
    )
    return turn.reply(_as_text(card), card=card)


async def service_overview(
    services: Services, *, customer_key: str | None = None, title_suffix: str = ""
) -> Card:
    """Open tickets by state and priority, at risk and breached (the `status` card and the
    daily digest)."""
    now = services.clock()
    views = [
        await view(services, ticket, now)
        for ticket in await services.store.tickets.open_tickets()
        if customer_key is None or ticket.customer_key == customer_key
    ]
    states = Counter(_state(v, "en") for v in views)
    priorities = Counter(v.ticket.priority for v in views)
    at_risk = [v.ticket.number for v in views if _at_risk(v)]
    breached = [v.ticket.number for v in views if v.sla.reaction.breached]
    facts = (
        Fact("Open", str(len(views))),
        *(Fact(state, str(count)) for state, count in sorted(states.items())),
        Fact(
            "By priority",
            ", ".join(f"{p} {priorities[p]}" for p in ("P1", "P2", "P3", "P4") if priorities[p])
            or "–",
        ),
        Fact("At risk (≥75 % used)", ", ".join(at_risk) or "–"),
        Fact("Breached", ", ".join(breached) or "–"),
    )
    scope = f" – {title_suffix}" if title_suffix else ""
    return Card(title=f"Service status{scope}", facts=facts)


def card_text(card: Card) -> str:
    """A card's text fallback: title, paragraphs, facts."""
    return _as_text(card)


def _at_risk(current: TicketView) -> bool:
    reaction = current.sla.reaction
    if not reaction.running or reaction.breached or not reaction.target:
        return False
    return reaction.used >= reaction.target * AT_RISK_PERCENT / 100


def _state(current: TicketView, lang: Language) -> str:
    ticket = current.ticket
    if ticket.status == TicketStatus.RESOLVED:
        return t("state_resolved", lang)
    if ticket.status == TicketStatus.WAITING_FOR_CUSTOMER:
        return t("state_waiting_customer", lang)
    if any(event.kind == VENDOR_CASE for event in current.events):
        return t("state_waiting_vendor", lang)
    if current.sla.reaction.stopped_at is not None:
        return t("state_in_progress", lang)
    return t("state_new", lang)


def _reaction(current: TicketView, now: datetime, lang: Language) -> str:
    reaction = current.sla.reaction
    if reaction.stopped_at is not None:
        return t("reaction_breached" if reaction.breached else "reaction_met", lang)
    if reaction.deadline is None:
        return t("reaction_paused", lang)
    when = in_words(reaction.deadline, now=now, zone=current.sla.terms.calendar.zone, language=lang)
    return t("reaction_breached_due" if reaction.breached else "reaction_due", lang, when=when)


def _waiting_for(current: TicketView, lang: Language) -> str:
    ticket = current.ticket
    if ticket.status == TicketStatus.WAITING_FOR_CUSTOMER:
        return t("waiting_for_you", lang)
    if ticket.status == TicketStatus.RESOLVED:
        return "–"
    if current.sla.reaction.stopped_at is None:
        return t("waiting_for_engineer", lang)
    return t("waiting_for_work", lang)


def _line(current: TicketView, now: datetime, lang: Language) -> Fact:
    ticket = current.ticket
    product = product_name(Product(ticket.product), lang)
    return Fact(
        ticket.number,
        f"{product} · {ticket.priority} · {_state(current, lang)} · "
        f"{_reaction(current, now, lang)}",
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
