"""Contract duties in the chat: the onboarding checklist (`onboarding <customer>`, `onboarding
<customer> done <item> [note]`, `onboarding <customer> ask`), the recurring duties (`duties
[customer]`, `duties take D<n>`, `done D<n> <summary>`), the questions a customer's contact is
asked in chat, and the reminders the duty watcher (`bot/duty_watch.py`) sends.

Rules (the schedule itself is in `storage/duties.py`):
- Staff (engineers and managers) may run these commands; contacts never see them.
- Recurring duties start unassigned; `duties take D<n>` makes you the owner.
- Engineers hear about a recurring duty in the customer's engineers' channel twice: at the
  opening `remind_before_days` business days before it falls due, and when it is overdue (at
  its due instant); each once (the keys `before` and `overdue` in the row's `reminders`, and
  the outbox key). A reminder ahead that was missed (the bot was down) is not sent once the
  duty is overdue; only the overdue one is.
- Open onboarding items are reminded in the engineers' channel once per business day (one
  message per customer listing the open items) from the onboarding day on, until all are done.
- What only the customer can give (technical contact, hardware service-contract details,
  licensing) is asked in chat: the customer's contact seen most recently who has a personal
  chat with the bot is asked once, item by item; each answer ticks its item (done by the
  contact, result = the answer). Nobody is asked while another dialog of theirs is running;
  `onboarding <customer> ask` asks again.
- Nothing is sent outside the customer's service time (unless `notify_outside_service_time`):
  what falls due at night goes out at the next opening.
- `done D<n> <summary>` records the result; a review's result also goes to the customer's
  contact.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from adapters.model import (
    Card,
    Channel,
    ConversationRef,
    Fact,
    Outgoing,
    SubmitAction,
    customer_paragraphs,
    customer_text,
)
from dialogs import formats
from dialogs.base import DialogStep
from dialogs.context import Language, Turn, as_language
from dialogs.i18n import N_, gettext_for
from dialogs.services import Services
from dialogs.status import card_text
from dialogs.subcommands import SubCommand, SubCommands
from dialogs.understanding import Reading
from dialogs.understanding.normalize import fold
from storage.calendar import BusinessCalendar
from storage.directory import Customer, Directory
from storage.duties import (
    CUSTOMER,
    ONBOARDING_ITEMS,
    ONBOARDING_PREFIX,
    REVIEW,
    ContactAddress,
    local_day,
    onboarding_item,
    plan_duties,
    remind_at,
)
from storage.errors import ChatOpsError, ConcurrencyConflict
from storage.models import DutyRow, DutyStatus
from storage.repositories import DialogKey

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

log = logging.getLogger(__name__)
QUESTIONS = "onboarding-questions"
ENGINEERS = "engineers"
DUTY_ID = re.compile(r"\bD(\d+)\b", re.IGNORECASE)
SKIP_WORDS = frozenset({"skip", "later", "überspringen", "später"})
#: `duties take D3` / `pflichten übernehmen D3`
DUTIES_WORDS = SubCommands.of(SubCommand("take", ("übernehmen", "nehmen")))
#: `onboarding demo done c` / `onboarding demo erledigt c`, `… ask` / `… fragen`
ONBOARDING_WORDS = SubCommands.of(
    SubCommand("done", ("erledigt", "abhaken")),
    SubCommand("ask", ("fragen", "nachfragen")),
)
ASKED = "asked:"

_QUESTIONS: Final[dict[str, str]] = {
    "technical-contact": N_(
        "Who is your technically qualified contact for us (name, e-mail, phone)?"
    ),
    "service-contracts": N_(
        "Which service contracts cover your hardware (manufacturer, contract number, "
        "what it covers, until when)?"
    ),
    "licensing": N_(
        "Please confirm your licensing: which licences do you hold for the services we "
        "support (product, quantity, renewal date)?"
    ),
}
# --- where messages go -----------------------------------------------------------------------


async def to_engineers(
    services: Services, customer_key: str, text: str, *, event: str, card: Card | None = None
) -> int:
    """A new post in the customer's engineers' channel, once per `event` and chat system;
    how many were queued now."""
    answer = Outgoing(ConversationRef(Channel.TEAMS, ""), text, card=card)
    return await services.notify.to_engineers(customer_key, answer, event=event)


async def to_contact(services: Services, address: ContactAddress, text: str, *, event: str) -> bool:
    """A message into the contact's personal chat, once per `event`."""
    channel = Channel(address.channel)
    answer = Outgoing(ConversationRef(channel, address.conversation_id), text)
    return await services.notify.to_conversation(
        channel, address.conversation_id, answer, event=event
    )


