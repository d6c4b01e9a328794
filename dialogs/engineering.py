"""Engineers work tickets from the chat: ack, take, assign, reply, ask-logs, note, vendor,
resolve, reopen, show, mine, queue. Buttons on the alert card send the same commands.

In a ticket's alert thread the ticket number may be left out. The first acknowledge (or take,
or reply) is the ticket's first qualified response: it stops the reaction clock and tells the
customer who is working on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from adapters.model import Outgoing, customer_text
from dialogs.access import ticket_for
from dialogs.base import DialogStep
from dialogs.coaching import coaching
from dialogs.context import Language, Turn, as_language
from dialogs.i18n import gettext_for
from dialogs.resolution import resolution_message
from dialogs.texts import t
from dialogs.ticket_state import (
    RESOLUTION_INPUT,
    VENDOR_CASE,
    TicketView,
    after_change,
    alert_for,
    view,
)
from dialogs.when import in_words
from storage.directory import Product, Role
from storage.models import TicketRow, TicketStatus
from storage.sla import SlaEventKind

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

ENGINEERS = frozenset({Role.ENGINEER})
VENDORS = ("cisco", "microsoft", "luware")

TicketHandler = Callable[[Turn, "CommandContext", TicketRow, str], Awaitable[list[Outgoing]]]


def on_ticket(
    handler: TicketHandler, *, needs_text: str = "", open_only: bool = True
) -> Callable[[Turn, CommandContext, str], Awaitable[list[Outgoing]]]:
    """Wrap a handler: find the ticket (or say how to name it), require text where needed,
    and refuse to work on a resolved ticket unless the command is for those too."""

    async def run(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
        ticket, rest = await ticket_for(turn, context, args)
        if ticket is None:
            return [
                turn.reply(
                    "Which ticket? Write its number, e.g. `ack CCS-2026-000123`, "
                    "or use the command in the ticket's thread."
                )
            ]
        if needs_text and not rest:
            return [turn.reply(f"Please add {needs_text}, e.g. `{needs_text}`.")]
        if open_only and ticket.status == TicketStatus.RESOLVED:
            return [turn.reply(f"{ticket.number} is resolved; `reopen {ticket.number}` first.")]
        return await handler(turn, context, ticket, rest)

    return run


async def _first_response(
    turn: Turn, context: CommandContext, ticket: TicketRow
) -> tuple[bool, int]:
    """Record the first qualified response of the current cycle; (was it this one, cycle)."""
    current = await view(context.services, ticket, context.services.clock())
    if current.sla.reaction.stopped_at is not None:
        return False, current.sla.cycle
    assert ticket.id is not None
    await context.services.store.tickets.append(
        ticket.id,
        kind=SlaEventKind.RESPONDED,
        at=context.services.clock(),
        actor=turn.actor.user_id,
        data={"by": turn.actor.name},
    )
    return True, current.sla.cycle


async def _after_change(context: CommandContext, ticket: TicketRow, event: str) -> TicketView:
    return await after_change(context.services, ticket, event)


def _lang(ticket: TicketRow) -> Language:
    return as_language(ticket.language) or "en"


async def ack(turn: Turn, context: CommandContext, ticket: TicketRow, _rest: str) -> list[Outgoing]:
    """Acknowledge: the first qualified response; the customer learns who works on it."""
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    first, current_cycle = await _first_response(turn, context, ticket)
    await services.store.tickets.append(
        ticket.id, kind="acknowledged", at=now, actor=turn.actor.user_id
    )
    if not ticket.owner_user_id:
        await services.store.tickets.set_owner(
            ticket.id, user_id=staff_id(turn), name=turn.actor.name, at=now
        )
    event = event_key(turn, "ack", ticket)
    if first:
        await services.notify.to_customer(
            ticket,
            _working_on_it(ticket, turn.actor.name),
            # once per reaction cycle, even when two engineers acknowledge at the same moment
            event=f"working:{ticket.number}:{current_cycle}",
        )
    current = await _after_change(context, ticket, event)
    used = current.sla.reaction.used
    verdict = "first response recorded" if first else "already acknowledged"
    return [
        turn.reply(
            f"{ticket.number} acknowledged by {turn.actor.name}: {verdict} "
            f"(reaction time used {_hm(used)})."
        )
    ]


async def take(turn: Turn, context: CommandContext, ticket: TicketRow, rest: str) -> list[Outgoing]:
    """Take the ticket: you own it (and it counts as acknowledged)."""
    assert ticket.id is not None
    now = context.services.clock()
    await context.services.store.tickets.set_owner(
        ticket.id, user_id=staff_id(turn), name=turn.actor.name, at=now
    )
    await context.services.store.tickets.append(
        ticket.id, kind="taken", at=now, actor=turn.actor.user_id, data={"by": turn.actor.name}
    )
    ticket.owner_user_id = staff_id(turn)  # so ack does not take it again
    [acknowledged] = await ack(turn, context, ticket, rest)
    return [turn.reply(f"{turn.actor.name} owns {ticket.number} now. {acknowledged.text}")]


async def assign(
    turn: Turn, context: CommandContext, ticket: TicketRow, rest: str
) -> list[Outgoing]:
    """Give the ticket to another engineer (by name or e-mail)."""
    wanted = rest.strip().lower().lstrip("@")
    person = next(
        (
            s
            for s in context.directory.staff
            if wanted and (wanted in s.name.lower() or wanted == s.email)
        ),
        None,
    )
    if person is None:
        return [turn.reply(f"I know no engineer called {rest!r}.")]
    assert ticket.id is not None
    now = context.services.clock()
    await context.services.store.tickets.set_owner(
        ticket.id, user_id=person.email, name=person.name, at=now
    )
    await context.services.store.tickets.append(
        ticket.id, kind="assigned", at=now, actor=turn.actor.user_id, data={"to": person.email}
    )
    await _after_change(context, ticket, event_key(turn, "assign", ticket))
    return [turn.reply(f"{ticket.number} is assigned to {person.name}.")]


async def reply(
    turn: Turn, context: CommandContext, ticket: TicketRow, text: str
) -> list[Outgoing]:
    """Send the customer a message (their chat); the first one is the first response."""
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    first, _cycle = await _first_response(turn, context, ticket)
    await services.store.tickets.append(
        ticket.id, kind="engineer_reply", at=now, actor=turn.actor.user_id, data={"text": text}
    )
    message = f"**{turn.actor.name}** on {ticket.number}: {text}"
    await services.notify.to_customer(ticket, message, event=event_key(turn, "reply", ticket))
    await _after_change(context, ticket, event_key(turn, "reply", ticket))
    suffix = " (first response recorded)" if first else ""
    return [turn.reply(f"Sent to the customer of {ticket.number}{suffix}.")]


async def ask_logs(
    turn: Turn, context: CommandContext, ticket: TicketRow, what: str
) -> list[Outgoing]:
    """Ask the customer for logfiles: the ticket waits for them and the SLA clock pauses."""
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    if ticket.status == TicketStatus.WAITING_FOR_CUSTOMER:
        return [turn.reply(f"{ticket.number} already waits for the customer.")]
    await services.store.tickets.append(
        ticket.id,
        kind=SlaEventKind.PAUSED,
        at=now,
        actor=turn.actor.user_id,
        data={"reason": "waiting for logfiles", "what": what},
        status=TicketStatus.WAITING_FOR_CUSTOMER,
    )
    language = _lang(ticket)
    ask = (
        f"Bitte senden Sie für {ticket.number} Logdateien"
        if language == "de"
        else f"Please send logfiles for {ticket.number}"
    )
    detail = f": {what}" if what else "."
    request = f"{ask}{detail}\n\n{coaching(Product(ticket.product), language)}"
    await services.notify.to_customer(ticket, request, event=event_key(turn, "asklogs", ticket))
    await _after_change(context, ticket, event_key(turn, "asklogs", ticket))
    return [
        turn.reply(
            f"Asked the customer of {ticket.number} for logs; the SLA clock is paused "
            "until they answer or send files."
        )
    ]


async def note(turn: Turn, context: CommandContext, ticket: TicketRow, text: str) -> list[Outgoing]:
    """An internal note: recorded on the ticket and shown in its thread, never to the customer."""
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    await services.store.tickets.append(
        ticket.id, kind="note", at=now, actor=turn.actor.user_id, data={"text": text}
    )
    if not turn.incoming.conversation.thread_id:
        answer = Outgoing(turn.incoming.conversation, f"📝 {turn.actor.name}: {text}")
        await services.notify.to_thread(ticket, [answer], event=event_key(turn, "note", ticket))
    return [turn.reply(f"Noted on {ticket.number}.")]


async def vendor(
    turn: Turn, context: CommandContext, ticket: TicketRow, rest: str
) -> list[Outgoing]:
    """Record a manufacturer case: `vendor <ticket> cisco|microsoft|luware <case id>`."""
    parts = rest.split(maxsplit=1)
    if len(parts) != 2 or parts[0].lower() not in VENDORS:
        return [turn.reply("Write `vendor <ticket> cisco|microsoft|luware <case id>`.")]
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    await services.store.tickets.append(
        ticket.id,
        kind=VENDOR_CASE,
        at=now,
        actor=turn.actor.user_id,
        data={"vendor": parts[0].lower(), "case": parts[1]},
    )
    await _after_change(context, ticket, event_key(turn, "vendor", ticket))
    chase = services.tunables.vendor_chase_after
    return [
        turn.reply(
            f"{parts[0].capitalize()} case {parts[1]} recorded on {ticket.number}; "
            f"I'll remind the owner to chase it after {_hm(chase)} of service time."
        )
    ]


async def resolve(
    turn: Turn, context: CommandContext, ticket: TicketRow, summary: str
) -> list[Outgoing]:
    """Resolve the ticket and tell the customer the summary (`ResolveDialog` asks for one)."""
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    if ticket.status == TicketStatus.RESOLVED:
        return [turn.reply(f"{ticket.number} is already resolved.")]
    await services.store.tickets.append(
        ticket.id,
        kind=SlaEventKind.RESOLVED,
        at=now,
        actor=turn.actor.user_id,
        data={"summary": summary},
        status=TicketStatus.RESOLVED,
    )
    text = (
        f"Ihr Ticket {ticket.number} ist gelöst: {summary}"
        if _lang(ticket) == "de"
        else f"Your ticket {ticket.number} is resolved: {summary}"
    )
    text, card = resolution_message(ticket, text, _lang(ticket), services.tunables.reopen_within)
    await services.notify.to_customer(
        ticket, text, event=event_key(turn, "resolved", ticket), card=card
    )
    await _after_change(context, ticket, event_key(turn, "resolve", ticket))
    return [turn.reply(f"{ticket.number} resolved.")]


def submitted_resolution(turn: Turn) -> str:
    """The resolution typed into the Resolve button's field (empty: none came with it)."""
    value = (turn.incoming.value or {}).get(RESOLUTION_INPUT)
    return value.strip() if isinstance(value, str) else ""


