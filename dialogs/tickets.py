"""Opening a ticket from a finished report: number, SLA deadline, confirmation and coaching."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from adapters.model import Card, Channel, ConversationRef, Fact, Outgoing
from dialogs import formats
from dialogs.coaching import coaching, priority_name, product_name
from dialogs.context import Turn
from dialogs.i18n import gettext_for
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
    created_by: str | None = None,
) -> tuple[TicketRow, list[Outgoing]]:
    """Create the ticket; the answers are its number and deadline, then the logfile coaching.

    Idempotent by `source_key` (the draft): a second confirm, or a retry after a failure half
    way, finds the ticket and completes what is missing instead of opening another one.
    `created_by` names who opened it in the event log when that is not the reporter (an
    integration reporting for a contact).
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
            created_by=created_by,
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
        answers.append(turn.reply(coaching(Product(row.product), actor.language, row.number)))
    return row, answers


def _confirmation(
    turn: Turn, row: TicketRow, deadline: str, reaction: timedelta, service_time: str
) -> Outgoing:
    lang = turn.actor.language
    product = product_name(Product(row.product), lang)
    values = {
        "number": row.number,
        "product": product,
        "priority": row.priority,
        "deadline": deadline,
        "reaction": formats.duration(reaction, lang),
        "service_time": service_time,
    }
    _ = gettext_for(lang)
    if row.kind == TicketKind.CHANGE_REQUEST:
        text = _(
            "Change request **{number}** is recorded: {product}. It is billed by "
            "effort with your consent; we will get back to you by **{deadline}** to "
            "plan it within normal working hours."
        ).format(**values)
    else:
        text = _(
            "Ticket **{number}** is open: {product}, {priority}. We will react by "
            "**{deadline}** ({reaction} of service time, {service_time}). Our "
            "automatic confirmation does not count as that reaction – an engineer "
            "will get back to you."
        ).format(**values)
    card = Card(
        title=row.number,
        paragraphs=(text,),
        facts=(
            Fact(_("Product"), product),
            Fact(_("Priority"), priority_name(row.priority, lang)),
        ),
    )
    return turn.reply(text, card=card)


async def _alert_engineers(context: CommandContext, ticket: TicketRow) -> None:
    """The new ticket's card in the engineers' channel: a thread of its own, or, when several
    customers report the same product at once, inside one grouped alert of a possible outage."""
    from dialogs.ticket_state import alert_for, digest_line, view

    services = context.services
    now = services.clock()
    customer = context.directory.customer(ticket.customer_key)
    current = await view(services, ticket, now)
    customer_name = customer.name if customer else ""
    language = services.notify.engineers_language(ticket.customer_key)
    card = await alert_for(services, current, language=language)
    incident = await _possible_outage(context, ticket)
    if incident is None:
        await services.notify.new_alert(ticket, card)
    else:
        line = digest_line(current, customer_name, now, language)
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
    language = context.services.notify.engineers_language(None)
    _ = gettext_for(language)
    product = product_name(Product(ticket.product), language)
    window = formats.duration(context.services.tunables.incident_window, language)
    headline = _(
        "{count} customers reported {product} within {window} – possible vendor outage"
    ).format(count=len({r.customer_key for r in recent}), product=product, window=window)
    facts = []
    for row in sorted(recent, key=lambda r: r.id or 0):
        customer = context.directory.customer(row.customer_key)
        facts.append(
            Fact(row.number, f"{customer.name if customer else row.customer_key}, {row.priority}")
        )
    title = _("Possible outage: {product}").format(product=product)
    card = Card(title=title, paragraphs=(headline,), facts=tuple(facts))
    text = "\n".join([f"**{card.title}**", headline, *(f"- {f.label}: {f.value}" for f in facts)])
    return Outgoing(ConversationRef(Channel(ticket.reporter_channel), ""), text, card=card)