# --- helpers ---------------------------------------------------------------------------------


def customer_calendar(services: Services, customer: Customer) -> BusinessCalendar:
    """The business calendar of the customer's service time."""
    contract = services.directory.contracts[customer.contract]
    return services.sla.calendar(customer.overrides.service_time or contract.service_time)


def day_text(
    instant: datetime, calendar: BusinessCalendar, language: Language, *, clock: bool = True
) -> str:
    """`Mon 17.08.2026 08:00` (`Mo. 17.08.2026 08:00`) in the calendar's timezone."""
    local = instant.astimezone(calendar.zone)
    if clock:
        return formats.moment(local, language)
    return f"{formats.weekday(local, language)} {formats.day(local, language)}"


def duty_label(duty: DutyRow) -> str:
    """How duties are named in the chat: `D12`."""
    return f"D{duty.id}"


def find_customer(directory: Directory, words: str) -> Customer | None:
    """A customer by key or name (case-insensitive)."""
    wanted = words.strip().lower()
    return next(
        (c for c in directory.customers if wanted and wanted in (c.key, c.name.lower())), None
    )


def _owner_name(services: Services, owner: str | None, language: Language) -> str:
    if not owner:
        _ = gettext_for(language)
        return _("unassigned")
    staff = services.directory.staff_by_email(owner)
    return staff.name if staff else owner


async def ensure_duties(services: Services, customer: Customer) -> int:
    """Generate the customer's duties as of today (idempotent); how many rows were new."""
    if customer.onboarded is None:
        return 0
    calendar = customer_calendar(services, customer)
    now = services.clock()
    schedule = services.directory.contracts[customer.contract].duties
    planned = plan_duties(customer, schedule, calendar, local_day(calendar, now))
    return await services.store.duties.ensure(customer_key=customer.key, planned=planned, now=now)


async def generate_all(services: Services) -> int:
    """Generate every onboarded customer's duties; how many rows were new. A customer the
    schedule cannot be worked out for is logged and does not stop the others."""
    created = 0
    for customer in services.directory.customers:
        try:
            created += await ensure_duties(services, customer)
        except ChatOpsError:
            raise  # the database: the whole pass retries later
        except Exception:
            log.exception("cannot generate the duties of %s", customer.key)
    return created


# --- the onboarding checklist ----------------------------------------------------------------


async def onboarding_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """`onboarding <customer>`, `onboarding <customer> done <item> [note]`, `… ask`."""
    _ = gettext_for(turn.actor.language)
    services, directory = context.services, context.directory
    words = args.split()
    split = ONBOARDING_WORDS.find(words)
    customer_words, rest = " ".join(words[:split]).strip(" :,;-–"), words[split:]
    onboarded = [c for c in directory.customers if c.onboarded is not None]
    if not customer_words and len(onboarded) == 1:
        customer: Customer | None = onboarded[0]
    else:
        customer = find_customer(directory, customer_words)
    if customer is None:
        names = ", ".join(c.key for c in onboarded) or "none"
        return [
            turn.reply(
                _(
                    "Which customer? `onboarding <customer>` (customers with an onboarding "
                    "date: {names})."
                ).format(names=names)
            )
        ]
    if customer.onboarded is None:
        return [
            turn.reply(
                _("{name} has no onboarding date (`onboarded`) yet.").format(name=customer.name)
            )
        ]
    await ensure_duties(services, customer)
    match ONBOARDING_WORDS.name(rest[0]) if rest else None:
        case "done":
            return [await _tick(turn, services, customer, rest[1:])]
        case "ask":
            return [await _ask_again(turn, services, customer)]
    return [await checklist(turn, services, customer)]


