"""A ticket's logfiles as engineers see them: one line per file with its name, size, when it
arrived and a signed link to download it (`storage.links`; the bot serves it at
`/files/logfiles/…`). The links expire, so every card and `show` makes fresh ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from dialogs.context import Language
from dialogs.i18n import gettext_for
from dialogs.logfiles import human_size
from dialogs.services import Services
from dialogs.when import in_words
from storage.directory import Priority
from storage.models import LogfileRow, TicketRow

# The language of a card when none is given: posts in the engineers' channels and threads are
# written in the channel's `language` (the directory, `Notifier.engineers_language`); replies
# to one engineer in that engineer's language.
ENGINEERS_LANGUAGE: Final[Language] = "en"
# Files listed on one card: a card stays well under the channels' size limits (Webex ~16 KB).
MAX_LISTED: Final = 10


def ticket_zone(services: Services, ticket: TicketRow) -> ZoneInfo:
    """The local time of the ticket's service time (what its people read times in)."""
    terms = services.sla.terms_for(ticket.customer_key)(ticket.contract, Priority(ticket.priority))
    return terms.calendar.zone


async def file_lines(
    services: Services,
    ticket: TicketRow,
    *,
    language: Language,
    only: Sequence[str] | None = None,
) -> list[str]:
    """A markdown line per logfile of the ticket (those with a SHA-256 in `only`, if given):
    the newest `MAX_LISTED`, and a line saying how many earlier ones are left out."""
    assert ticket.id is not None
    rows = await services.store.logfiles.of_ticket(ticket.id)
    wanted = [row for row in rows if only is None or row.sha256 in only]
    zone, now = ticket_zone(services, ticket), services.clock()
    shown = wanted[-MAX_LISTED:]
    lines = [file_line(services, row, language=language, zone=zone, now=now) for row in shown]
    if len(wanted) > len(shown):
        _ = gettext_for(language)
        left_out = _("… and {count} earlier file(s)").format(count=len(wanted) - len(shown))
        lines.insert(0, left_out)
    return lines


def file_line(
    services: Services, row: LogfileRow, *, language: Language, zone: ZoneInfo, now: datetime
) -> str:
    """`[trace.log](link) · 1.2 MB · today 15:32` (no link where the bot has no public URL).

    The name shown is the stored safe name (letters, digits, `._+-`: nothing markdown acts
    on in a link text); the download carries the name as it was sent.
    """
    _ = gettext_for(language)
    size = human_size(row.size, language)
    when = in_words(row.created_at, now=now, zone=zone, language=language)
    if services.links is None or row.id is None:
        return _("{name} · {size} · {when}").format(name=row.name, size=size, when=when)
    url = services.links.logfile_link(logfile_id=row.id, ticket_id=row.ticket_id, now=now)
    return _("[{name}]({url}) · {size} · {when}").format(
        name=row.name, url=url, size=size, when=when
    )
