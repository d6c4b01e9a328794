"""`why <ticket>` in the reader's words: each line of `storage.sla_explain` as a sentence
(gettext), its times and durations by Babel, in the service time's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from dialogs import formats
from dialogs.context import Language
from dialogs.i18n import N_, gettext_for
from storage.sla_explain import ClosedDays, Explanation, Line, LineKind, Note, NoteValue

_NOTES: Final = {
    Note.REPORTED: N_(
        "reported ({contract} {priority}): reaction target {target} of service time "
        "({service_time})"
    ),
    Note.REOPENED: N_(
        "reopened: a new reaction cycle ({contract} {priority}): reaction target {target} of "
        "service time ({service_time})"
    ),
    Note.PAUSED: N_("paused: {reason}"),
    Note.RESUMED: N_("resumed"),
    Note.TERMS_CHANGED: N_(
        "now {contract} {priority}: reaction target {target} in {service_time}; time already "
        "used and past pauses are kept"
    ),
    Note.NOT_COUNTED: N_("paused ({reason}), {business} of service time not counted"),
    Note.CLOSED: N_("closed: {days}"),
    Note.OUT_OF_HOURS: N_("outside the service time"),
    Note.RESPONDED_IN_TIME: N_("first response after {used}: in time"),
    Note.RESPONDED_LATE: N_("first response after {used}: too late"),
    Note.PAUSED_WITH_TIME_LEFT: N_("paused with {left} left: no deadline until the clock resumes"),
    Note.BREACHED: N_("deadline {deadline} passed: breached"),
    Note.DEADLINE: N_("deadline {deadline}: {target} used up"),
}
#: Why a clock was paused when the log names no reason.
_NO_REASON: Final = N_("waiting for the customer")


def why_text(explanation: Explanation, language: Language) -> str:
    """The explanation, one line per stretch, times in the service time's zone."""
    return "\n".join(_line(line, explanation.zone, language) for line in explanation.lines)


def _line(line: Line, zone: ZoneInfo, language: Language) -> str:
    _ = gettext_for(language)
    span = formats.moment(line.start, language, zone=zone)
    if line.end is not None:
        span += f" – {formats.moment(line.end, language, zone=zone)}"
    if line.kind is LineKind.COUNTED:
        counted = _("counted {business} (total {total})").format(
            business=formats.duration(line.business, language),
            total=formats.duration(line.total, language),
        )
        return f"{span}: {counted}"
    if line.note is Note.NONE:
        return span
    values = {name: _value(name, value, zone, language) for name, value in line.values.items()}
    values["business"] = formats.duration(line.business, language)
    return f"{span}: {_(_NOTES[line.note]).format(**values)}"


def _value(name: str, value: NoteValue, zone: ZoneInfo, language: Language) -> str:
    _ = gettext_for(language)
    if isinstance(value, timedelta):
        return formats.duration(value, language)
    if isinstance(value, datetime):
        return formats.moment(value, language, zone=zone)
    if isinstance(value, tuple):
        return _days(value, language)
    if name == "reason":  # a reason the bot recorded in English is one of its texts
        return _(value) if value else _(_NO_REASON)
    return value


def _days(days: ClosedDays, language: Language) -> str:
    return ", ".join(
        f"{formats.weekday(day, language)} {formats.day_month(day, language)} {name}"
        for day, name in days
    )