async def checklist(turn: Turn, services: Services, customer: Customer) -> Outgoing:
    """The checklist card of a customer, with its text fallback."""
    lang = turn.actor.language
    _ = gettext_for(lang)
    items = await services.store.duties.of_customer(customer.key, kind_prefix=ONBOARDING_PREFIX)
    calendar = customer_calendar(services, customer)
    if not items:
        return turn.reply(
            _("{name} has no onboarding checklist (onboarded long ago).").format(name=customer.name)
        )
    done = sum(1 for row in items if row.status == DutyStatus.DONE)
    assert customer.onboarded is not None
    intro = _("Onboarded {onboarded}; due {due}. {done} of {count} done.").format(
        onboarded=formats.day(customer.onboarded, lang),
        due=day_text(items[0].due_at, calendar, lang),
        done=done,
        count=len(items),
    )
    facts = tuple(_item_fact(row, calendar, lang) for row in _in_checklist_order(items))
    card = Card(
        title=_("Onboarding – {name}").format(name=customer.name),
        paragraphs=(
            intro,
            _("Tick an item: `onboarding {key} done <a–e> [note]`.").format(key=customer.key),
        ),
        facts=facts,
        actions=(
            SubmitAction(
                title=_("Ask the customer again"),
                data={"command": f"onboarding {customer.key} ask"},
            ),
        ),
    )
    return turn.reply(card_text(card), card=card)


def _in_checklist_order(rows: Sequence[DutyRow]) -> list[DutyRow]:
    order = {item.kind: index for index, item in enumerate(ONBOARDING_ITEMS)}
    return sorted(rows, key=lambda row: order.get(row.kind, len(order)))


def _item_fact(row: DutyRow, calendar: BusinessCalendar, language: Language) -> Fact:
    _ = gettext_for(language)
    item = onboarding_item(row.kind)
    letter = item.letter if item else "?"
    label = f"{letter}) {row.title} [{row.party}]"
    if row.status == DutyStatus.DONE:
        when = day_text(row.done_at, calendar, language) if row.done_at else ""
        value = _("✅ done by {done_by} {when}").format(done_by=row.done_by, when=when)
        value += f": {row.result}" if row.result else ""
    else:
        value = _("⬜ open ({duty})").format(duty=duty_label(row))
        asked = [key.removeprefix(ASKED) for key in row.reminders if key.startswith(ASKED)]
        if asked:
            value += _(", customer asked ({asked})").format(asked=asked[-1])
    return Fact(label, value)


async def _tick(turn: Turn, services: Services, customer: Customer, words: list[str]) -> Outgoing:
    _ = gettext_for(turn.actor.language)
    if not words:
        return turn.reply(
            _("Which item? `onboarding {key} done <a–e> [note]`.").format(key=customer.key)
        )
    item = onboarding_item(words[0])
    rows = await services.store.duties.of_customer(customer.key, kind_prefix=ONBOARDING_PREFIX)
    row = next((r for r in rows if item is not None and r.kind == item.kind), None)
    if row is None:
        known = ", ".join(f"{i.letter} ({i.key})" for i in ONBOARDING_ITEMS)
        return turn.reply(
            _("I know no onboarding item {words}; the items are {known}.").format(
                words=formats.quoted(words[0], turn.actor.language), known=known
            )
        )
    return await _complete(turn, services, row, " ".join(words[1:]))


