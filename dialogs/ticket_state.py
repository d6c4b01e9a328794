"""A ticket's current state for people (the alert card) and for the watcher (what is due).

Announcements are recorded in the ticket's event log (`sla_notice`, `customer_reminded`,
`vendor_chased`), which is what makes each warning, breach and reminder happen exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.model import (
    Action,
    Card,
    Channel,
    ConversationRef,
    Fact,
    Outgoing,
    ShowCardAction,
    SubmitAction,
    TextInput,
    customer_text,
)
from dialogs import formats
from dialogs.coaching import FOLLOW_UP_QUESTIONS, product_name
from dialogs.context import Language
from dialogs.i18n import N_, gettext_for
from dialogs.pressed import TICKET_CARD, on_card
from dialogs.services import Services
from dialogs.ticket_files import ENGINEERS_LANGUAGE, file_lines
from dialogs.when import in_words
from storage.directory import Product
from storage.models import TicketEventRow, TicketRow, TicketStatus
from storage.sla import ClockState, SlaEventKind, SlaState, sla_state
from storage.tickets import SLA_NOTICE, sla_events

log = logging.getLogger(__name__)

NOTICE = SLA_NOTICE
CUSTOMER_REMINDED = "customer_reminded"
VENDOR_CHASED = "vendor_chased"
VENDOR_CASE = "vendor_case"
# The engineers' channel speaks English (like every alert); what the customer typed is shown
# quoted under this heading, apart from the bot's facts.
CUSTOMER_WROTE = N_("Customer wrote:")
# The card input that carries the resolution summary with the Resolve button's command.
RESOLUTION_INPUT = "resolution"


@dataclass(frozen=True, slots=True)
class Due:
    """Something the watcher must announce at `at`."""

    kind: str  # "milestone", "customer_reminder", "vendor_chase"
    at: datetime
    key: str  # unique per ticket: what makes it "once"
    clock: str = ""
    percent: int = 0
    cycle: int = 0


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket with its event log and its SLA state."""

    ticket: TicketRow
    events: Sequence[TicketEventRow]
    sla: SlaState


async def view(services: Services, ticket: TicketRow, now: datetime) -> TicketView:
    """Load the ticket's log and derive its SLA state as of `now`."""
    assert ticket.id is not None
    return view_of(services, ticket, await services.store.tickets.events(ticket.id), now)


def view_of(
    services: Services, ticket: TicketRow, events: Sequence[TicketEventRow], now: datetime
) -> TicketView:
    """The SLA state as of `now` from an event log already loaded."""
    state = sla_state(sla_events(events), services.sla.terms_for(ticket.customer_key), now)
    return TicketView(ticket, events, state)


def next_due(view_: TicketView, services: Services) -> datetime | None:
    """When the watcher must look at the ticket next (None: nothing more to announce)."""
    items = due_items(view_, services)
    return items[0].at if items else None


def due_items(view_: TicketView, services: Services) -> list[Due]:
    """Everything still to announce for the ticket, past or future, in time order."""
    done = {str(row.data.get("key")) for row in view_.events if row.kind in _ANNOUNCED}
    items = [*_milestones(view_), *_customer_reminder(view_, services)]
    items += _vendor_chase(view_, services)
    return sorted((item for item in items if item.key not in done), key=lambda d: d.at)


_ANNOUNCED = frozenset({NOTICE, CUSTOMER_REMINDED, VENDOR_CHASED})


def _milestones(view_: TicketView) -> list[Due]:
    state = view_.sla
    found = []
    for name, clock in (("reaction", state.reaction), ("resolution", state.resolution)):
        if clock is None or not clock.running or clock.is_paused:
            continue
        for milestone in clock.milestones:
            if milestone.at is not None:
                key = f"{name}:{state.cycle}:{milestone.percent}"
                found.append(
                    Due("milestone", milestone.at, key, name, milestone.percent, state.cycle)
                )
    return found


def _customer_reminder(view_: TicketView, services: Services) -> list[Due]:
    if view_.ticket.status != TicketStatus.WAITING_FOR_CUSTOMER:
        return []
    pause = next((e for e in reversed(view_.events) if e.kind == SlaEventKind.PAUSED), None)
    if pause is None:
        return []
    calendar = view_.sla.terms.calendar
    at = calendar.add(pause.at, services.tunables.logs_reminder_after)
    return [Due("customer_reminder", at, f"customer:{pause.id}")]


