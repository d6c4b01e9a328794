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

from adapters.model import Card, Channel, Outgoing, customer_paragraphs, customer_text
from dialogs import formats
from dialogs.access import ticket_for
from dialogs.base import DialogStep
from dialogs.coaching import coaching
from dialogs.context import Language, Turn, as_language
from dialogs.i18n import N_, gettext_for
from dialogs.resolution import resolution_message
from dialogs.ticket_state import (
    RESOLUTION_INPUT,
    VENDOR_CASE,
    TicketView,
    after_change,
    alert_for,
    view,
)
from dialogs.when import in_words
from storage.directory import Directory, Product, Role, StaffMember
from storage.models import TicketRow, TicketStatus
from storage.sla import SlaEventKind

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

ENGINEERS = frozenset({Role.ENGINEER})
VENDORS = ("cisco", "microsoft", "luware")

#: What the bot tells a ticket's customer, in the ticket's language. What an engineer typed
#: (`{text}`, `{what}`, `{summary}`, their name) is shown as typed: never markup, links or
#: mentions, line breaks kept.
_WORKING_ON_IT = N_("{name} is working on your ticket {number}.")
_REPLY = N_("**{name}** wrote on {number}:\n\n{text}")
_SEND_LOGS_FOR = N_("Please send logfiles for {number}: {what}")
_SEND_LOGS = N_("Please send logfiles for {number}.")
_RESOLVED = N_("Your ticket {number} is resolved:\n\n{summary}")
_REOPENED = N_("Your ticket {number} was reopened.")

TicketHandler = Callable[[Turn, "CommandContext", TicketRow, str], Awaitable[list[Outgoing]]]