async def _ask_again(turn: Turn, services: Services, customer: Customer) -> Outgoing:
    event = f"{turn.incoming.channel.value}:{turn.incoming.event_id}"
    outcome = await ask_contact(
        services, customer, event=event, again=True, reply_language=turn.actor.language
    )
    return turn.reply(outcome.message)


# --- asking the customer's contact -----------------------------------------------------------


async def _customer_items(services: Services, customer_key: str) -> list[DutyRow]:
    rows = await services.store.duties.of_customer(
        customer_key, kind_prefix=ONBOARDING_PREFIX, status=DutyStatus.OPEN
    )
    return [row for row in _in_checklist_order(rows) if row.party == CUSTOMER]


def _question(row: DutyRow, language: Language) -> str:
    item = onboarding_item(row.kind)
    if item is not None and item.key in _QUESTIONS:
        return gettext_for(language)(_QUESTIONS[item.key])
    return row.title


@dataclass(frozen=True, slots=True)
class Asked:
    """Whether a contact was asked, and what happened in words."""

    asked: bool
    message: str


async def ask_contact(
    services: Services,
    customer: Customer,
    *,
    event: str,
    again: bool = False,
    reply_language: Language = "en",
) -> Asked:
    """Start the questions dialog in the contact's personal chat and send the first question;
    what happened, in words (for the engineer, in `reply_language`, or the log). Without
    `again`, items asked before are not asked again."""
    _ = gettext_for(reply_language)
    rows = await _customer_items(services, customer.key)
    if not again:
        rows = [row for row in rows if not any(k.startswith(ASKED) for k in row.reminders)]
    if not rows:
        return Asked(
            False, _("Nothing to ask: the customer's items are done (or were asked already).")
        )
    address = await services.store.duties.contact_for(customer.key)
    if address is None:
        return Asked(
            False,
            _(
                "No contact of {name} has a chat with the bot yet; ask them another way "
                "and tick the items with `onboarding {key} done <item> <answer>`."
            ).format(name=customer.name, key=customer.key),
        )
    key = DialogKey(address.channel, address.conversation_id, address.user_id)
    snapshot = await services.store.dialog_states.load(key)
    if snapshot.dialog is not None:
        return Asked(
            False,
            _("{name} is busy with another dialog; I will ask later.").format(name=address.name),
        )
    language = as_language(address.language) or as_language(customer.language) or "en"
    state = {"customer": customer.key, "ids": [row.id for row in rows], "asking": rows[0].id}
    try:
        await services.store.dialog_states.save(
            key, dialog=QUESTIONS, state=state, expected=snapshot.version, now=services.clock()
        )
    except ConcurrencyConflict:
        return Asked(
            False,
            _("{name} is writing to the bot right now; I will ask later.").format(
                name=address.name
            ),
        )
    intro = _onboarding_intro(address.name, services.directory.provider.name, len(rows), language)
    await to_contact(
        services,
        address,
        f"{intro}\n\n{_question(rows[0], language)}",
        event=f"duty:ask:{customer.key}:{event}",
    )
    for row in rows:
        assert row.id is not None
        await services.store.duties.remember(row.id, f"{ASKED}{address.name}")
    return Asked(
        True,
        _("Asked {name} ({len} question(s)) in their chat with the bot.").format(
            name=address.name, len=len(rows)
        ),
    )


def _onboarding_intro(name: str, provider: str, count: int, language: Language) -> str:
    _ = gettext_for(language)
    return _(
        "Hello {name}! To complete your onboarding with {provider} I have "
        "{count} short question(s). Answer here; write **skip** to leave one "
        "for later, **cancel** to stop."
    ).format(name=name, provider=provider, count=count)


