"""Effort on tickets and the monthly billable-effort report.

- Engineers: `effort <ticket> <duration> [note]` logs effort (`45m`, `1h30m`, and as people
  write it: `1,5h`, `90 min`, `1 h 30`, `1:30`, `anderthalb Stunden`); `effort <ticket>` shows
  what was logged, by whom (their names). In a ticket's thread the number may be left out.
  Each incoming message logs once: the entry's key is the message's identity, so a retried
  message is not counted twice. Effort can be logged on every ticket; only change requests
  are billable (see `storage/efforts.py`).
- Managers: `billing [YYYY-MM] [customer]`: per customer the change requests worked on, the
  billable hours and the number of entries in the month, with every entry as CSV behind a
  signed link.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import TYPE_CHECKING

from adapters.model import Card, Fact, OpenUrlAction, Outgoing
from dialogs import formats
from dialogs.context import Language, Turn
from dialogs.engineering import staff_id
from dialogs.i18n import gettext_for, ngettext_for
from dialogs.managers import month_and_customer, report_zone
from dialogs.understanding.when import duration_in
from storage.directory import Directory, parse_duration
from storage.efforts import billable, billing_csv, per_customer
from storage.models import TicketRow

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

# One entry longer than this is most likely a typo (`80h` for `8h`).
MAX_ENTRY = timedelta(hours=24)

# "1:30" after a ticket is a duration (hours:minutes), not a time of day.
_HOURS_MINUTES = re.compile(r"([0-9]{1,2}):([0-5][0-9])")


def too_long(duration: timedelta, as_written: str, language: Language = "en") -> str | None:
    """One entry is at most a day (the chat and the integration API share this rule)."""
    if duration > MAX_ENTRY:
        _ = gettext_for(language)
        text = _("{duration} is more than a day; please log each day on its own.")
        return text.format(duration=as_written)
    return None


def source_key(turn: Turn) -> str:
    """The identity of the incoming message (channel, conversation, message id), short."""
    incoming = turn.incoming
    raw = f"{incoming.conversation.conversation_id}\n{incoming.event_id}"
    return f"effort:{incoming.channel.value}:{hashlib.sha256(raw.encode()).hexdigest()[:48]}"


async def effort(
    turn: Turn, context: CommandContext, ticket: TicketRow, rest: str
) -> list[Outgoing]:
    """Log effort on the ticket, or (without a duration) show what was logged."""
    store, lang = context.services.store, turn.actor.language
    _ = gettext_for(lang)
    assert ticket.id is not None
    words = rest.split(maxsplit=1)
    if not words:
        return [await _summary(turn, context, ticket)]
    try:
        duration, note = effort_duration(rest)
    except ValueError:
        wrong = _(
            "{text} is not a duration like 4h, 90m or 1h30m. Write "
            "`effort {number} 45m <what you did>`."
        )
        shown = formats.quoted(words[0], turn.actor.language)
        return [turn.reply(wrong.format(text=shown, number=ticket.number))]
    if reason := too_long(duration, words[0], turn.actor.language):
        return [turn.reply(reason)]
    minutes = int(duration.total_seconds() // 60)
    entry, new = await store.efforts.log(
        ticket_id=ticket.id,
        minutes=minutes,
        note=note,
        by=staff_id(turn),
        at=context.services.clock(),
        source_key=source_key(turn),
    )
    total = await store.efforts.total_minutes(ticket.id)
    logged = _("Logged {duration} on {number}, {kind}; total {total}.")
    if not new:
        logged = _("Already logged {duration} on {number}, {kind}; total {total}.")
    values = {
        "duration": formats.duration(timedelta(minutes=entry.minutes), lang),
        "number": ticket.number,
        "kind": _kind(ticket, lang),
        "total": formats.effort(total, lang),
    }
    return [turn.reply(logged.format(**values))]


def _kind(ticket: TicketRow, language: Language) -> str:
    _ = gettext_for(language)
    return _("billable (change request)") if billable(ticket) else _("not billed (fault)")


def effort_duration(text: str) -> tuple[timedelta, str]:
    """The duration at the start of `text` and the note after it; `ValueError` (saying how to
    write one) when `text` does not start with a duration."""
    first, _space, note = text.strip().partition(" ")
    if clock := _HOURS_MINUTES.fullmatch(first):
        return timedelta(hours=int(clock[1]), minutes=int(clock[2])), note.strip()
    found = duration_in(text.strip().lower())
    if found is not None and found[1][0] == 0:
        return found[0], text.strip()[found[1][1] :].strip()
    return parse_duration(first), note.strip()  # raises, naming what it takes


def person_name(directory: Directory, email: str) -> str:
    """Staff are stored by e-mail; people read their names."""
    return next((s.name for s in directory.staff if s.email == email.lower()), email)


async def _summary(turn: Turn, context: CommandContext, ticket: TicketRow) -> Outgoing:
    assert ticket.id is not None
    entries = await context.services.store.efforts.of_ticket(ticket.id)
    total = sum(e.minutes for e in entries)
    lang = turn.actor.language
    _ = gettext_for(lang)
    title = _("Effort on {number}: {total}, {kind}").format(
        number=ticket.number, total=formats.effort(total, lang), kind=_kind(ticket, lang)
    )
    zone = report_zone(context.services)
    facts = tuple(
        Fact(
            f"{formats.day(e.at, lang, zone=zone)} {formats.clock(e.at, lang, zone=zone)}",
            f"{formats.duration(timedelta(minutes=e.minutes), lang)} · "
            f"{person_name(context.directory, e.by)} · {e.note}",
        )
        for e in entries
    )
    if not facts:
        return turn.reply(_("No effort logged on {number} yet.").format(number=ticket.number))
    card = Card(title=title, facts=facts)
    text = "\n".join([f"**{title}**", *(f"- {f.label}: {f.value}" for f in facts)])
    return turn.reply(text, card=card)


async def billing_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """Billable effort of a month (default: this month), of all customers or one."""
    scope = month_and_customer(context, args, turn.actor.language)
    if isinstance(scope, str):
        return [turn.reply(scope)]
    services, zone = context.services, report_zone(context.services)
    start, end, customer = scope.start, scope.end, scope.customer
    lang = turn.actor.language
    _, ngettext = gettext_for(lang), ngettext_for(lang)
    label = formats.month(start.astimezone(zone), lang)
    entries = await services.store.efforts.between(
        start=start, end=end, customer_key=customer.key if customer else None
    )
    title = _("Billable effort {month}").format(month=label)
    title += f" – {customer.name}" if customer else ""
    rows = per_customer(entries)
    if not rows:
        return [turn.reply(_("**{title}**: no effort logged.").format(title=title))]
    facts = []
    for row in rows:
        known = context.directory.customer(row.customer_key)
        name = known.name if known else row.customer_key
        requests = ngettext("{n} change request", "{n} change requests", row.change_requests)
        lines = ngettext("in {n} entry", "in {n} entries", row.billable_lines)
        worked = formats.effort(row.billable_minutes, lang)
        value = f"{requests.format(n=row.change_requests)}, {worked} "
        value += lines.format(n=row.billable_lines)
        if row.fault_minutes:
            faults = _("faults (not billed): {effort}")
            value += "; " + faults.format(effort=formats.effort(row.fault_minutes, lang))
        facts.append(Fact(name, value))
    total = sum(row.billable_minutes for row in rows)
    summary = _("Billable in total: {effort}.").format(effort=formats.effort(total, lang))
    csv_url = None
    if services.links is not None:
        content = billing_csv(entries, zone).encode()
        csv_url = await services.links.publish(content, suffix="csv", now=services.clock())
    card = Card(
        title=title,
        paragraphs=(summary,),
        facts=tuple(facts),
        actions=(OpenUrlAction(_("Download CSV"), csv_url),) if csv_url else (),
    )
    text = "\n".join([f"**{title}**", summary, *(f"- {f.label}: {f.value}" for f in facts)])
    if csv_url:
        text += "\n\n" + _("[CSV]({url}) (link valid for 7 days)").format(url=csv_url)
    return [turn.reply(text, card=card)]
