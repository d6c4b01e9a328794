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
from dialogs.context import Turn
from dialogs.engineering import staff_id
from dialogs.managers import month_and_customer, report_zone
from dialogs.understanding.when import duration_in
from storage.directory import Directory, parse_duration
from storage.efforts import billable, billing_csv, hours_text, per_customer
from storage.models import TicketRow

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

# One entry longer than this is most likely a typo (`80h` for `8h`).
MAX_ENTRY = timedelta(hours=24)
# "1:30" after a ticket is a duration (hours:minutes), not a time of day.
_HOURS_MINUTES = re.compile(r"([0-9]{1,2}):([0-5][0-9])")


def source_key(turn: Turn) -> str:
    """The identity of the incoming message (channel, conversation, message id), short."""
    incoming = turn.incoming
    raw = f"{incoming.conversation.conversation_id}\n{incoming.event_id}"
    return f"effort:{incoming.channel.value}:{hashlib.sha256(raw.encode()).hexdigest()[:48]}"


async def effort(
    turn: Turn, context: CommandContext, ticket: TicketRow, rest: str
) -> list[Outgoing]:
    """Log effort on the ticket, or (without a duration) show what was logged."""
    store = context.services.store
    assert ticket.id is not None
    words = rest.split(maxsplit=1)
    if not words:
        return [await _summary(turn, context, ticket)]
    try:
        duration, note = effort_duration(rest)
    except ValueError as exc:
        return [turn.reply(f"{exc}. Write `effort {ticket.number} 45m <what you did>`.")]
    if duration > MAX_ENTRY:
        return [turn.reply(f"{words[0]} is more than a day; please log each day on its own.")]
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
    kind = "billable (change request)" if billable(ticket) else "not billed (fault)"
    verb = "Logged" if new else "Already logged"
    return [
        turn.reply(
            f"{verb} {_hm(entry.minutes)} on {ticket.number}, {kind}; total {hours_text(total)}."
        )
    ]


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
    kind = "billable (change request)" if billable(ticket) else "not billed (fault)"
    title = f"Effort on {ticket.number}: {hours_text(total)}, {kind}"
    zone = report_zone(context.services)
    facts = tuple(
        Fact(
            f"{e.at.astimezone(zone):%d.%m.%Y %H:%M}",
            f"{_hm(e.minutes)} · {person_name(context.directory, e.by)} · {e.note}",
        )
        for e in entries
    )
    if not facts:
        return turn.reply(f"No effort logged on {ticket.number} yet.")
    card = Card(title=title, facts=facts)
    text = "\n".join([f"**{title}**", *(f"- {f.label}: {f.value}" for f in facts)])
    return turn.reply(text, card=card)


async def billing_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """Billable effort of a month (default: this month), of all customers or one."""
    scope = month_and_customer(context, args)
    if isinstance(scope, str):
        return [turn.reply(scope)]
    services, zone = context.services, report_zone(context.services)
    start, end, label, customer = scope.start, scope.end, scope.label, scope.customer
    entries = await services.store.efforts.between(
        start=start, end=end, customer_key=customer.key if customer else None
    )
    title = f"Billable effort {label}" + (f" – {customer.name}" if customer else "")
    rows = per_customer(entries)
    if not rows:
        return [turn.reply(f"**{title}**: no effort logged.")]
    facts = []
    for row in rows:
        known = context.directory.customer(row.customer_key)
        name = known.name if known else row.customer_key
        value = (
            f"{row.change_requests} change request(s), {hours_text(row.billable_minutes)} "
            f"in {row.billable_lines} entr{'y' if row.billable_lines == 1 else 'ies'}"
        )
        if row.fault_minutes:
            value += f"; faults (not billed): {hours_text(row.fault_minutes)}"
        facts.append(Fact(name, value))
    total = sum(row.billable_minutes for row in rows)
    summary = f"Billable in total: {hours_text(total)}."
    csv_url = None
    if services.links is not None:
        content = billing_csv(entries, zone).encode()
        csv_url = await services.links.publish(content, suffix="csv", now=services.clock())
    card = Card(
        title=title,
        paragraphs=(summary,),
        facts=tuple(facts),
        actions=(OpenUrlAction("Download CSV", csv_url),) if csv_url else (),
    )
    text = "\n".join([f"**{title}**", summary, *(f"- {f.label}: {f.value}" for f in facts)])
    if csv_url:
        text += f"\n\n[CSV]({csv_url}) (link valid for 7 days)"
    return [turn.reply(text, card=card)]


def _hm(minutes: int) -> str:
    return f"{minutes // 60}h{minutes % 60:02d}"