def _vendor_chase(view_: TicketView, services: Services) -> list[Due]:
    case = next((e for e in reversed(view_.events) if e.kind == VENDOR_CASE), None)
    if case is None or view_.ticket.status == TicketStatus.RESOLVED:
        return []
    calendar = view_.sla.terms.calendar
    at = calendar.add(case.at, services.tunables.vendor_chase_after)
    return [Due("vendor_chase", at, f"vendor:{case.id}")]


async def refresh_next_due(services: Services, ticket: TicketRow) -> None:
    """Store when the watcher must look at the ticket next (after any change)."""
    assert ticket.id is not None
    now = services.clock()
    current = await services.store.tickets.get(ticket.id)
    if current is None or current.status == TicketStatus.RESOLVED:
        await services.store.tickets.set_next_due(ticket.id, None)
        return
    await services.store.tickets.set_next_due(
        ticket.id, next_due(await view(services, current, now), services)
    )


# Tickets recomputed per batch: small enough that the loop is never held for long (the engine
# needs about 0.1 ms per ticket).
RECOMPUTE_BATCH = 200


async def refresh_all_next_due(services: Services, *, batch: int = RECOMPUTE_BATCH) -> int:
    """Recompute when the watcher must look at each open ticket (after the calendars or the
    contract terms changed), a batch at a time; returns how many instants changed."""
    tickets, now = services.store.tickets, services.clock()
    last, changed = 0, 0
    while rows := await tickets.open_after(last, limit=batch):
        logs = await tickets.events_of([row.id for row in rows if row.id is not None])
        changes = []
        for row in rows:
            assert row.id is not None
            try:
                due = next_due(view_of(services, row, logs[row.id], now), services)
            except Exception:  # e.g. its contract left the directory: keep its instant
                log.exception("could not recompute the SLA instants of ticket %s", row.number)
                continue
            if due != row.sla_next_due:
                changes.append((row.id, row.sla_next_due, due))
        await tickets.replace_next_due(changes)
        changed += len(changes)
        last = rows[-1].id or last
    return changed


async def after_change(services: Services, ticket: TicketRow, event: str) -> TicketView:
    """After any change: store what is due next and refresh the alert card; the fresh view."""
    assert ticket.id is not None
    fresh = await services.store.tickets.get(ticket.id)
    assert fresh is not None
    await refresh_next_due(services, fresh)
    now = services.clock()
    current = await view(services, fresh, now)
    language = services.notify.engineers_language(fresh.customer_key)
    card = await alert_for(services, current, language=language)
    await services.notify.update_alert(fresh, card, event=event)
    return current


async def alert_for(
    services: Services,
    view_: TicketView,
    *,
    viewer: str | None = None,
    language: Language = ENGINEERS_LANGUAGE,
) -> Outgoing:
    """The ticket's alert card with its files' download links (fresh ones: links expire).
    `viewer`: the engineer it is shown to (`show`), None for the channel's shared card."""
    ticket = view_.ticket
    customer = services.directory.customer(ticket.customer_key)
    files = await file_lines(services, ticket, language=language)
    name = customer.name if customer else ticket.customer_key
    return alert_card(view_, name, services.clock(), files=files, viewer=viewer, language=language)


def status_text(view_: TicketView, language: Language = ENGINEERS_LANGUAGE) -> str:
    """In words: open, acknowledged by whom, waiting for the customer, resolved."""
    _ = gettext_for(language)
    ticket = view_.ticket
    if ticket.status == TicketStatus.RESOLVED:
        return _("Resolved")
    if ticket.status == TicketStatus.WAITING_FOR_CUSTOMER:
        return _("Waiting for the customer (SLA paused)")
    if view_.sla.reaction.stopped_at is not None:
        return _("In progress ({owner})").format(owner=ticket.owner_name or _("acknowledged"))
    return _("New – not acknowledged")


