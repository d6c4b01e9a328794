"""How a button says which card it is on, so that the card can be shown again once pressed
with only the buttons that still apply (`dialogs.card_refresh`).

A button's data carries, beside its command, the kind of card and the ticket the card is
about. Cards without these marks (the engineers' shared alert, kept current by its channel
post's updates) are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

CARD_KIND = "card"
CARD_TICKET = "ticket"
# An engineer's own view of a ticket (`show`).
TICKET_CARD = "ticket"
# The customer's resolution message with its Reopen button.
RESOLUTION_CARD = "resolution"


def on_card(command: str, kind: str, number: str) -> Mapping[str, str]:
    """A button's data: `command`, marked as pressed on a `kind` card about ticket `number`."""
    return {"command": command, CARD_KIND: kind, CARD_TICKET: number}
