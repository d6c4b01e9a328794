"""Managers' commands: `report [YYYY-MM] [customer]`, `breaches [this week|this month|YYYY-MM]`,
`digest on|off`. Reports come with a chart of weekly attainment and the rows as CSV, both behind
signed links that expire."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from adapters.model import Card, Fact, OpenUrlAction, Outgoing
from dialogs import formats
from dialogs.coaching import PRODUCT_NAMES
from dialogs.context import Language, Turn
from dialogs.i18n import gettext_for
from dialogs.report_text import report_text
from dialogs.services import Services
from dialogs.status import card_text
from dialogs.subcommands import SubCommand, SubCommands
from storage.charts import ChartWords, attainment_chart
from storage.directory import Customer, Product
from storage.reports import (
    Report,
    TicketFacts,
    breaches,
    month_period,
    parse_period,
    period_report,
    ticket_facts,
    to_csv,
)

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

MONTH = re.compile(r"\b\d{4}-\d{2}\b")
DIGEST = "digest"
#: `digest on|off` / `zusammenfassung ein|aus`
DIGEST_WORDS = SubCommands.of(SubCommand("on", ("ein", "an")), SubCommand("off", ("aus",)))
# Reports speak English in the managers' channel; products by their names, not their keys.
PRODUCT_TITLES = {product.value: PRODUCT_NAMES[product] for product in Product}


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


def month_and_customer(
    context: CommandContext, args: str, language: Language = "en"
) -> MonthScope | str:
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
            _ = gettext_for(language)
            return _("I know no customer called {words}.").format(
                words=formats.quoted(wanted, language)
            )
    try:
        start, end, label = month_period(month, zone)
    except ValueError:
        _ = gettext_for(language)
        return _("{text} is not a month like 2026-01.").format(text=formats.quoted(month, language))
    return MonthScope(start, end, label, customer)


async def report_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """The SLA report of a month (default: this month), of all customers or one."""
    scope = month_and_customer(context, args, turn.actor.language)
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


def _chart_words(language: Language) -> ChartWords:
    _ = gettext_for(language)
    return ChartWords(
        met=_("met"),
        breached=_("breached"),
        count=_("tickets"),
        empty=_("No tickets in this period"),
    )


async def _report_answer(
    turn: Turn, services: Services, report: Report, customer: Customer | None
) -> Outgoing:
    lang = turn.actor.language
    _ = gettext_for(lang)
    month = _month(report, lang)
    title = _("SLA report {month}").format(month=month)
    title += f" – {customer.name}" if customer else ""
    chart_url = csv_url = None
    if services.links is not None:
        now = services.clock()
        scope = f"{month}, {customer.name if customer else _('all customers')}"
        # One title: the card's; the chart (also opened on its own) names what it shows.
        chart_title = _("Reaction SLA met per week, {scope}").format(scope=scope)
        chart = attainment_chart(report.weekly, title=chart_title, words=_chart_words(lang))
        chart_url = await services.links.publish(chart, suffix="png", now=now)
        csv_url = await services.links.publish(
            to_csv(report).encode(), suffix="csv", now=now, download_as=csv_name(report)
        )
    summary = report_text(report, lang, product_names=PRODUCT_TITLES, heading=False)
    card = Card(
        title=title,
        paragraphs=(summary,),
        image_url=chart_url,
        image_alt=_("Reaction SLA met per week"),
        actions=(OpenUrlAction(_("Download CSV"), csv_url),) if csv_url else (),
    )
    text = f"**{title}**\n\n{summary}"
    if chart_url and csv_url:
        links = _("[Chart]({chart}) · [CSV]({csv}) (links valid for 7 days)")
        text += "\n\n" + links.format(chart=chart_url, csv=csv_url)
    return turn.reply(text, card=card)


async def breaches_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """Tickets whose first reaction was late, in a period (default: this month)."""
    services, zone = context.services, report_zone(context.services)
    lang = turn.actor.language
    _ = gettext_for(lang)
    try:
        start, end, label = parse_period(
            args.strip() or "this month", now=services.clock(), zone=zone
        )
    except ValueError:
        wrong = _(
            "I know no period {text}: write this week, last week, this month, "
            "last month or a month like 2026-01."
        )
        return [turn.reply(wrong.format(text=formats.quoted(args.strip(), lang)))]
    late = breaches(await facts_between(services, start, end), start=start, end=end)
    if not late:
        return [turn.reply(_("No breaches in {period}.").format(period=label))]
    reaction = _("reaction {used} of {target}")
    facts = tuple(
        Fact(
            f.number,
            f"{_customer(context, f.customer_key)} · {f.priority} · "
            + reaction.format(
                used=formats.duration(f.reaction_used, lang),
                target=formats.duration(f.reaction_target, lang),
            ),
        )
        for f in late
    )
    title = _("Breaches in {period}: {count}").format(period=label, count=len(late))
    card = Card(title=title, facts=facts)
    return [turn.reply(card_text(card), card=card)]


async def digest_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """`digest on|off`: the daily (and Monday weekly) summary in the managers' channel."""
    choice, rest = DIGEST_WORDS.split(args)
    _ = gettext_for(turn.actor.language)
    if choice is None or rest:
        current = await context.services.store.preferences.get(DIGEST) or {}
        if current.get("on"):
            return [turn.reply(_("The digest is on. Write `digest on` or `digest off`."))]
        return [turn.reply(_("The digest is off. Write `digest on` or `digest off`."))]
    await context.services.store.preferences.put(
        DIGEST, {"on": choice == "on", "by": turn.actor.name}, now=context.services.clock()
    )
    if choice == "on":
        return [
            turn.reply(
                _(
                    "Digest on: a summary at the start of each service day, and last "
                    "week's figures on Mondays, in the managers' channel."
                )
            )
        ]
    return [turn.reply(_("Digest off."))]


async def weekly_card(services: Services, start: datetime, end: datetime) -> Card:
    """Last week's figures for the Monday digest, and the contract duties overdue now."""
    from dialogs.duties import overdue_paragraph  # the duties' own module, kept apart

    zone, lang = report_zone(services), services.notify.managers_language()
    _ = gettext_for(lang)
    facts = await facts_between(services, start, end)
    report = period_report(facts, start=start, end=end, label=_("last week"), zone=zone)
    duties = await overdue_paragraph(services, lang)
    summary = report_text(report, lang, product_names=PRODUCT_TITLES, heading=False)
    return Card(title=_("SLA last week"), paragraphs=(summary, duties))


def _month(report: Report, language: Language) -> str:
    """The report's period by name (`März 2026`) when it is a month, else its label."""
    if MONTH.fullmatch(report.period.label):
        return formats.month(report.period.start.astimezone(report.zone), language)
    return report.period.label


def _customer(context: CommandContext, key: str) -> str:
    customer = context.directory.customer(key)
    return customer.name if customer else key