class ResolveDialog:
    """`resolve <ticket> <summary>` resolves at once; without a summary (typed, or a card whose
    required field came back empty) it asks what was done, since the customer reads it. The
    next message is the summary; `cancel` stops (the router's global cancel)."""

    name = "resolve"

    async def start(self, turn: Turn, context: CommandContext, args: str) -> DialogStep:
        asked: dict[str, Any] = {}

        async def begin(
            turn: Turn, context: CommandContext, ticket: TicketRow, rest: str
        ) -> list[Outgoing]:
            summary = rest or submitted_resolution(turn)
            if summary or ticket.status == TicketStatus.RESOLVED:
                return await resolve(turn, context, ticket, summary)
            asked["ticket"] = ticket.number
            return [_ask_for_resolution(turn, ticket.number)]

        answers = await on_ticket(begin, open_only=False)(turn, context, args)
        return DialogStep(answers, asked or None)

    async def resume(
        self, turn: Turn, context: CommandContext, state: dict[str, Any]
    ) -> DialogStep:
        number = str(state.get("ticket", ""))
        ticket = await context.services.store.tickets.by_number(number)
        if ticket is None:
            return DialogStep()
        summary = turn.incoming.text.strip() or submitted_resolution(turn)
        if not summary:
            return DialogStep([_ask_for_resolution(turn, number)], state)
        return DialogStep(await resolve(turn, context, ticket, summary), None)