def on_ticket(
    handler: TicketHandler, *, needs_text: str = "", open_only: bool = True
) -> Callable[[Turn, CommandContext, str], Awaitable[list[Outgoing]]]:
    """Wrap a handler: find the ticket (or say how to name it), require text where needed,
    and refuse to work on a resolved ticket unless the command is for those too."""

    async def run(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
        _ = gettext_for(turn.actor.language)
        ticket, rest = await ticket_for(turn, context, args)
        if ticket is None:
            return [
                turn.reply(
                    _(
                        "Which ticket? Write its number, e.g. `ack CCS-2026-000123`, "
                        "or use the command in the ticket's thread."
                    )
                )
            ]
        if needs_text and not rest:
            return [turn.reply(_("Please add {what}.").format(what=_(needs_text)))]
        if open_only and (reason := reopen_first(ticket, turn.actor.language)):
            return [turn.reply(reason)]
        return await handler(turn, context, ticket, rest)

    return run


# --- the rules: what may be done to a ticket as it stands. Chat commands and the integration
# API ask the same functions, so a rule lives once. Each says why not (in `language`), or None.

Rule = Callable[[TicketRow, Language], str | None]


def reopen_first(ticket: TicketRow, language: Language) -> str | None:
    """Work on a ticket needs it open."""
    if ticket.status == TicketStatus.RESOLVED:
        _ = gettext_for(language)
        return _("{number} is resolved; `reopen {number}` first.").format(number=ticket.number)
    return None


def not_waiting_yet(ticket: TicketRow, language: Language) -> str | None:
    """Asking for logs pauses the clock once; a second ask has nothing to pause."""
    if ticket.status == TicketStatus.WAITING_FOR_CUSTOMER:
        _ = gettext_for(language)
        return _("{number} already waits for the customer.").format(number=ticket.number)
    return None


def not_resolved_yet(ticket: TicketRow, language: Language) -> str | None:
    """A ticket is resolved once (a second resolve would tell the customer again)."""
    if ticket.status == TicketStatus.RESOLVED:
        _ = gettext_for(language)
        return _("{number} is already resolved.").format(number=ticket.number)
    return None


def resolved_now(ticket: TicketRow, language: Language) -> str | None:
    """Only a resolved ticket can be reopened."""
    if ticket.status != TicketStatus.RESOLVED:
        _ = gettext_for(language)
        return _("{number} is not resolved.").format(number=ticket.number)
    return None


def customer_in_chat(ticket: TicketRow, language: Language) -> str | None:
    """Messages to the customer need a chat: a ticket another system opened for nobody in chat
    is answered there."""
    if ticket.reporter_channel == Channel.API.value:
        _ = gettext_for(language)
        text = _(
            "{number} came from another system and its reporter has no chat with the bot: "
            "answer them there."
        )
        return text.format(number=ticket.number)
    return None


# Which rules each action obeys (as the chat commands are declared in `dialogs/catalog.py`).
RULES: dict[str, tuple[Rule, ...]] = {
    "ack": (reopen_first,),
    "take": (reopen_first,),
    "assign": (reopen_first,),
    "reply": (reopen_first, customer_in_chat),
    "ask-logs": (reopen_first, not_waiting_yet, customer_in_chat),
    "vendor": (reopen_first,),
    "note": (),
    "resolve": (not_resolved_yet,),
    "reopen": (resolved_now,),
    "effort": (),
}


def refusal(action: str, ticket: TicketRow, language: Language = "en") -> str | None:
    """Why `action` may not be done to `ticket` now (None: it may)."""
    for rule in RULES[action]:
        if (reason := rule(ticket, language)) is not None:
            return reason
    return None


def engineer_named(directory: Directory, wanted: str) -> StaffMember | None:
    """The staff member a name or e-mail (`@` allowed) names, if any."""
    wanted = wanted.strip().lower().lstrip("@")
    return next(
        (s for s in directory.staff if wanted and (wanted in s.name.lower() or wanted == s.email)),
        None,
    )


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
    # Owner first: the event's webhook deliveries carry the ticket as it is after the ack.
    if not ticket.owner_user_id:
        await services.store.tickets.set_owner(
            ticket.id, user_id=staff_id(turn), name=turn.actor.name, at=now
        )
    await services.store.tickets.append(
        ticket.id, kind="acknowledged", at=now, actor=turn.actor.user_id
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
    lang = turn.actor.language
    _ = gettext_for(lang)
    verdict = _("first response recorded") if first else _("already acknowledged")
    text = _("{number} acknowledged by {name}: {verdict} (reaction time used {used}).")
    used = formats.time_used(current.sla.reaction.used, lang)
    return [
        turn.reply(
            text.format(number=ticket.number, name=turn.actor.name, verdict=verdict, used=used)
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
    _ = gettext_for(turn.actor.language)
    owns = _("{name} owns {number} now.").format(name=turn.actor.name, number=ticket.number)
    return [turn.reply(f"{owns} {acknowledged.text}")]


async def assign(
    turn: Turn, context: CommandContext, ticket: TicketRow, rest: str
) -> list[Outgoing]:
    """Give the ticket to another engineer (by name or e-mail)."""
    person = engineer_named(context.directory, rest)
    _ = gettext_for(turn.actor.language)
    if person is None:
        unknown = _("I know no engineer called {name}.")
        return [turn.reply(unknown.format(name=formats.quoted(rest, turn.actor.language)))]
    assert ticket.id is not None
    now = context.services.clock()
    await context.services.store.tickets.set_owner(
        ticket.id, user_id=person.email, name=person.name, at=now
    )
    await context.services.store.tickets.append(
        ticket.id, kind="assigned", at=now, actor=turn.actor.user_id, data={"to": person.email}
    )
    await _after_change(context, ticket, event_key(turn, "assign", ticket))
    text = _("{number} is assigned to {name}.")
    return [turn.reply(text.format(number=ticket.number, name=person.name))]


async def reply(
    turn: Turn, context: CommandContext, ticket: TicketRow, text: str
) -> list[Outgoing]:
    """Send the customer a message (their chat); the first one is the first response."""
    if reason := customer_in_chat(ticket, turn.actor.language):
        return [turn.reply(reason)]
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    first, _cycle = await _first_response(turn, context, ticket)
    await services.store.tickets.append(
        ticket.id, kind="engineer_reply", at=now, actor=turn.actor.user_id, data={"text": text}
    )
    message = _for_customer(
        ticket, _REPLY, name=customer_text(turn.actor.name), text=customer_paragraphs(text)
    )
    await services.notify.to_customer(ticket, message, event=event_key(turn, "reply", ticket))
    await _after_change(context, ticket, event_key(turn, "reply", ticket))
    _ = gettext_for(turn.actor.language)
    if first:
        sent = _("Sent to the customer of {number} (first response recorded).")
    else:
        sent = _("Sent to the customer of {number}.")
    return [turn.reply(sent.format(number=ticket.number))]


async def ask_logs(
    turn: Turn, context: CommandContext, ticket: TicketRow, what: str
) -> list[Outgoing]:
    """Ask the customer for logfiles: the ticket waits for them and the SLA clock pauses."""
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    _ = gettext_for(turn.actor.language)
    lang = turn.actor.language
    if reason := not_waiting_yet(ticket, lang) or customer_in_chat(ticket, lang):
        return [turn.reply(reason)]
    await services.store.tickets.append(
        ticket.id,
        kind=SlaEventKind.PAUSED,
        at=now,
        actor=turn.actor.user_id,
        data={"reason": N_("waiting for logfiles"), "what": what},
        status=TicketStatus.WAITING_FOR_CUSTOMER,
    )
    request = "\n\n".join(
        (
            _for_customer(ticket, _SEND_LOGS_FOR, what=customer_text(what))
            if what
            else _for_customer(ticket, _SEND_LOGS),
            coaching(Product(ticket.product), _lang(ticket), ticket.number),
        )
    )
    await services.notify.to_customer(ticket, request, event=event_key(turn, "asklogs", ticket))
    await _after_change(context, ticket, event_key(turn, "asklogs", ticket))
    asked = _(
        "Asked the customer of {number} for logs; the SLA clock is paused until they answer "
        "or send files."
    )
    return [turn.reply(asked.format(number=ticket.number))]


async def note(turn: Turn, context: CommandContext, ticket: TicketRow, text: str) -> list[Outgoing]:
    """An internal note: recorded on the ticket and shown in its thread, never to the customer."""
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    await services.store.tickets.append(
        ticket.id, kind="note", at=now, actor=turn.actor.user_id, data={"text": text}
    )
    if not turn.incoming.conversation.thread_id:
        noted = f"📝 {customer_text(turn.actor.name)}:\n\n{customer_paragraphs(text)}"
        answer = Outgoing(turn.incoming.conversation, noted)
        await services.notify.to_thread(ticket, [answer], event=event_key(turn, "note", ticket))
    _ = gettext_for(turn.actor.language)
    return [turn.reply(_("Noted on {number}.").format(number=ticket.number))]


async def vendor(
    turn: Turn, context: CommandContext, ticket: TicketRow, rest: str
) -> list[Outgoing]:
    """Record a manufacturer case: `vendor <ticket> cisco|microsoft|luware <case id>`."""
    parts = rest.split(maxsplit=1)
    lang = turn.actor.language
    _ = gettext_for(lang)
    if len(parts) != 2 or parts[0].lower() not in VENDORS:
        return [turn.reply(_("Write `vendor <ticket> cisco|microsoft|luware <case id>`."))]
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
    chase = formats.duration(services.tunables.vendor_chase_after, lang)
    recorded = _(
        "{vendor} case {case} recorded on {number}; I'll remind the owner to chase it after "
        "{chase} of service time."
    )
    values = {"vendor": parts[0].capitalize(), "case": parts[1], "number": ticket.number}
    return [turn.reply(recorded.format(chase=chase, **values))]


async def resolve(
    turn: Turn, context: CommandContext, ticket: TicketRow, summary: str
) -> list[Outgoing]:
    """Resolve the ticket and tell the customer the summary (`ResolveDialog` asks for one)."""
    services, now = context.services, context.services.clock()
    assert ticket.id is not None
    _ = gettext_for(turn.actor.language)
    if reason := not_resolved_yet(ticket, turn.actor.language):
        return [turn.reply(reason)]
    await services.store.tickets.append(
        ticket.id,
        kind=SlaEventKind.RESOLVED,
        at=now,
        actor=turn.actor.user_id,
        data={"summary": summary},
        status=TicketStatus.RESOLVED,
    )
    text, card = resolution_for_customer(ticket, summary, services.tunables.reopen_within)
    await services.notify.to_customer(
        ticket, text, event=event_key(turn, "resolved", ticket), card=card
    )
    await _after_change(context, ticket, event_key(turn, "resolve", ticket))
    return [turn.reply(_("{number} resolved.").format(number=ticket.number))]


def resolution_for_customer(
    ticket: TicketRow, summary: str, reopen_within: timedelta, *, reopened: bool = False
) -> tuple[str, Card]:
    """The resolution message the ticket's customer gets (text and card), in their language."""
    text = _for_customer(ticket, _RESOLVED, summary=customer_paragraphs(summary))
    return resolution_message(ticket, text, _lang(ticket), reopen_within, reopened=reopened)


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
    services, lang = context.services, turn.actor.language
    _ = gettext_for(lang)
    if reason := resolved_now(ticket, lang):
        return [turn.reply(reason)]
    text = _for_customer(ticket, _REOPENED)
    await services.notify.to_customer(ticket, text, event=event_key(turn, "reopened", ticket))
    when = await reopen_ticket(
        turn, context, ticket, event=event_key(turn, "reopen", ticket), language=lang
    )
    reopened = _("{number} reopened: a new reaction cycle, due {when}.")
    return [turn.reply(reopened.format(number=ticket.number, when=when))]


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
    return _for_customer(ticket, _WORKING_ON_IT, name=customer_text(name))


def _for_customer(ticket: TicketRow, message: str, **values: str) -> str:
    """A text for the ticket's customer, in their language."""
    _ = gettext_for(_lang(ticket))
    return _(message).format(number=ticket.number, **values)


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
    _ = gettext_for(services.notify.engineers_language(ticket.customer_key))
    wrote = _("💬 **{name}** ({number}) wrote:").format(name=name, number=ticket.number)
    lines = [wrote, customer_text(text)]
    if ticket.status == TicketStatus.WAITING_FOR_CUSTOMER:
        await services.store.tickets.append(
            ticket.id,
            kind=SlaEventKind.RESUMED,
            at=now,
            actor=turn.actor.user_id,
            data={"reason": N_("customer answered")},
            status=TicketStatus.OPEN,
        )
        lines.append(_("The customer answered: the SLA clock runs again."))
    answer = Outgoing(turn.incoming.conversation, "\n\n".join(lines))
    await services.notify.to_thread(ticket, [answer], event=event_key(turn, "customer", ticket))
    await _after_change(context, ticket, event_key(turn, "customer", ticket))
    _ = gettext_for(turn.actor.language)
    return [turn.reply(_("Added to {number}; the engineers see it.").format(number=ticket.number))]