class OnboardingQuestions:
    """The questions a customer's contact is asked in chat (started by the duty watcher or
    `onboarding <customer> ask`, never by the contact). State: the customer, the duty ids to
    ask, and the one being asked."""

    name = QUESTIONS

    async def start(self, turn: Turn, context: CommandContext, args: str) -> DialogStep:
        """Ask the contact's customer's open items (the router never starts it: no role may)."""
        customer = turn.actor.customer
        rows = await _customer_items(context.services, customer.key) if customer else []
        if not rows:
            return DialogStep([], None)
        lang = turn.actor.language
        state = {"customer": rows[0].customer_key, "ids": [r.id for r in rows],
                 "asking": rows[0].id}  # fmt: skip
        return DialogStep([turn.reply(_question(rows[0], lang))], state)

    async def resume(
        self, turn: Turn, context: CommandContext, state: dict[str, Any]
    ) -> DialogStep:
        """Record the answer to the current question, then ask the next open one."""
        services, lang = context.services, turn.actor.language
        text = turn.incoming.text.strip()
        current = await services.store.duties.get(int(state["asking"]))
        _ = gettext_for(lang)
        if not text:
            return DialogStep([turn.reply(_("Please answer in words (or write **skip**)."))], state)
        answers: list[Outgoing] = []
        if text.lower() not in SKIP_WORDS and current is not None:
            assert current.id is not None
            done = await services.store.duties.complete(
                current.id, by=turn.actor.name, result=text, now=services.clock()
            )
            if done is not None:
                await self._tell_engineers(turn, services, done)
            answers.append(turn.reply(_("Thank you, noted.")))
        ids = [int(i) for i in state["ids"]]
        later = ids[ids.index(int(state["asking"])) + 1 :] if int(state["asking"]) in ids else []
        for duty_id in later:
            row = await services.store.duties.get(duty_id)
            if row is not None and row.status == DutyStatus.OPEN:
                answers.append(turn.reply(_question(row, lang)))
                return DialogStep(answers, {**state, "asking": duty_id})
        return DialogStep(
            [turn.reply(_("Thank you, that is all for now. Your answers went to our engineers."))],
            None,
        )

    @staticmethod
    async def _tell_engineers(turn: Turn, services: Services, row: DutyRow) -> None:
        customer = services.directory.customer(row.customer_key)
        name = customer.name if customer else row.customer_key
        contact = customer_text(turn.actor.name)
        text = f"📋 {contact} ({name}) answered “{row.title}”:\n\n{customer_text(row.result)}"
        event = (
            f"duty:answer:{duty_label(row)}:{turn.incoming.channel.value}:{turn.incoming.event_id}"
        )
        await to_engineers(services, row.customer_key, text, event=event)


# --- recurring duties: listing, taking, completing ------------------------------------------


async def duties_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """`duties [customer]`: overdue, due and recently done duties, by due date;
    `duties take D<n>`: you own that duty."""
    _ = gettext_for(turn.actor.language)
    services = context.services
    verb, rest = DUTIES_WORDS.around(args.split(), DUTY_ID.fullmatch)
    if verb == "take":
        return [await _take(turn, services, " ".join(rest))]
    words = args.strip()
    customer = None
    if words:
        customer = find_customer(context.directory, words)
        if customer is None:
            unknown = _("I know no customer called {words}.")
            return [turn.reply(unknown.format(words=formats.quoted(words, turn.actor.language)))]
        await ensure_duties(services, customer)
    else:
        await generate_all(services)
    card = await duties_card(
        services, turn.actor.language, customer_key=customer.key if customer else None
    )
    return [turn.reply(card_text(card), card=card)]