def _reaction_text(view_: TicketView, now: datetime, language: Language) -> str:
    """The reaction deadline in words, or how it ended."""
    _ = gettext_for(language)
    state = view_.sla
    if state.reaction.stopped_at is not None:
        used = formats.duration(state.reaction.used, language)
        if state.reaction.used < timedelta(minutes=1) and not state.reaction.breached:
            return _("met (responded within a minute)")
        if state.reaction.breached:
            return _("breached (responded after {used})").format(used=used)
        return _("met (responded after {used})").format(used=used)
    deadline = state.reaction.deadline
    zone = state.terms.calendar.zone
    if deadline is None:
        return _("paused")
    return in_words(deadline, now=now, zone=zone, language=language)


def digest_line(
    view_: TicketView, customer_name: str, now: datetime, language: Language = ENGINEERS_LANGUAGE
) -> Fact:
    """The ticket as one line of a grouped post (a possible outage's new members)."""
    _ = gettext_for(language)
    ticket = view_.ticket
    reaction = _("reaction {due}").format(due=_reaction_text(view_, now, language))
    return Fact(ticket.number, f"{customer_name} · {ticket.priority} · {reaction}")


def alert_card(
    view_: TicketView,
    customer_name: str,
    now: datetime,
    *,
    files: Sequence[str] = (),
    viewer: str | None = None,
    language: Language = ENGINEERS_LANGUAGE,
) -> Outgoing:
    """The ticket's card in the engineers' channel, with its current state, what the customer
    told us, its files and the buttons that still apply (for `viewer`, if one person sees it)."""
    _ = gettext_for(language)
    ticket = view_.ticket
    due = _reaction_text(view_, now, language)
    facts = (
        Fact(_("Customer"), customer_name),
        Fact(_("Product"), product_name(Product(ticket.product), language)),
        Fact(_("Priority"), ticket.priority, state=True),
        Fact(_("Status"), status_text(view_, language), state=True),
        Fact(_("Owner"), ticket.owner_name or "–", state=True),
        Fact(_("Reaction"), due, state=True),
        Fact(
            _("Reported by"),
            f"{customer_text(ticket.reporter_name)} ({customer_text(ticket.phone)})",
        ),
        Fact(_("Affected"), customer_text(ticket.affected)),
        # the provider's PSA number, set by its integration; a state fact, so that Webex's
        # editable thread top shows it as soon as it is set
        *(
            [Fact(_("External ref"), customer_text(ticket.external_ref), state=True)]
            if ticket.external_ref
            else []
        ),
        *_what_they_told_us(view_, now, language),
        *_sla_facts(view_, now, language),
    )
    number = ticket.number
    actions = _actions(view_, viewer, language)
    kind = _("Change request") if ticket.kind == "change_request" else _("Fault")
    description = customer_text(ticket.description)
    card = Card(
        title=f"{number} · {kind} · {customer_name}",
        paragraphs=(description,),
        facts=facts,
        actions=actions,
        quote_label=_(CUSTOMER_WROTE),
        footer=_files_footer(files, language),
    )
    facts_text = "\n".join(f"- {fact.label}: {fact.value}" for fact in facts)
    text = f"**{card.title}**\n\n{facts_text}\n\n{_(CUSTOMER_WROTE)}\n\n{description}"
    if card.footer:
        text += "\n\n" + "\n".join(card.footer)
    return Outgoing(ConversationRef(Channel(ticket.reporter_channel), ""), text, card=card)


def _what_they_told_us(view_: TicketView, now: datetime, language: Language) -> list[Fact]:
    """Since when, what was tried and the product's follow-up answers (customer text)."""
    _ = gettext_for(language)
    ticket, zone = view_.ticket, view_.sla.terms.calendar.zone
    facts = []
    if ticket.since is not None:
        since = in_words(ticket.since, now=now, zone=zone, language=language)
        facts.append(Fact(_("Since"), since))
    if ticket.tested:
        facts.append(Fact(_("Tried"), customer_text(ticket.tested)))
    for question in FOLLOW_UP_QUESTIONS.get(Product(ticket.product), []):
        if answer := ticket.details.get(question.id):
            facts.append(Fact(_(question.label), customer_text(str(answer))))
    return facts


def _sla_facts(view_: TicketView, now: datetime, language: Language) -> list[Fact]:
    """Business time used and left on the running clocks, and the next warning."""
    _ = gettext_for(language)
    state = view_.sla
    clocks = ((_("Reaction time"), state.reaction), (_("Resolution time"), state.resolution))
    facts = [Fact(label, _clock_words(clock, language)) for label, clock in clocks if clock]
    facts = [fact for fact in facts if fact.value]
    warning = _next_warning(state, now, language)
    if warning:
        facts.append(Fact(_("Next warning"), warning))
    return facts


