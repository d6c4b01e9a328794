"""The SLA report as a manager reads it: the figures of `storage.reports` in words, in the
reader's language (gettext), with numbers, percentages and durations by Babel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from dialogs import formats
from dialogs.context import Language
from dialogs.i18n import gettext_for, ngettext_for
from storage.reports import Report, TicketFacts


def report_text(
    report: Report,
    language: Language,
    *,
    product_names: Mapping[str, str] | None = None,
    heading: bool = True,
) -> str:
    """A compact markdown summary: the chat's text (and the fallback for the chart). Products
    are named by `product_names` (English ids, translated here; default: their keys); without
    `heading` the summary goes under a title of its own."""
    _, ngettext = gettext_for(language), ngettext_for(language)
    names = {key: _(name) for key, name in (product_names or {}).items()}
    by_product = {names.get(key, key): count for key, count in report.by_product.items()}
    faults = ngettext("{n} fault", "{n} faults", report.faults).format(n=report.faults)
    changes = ngettext("{n} change request", "{n} change requests", report.change_requests)
    lines = [
        *([_heading(report, language)] if heading else []),
        _("- Tickets: {tickets} ({faults}, {changes})").format(
            tickets=report.tickets, faults=faults, changes=changes.format(n=report.change_requests)
        ),
        _(
            "- Reaction met: **{percent}** ({met} met, {breached} breached, {pending} pending)"
        ).format(
            percent=formats.percent(report.reaction_met_percent, language),
            met=report.met,
            breached=report.breached,
            pending=report.pending,
        ),
        _("- Reaction time (business, {answered} answered): median {median}, p90 {p90}").format(
            answered=report.responded,
            median=_duration(report.median_reaction, language),
            p90=_duration(report.p90_reaction, language),
        ),
        _("- Waiting for the customer: {duration}").format(
            duration=_duration(report.paused_total, language)
        ),
        _("- By priority: {counts}").format(counts=_counts(report.by_priority)),
        _("- By product: {counts}").format(counts=_counts(by_product) or "–"),
        _("- By week (met/known): {weeks}").format(weeks=_weeks(report.weekly)),
    ]
    breached = [f for f in report.rows if f.breached]
    if breached:
        listed = ", ".join(_breach(f, language) for f in breached)
        lines.append(_("- Breaches: {tickets}").format(tickets=listed))
    return "\n".join(lines)


def _heading(report: Report, language: Language) -> str:
    _ = gettext_for(language)
    if report.customer:
        who = _("customer {customer}").format(customer=report.customer)
    else:
        who = _("all customers")
    return _("**SLA report {period}** · {who}").format(period=report.period.label, who=who)


def _duration(length: timedelta | None, language: Language) -> str:
    return "–" if length is None else formats.duration(length, language)


def _counts(counts: Mapping[str, int]) -> str:
    return " · ".join(f"{key} {count}" for key, count in counts.items())


def _weeks(weekly: Sequence[tuple[str, int, int]]) -> str:
    return " · ".join(f"{week} {met}/{met + breached}" for week, met, breached in weekly) or "–"


def _breach(facts: TicketFacts, language: Language) -> str:
    _ = gettext_for(language)
    return _("{number} ({priority}, {used} of {target})").format(
        number=facts.number,
        priority=facts.priority,
        used=_duration(facts.reaction_used, language),
        target=_duration(facts.reaction_target, language),
    )