async def duties_card(
    services: Services,
    language: Language,
    *,
    customer_key: str | None = None,
    upcoming: int = 15,
    done: int = 10,
) -> Card:
    """Overdue (all), due (the next `upcoming`) and done (the latest `done`) duties."""
    _ = gettext_for(language)
    now, store = services.clock(), services.store.duties
    open_rows = await store.listing(customer_key=customer_key, status=DutyStatus.OPEN, limit=500)
    overdue = [row for row in open_rows if row.due_at <= now]
    due = [row for row in open_rows if row.due_at > now][:upcoming]
    finished = await store.listing(
        customer_key=customer_key, status=DutyStatus.DONE, limit=done, newest=True
    )
    facts: list[Fact] = []
    for heading, rows in ((_("Overdue"), overdue), (_("Due"), due), (_("Done"), sorted(
        finished, key=lambda r: r.due_at))):  # fmt: skip
        facts.append(Fact(f"**{heading}**", str(len(rows)) if rows else _("none")))
        facts += [_duty_fact(services, row, language) for row in rows]
    name = ""
    if customer_key is not None:
        customer = services.directory.customer(customer_key)
        name = f" – {customer.name if customer else customer_key}"
    return Card(
        title=_("Contract duties{name}").format(name=name),
        paragraphs=(_("When a duty is done: `done D<n> <summary>`."),),
        facts=tuple(facts),
    )


def _duty_fact(services: Services, row: DutyRow, language: Language) -> Fact:
    _ = gettext_for(language)
    customer = services.directory.customer(row.customer_key)
    calendar = customer_calendar(services, customer) if customer else None
    if calendar is not None:
        due = day_text(row.due_at, calendar, language, clock=False)
    else:
        due = formats.day(row.due_at, language)
    who = customer.name if customer else row.customer_key
    value = f"{who} · {row.title}"
    if row.status == DutyStatus.DONE:
        value += _(" · done by {done_by}").format(done_by=row.done_by)
        value += f": {row.result}" if row.result else ""
    else:
        owner = (
            _owner_name(services, row.owner, language) if row.party != CUSTOMER else _("customer")
        )
        value += f" · {owner}"
    return Fact(f"{duty_label(row)} · {due}", value)


async def overdue_paragraph(services: Services, language: Language) -> str:
    """Overdue duties in one paragraph (the managers' weekly digest)."""
    _ = gettext_for(language)
    rows = await services.store.duties.open_due_before(services.clock())
    if not rows:
        return _("Contract duties: none overdue.")
    lines = [_("Contract duties overdue: {count}").format(count=len(rows))]
    for row in rows[:20]:
        fact = _duty_fact(services, row, language)
        lines.append(f"- {fact.label}: {fact.value}")
    return "\n".join(lines)


def _staff_key(turn: Turn) -> str:
    return turn.actor.staff.email if turn.actor.staff is not None else turn.actor.user_id


async def _take(turn: Turn, services: Services, words: str) -> Outgoing:
    _ = gettext_for(turn.actor.language)
    match = DUTY_ID.search(words)
    row = await services.store.duties.get(int(match[1])) if match else None
    if row is None or row.id is None:
        return turn.reply(_("Which duty? `duties take D<n>` (the numbers are in `duties`)."))
    await services.store.duties.set_owner(row.id, owner=_staff_key(turn))
    return turn.reply(
        _("{duty_label} {title} is yours, {name}.").format(
            duty_label=duty_label(row), title=row.title, name=turn.actor.name
        )
    )


async def done_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """`done D<n> <summary>`: record a duty's result (a review's goes to the customer)."""
    _ = gettext_for(turn.actor.language)
    services = context.services
    match = DUTY_ID.match(args.strip())
    row = await services.store.duties.get(int(match[1])) if match else None
    if match is None or row is None:
        return [turn.reply(_("Which duty? `done D<n> <summary>` (the numbers are in `duties`)."))]
    summary = args.strip()[match.end() :].strip()
    return [await _complete(turn, services, row, summary)]


