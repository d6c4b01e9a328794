"""How a command says what people write to ask for it: example sentences and the entities it
takes, declared next to its handler (see `dialogs/catalog.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from dialogs.understanding.reading import Reading

# What a command's arguments are made of, in the order its handler reads them.
Slot = Literal[
    "ticket", "person", "duration", "vendor", "case", "text", "month", "customer", "period",
    "switch", "language", "duty", "window", "moment", "product", "priority",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Phrasing:
    """Examples in both languages and the slots the command's arguments are built from.

    `twins` name what the same words mean for someone who may not use this command.
    `shape` builds the arguments itself where the order of slots is not enough (a sub-command
    such as `maintenance cancel W12`)."""

    examples: tuple[str, ...] = ()
    takes: tuple[Slot, ...] = ()
    shape: Callable[[Reading, ZoneInfo], str] | None = None
    # What someone who may not use this command means by the same words: a contact's "mine"
    # is their "my tickets"
    twins: tuple[str, ...] = ()
