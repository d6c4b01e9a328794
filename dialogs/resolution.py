"""What a contact can do with a resolved ticket: the resolution message carries a "Reopen"
button (pressed within the reopen period it reopens the ticket; later it offers a new report),
and a report that refers to the old ticket is one button away."""

from __future__ import annotations

from datetime import timedelta

from adapters.model import Card, SubmitAction
from dialogs.coaching import product_name
from dialogs.context import Language
from dialogs.i18n import gettext_for
from dialogs.pressed import RESOLUTION_CARD, on_card
from storage.directory import Product
from storage.models import TicketRow

REPORT_A_FAULT = "report a fault"


def resolution_message(
    ticket: TicketRow,
    text: str,
    language: Language,
    reopen_within: timedelta,
    *,
    reopened: bool = False,
) -> tuple[str, Card]:
    """The resolution message (text and card) with how to reopen the ticket: a button on the
    card, the command in the text. Once `reopened`, the card says so and offers nothing."""
    _ = gettext_for(language)
    number = ticket.number
    if reopened:
        done = _("Your ticket {number} was reopened.").format(number=number)
        return f"{text}\n\n{done}", Card(title=number, paragraphs=(text, done))
    reopen = SubmitAction(_("Reopen"), on_card(f"reopen {number}", RESOLUTION_CARD, number))
    hint = _(
        "If the fault is back within {days} days, press **Reopen** or write `reopen {number}`."
    ).format(days=reopen_within.days, number=number)
    card = Card(title=number, paragraphs=(text, hint), actions=(reopen,))
    return f"{text}\n\n{hint}", card


def follow_up_report(ticket: TicketRow, language: Language) -> SubmitAction:
    """A button that starts a new report already saying it follows up the old ticket."""
    _ = gettext_for(language)
    product = product_name(Product(ticket.product), language)
    description = _("The fault of {number} ({product}) is back.").format(
        number=ticket.number, product=product
    )
    return SubmitAction(_("Report a new fault"), {"command": f"{REPORT_A_FAULT} {description}"})