async def _complete(turn: Turn, services: Services, row: DutyRow, summary: str) -> Outgoing:
    lang = turn.actor.language
    _ = gettext_for(lang)
    assert row.id is not None
    customer = services.directory.customer(row.customer_key)
    calendar = customer_calendar(services, customer) if customer else None
    if row.status == DutyStatus.DONE:
        when = day_text(row.done_at, calendar, lang) if row.done_at and calendar else ""
        return turn.reply(
            _("{duty_label} was done already by {done_by} {when}.")
            .format(duty_label=duty_label(row), done_by=row.done_by, when=when)
            .strip()
        )
    if not summary and not row.kind.startswith(ONBOARDING_PREFIX):
        return turn.reply(
            _("Please add what was done, e.g. `done {duty_label} updated 14 phones`.").format(
                duty_label=duty_label(row)
            )
        )
    done = await services.store.duties.complete(
        row.id, by=turn.actor.name, result=summary, now=services.clock()
    )
    if done is None:
        return turn.reply(_("{duty_label} was done already.").format(duty_label=duty_label(row)))
    name = customer.name if customer else row.customer_key
    text = _("✅ {duty} {title} ({customer}) done").format(
        duty=duty_label(done), title=done.title, customer=name
    )
    text += f": {summary}" if summary else "."
    if done.kind == REVIEW and customer is not None:
        text += "\n\n" + await _send_review(turn, services, customer, done)
    if done.kind.startswith(ONBOARDING_PREFIX):
        left = await services.store.duties.of_customer(
            done.customer_key, kind_prefix=ONBOARDING_PREFIX, status=DutyStatus.OPEN
        )
        progress = _("Onboarding: {count} item(s) open.").format(count=len(left))
        text += "\n\n" + (progress if left else _("Onboarding complete."))
    return turn.reply(text)


async def _send_review(turn: Turn, services: Services, customer: Customer, row: DutyRow) -> str:
    _ = gettext_for(turn.actor.language)
    address = await services.store.duties.contact_for(customer.key)
    if address is None:
        return _(
            "No contact of the customer has a chat with the bot yet: please send them the result."
        )
    language = as_language(address.language) or as_language(customer.language) or "en"
    text = _review_result(row, customer, language)
    await to_contact(services, address, text, event=f"duty:result:{duty_label(row)}")
    return _("The result was sent to {name}.").format(name=address.name)


def _review_result(row: DutyRow, customer: Customer, language: Language) -> str:
    _ = gettext_for(language)
    return _("The result of our “{title}” for {customer}:\n\n{summary}").format(
        title=row.title, customer=customer.name, summary=customer_paragraphs(row.result)
    )


# --- what the duty watcher does --------------------------------------------------------------


def _may_ping(services: Services, calendar: BusinessCalendar, now: datetime) -> bool:
    if services.tunables.notify_outside_service_time or calendar.always_open:
        return True
    return calendar.is_open(now)


async def remind(services: Services) -> int:
    """Send whatever reminder or question is due now; how many went out."""
    sent = 0
    for customer in services.directory.customers:
        try:
            sent += await _remind_customer(services, customer)
        except ChatOpsError:
            raise  # the database or a channel: the whole pass retries later
        except Exception:
            log.exception("cannot remind of the duties of %s", customer.key)
    return sent


async def _remind_customer(services: Services, customer: Customer) -> int:
    if customer.onboarded is None:
        return 0
    calendar = customer_calendar(services, customer)
    now = services.clock()
    if not _may_ping(services, calendar, now):
        return 0
    sent = await _recurring_reminders(services, customer, calendar, now)
    sent += await _onboarding_reminder(services, customer, calendar, now)
    if local_day(calendar, now) >= customer.onboarded:
        sent += (await ask_contact(services, customer, event="first")).asked
    return sent


async def _recurring_reminders(
    services: Services, customer: Customer, calendar: BusinessCalendar, now: datetime
) -> int:
    lang = services.notify.engineers_language(customer.key)
    _ = gettext_for(lang)
    before_days = services.directory.contracts[customer.contract].duties.remind_before_days
    ahead = timedelta(days=2 * before_days + 14)  # enough for any run of holidays
    sent = 0
    rows = await services.store.duties.open_due_before(now + ahead, customer_key=customer.key)
    for row in rows:
        if row.kind.startswith(ONBOARDING_PREFIX):
            continue
        assert row.id is not None
        early = remind_at(calendar, row.due_at, before_days)
        if row.due_at <= now:
            key = "overdue"
            text = _("⏰ Overdue since {due}").format(due=day_text(row.due_at, calendar, lang))
        elif early is not None and early <= now:
            key = "before"
            text = _("🗓️ Due {due}").format(due=day_text(row.due_at, calendar, lang))
        else:
            continue
        if key in row.reminders:
            continue
        owner = _owner_name(services, row.owner, lang)
        text += _(
            ": {duty_label} {title} for {name} ({owner}). When done: `done {duty_label} <summary>`."
        ).format(duty_label=duty_label(row), title=row.title, name=customer.name, owner=owner)
        await to_engineers(services, customer.key, text, event=f"duty:{duty_label(row)}:{key}")
        sent += await services.store.duties.remember(row.id, key)
    return sent


