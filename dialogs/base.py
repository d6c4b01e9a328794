"""Multi-turn dialogs: a dialog is started by a command and then receives the person's messages
until it finishes. Its state is a JSON object persisted per (channel, conversation, user), so a
restart in the middle resumes where the person was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from adapters.model import Outgoing

if TYPE_CHECKING:
    from dialogs.commands import CommandContext
    from dialogs.context import Turn


@dataclass(frozen=True, slots=True)
class FollowUp:
    """After a finished dialog: run `command` with `args`, or (`command` "") read `args` as a
    new message."""

    command: str
    args: str


@dataclass(frozen=True, slots=True)
class DialogStep:
    """What a dialog answers, and its state afterwards (`None`: the dialog is finished)."""

    answers: list[Outgoing] = field(default_factory=list)
    state: dict[str, Any] | None = None
    follow: FollowUp | None = None


class Dialog(Protocol):
    """A conversation of several turns. Implementations keep no state of their own."""

    name: str

    async def start(self, turn: Turn, context: CommandContext, args: str) -> DialogStep:
        """Begin: usually asks the first question."""

    async def resume(
        self, turn: Turn, context: CommandContext, state: dict[str, Any]
    ) -> DialogStep:
        """Take the person's next message, given the state the last step returned."""
