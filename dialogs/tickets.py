"""Opening a ticket from a finished report: number, SLA deadline, confirmation and coaching."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from adapters.model import Card, Channel, ConversationRef, Fact, Outgoing
from dialogs.coaching import PRODUCT_NAMES, coaching
from dialogs.context import Turn
from dialogs.texts import t
from dialogs.when import in_words
from storage.directory import Priority, Product
from storage.models import TicketKind, TicketRow
from storage.sla import SlaEvent, SlaEventKind, sla_state
from storage.tickets import NewTicket

if TYPE_CHECKING:
    from dialogs.commands import CommandContext


async def open_ticket(
    turn: Turn,
    context: CommandContext,
    report: dict[str, str],
    details: dict[str, str],
    *,
    kind: str,
    source_key: str,
) -> tuple[TicketRow, list[Outgoing]]:
    """Create the ticket; the answers are its number and deadline, then the logfile coaching.

    Idempotent by `source_key` (the draft): a second confirm, or a retry after a failure half
    way, finds the ticket and completes what is missing instead of opening another one.
    """
    services, actor = context.services, turn.actor
    customer = actor.customer
    assert customer is not None, "only customer contacts report faults"
    terms_for = services.sla.terms_for(customer.key)
    priority = Priority(report["priority"])
    terms = terms_for(customer.contract, priority)
    now = services.clock()
    row, _created = await services.store.tickets.create(
        NewTicket(
            customer_key=customer.key,
            kind=kind,
            contract=customer.contract,
            product=report["product"],
            priority=priority,
            description=report["description"],
            since=datetime.fromisoformat(report["since"]) if report.get("since") else None,
            affected=report["affected"],
            tested=report["tested"],
            phone=report["phone"],
            language=actor.language,
            reporter_channel=turn.incoming.channel.value,
            reporter_user_id=actor.user_id,
            reporter_name=actor.name,
            conversation_id=turn.incoming.conversation.conversation_id,
            details={key: value for key, value in details.items() if value},
            source_key=source_key,
        ),
        prefix=services.tunables.ticket_prefix,
        year=now.astimezone(terms.calendar.zone).year,
        now=now,
    )
    created = SlaEvent(
        SlaEventKind.CREATED, row.created_at, priority=priority, contract=customer.contract
    )
    state = sla_state([created], terms_for, now)
    assert row.id is not None
    if row.sla_next_due is None:
        await services.store.tickets.set_next_due(row.id, state.next_due())
    await _alert_engineers(context, row)  # queued once per ticket, whatever happens
    deadline = state.reaction.deadline
    assert deadline is not None, "a new ticket's reaction clock runs"
    when = in_words(deadline, now=now, zone=terms.calendar.zone, language=actor.language)
    answers = [_confirmation(turn, row, when, terms.reaction, terms.service_time)]
    if kind == TicketKind.FAULT:
        answers.append(turn.reply(coaching(Product(row.product), actor.language)))
    return row, answers


def _confirmation(
    turn: Turn, row: TicketRow, deadline: str, reaction: timedelta, service_time: str
) -> Outgoing:
    lang = turn.actor.language
    product = PRODUCT_NAMES[Product(row.product)][lang]
    values = {
        "number": row.number,
        "product": product,
        "priority": row.priority,
        "deadline": deadline,
        "reaction": _hours(reaction),
        "service_time": service_time,
    }
    key = "change_request_opened" if row.kind == TicketKind.CHANGE_REQUEST else "ticket_opened"
    text = t(key, lang, **values)
    card = Card(
        title=row.number,
        paragraphs=(text,),
        facts=(
            Fact(t("label_product", lang), product),
            Fact(t("label_priority", lang), t(f"priority_{row.priority}", lang)),
        ),
    )
    return turn.reply(text, card=card)


def _hours(duration: timedelta) -> str:
    hours, minutes = divmod(int(duration.total_seconds() // 60), 60)
    return f"{hours}h" if not minutes else f"{hours}h{minutes:02d}"


async def _alert_engineers(context: CommandContext, ticket: TicketRow) -> None:
    """The new ticket's card in the engineers' channel: a thread of its own, or, when several
    customers report the same product at once, inside one grouped alert of a possible outage."""
    from dialogs.ticket_state import alert_for, digest_line, view

    services = context.services
    now = services.clock()
    customer = context.directory.customer(ticket.customer_key)
    current = await view(services, ticket, now)
    customer_name = customer.name if customer else ""
    card = await alert_for(services, current)
    incident = await _possible_outage(context, ticket)
    if incident is None:
        await services.notify.new_alert(ticket, card)
    else:
        line = digest_line(current, customer_name, now)
        await services.notify.member_alert(ticket, incident, card, line=line)


async def _possible_outage(context: CommandContext, ticket: TicketRow) -> str | None:
    """The incident this fault belongs to, if enough customers reported its product lately;
    the first time the threshold is reached, the grouped alert is queued."""
    services, tunables = context.services, context.services.tunables
    if ticket.kind != TicketKind.FAULT or ticket.product == Product.OTHER:
        return None
    tickets, since = services.store.tickets, ticket.created_at - tunables.incident_window
    assert ticket.id is not None
    # Counted in the database and, in a storm, joined to the known incident by one indexed
    # lookup: loading every recent report for every new one made a storm quadratic.
    customers = await tickets.customers_reporting(product=ticket.product, since=since)
    if customers < tunables.incident_threshold:
        return None
    known = await tickets.incident_of_product(product=ticket.product, since=since)
    if known is not None:
        await tickets.set_incident([ticket.id], known)
        return known
    recent = await tickets.recent_of_product(product=ticket.product, since=since)
    # Replicas that tip the same incident at once derive the same key (and queue its alert
    # once, by that key).
    key = f"{ticket.product}:{min(recent, key=lambda row: row.id or 0).number}"
    await tickets.set_incident([row.id for row in recent if row.id], key)
    await services.notify.incident_alert(key, _incident_card(context, ticket, recent))
    return key


def _incident_card(
    context: CommandContext, ticket: TicketRow, recent: Sequence[TicketRow]
) -> Outgoing:
    product = PRODUCT_NAMES[Product(ticket.product)]["en"]
    minutes = int(context.services.tunables.incident_window.total_seconds() // 60)
    headline = (
        f"{len({r.customer_key for r in recent})} customers reported {product} within "
        f"{minutes} minutes – possible vendor outage"
    )
    facts = []
    for row in sorted(recent, key=lambda r: r.id or 0):
        customer = context.directory.customer(row.customer_key)
        facts.append(
            Fact(row.number, f"{customer.name if customer else row.customer_key}, {row.priority}")
        )
    card = Card(title=f"Possible outage: {product}", paragraphs=(headline,), facts=tuple(facts))
    text = "\n".join([f"**{card.title}**", headline, *(f"- {f.label}: {f.value}" for f in facts)])
    return Outgoing(ConversationRef(Channel(ticket.reporter_channel), ""), text, card=card)