async def _onboarding_reminder(
    services: Services, customer: Customer, calendar: BusinessCalendar, now: datetime
) -> int:
    lang = services.notify.engineers_language(customer.key)
    _ = gettext_for(lang)
    today = local_day(calendar, now)
    assert customer.onboarded is not None
    if today < customer.onboarded:
        return 0
    rows = _in_checklist_order(
        await services.store.duties.of_customer(
            customer.key, kind_prefix=ONBOARDING_PREFIX, status=DutyStatus.OPEN
        )
    )
    key = f"daily:{today.isoformat()}"
    if not rows or all(key in row.reminders for row in rows):
        return 0
    due = rows[0].due_at
    state = _("overdue since") if due <= now else _("due")
    lines = [
        _("📋 Onboarding of {name}: {count} item(s) open, {state} {due}.").format(
            name=customer.name, count=len(rows), state=state, due=day_text(due, calendar, lang)
        )
    ]
    for row in rows:
        item = onboarding_item(row.kind)
        waiting = _(" – waiting for the customer") if row.party == CUSTOMER else ""
        lines.append(f"- {item.letter if item else '?'}) {row.title} ({duty_label(row)}){waiting}")
    lines.append(_("Tick an item: `onboarding {key} done <a–e> [note]`.").format(key=customer.key))
    event = f"duty:onboarding:{customer.key}:{today.isoformat()}"
    await to_engineers(services, customer.key, "\n".join(lines), event=event)
    for row in rows:
        assert row.id is not None
        await services.store.duties.remember(row.id, key)
    return 1


_TAKE = re.compile(r"\b(?:take|nehme?|uebernehme?|mine|mach ich|i'll do|ich mach)")


def duties_args(reading: Reading, _zone: ZoneInfo) -> str:
    """`duties take D12` when someone takes a duty in their own words, else the customer."""
    entities = reading.entities
    if entities.duty is not None and _TAKE.search(fold(reading.text)):
        return f"take {entities.duty}"
    return entities.customer or ""


# Asking the customer again sends them messages: only when "again" is said too.
_ASK = re.compile(r"\b(?:ask|frag\w*|nachfrag\w*)\b")
_AGAIN = re.compile(r"\b(?:again|nochmal|noch einmal|erneut|wieder)\b")
_TICK = re.compile(
    r"\b(?:done|tick\w*|erledigt|abhaken|abgehakt|hak\w*|fertig|erhalten|received)\b"
)
_ITEM = re.compile(r"\b(?:punkt|item|point|step|schritt)\s+([a-e])\b|(?<![\w)])([a-e])\)")


def onboarding_args(reading: Reading, _zone: ZoneInfo) -> str:
    """The words `onboarding` takes, from what someone wrote in their own words: "Onboarding
    demo: Punkt c erledigt" → `demo done c`, "frag den Kunden von demo nochmal" → `demo ask`,
    else the customer (its checklist)."""
    customer, folded = reading.entities.customer or "", fold(reading.text)
    if _ASK.search(folded) and _AGAIN.search(folded):
        return f"{customer} ask".strip()
    item = _ITEM.search(folded)
    if item is not None and _TICK.search(folded):
        return f"{customer} done {item[1] or item[2]}".strip()
    return customer