def _clock_words(clock: ClockState, language: Language) -> str:
    """`1 hr 20 mins of 4 hrs used, 2 hrs 40 mins left` (empty once the clock has stopped)."""
    if not clock.running:
        return ""
    _ = gettext_for(language)
    used, target = formats.duration(clock.used, language), formats.duration(clock.target, language)
    if clock.breached:
        over = formats.duration(clock.used - clock.target, language)
        words = _("{used} of {target} used, {over} over").format(
            used=used, target=target, over=over
        )
    else:
        words = _("{used} of {target} used, {left} left").format(
            used=used, target=target, left=formats.duration(clock.left, language)
        )
    return _("{words} (paused)").format(words=words) if clock.is_paused else words


def _next_warning(state: SlaState, now: datetime, language: Language) -> str:
    """The next warning or deadline of a running clock, in words (empty: none ahead)."""
    _ = gettext_for(language)
    ahead = [
        milestone
        for clock in (state.reaction, state.resolution)
        if clock is not None and clock.running and not clock.is_paused
        for milestone in clock.milestones
        if milestone.at is not None and milestone.at > now
    ]
    if not ahead:
        return ""
    first = min(ahead, key=lambda milestone: milestone.at or now)
    assert first.at is not None
    when = in_words(first.at, now=now, zone=state.terms.calendar.zone, language=language)
    if first.percent >= 100:
        return _("deadline {when}").format(when=when)
    percent = formats.percent(first.percent, language)
    return _("{percent} at {when}").format(percent=percent, when=when)


def _actions(view_: TicketView, viewer: str | None, language: Language) -> tuple[Action, ...]:
    """Only the buttons that still do something: no Acknowledge once responded, no Take for
    the owner (on the shared card: once anyone owns it), no Ask for logs while waiting."""
    _ = gettext_for(language)
    ticket = view_.ticket
    number = ticket.number
    if ticket.status == TicketStatus.RESOLVED:
        return ()

    def data(command: str) -> Mapping[str, str]:
        # One person's view is shown again once pressed; the shared card is kept current.
        return {"command": command} if viewer is None else on_card(command, TICKET_CARD, number)

    buttons: list[Action] = []
    if view_.sla.reaction.stopped_at is None:
        buttons.append(SubmitAction(_("Acknowledge"), data(f"ack {number}")))
    owner = ticket.owner_user_id
    if (not owner) if viewer is None else owner != viewer:
        buttons.append(SubmitAction(_("Take"), data(f"take {number}")))
    if ticket.status != TicketStatus.WAITING_FOR_CUSTOMER:
        buttons.append(SubmitAction(_("Ask for logs"), data(f"ask-logs {number}")))
    buttons.append(resolve_button(number, language, confirm_data=data(f"resolve {number}")))
    return tuple(buttons)


def resolve_button(
    number: str, language: Language, *, confirm_data: Mapping[str, str] | None = None
) -> ShowCardAction:
    """Resolve asks for the resolution first: the button unfolds a required field (what the
    customer will read) and the button that confirms."""
    _ = gettext_for(language)
    summary = TextInput(
        RESOLUTION_INPUT,
        _("Resolution (the customer receives it)"),
        placeholder=_("e.g. The SIP trunk was restarted; calls work again."),
        multiline=True,
        required=True,
        max_length=2000,
        error=_("Please write what was done: the customer receives it."),
    )
    confirm = SubmitAction(
        _("Resolve {number}").format(number=number),
        confirm_data or {"command": f"resolve {number}"},
    )
    return ShowCardAction(_("Resolve"), Card(title="", inputs=(summary,), actions=(confirm,)))


def _files_footer(files: Sequence[str], language: Language) -> tuple[str, ...]:
    if not files:
        return ()
    _ = gettext_for(language)
    return (_("📎 **Files**"), *(f"- {line}" for line in files))


def _reporter(ticket: TicketRow) -> str:
    return f"{customer_text(ticket.reporter_name)} ({customer_text(ticket.phone)})"
