"""Maintenance windows in the chat: engineers propose planned work (security updates and the
like) inside the customer's service time; the customer's contact confirms it or moves it.

The flow (also in the README):
- An engineer writes `maintenance <customer> <YYYY-MM-DD HH:MM> <duration> <title>` (a ticket
  number in the title links the window to that change request). The window must lie entirely
  inside the customer's service time and in the future; otherwise it is refused with the next
  possible slot.
- The proposal goes to the customer's contact who wrote to the bot most recently, in their 1:1
  chat: a card with **Confirm** and **Propose another time** (and a field for the new start),
  plus the text fallback `confirm` / `move YYYY-MM-DD HH:MM`. The bot waits for the answer in a
  persisted dialog of that chat (unless the contact is in the middle of another dialog; then
  the buttons, or `windows` later, work just as well).
- Confirm: the window is confirmed. Move: the new start is validated the same way (same
  duration); a time inside the service time is the contact's consent, so the window is
  confirmed at the new time at once and the engineers are told (they may propose yet another
  time with `maintenance move W<id> <date time>`, which asks the contact again). A move outside
  the service time is refused with the next possible slot; the contact may try again.
- Engineers: `maintenance [customer]` lists windows, `maintenance move|cancel|done W<id>`.
- Every change is recorded in the window's history; the reminder on the day is sent by
  `bot/maintenance_watch.py`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from adapters.model import (
    Card,
    Channel,
    ConversationRef,
    Fact,
    Outgoing,
    SubmitAction,
    TextInput,
    customer_text,
)
from dialogs import formats
from dialogs.access import TICKET_NUMBER
from dialogs.base import DialogStep
from dialogs.context import Language, Turn, as_language
from dialogs.i18n import N_, gettext_for
from dialogs.services import Services
from dialogs.subcommands import SubCommand, SubCommands
from dialogs.understanding import Reading
from dialogs.understanding.normalize import fold
from dialogs.understanding.when import moment_in
from storage.calendar import BusinessCalendar
from storage.directory import Customer, Role, parse_duration
from storage.errors import ConcurrencyConflict
from storage.maintenance import fits, history_entry, next_fit
from storage.models import MaintenanceWindowRow, WindowStatus
from storage.repositories import DialogKey

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

DIALOG = "maintenance_answer"
CONFIRM_ACTION, MOVE_ACTION = "maintenance_confirm", "maintenance_move"
CONTACT_COMMAND = N_("windows")
WINDOW_ID = re.compile(r"^W(\d+)$", re.IGNORECASE)
WHEN = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}))?$")
#: An engineer's `maintenance move|cancel|done W<id>` / `wartung verschieben|absagen|erledigt W<id>`
ENGINEER_WORDS = SubCommands.of(
    SubCommand("move", ("verschieben",)),
    SubCommand("cancel", ("absagen", "stornieren")),
    SubCommand("done", ("erledigt",)),
)
#: A contact's answer to a proposal: `windows confirm W1` / `wartungsfenster bestätigen W1`
CONTACT_WORDS = SubCommands.of(
    SubCommand("confirm", ("bestätigen",), also=("ok", "yes", "ja")),
    SubCommand("move", ("verschieben",)),
)
OVERVIEW_WORDS = frozenset({CONTACT_COMMAND, "wartungsfenster", "maintenance windows"})
SUGGESTION_STEP = timedelta(minutes=15)
_STATUS: Final = {
    WindowStatus.PROPOSED: N_("proposed"),
    WindowStatus.CONFIRMED: N_("confirmed"),
    WindowStatus.CANCELLED: N_("cancelled"),
    WindowStatus.DONE: N_("done"),
}


# --- rules ---------------------------------------------------------------------------------


def customer_calendar(services: Services, customer: Customer) -> BusinessCalendar:
    """The calendar of the customer's service time (their override, else the contract's)."""
    contract = services.directory.contracts[customer.contract]
    return services.sla.calendar(customer.overrides.service_time or contract.service_time)


def parse_start(text: str, calendar: BusinessCalendar) -> datetime:
    """`2026-03-03 09:00` (or `2026-03-03T09:00`) in the service time's zone, as UTC."""
    match = WHEN.match(text.strip())
    if not match or not match[2]:
        raise ValueError(f"{text.strip()!r} is not a start like 2026-03-03 09:00")
    local = datetime.fromisoformat(f"{match[1]}T{int(match[2][:-3]):02d}:{match[2][-2:]}")
    return local.replace(tzinfo=calendar.zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a window may be proposed; if not, why and the next possible start."""

    ok: bool
    reason: str = ""  # "past" or "outside"
    suggestion: datetime | None = None


def check(
    calendar: BusinessCalendar, start: datetime, duration: timedelta, now: datetime
) -> Verdict:
    """A window must start in the future and lie entirely inside the service time."""
    if start >= now and fits(calendar, start, start + duration):
        return Verdict(ok=True)
    base = start if start >= now else _round_up(now)
    return Verdict(
        ok=False,
        reason="past" if start < now else "outside",
        suggestion=next_fit(calendar, base, duration),
    )


def _round_up(instant: datetime) -> datetime:
    """The next quarter hour (or `instant` itself when it is one)."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    steps = math.ceil((instant - epoch) / SUGGESTION_STEP)
    return epoch + steps * SUGGESTION_STEP


def span(start: datetime, end: datetime, calendar: BusinessCalendar, language: Language) -> str:
    """`Tue 03.03.2026 09:00–11:00` (`Di. 03.03.2026 09:00–11:00`) in the service time's
    zone."""
    first, last = start.astimezone(calendar.zone), end.astimezone(calendar.zone)
    until = formats.clock(last, language)
    if last.date() != first.date():
        until = f"{formats.day(last, language)} {until}"
    return f"{formats.moment(first, language)}–{until}"


def duration_text(duration: timedelta) -> str:
    """`2h`, `45m`, `1h30m`: as the `maintenance` command takes it (prose uses
    `formats.duration`)."""
    minutes = int(duration.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{rest}m" if rest or not hours else "")


def refusal(
    verdict: Verdict,
    start: datetime,
    duration: timedelta,
    *,
    calendar: BusinessCalendar,
    language: Language,
    service_time: str,
) -> str:
    """Why a window cannot be had, with the next possible slot."""
    asked = span(start, start + duration, calendar, language)
    _ = gettext_for(language)
    if verdict.reason == "past":
        text = _("{span} lies in the past.").format(span=asked)
    else:
        text = _("{span} does not lie entirely inside the service time ({service_time}).")
        text = text.format(span=asked, service_time=service_time)
    if verdict.suggestion is None:
        length = formats.duration(duration, language)
        no_slot = _("No single service-time stretch is {duration} long; please split the work.")
        return f"{text} {no_slot.format(duration=length)}"
    slot = span(verdict.suggestion, verdict.suggestion + duration, calendar, language)
    return f"{text} {_('The next possible slot: {span}.').format(span=slot)}"


def suggestion_start(verdict: Verdict, calendar: BusinessCalendar) -> str:
    """The suggestion as it would be typed: `2026-03-04 08:00`."""
    assert verdict.suggestion is not None
    return f"{verdict.suggestion.astimezone(calendar.zone):%Y-%m-%d %H:%M}"


# --- delivery ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactTarget:
    """Where a customer's contact is reached."""

    channel: str
    conversation_id: str
    user_id: str
    name: str
    language: Language


async def find_contact(services: Services, customer: Customer) -> ContactTarget | None:
    """The customer's most recently seen contact and their 1:1 chat with the bot."""
    store = services.store
    contact = await store.windows.latest_contact(customer.key)
    if contact is None:
        return None
    chat = await store.windows.personal_conversation(
        channel=contact.channel, user_id=contact.user_id
    )
    if chat is None:
        return None
    language = as_language(contact.language) or as_language(customer.language) or "en"
    return ContactTarget(
        channel=contact.channel,
        conversation_id=chat.conversation_id,
        user_id=contact.user_id,
        name=contact.name,
        language=language,
    )


def contact_of(window: MaintenanceWindowRow) -> ContactTarget | None:
    """The contact the window was last sent to or answered by (from its history)."""
    for entry in reversed(window.history):
        if entry.get("conversation_id") and entry.get("user_id"):
            return ContactTarget(
                channel=str(entry["channel"]),
                conversation_id=str(entry["conversation_id"]),
                user_id=str(entry["user_id"]),
                name=str(entry.get("contact", "")),
                language=as_language(str(entry.get("language", ""))) or "en",
            )
    return None


def _reach(contact: ContactTarget) -> dict[str, Any]:
    return {
        "channel": contact.channel,
        "conversation_id": contact.conversation_id,
        "user_id": contact.user_id,
        "contact": contact.name,
        "language": contact.language,
    }


async def to_contact(
    services: Services, contact: ContactTarget, answer_text: str, *, event: str,
    card: Card | None = None,
) -> None:  # fmt: skip
    """A message into the contact's chat, once per `event`."""
    channel = Channel(contact.channel)
    answer = Outgoing(ConversationRef(channel, contact.conversation_id), answer_text, card=card)
    await services.notify.to_conversation(channel, contact.conversation_id, answer, event=event)


def _confirmed_note(
    services: Services,
    window: MaintenanceWindowRow,
    customer: Customer,
    contact_name: str,
    calendar: BusinessCalendar,
) -> str:
    """The engineers' channel hears that the contact confirmed, in the channel's language."""
    lang = services.notify.engineers_language(customer.key)
    _ = gettext_for(lang)
    return _("✅ {customer}: {contact} confirmed {ref} “{title}”, {span}.").format(
        customer=customer.name,
        contact=customer_text(contact_name),
        ref=f"W{window.id}",
        title=customer_text(window.title),
        span=span(window.starts_at, window.ends_at, calendar, lang),
    )


def _moved_note(
    services: Services,
    before: MaintenanceWindowRow,
    after: MaintenanceWindowRow,
    customer: Customer,
    *,
    contact_name: str,
    calendar: BusinessCalendar,
) -> str:
    """The engineers' channel hears that the contact moved a window, in the channel's
    language."""
    lang = services.notify.engineers_language(customer.key)
    _ = gettext_for(lang)
    return _(
        "📅 {customer}: {contact} moved {ref} “{title}” from {before} to {after}; inside the "
        "service time, so it is confirmed. Another time: "
        "`maintenance move {ref} <YYYY-MM-DD HH:MM>` asks them again."
    ).format(
        customer=customer.name,
        contact=customer_text(contact_name),
        ref=f"W{after.id}",
        title=customer_text(after.title),
        before=span(before.starts_at, before.ends_at, calendar, lang),
        after=span(after.starts_at, after.ends_at, calendar, lang),
    )


async def to_engineers(
    services: Services, customer_key: str, answer_text: str, *, event: str
) -> None:
    """A new post in the customer's engineers' channel (or the default one), once per
    `event` and chat system."""
    answer = Outgoing(ConversationRef(Channel.TEAMS, ""), answer_text)
    await services.notify.to_engineers(customer_key, answer, event=event)


def proposal_card(
    window: MaintenanceWindowRow, calendar: BusinessCalendar, provider: str, language: Language
) -> tuple[Card, str]:
    """The card the contact answers, and its text fallback."""
    ref = f"W{window.id}"
    when = span(window.starts_at, window.ends_at, calendar, language)
    _ = gettext_for(language)
    intro = _("{provider} would like to carry out planned work: **{title}**.").format(
        provider=provider, title=customer_text(window.title)
    )
    card = Card(
        title=_("Maintenance window proposed"),
        paragraphs=(intro, _("Reply **confirm**, or **move YYYY-MM-DD HH:MM** to propose another "
"time within normal working hours.")),
        facts=(
            Fact(_("Work"), customer_text(window.title)),
            Fact(_("When"), when),
            Fact(_("Reference"), ref),
        ),
        inputs=(
            TextInput(
                id="start",
                label=_("Another start (YYYY-MM-DD HH:MM)"),
                placeholder="2026-03-04 10:00",
            ),
        ),
        actions=(
            SubmitAction(
                _("Confirm"),
                {"action": CONFIRM_ACTION, "window": str(window.id),
                 "command": f"{CONTACT_COMMAND} confirm {ref}"},
            ),
            SubmitAction(
                _("Propose another time"),
                {"action": MOVE_ACTION, "window": str(window.id),
                 "command": f"{CONTACT_COMMAND} move {ref}"},
            ),
        ),
    )  # fmt: skip
    text = "\n\n".join(
        [
            f"**{card.title}**",
            intro,
            f"{when} ({ref})",
            _(
                "Reply **confirm**, or **move YYYY-MM-DD HH:MM** to propose another "
                "time within normal working hours."
            ),
        ]
    )
    return card, text


async def send_proposal(
    services: Services, window: MaintenanceWindowRow, contact: ContactTarget, *, event: str
) -> None:
    """The proposal card into the contact's chat; their next answer goes to the answer dialog
    (unless they are in the middle of another dialog)."""
    customer = services.directory.customer(window.customer_key)
    assert customer is not None
    assert window.id is not None
    calendar = customer_calendar(services, customer)
    card, text = proposal_card(window, calendar, services.directory.provider.name, contact.language)
    await to_contact(services, contact, text, event=event, card=card)
    key = DialogKey(contact.channel, contact.conversation_id, contact.user_id)
    for _ in range(3):
        current = await services.store.dialog_states.load(key)
        if current.dialog not in (None, DIALOG):
            return  # an unfinished fault report must not be lost; the buttons still work
        try:
            await services.store.dialog_states.save(
                key,
                dialog=DIALOG,
                state={"window": window.id},
                expected=current.version,
                now=services.clock(),
                touch=False,
            )
            return
        except ConcurrencyConflict:
            continue


# --- engineers -----------------------------------------------------------------------------

ENGINEERS = frozenset({Role.ENGINEER})
USAGE = N_(
    "Write `maintenance <customer> <YYYY-MM-DD HH:MM> <duration> <title>`, e.g. "
    "`maintenance demo 2026-03-03 09:00 2h Security updates for the desk phones`; "
    "`maintenance [customer]` lists windows; `maintenance move|cancel|done W<id>`."
)


async def maintenance_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """Engineers: propose, list, move, cancel or finish maintenance windows."""
    lang = turn.actor.language
    _ = gettext_for(lang)
    words = args.split()
    verb, named = ENGINEER_WORDS.around(words, WINDOW_ID.match)
    if verb is not None and named:
        window = await _window(context, named[0])
        if window is None:
            unknown = _("I know no maintenance window {words}.")
            return [turn.reply(unknown.format(words=formats.quoted(named[0], lang)))]
        rest = " ".join(named[1:])
        match verb:
            case "move":
                return await _engineer_move(turn, context, window, rest)
            case "cancel":
                return await _cancel(turn, context, window, rest)
            case _:
                return await _done(turn, context, window)
    customer = _customer(context, words[0]) if words else None
    if words and customer is None:
        return [
            turn.reply(
                _("I know no customer called {words}.").format(words=formats.quoted(words[0], lang))
                + " "
                + _(USAGE)
            )
        ]
    if len(words) <= 1:
        return await _listing(turn, context, customer)
    assert customer is not None
    return await _propose(turn, context, customer, words[1:])


def _customer(context: CommandContext, wanted: str) -> Customer | None:
    lowered = wanted.lower()
    return next(
        (c for c in context.directory.customers if lowered in (c.key, c.name.lower())), None
    )


async def _window(context: CommandContext, ref: str) -> MaintenanceWindowRow | None:
    match = WINDOW_ID.match(ref.strip())
    return await context.services.store.windows.get(int(match[1])) if match else None


async def _propose(
    turn: Turn, context: CommandContext, customer: Customer, words: list[str]
) -> list[Outgoing]:
    lang = turn.actor.language
    _ = gettext_for(lang)
    services, now = context.services, context.services.clock()
    if len(words) < 4:
        return [turn.reply(_(USAGE))]
    calendar = customer_calendar(services, customer)
    try:
        start = parse_start(f"{words[0]} {words[1]}", calendar)
        duration = parse_duration(words[2])
    except ValueError:
        wrong = _("{text} is not a start and a duration like `2026-03-03 09:00 2h`.")
        shown = formats.quoted(" ".join(words[:3]), lang)
        return [turn.reply(wrong.format(text=shown) + " " + _(USAGE))]
    title = " ".join(words[3:])
    verdict = check(calendar, start, duration, now)
    if not verdict.ok:
        name = _service_time_name(services, customer)
        text = refusal(
            verdict, start, duration, calendar=calendar, language=lang, service_time=name
        )
        if verdict.suggestion is not None:
            text += " " + _(
                "Propose it with `maintenance {key} {suggestion_start} {duration_text} {title}`."
            ).format(
                key=customer.key,
                suggestion_start=suggestion_start(verdict, calendar),
                duration_text=duration_text(duration),
                title=title,
            )
        return [turn.reply(_("Not proposed: {text}").format(text=text))]
    contact = await find_contact(services, customer)
    if contact is None:
        return [
            turn.reply(
                _(
                    "No contact of {name} has written to me in a 1:1 chat yet, so I cannot "
                    "propose the window to anybody. Nothing was saved."
                ).format(name=customer.name)
            )
        ]
    store, end = services.store, start + duration
    existing = [
        w
        for w in await store.windows.listing(customer_key=customer.key, ending_after=now)
        if w.starts_at == start and w.ends_at == end and w.title == title[:200]
        and w.status in (WindowStatus.PROPOSED, WindowStatus.CONFIRMED)
    ]  # fmt: skip
    if existing:  # the same message again (a retry), or the same window twice
        window = existing[0]
    else:
        window = await store.windows.create(
            customer_key=customer.key,
            title=title,
            starts_at=start,
            ends_at=end,
            proposed_by=turn.actor.name,
            now=now,
            ticket_id=await _linked_ticket(context, customer, title),
        )
        window = (
            await store.windows.change(
                _id(window),
                entry=history_entry("sent", by="bot", at=now, **_reach(contact)),
                allowed_from=(WindowStatus.PROPOSED,),
            )
            or window
        )
    when = span(window.starts_at, window.ends_at, calendar, lang)
    if window.status == WindowStatus.CONFIRMED:
        return [
            turn.reply(
                _("W{id} “{title}” is already confirmed for {when}.").format(
                    id=window.id, title=customer_text(window.title), when=when
                )
            )
        ]
    await send_proposal(
        services, window, contact, event=f"maintenance:W{window.id}:{len(window.history)}"
    )
    return [
        turn.reply(
            _(
                "Proposed W{id} to {name} of {customer}: {title}, {when}. I'll tell you "
                "here and in the engineers' channel when they answer."
            ).format(
                id=window.id,
                name=contact.name or _("the contact"),
                customer=customer.name,
                title=customer_text(window.title),
                when=when,
            )
        )
    ]


async def _linked_ticket(context: CommandContext, customer: Customer, title: str) -> int | None:
    match = TICKET_NUMBER.search(title)
    if match is None:
        return None
    ticket = await context.services.store.tickets.by_number(match[0].upper())
    return ticket.id if ticket is not None and ticket.customer_key == customer.key else None


def _id(window: MaintenanceWindowRow) -> int:
    assert window.id is not None
    return window.id


def _service_time_name(services: Services, customer: Customer) -> str:
    contract = services.directory.contracts[customer.contract]
    key = customer.overrides.service_time or contract.service_time
    return services.directory.service_times[key].name or key


async def _listing(
    turn: Turn, context: CommandContext, customer: Customer | None
) -> list[Outgoing]:
    lang = turn.actor.language
    _ = gettext_for(lang)
    services, now = context.services, context.services.clock()
    windows = await services.store.windows.listing(
        customer_key=customer.key if customer else None, ending_after=now
    )
    title = _("Maintenance windows") + (
        _(" – {name}").format(name=customer.name) if customer else ""
    )
    if not windows:
        return [turn.reply(_("**{title}**: none coming up.").format(title=title) + " " + _(USAGE))]
    facts = tuple(_line(services, w, turn.actor.language, staff=True) for w in windows)
    card = Card(title=title, facts=facts)
    text = "\n".join([f"**{title}**", *(f"- {f.label}: {f.value}" for f in facts)])
    return [turn.reply(text, card=card)]


def _line(
    services: Services, window: MaintenanceWindowRow, language: Language, *, staff: bool
) -> Fact:
    customer = services.directory.customer(window.customer_key)
    assert customer is not None
    calendar = customer_calendar(services, customer)
    when = span(window.starts_at, window.ends_at, calendar, language)
    status = gettext_for(language)(_STATUS[WindowStatus(window.status)])
    who = f" · {customer.key}" if staff else ""
    return Fact(f"W{window.id}", f"{when} · {customer_text(window.title)} · {status}{who}")


async def _engineer_move(
    turn: Turn, context: CommandContext, window: MaintenanceWindowRow, rest: str
) -> list[Outgoing]:
    """Propose another time: validated like a new window, then asked again."""
    lang = turn.actor.language
    _ = gettext_for(lang)
    services, now = context.services, context.services.clock()
    customer = services.directory.customer(window.customer_key)
    assert customer is not None
    calendar = customer_calendar(services, customer)
    try:
        start = parse_start(rest, calendar)
    except ValueError:
        wrong = _(
            "{text} is not a start like 2026-03-04 10:00. Write "
            "`maintenance move W{id} 2026-03-04 10:00`."
        )
        return [turn.reply(wrong.format(text=formats.quoted(rest, lang), id=window.id))]
    duration = window.ends_at - window.starts_at
    verdict = check(calendar, start, duration, now)
    if not verdict.ok:
        name = _service_time_name(services, customer)
        text = refusal(
            verdict, start, duration, calendar=calendar, language=lang, service_time=name
        )
        return [turn.reply(_("Not moved: {text}").format(text=text))]
    contact = contact_of(window) or await find_contact(services, customer)
    if contact is None:
        return [
            turn.reply(
                _("No contact of {name} can be asked; nothing changed.").format(name=customer.name)
            )
        ]
    entry = history_entry(
        "re-proposed", by=turn.actor.name, at=now, starts_at=start.isoformat(),
        ends_at=(start + duration).isoformat(), **_reach(contact),
    )  # fmt: skip
    changed = await services.store.windows.change(
        _id(window), entry=entry, status=WindowStatus.PROPOSED, starts_at=start,
        ends_at=start + duration,
    )  # fmt: skip
    if changed is None:
        return [
            turn.reply(
                _("W{id} is {status}; it cannot be moved.").format(
                    id=window.id, status=_(_STATUS[WindowStatus(window.status)])
                )
            )
        ]
    await send_proposal(
        services, changed, contact, event=f"maintenance:W{changed.id}:{len(changed.history)}"
    )
    when = span(changed.starts_at, changed.ends_at, calendar, lang)
    return [
        turn.reply(
            _("Asked {name} again: W{id} at {when}.").format(
                name=contact.name or _("the contact"), id=window.id, when=when
            )
        )
    ]


async def _cancel(
    turn: Turn, context: CommandContext, window: MaintenanceWindowRow, reason: str
) -> list[Outgoing]:
    lang = turn.actor.language
    _ = gettext_for(lang)
    services, now = context.services, context.services.clock()
    entry = history_entry("cancelled", by=turn.actor.name, at=now, reason=reason)
    changed = await services.store.windows.change(
        _id(window), entry=entry, status=WindowStatus.CANCELLED
    )
    if changed is None:
        return [
            turn.reply(
                _("W{id} is {status}; nothing to cancel.").format(
                    id=window.id, status=_(_STATUS[WindowStatus(window.status)])
                )
            )
        ]
    contact = contact_of(changed)
    if contact is not None:
        customer = services.directory.customer(changed.customer_key)
        assert customer is not None
        when = span(changed.starts_at, changed.ends_at, customer_calendar(services, customer),
                    contact.language)  # fmt: skip
        _ = gettext_for(contact.language)
        text = _("Maintenance window {ref} “{title}” ({span}) is cancelled.")
        text = text.format(ref=f"W{changed.id}", title=customer_text(changed.title), span=when)
        await to_contact(
            services, contact, text, event=f"maintenance:W{changed.id}:{len(changed.history)}"
        )
    return [turn.reply(_("W{id} cancelled; the contact is told.").format(id=window.id))]


async def _done(
    turn: Turn, context: CommandContext, window: MaintenanceWindowRow
) -> list[Outgoing]:
    lang = turn.actor.language
    _ = gettext_for(lang)
    services, now = context.services, context.services.clock()
    changed = await services.store.windows.change(
        _id(window),
        entry=history_entry("done", by=turn.actor.name, at=now),
        status=WindowStatus.DONE,
        allowed_from=(WindowStatus.CONFIRMED,),
    )
    if changed is None:
        return [
            turn.reply(
                _("W{id} is {status}; only a confirmed window is done.").format(
                    id=window.id, status=_(_STATUS[WindowStatus(window.status)])
                )
            )
        ]
    return [turn.reply(_("W{id} is done.").format(id=window.id))]


# --- the contact's answer ------------------------------------------------------------------


class MaintenanceAnswerDialog:
    """The contact's side: `windows` lists their organisation's windows and answers a proposal;
    the same dialog is started by the bot when it sends a proposal. State: `{"window": id}`."""

    name = DIALOG

    async def start(self, turn: Turn, context: CommandContext, args: str) -> DialogStep:
        """`windows`, `windows confirm W1`, `windows move W1 2026-03-04 10:00` (or a button)."""
        verb, words = CONTACT_WORDS.around(args.split(), WINDOW_ID.match)
        window_id = _button_window(turn)
        if words and (match := WINDOW_ID.match(words[0])):
            window_id, words = int(match[1]), words[1:]
        if verb is not None and window_id is not None:
            return await self._answer(turn, context, window_id, " ".join([verb, *words]))
        return await self._overview(turn, context)

    async def resume(
        self, turn: Turn, context: CommandContext, state: dict[str, Any]
    ) -> DialogStep:
        """`confirm`, `move <date time>`, or a button of the card (`windows` shows the list
        again)."""
        if turn.incoming.text.strip().lower() in OVERVIEW_WORDS and not turn.incoming.value:
            return await self._overview(turn, context)
        window_id = _button_window(turn) or int(state.get("window") or 0)
        return await self._answer(turn, context, window_id, turn.incoming.text)

    async def _overview(self, turn: Turn, context: CommandContext) -> DialogStep:
        lang, services = turn.actor.language, context.services
        customer = turn.actor.customer
        assert customer is not None
        windows = await services.store.windows.listing(
            customer_key=customer.key, ending_after=services.clock()
        )
        shown = [w for w in windows if w.status != WindowStatus.CANCELLED]
        _ = gettext_for(lang)
        if not shown:
            return DialogStep(
                [turn.reply(_("No maintenance windows are planned for your organisation."))]
            )
        facts = tuple(_line(services, w, lang, staff=False) for w in shown)
        card = Card(title=_("Maintenance windows"), facts=facts)
        text = "\n".join([f"**{card.title}**", *(f"- {f.label}: {f.value}" for f in facts)])
        answers = [turn.reply(text, card=card)]
        pending = next((w for w in shown if w.status == WindowStatus.PROPOSED), None)
        if pending is None:
            return DialogStep(answers)
        calendar = customer_calendar(services, customer)
        proposal, fallback = proposal_card(pending, calendar, context.directory.provider.name, lang)
        answers.append(turn.reply(fallback, card=proposal))
        return DialogStep(answers, {"window": pending.id})

    async def _answer(
        self, turn: Turn, context: CommandContext, window_id: int, text: str
    ) -> DialogStep:
        lang, services = turn.actor.language, context.services
        customer = turn.actor.customer
        window = await services.store.windows.get(window_id) if window_id else None
        _ = gettext_for(lang)
        if window is None or customer is None or window.customer_key != customer.key:
            return DialogStep(
                [
                    turn.reply(
                        _("I know no maintenance window of your organisation by that reference.")
                    )
                ]
            )
        value = turn.incoming.value or {}
        action = str(value.get("action", ""))
        words = text.strip().split(maxsplit=1)
        first = CONTACT_WORDS.name(words[0]) if words else None
        if action == CONFIRM_ACTION or (not action and first == "confirm"):
            return await self._confirm(turn, context, window)
        calendar = customer_calendar(services, customer)
        if not action and first != "move":  # in their own words
            if (when := _another_time(text, services.clock(), calendar)) is not None:
                return await self._move(turn, context, window, when)
            if _AGREED.search(fold(text)):
                return await self._confirm(turn, context, window)
        if action == MOVE_ACTION or first == "move":
            wanted = str(value.get("start") or "").strip() or (words[1] if len(words) > 1 else "")
            if not wanted:
                return DialogStep(
                    [
                        turn.reply(
                            _(
                                "When would suit you for {ref}? Write a day and time, e.g. "
                                "“Thursday 10:00” or move 2026-03-04 10:00."
                            ).format(ref=f"W{window.id}")
                        )
                    ],
                    {"window": window.id},
                )
            return await self._move(turn, context, window, wanted)
        return DialogStep(
            [
                turn.reply(
                    _(
                        "Your answer to maintenance window {ref}: **confirm**, or another "
                        "start such as “Thursday 10:00” (or **move YYYY-MM-DD HH:MM**). To "
                        "answer later, write **cancel**; **windows** brings it back."
                    ).format(ref=f"W{window.id}")
                )
            ],
            {"window": window.id},
        )

    async def _confirm(
        self, turn: Turn, context: CommandContext, window: MaintenanceWindowRow
    ) -> DialogStep:
        lang, services, now = turn.actor.language, context.services, context.services.clock()
        customer = turn.actor.customer
        assert customer is not None
        calendar = customer_calendar(services, customer)
        when = span(window.starts_at, window.ends_at, calendar, lang)
        ref = f"W{window.id}"
        _ = gettext_for(lang)
        if window.status == WindowStatus.CONFIRMED:
            return DialogStep(
                [
                    turn.reply(
                        _("Maintenance window {ref} is already confirmed for {span}.").format(
                            ref=ref, span=when
                        )
                    )
                ]
            )
        if window.status != WindowStatus.PROPOSED:
            return DialogStep(
                [
                    turn.reply(
                        _("Maintenance window {ref} is no longer open for an answer.").format(
                            ref=ref
                        )
                    )
                ]
            )
        if window.starts_at <= now:
            return DialogStep(
                [
                    turn.reply(
                        _(
                            "The proposed start of {ref} has passed; please propose another time "
                            "with **move YYYY-MM-DD HH:MM**."
                        ).format(ref=ref)
                    )
                ],
                {"window": window.id},
            )
        entry = history_entry("confirmed", by=turn.actor.name, at=now, **_reach(_me(turn)))
        changed = await services.store.windows.change(
            _id(window), entry=entry, status=WindowStatus.CONFIRMED, decided_by=turn.actor.name,
            allowed_from=(WindowStatus.PROPOSED,),
        )  # fmt: skip
        if changed is None:  # answered at the same moment elsewhere
            return DialogStep(
                [
                    turn.reply(
                        _("Maintenance window {ref} is no longer open for an answer.").format(
                            ref=ref
                        )
                    )
                ]
            )
        await to_engineers(
            services,
            changed.customer_key,
            _confirmed_note(services, changed, customer, turn.actor.name, calendar),
            event=f"maintenance:W{changed.id}:{len(changed.history)}",
        )
        return DialogStep(
            [
                turn.reply(
                    _(
                        "Thank you: maintenance window {ref} is confirmed for {span}. I'll "
                        "remind you on the morning of the day."
                    ).format(ref=ref, span=when)
                )
            ]
        )

    async def _move(
        self, turn: Turn, context: CommandContext, window: MaintenanceWindowRow, wanted: str
    ) -> DialogStep:
        lang, services, now = turn.actor.language, context.services, context.services.clock()
        customer = turn.actor.customer
        assert customer is not None
        ref = f"W{window.id}"
        _ = gettext_for(lang)
        if window.status not in (WindowStatus.PROPOSED, WindowStatus.CONFIRMED):
            return DialogStep(
                [
                    turn.reply(
                        _("Maintenance window {ref} is no longer open for an answer.").format(
                            ref=ref
                        )
                    )
                ]
            )
        calendar = customer_calendar(services, customer)
        keep = {"window": window.id}
        try:
            start = parse_start(wanted, calendar)
        except ValueError:
            return DialogStep(
                [
                    turn.reply(
                        _(
                            "When would suit you for {ref}? Write a day and time, e.g. “Thursday "
                            "10:00” or move 2026-03-04 10:00."
                        ).format(ref=ref)
                    )
                ],
                keep,
            )
        duration = window.ends_at - window.starts_at
        verdict = check(calendar, start, duration, now)
        if not verdict.ok:
            name = _service_time_name(services, customer)
            text = refusal(
                verdict, start, duration, calendar=calendar, language=lang, service_time=name
            )
            if verdict.suggestion is not None:
                text += " " + _("Write `move {start}` to take it.").format(
                    start=suggestion_start(verdict, calendar)
                )
            return DialogStep([turn.reply(text)], keep)
        end = start + duration
        entry = history_entry(
            "moved", by=turn.actor.name, at=now, starts_at=start.isoformat(),
            ends_at=end.isoformat(), previous_starts_at=window.starts_at.isoformat(),
            status=WindowStatus.CONFIRMED.value, **_reach(_me(turn)),
        )  # fmt: skip
        changed = await services.store.windows.change(
            _id(window), entry=entry, status=WindowStatus.CONFIRMED, starts_at=start,
            ends_at=end, decided_by=turn.actor.name,
        )  # fmt: skip
        if changed is None:
            return DialogStep(
                [
                    turn.reply(
                        _("Maintenance window {ref} is no longer open for an answer.").format(
                            ref=ref
                        )
                    )
                ]
            )
        await to_engineers(
            services,
            changed.customer_key,
            _moved_note(
                services, window, changed, customer, contact_name=turn.actor.name, calendar=calendar
            ),
            event=f"maintenance:W{changed.id}:{len(changed.history)}",
        )
        when = span(start, end, calendar, lang)
        return DialogStep(
            [
                turn.reply(
                    _(
                        "Thank you: maintenance window {ref} is moved to {span} and "
                        "confirmed. The engineers are told; I'll remind you on the morning of "
                        "the day."
                    ).format(ref=ref, span=when)
                )
            ]
        )


def _button_window(turn: Turn) -> int | None:
    value = turn.incoming.value or {}
    raw = value.get("window")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def _me(turn: Turn) -> ContactTarget:
    """The contact speaking, where they can be reached (this conversation)."""
    return ContactTarget(
        channel=turn.incoming.channel.value,
        conversation_id=turn.incoming.conversation.conversation_id,
        user_id=turn.incoming.sender.user_id,
        name=turn.actor.name,
        language=turn.actor.language,
    )


def reminder_text(
    window: MaintenanceWindowRow, calendar: BusinessCalendar, language: Language
) -> str:
    """The reminder on the day, for the contact."""
    when = span(window.starts_at, window.ends_at, calendar, language)
    _ = gettext_for(language)
    return _("Reminder: maintenance window {ref} “{title}” is today, {span}.").format(
        ref=f"W{window.id}", title=customer_text(window.title), span=when
    )


_WINDOW_VERBS = (
    (
        "cancel",
        re.compile(r"\b(?:cancel|absagen|abgesagt|stornieren|streichen|abbrechen|call off)"),
    ),
    ("done", re.compile(r"\b(?:done|erledigt|abgeschlossen|fertig|finished|completed)\b")),
    ("move", re.compile(r"\b(?:move|verschieben|verschiebe|verlegen|reschedule|shift)")),
)


# A contact agreeing to a proposal in their own words ("passt so", "sounds good").
_AGREED = re.compile(
    r"\b(?:passt|einverstanden|in ordnung|geht klar|geht in ordnung|bestaetig\w*|gerne|"
    r"sounds good|fine|agreed|works for us|go ahead|approved?|alright|perfekt|perfect)\b"
    r"|^(?:ok|okay|ja|yes|jep|yep|sure|klar)\b"
)


def _another_time(text: str, now: datetime, calendar: BusinessCalendar) -> str | None:
    """ "lieber am Donnerstag um 10" → the start they propose, as `move` takes it (a day
    without a time of day is not a start)."""
    found = moment_in(fold(text), now=now, zone=calendar.zone, prefer="future", with_clock=True)
    return f"{found[0].astimezone(calendar.zone):%Y-%m-%d %H:%M}" if found else None


def maintenance_args(reading: Reading, zone: ZoneInfo) -> str:
    """The words `maintenance` takes, from what an engineer wrote in their own words:
    "Wartung für demo am Dienstag um 9 für 2 Stunden" → `demo 2026-12-08 09:00 2h Wartung`,
    "W12 absagen, Kunde krank" → `cancel W12 Kunde krank`."""
    entities, folded = reading.entities, fold(reading.text)
    if entities.window is not None:
        verb = next((name for name, pattern in _WINDOW_VERBS if pattern.search(folded)), None)
        if verb == "move" and entities.moment is not None:
            return f"move {entities.window} {reading.slot('moment', zone)}"
        if verb is not None:
            return f"{verb} {entities.window} {reading.free_text()}".strip()
    if entities.customer is None:
        return ""
    if entities.moment is None:
        return entities.customer
    duration = reading.slot("duration", zone) or "?"
    title = reading.free_text() or ("Wartung" if _GERMAN.search(folded) else "Maintenance")
    return f"{entities.customer} {reading.slot('moment', zone)} {duration} {title}"


_GERMAN = re.compile(r"\b(?:wartung|fuer|am|um|stunden?|bitte|planen)\b")