def _ask_for_resolution(turn: Turn, number: str) -> Outgoing:
    _ = gettext_for(turn.actor.language)
    question = _(
        "What was done to resolve {number}? Your next message goes to the customer as the "
        "resolution. (Type `cancel` to stop.)"
    ).format(number=number)
    return turn.reply(question)


async def reopen(
    turn: Turn, context: CommandContext, ticket: TicketRow, _rest: str
) -> list[Outgoing]:
    """Reopen a resolved ticket: a new reaction cycle starts."""
    services = context.services
    if ticket.status != TicketStatus.RESOLVED:
        return [turn.reply(f"{ticket.number} is not resolved.")]
    text = (
        f"Ihr Ticket {ticket.number} wurde wieder geöffnet."
        if _lang(ticket) == "de"
        else f"Your ticket {ticket.number} was reopened."
    )
    await services.notify.to_customer(ticket, text, event=event_key(turn, "reopened", ticket))
    when = await reopen_ticket(
        turn, context, ticket, event=event_key(turn, "reopen", ticket), language="en"
    )
    return [turn.reply(f"{ticket.number} reopened: a new reaction cycle, due {when}.")]


async def reopen_ticket(
    turn: Turn,
    context: CommandContext,
    ticket: TicketRow,
    *,
    event: str,
    language: Language,
    data: dict[str, str] | None = None,
) -> str:
    """Reopen the ticket (a new reaction cycle) and say, in words, when the reaction is due."""
    now = context.services.clock()
    assert ticket.id is not None
    await context.services.store.tickets.append(
        ticket.id,
        kind=SlaEventKind.REOPENED,
        at=now,
        actor=turn.actor.user_id,
        data=data,
        status=TicketStatus.OPEN,
    )
    current = await _after_change(context, ticket, event)
    deadline = current.sla.reaction.deadline
    zone = current.sla.terms.calendar.zone
    return in_words(deadline, now=now, zone=zone, language=language) if deadline else "–"


