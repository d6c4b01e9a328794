"""Managers' commands: `report [YYYY-MM] [customer]`, `breaches [this week|this month|YYYY-MM]`,
`digest on|off`. Reports come with a chart of weekly attainment and the rows as CSV, both behind
signed links that expire."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from adapters.model import Card, Fact, OpenUrlAction, Outgoing
from dialogs.coaching import PRODUCT_NAMES
from dialogs.context import Turn
from dialogs.services import Services
from dialogs.status import card_text
from storage.charts import attainment_chart
from storage.directory import Customer, Product
from storage.reports import (
    Report,
    TicketFacts,
    breaches,
    month_period,
    parse_period,
    period_report,
    render_text,
    ticket_facts,
    to_csv,
)

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

MONTH = re.compile(r"\b\d{4}-\d{2}\b")
DIGEST = "digest"
# Reports speak English in the managers' channel; products by their names, not their keys.
PRODUCT_TITLES = {product.value: PRODUCT_NAMES[product]["en"] for product in Product}


def report_zone(services: Services) -> ZoneInfo:
    """The timezone reports and digests are laid out in (the first contract's service time)."""
    first = next(iter(services.directory.contracts.values()))
    return services.sla.calendar(first.service_time).zone


async def facts_between(services: Services, start: datetime, end: datetime) -> list[TicketFacts]:
    """Report facts of every ticket created in [start, end), as of now."""
    now = services.clock()
    found = []
    for ticket in await services.store.tickets.created_between(start=start, end=end):
        assert ticket.id is not None
        events = await services.store.tickets.events(ticket.id)
        terms_for = services.sla.terms_for(ticket.customer_key)
        found.append(ticket_facts(ticket, events, terms_for, now))
    return found


@dataclass(frozen=True, slots=True)
class MonthScope:
    """`[YYYY-MM] [customer]` as given to `report` and `billing`."""

    start: datetime
    end: datetime
    label: str
    customer: Customer | None


def month_and_customer(context: CommandContext, args: str) -> MonthScope | str:
    """The month (default: this one) and the customer named in `args`, or why not."""
    services, zone = context.services, report_zone(context.services)
    month_match = MONTH.search(args)
    month = month_match[0] if month_match else f"{services.clock().astimezone(zone):%Y-%m}"
    wanted = MONTH.sub("", args).strip().lower()
    customer = None
    if wanted:
        customer = next(
            (c for c in context.directory.customers if wanted in (c.key, c.name.lower())), None
        )
        if customer is None:
            return f"I know no customer called {wanted!r}."
    try:
        start, end, label = month_period(month, zone)
    except ValueError as exc:
        return str(exc)
    return MonthScope(start, end, label, customer)


async def report_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """The SLA report of a month (default: this month), of all customers or one."""
    scope = month_and_customer(context, args)
    if isinstance(scope, str):
        return [turn.reply(scope)]
    services, customer = context.services, scope.customer
    facts = await facts_between(services, scope.start, scope.end)
    report = period_report(
        facts,
        start=scope.start,
        end=scope.end,
        label=scope.label,
        customer=customer.key if customer else None,
        zone=report_zone(services),
        now=services.clock(),
    )
    return [await _report_answer(turn, services, report, customer)]


def csv_name(report: Report) -> str:
    """The name the report's CSV downloads as: `sla-2026-11.csv`, `sla-2026-11-demo.csv`."""
    words = ["sla", report.period.label, *([report.customer] if report.customer else [])]
    return "-".join(re.sub(r"[^A-Za-z0-9-]+", "_", word) for word in words) + ".csv"


async def _report_answer(
    turn: Turn, services: Services, report: Report, customer: Customer | None
) -> Outgoing:
    title = f"SLA report {report.period.label}" + (f" – {customer.name}" if customer else "")
    chart_url = csv_url = None
    if services.links is not None:
        now = services.clock()
        scope = f"{report.period.label}, {customer.name if customer else 'all customers'}"
        # One title: the card's; the chart (also opened on its own) names what it shows.
        chart = attainment_chart(report.weekly, title=f"Reaction SLA met per week, {scope}")
        chart_url = await services.links.publish(chart, suffix="png", now=now)
        csv_url = await services.links.publish(
            to_csv(report).encode(), suffix="csv", now=now, download_as=csv_name(report)
        )
    summary = render_text(report, product_names=PRODUCT_TITLES, heading=False)
    card = Card(
        title=title,
        paragraphs=(summary,),
        image_url=chart_url,
        image_alt="Reaction SLA met per week",
        actions=(OpenUrlAction("Download CSV", csv_url),) if csv_url else (),
    )
    text = f"**{title}**\n\n{summary}"
    if chart_url and csv_url:
        text += f"\n\n[Chart]({chart_url}) · [CSV]({csv_url}) (links valid for 7 days)"
    return turn.reply(text, card=card)


async def breaches_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """Tickets whose first reaction was late, in a period (default: this month)."""
    services, zone = context.services, report_zone(context.services)
    try:
        start, end, label = parse_period(
            args.strip() or "this month", now=services.clock(), zone=zone
        )
    except ValueError as exc:
        return [turn.reply(str(exc))]
    late = breaches(await facts_between(services, start, end), start=start, end=end)
    if not late:
        return [turn.reply(f"No breaches in {label}.")]
    facts = tuple(
        Fact(
            f.number,
            f"{_customer(context, f.customer_key)} · {f.priority} · reaction "
            f"{_hm(f.reaction_used)} of {_hm(f.reaction_target)}",
        )
        for f in late
    )
    card = Card(title=f"Breaches in {label}: {len(late)}", facts=facts)
    return [turn.reply(card_text(card), card=card)]


async def digest_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """`digest on|off`: the daily (and Monday weekly) summary in the managers' channel."""
    choice = args.strip().lower()
    if choice not in ("on", "off"):
        current = await context.services.store.preferences.get(DIGEST) or {}
        state = "on" if current.get("on") else "off"
        return [turn.reply(f"The digest is {state}. Write `digest on` or `digest off`.")]
    await context.services.store.preferences.put(
        DIGEST, {"on": choice == "on", "by": turn.actor.name}, now=context.services.clock()
    )
    if choice == "on":
        return [
            turn.reply(
                "Digest on: a summary at the start of each service day, and last "
                "week's figures on Mondays, in the managers' channel."
            )
        ]
    return [turn.reply("Digest off.")]


async def weekly_card(services: Services, start: datetime, end: datetime) -> Card:
    """Last week's figures for the Monday digest, and the contract duties overdue now."""
    from dialogs.duties import overdue_paragraph  # the duties' own module, kept apart

    zone = report_zone(services)
    facts = await facts_between(services, start, end)
    report = period_report(facts, start=start, end=end, label="last week", zone=zone)
    duties = await overdue_paragraph(services)
    summary = render_text(report, product_names=PRODUCT_TITLES, heading=False)
    return Card(title="SLA last week", paragraphs=(summary, duties))


def _customer(context: CommandContext, key: str) -> str:
    customer = context.directory.customer(key)
    return customer.name if customer else key


def _hm(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}"
