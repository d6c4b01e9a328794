"""`queue` and `mine`: the open tickets (all, or the asker's), most urgent first, a page at a
time. Each ticket shows number, customer, product, priority, state, owner, the time left to its
deadline and the first line of what the customer wrote; a "More" button (or `queue page 2`)
shows the next page."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from adapters.model import Card, Outgoing, SubmitAction
from dialogs.context import Language, Turn
from dialogs.engineering import staff_id
from dialogs.i18n import gettext_for
from dialogs.status import state_words
from dialogs.urgency import TicketLine, ticket_line, views_of

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

PAGE_SIZE = 10
_PAGE = re.compile(r"(?:\b(?:page|seite|p)\s*)?(\d{1,4})\b", re.IGNORECASE)


async def queue(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """Every open ticket, most urgent first."""
    _ = gettext_for(turn.actor.language)
    return await _listing(turn, context, args, owner=None, title=_("Open tickets"))


async def mine(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """The asker's open tickets, most urgent first."""
    _ = gettext_for(turn.actor.language)
    return await _listing(turn, context, args, owner=staff_id(turn), title=_("Your tickets"))


def page_asked(args: str) -> int:
    """The page number in `page 2`, `Seite 2` or `2` (default 1)."""
    match = _PAGE.search(args)
    return max(int(match[1]), 1) if match else 1


async def _listing(
    turn: Turn, context: CommandContext, args: str, *, owner: str | None, title: str
) -> list[Outgoing]:
    services, lang = context.services, turn.actor.language
    _ = gettext_for(lang)
    now = services.clock()
    tickets = await services.store.tickets.open_tickets(owner_user_id=owner)
    if not tickets:
        return [turn.reply(_("**{title}**: nothing open.").format(title=title))]
    views = await views_of(services, tickets, now)
    pages = -(-len(views) // PAGE_SIZE)
    page = min(page_asked(args), pages)
    shown = views[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    lines = [ticket_line(v, context.directory, state_words(v, lang), lang) for v in shown]
    command = "mine" if owner is not None else "queue"  # the button's; the hint is in words
    text, card = _page(
        lines, title=title, page=page, pages=pages, total=len(views), command=command, lang=lang
    )
    return [turn.reply(text, card=card)]


def _page(
    lines: list[TicketLine],
    *,
    title: str,
    page: int,
    pages: int,
    total: int,
    command: str,
    lang: Language,
) -> tuple[str, Card]:
    _ = gettext_for(lang)
    first = (page - 1) * PAGE_SIZE + 1
    span = _("{first}–{last} of {total}, most urgent first").format(
        first=first, last=first + len(lines) - 1, total=total
    )
    more = page < pages
    actions = (SubmitAction(_("More"), {"command": f"{command} page {page + 1}"}),) if more else ()
    card = Card(
        title=title, paragraphs=(span,), facts=tuple(line.fact for line in lines), actions=actions
    )
    text = [f"**{title}** ({span})", *(line.text for line in lines)]
    if more:
        hint = _("More: `{command} page {page}`").format(command=_(command), page=page + 1)
        text.append(hint)
    return "\n".join(text), card