async def show(
    turn: Turn, context: CommandContext, ticket: TicketRow, _rest: str
) -> list[Outgoing]:
    """The ticket's card with its current state, its files and the buttons that apply to the
    engineer who asked (no Take on their own ticket)."""
    now = context.services.clock()
    current = await view(context.services, ticket, now)
    card = await alert_for(
        context.services, current, viewer=staff_id(turn), language=turn.actor.language
    )
    return [turn.reply(card.text, card=card.card)]


def event_key(turn: Turn, what: str, ticket: TicketRow) -> str:
    """Names what a message is about by the incoming message that caused it, so that handling
    that message again (a retry after a crash) queues nothing twice."""
    return f"{what}:{ticket.number}:{turn.incoming.channel.value}:{turn.incoming.event_id}"


def staff_id(turn: Turn) -> str:
    """Owners are staff, known by e-mail across Teams and Webex."""
    return turn.actor.staff.email if turn.actor.staff is not None else turn.actor.user_id


def _working_on_it(ticket: TicketRow, name: str) -> str:
    if _lang(ticket) == "de":
        return f"{name} bearbeitet Ihr Ticket {ticket.number}."
    return f"{name} is working on your ticket {ticket.number}."


def _hm(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}"


async def relay_to_ticket(
    turn: Turn, context: CommandContext, ticket: TicketRow, text: str
) -> list[Outgoing]:
    """A customer's message added to their ticket and posted to its thread (an answer to a
    request for logs starts the clock again)."""
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    await services.store.tickets.append(
        ticket.id, kind="customer_message", at=now, actor=turn.actor.user_id, data={"text": text}
    )
    name = customer_text(turn.actor.name)
    lines = [f"💬 **{name}** ({ticket.number}) wrote:", customer_text(text)]
    if ticket.status == TicketStatus.WAITING_FOR_CUSTOMER:
        await services.store.tickets.append(
            ticket.id,
            kind=SlaEventKind.RESUMED,
            at=now,
            actor=turn.actor.user_id,
            data={"reason": "customer answered"},
            status=TicketStatus.OPEN,
        )
        lines.append("The customer answered: the SLA clock runs again.")
    answer = Outgoing(turn.incoming.conversation, "\n\n".join(lines))
    await services.notify.to_thread(ticket, [answer], event=event_key(turn, "customer", ticket))
    await _after_change(context, ticket, event_key(turn, "customer", ticket))
    return [turn.reply(t("customer_message_added", turn.actor.language, number=ticket.number))]
