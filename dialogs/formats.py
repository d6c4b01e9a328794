"""Dates, times, durations and numbers as a reader of each language writes them (Babel).

Texts never format these by hand: `Di. 03.03.2026 09:00` and `Tue 03.03.2026 09:00`, `Jänner`
(Babel's de_AT, the provider is Austrian), `97,5 %` and `97.5 %`, `1 Std. 30 Min.` and
`1 hr 30 mins` all come from the locale in `dialogs.i18n.BABEL_LOCALE`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.numbers import format_decimal
from babel.units import format_unit

from adapters.model import customer_text
from dialogs.context import Language
from dialogs.i18n import BABEL_LOCALE, gettext_for

#: Day-first numeric dates in both languages: the customers and the contract are Austrian.
DATE = "dd.MM.yyyy"
CLOCK = "HH:mm"


def locale_of(language: Language) -> str:
    """The Babel locale a person of `language` reads."""
    return BABEL_LOCALE[language]


def weekday(instant: datetime | date, language: Language, *, zone: tzinfo | None = None) -> str:
    """The abbreviated weekday: `Tue`, `Di.`."""
    return _format(instant, "EEE", language, zone)


def weekday_name(
    instant: datetime | date, language: Language, *, zone: tzinfo | None = None
) -> str:
    """The full weekday: `Tuesday`, `Dienstag`."""
    return _format(instant, "EEEE", language, zone)


def day(instant: datetime | date, language: Language, *, zone: tzinfo | None = None) -> str:
    """`03.03.2026`."""
    return _format(instant, DATE, language, zone)


def day_month(instant: datetime | date, language: Language, *, zone: tzinfo | None = None) -> str:
    """`03.03.` (the year is clear from the context)."""
    return _format(instant, "dd.MM.", language, zone)


def clock(instant: datetime, language: Language, *, zone: tzinfo | None = None) -> str:
    """`09:30` (24 hours in both languages)."""
    return format_time(_local(instant, zone), CLOCK, locale=locale_of(language))


def moment(instant: datetime, language: Language, *, zone: tzinfo | None = None) -> str:
    """`Tue 03.03.2026 09:30` / `Di. 03.03.2026 09:30`."""
    return _format(instant, f"EEE {DATE} {CLOCK}", language, zone)


def month(instant: datetime | date, language: Language) -> str:
    """`January 2026` / `Jänner 2026`."""
    return format_date(instant, "LLLL yyyy", locale=locale_of(language))


def duration(length: timedelta, language: Language) -> str:
    """`2 mins`, `4 hrs`, `1 hr 30 mins` / `2 Min.`, `4 Std.`, `1 Std. 30 Min.`, in whole
    minutes (59 min 40 s is `59 mins`: SLA time is never rounded up); a negative length
    (time overdue) is told as its amount, the sentence says that it is late."""
    minutes = int(abs(length.total_seconds())) // 60
    hours, rest = divmod(minutes, 60)
    locale = locale_of(language)
    parts = [format_unit(hours, "duration-hour", length="short", locale=locale)] if hours else []
    if rest or not hours:
        parts.append(format_unit(rest, "duration-minute", length="short", locale=locale))
    return " ".join(parts)


def time_used(length: timedelta, language: Language) -> str:
    """Business time used, as `duration`, but under a minute as words (`less than a minute`),
    not as `0 mins`, which reads as if no time had passed."""
    if abs(length) < timedelta(minutes=1):
        _ = gettext_for(language)
        return _("less than a minute")
    return duration(length, language)


def rounded_duration(length: timedelta, language: Language) -> str:
    """A limit in one unit, seconds up to two minutes: `90 seconds`, `2 minutes` /
    `90 Sekunden`, `2 Minuten`."""
    return format_timedelta(length, threshold=2, locale=locale_of(language))


def hours(minutes: int, language: Language) -> str:
    """Minutes as decimal hours with two places: `1.50` / `1,50`."""
    return format_decimal(minutes / 60, format="0.00", locale=locale_of(language))


def effort(minutes: int, language: Language) -> str:
    """Logged time for billing: `2 hrs 15 mins (2.25 h)` / `2 Std. 15 Min. (2,25 h)`."""
    return f"{duration(timedelta(minutes=minutes), language)} ({hours(minutes, language)} h)"


def number(value: float, language: Language, *, places: int = 1) -> str:
    """`97.5` / `97,5`; whole numbers without a fraction (`100`), thousands grouped."""
    pattern = "#,##0." + "#" * places if places else "#,##0"
    return format_decimal(value, format=pattern, locale=locale_of(language))


def percent(value: float | None, language: Language) -> str:
    """A percentage given as 0–100: `97.5 %` / `97,5 %`; `–` when there is nothing to count."""
    if value is None:
        return "–"
    return f"{number(value, language)} %"


def quoted(text: str, language: Language) -> str:
    """What a person typed, shown back in their language's quotation marks (`„W99“`,
    `“W99”`) and marked as a person's words: no markup or mention in it acts where others read
    the reply (an engineers' channel)."""
    _ = gettext_for(language)
    return _("“{text}”").format(text=customer_text(text))


def _local(instant: datetime, zone: tzinfo | None) -> datetime:
    return instant.astimezone(zone) if zone is not None else instant


def _format(instant: datetime | date, pattern: str, language: Language, zone: tzinfo | None) -> str:
    locale = locale_of(language)
    if isinstance(instant, datetime):
        return format_datetime(_local(instant, zone), pattern, tzinfo=None, locale=locale)
    return format_date(instant, pattern, locale=locale)
