"""Every command the bot understands, and what it does with a message that is none of them."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.model import Outgoing
from dialogs.commands import EVERYONE, Command, CommandContext, foundation_commands
from dialogs.context import Turn, as_language
from dialogs.intake import IntakeDialog
from dialogs.logfiles import LogfilesDialog, files_without_command
from dialogs.texts import t
from storage.directory import Role

CONTACTS = frozenset({Role.CONTACT})
REPORT_A_FAULT = "report a fault"
# Words that make a first message a fault description rather than chit-chat.
_PROBLEM_WORDS = (
    "not work", "doesn't work", "does not work", "don't work", "broken", "error", "fail",
    "cannot", "can't", "no dial tone", "dropped", "drops", "outage", "down", "no audio",
    "funktioniert nicht", "geht nicht", "kaputt", "fehler", "störung", "ausfall", "kein ton",
    "kann nicht", "können nicht", "bricht ab", "brechen ab", "nicht erreichbar",
)  # fmt: skip


async def language_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """`language de|en`: answer in this language from now on."""
    choice = as_language(args.strip().lower()[:2])
    if choice is None:
        return [turn.reply(t("language_usage", turn.actor.language))]
    await context.services.store.contacts.set_language(
        channel=turn.incoming.channel.value, user_id=turn.actor.user_id, language=choice
    )
    return [turn.reply(t("language_set", choice))]


def default_commands() -> list[Command]:
    """The commands of the running bot."""
    return [
        *foundation_commands(),
        Command(
            REPORT_A_FAULT,
            "cmd_report",
            CONTACTS,
            dialog=IntakeDialog(),
            aliases=(
                "report fault", "new ticket", "new fault", "fault", "störung melden",
                "stoerung melden", "störung", "neues ticket", "problem melden",
            ),
        ),
        Command(
            "add logs",
            "cmd_add_logs",
            CONTACTS,
            dialog=LogfilesDialog(),
            usage="add logs <ticket>",
            aliases=("logs hinzufügen", "add log", "logfiles", "logs"),
        ),
        Command(
            "language",
            "cmd_language",
            EVERYONE,
            language_command,
            usage="language de|en",
            aliases=("sprache",),
        ),
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class StartDialog:
    """Run `command` with `args`, saying `note` first."""

    command: Command
    args: str
    note: str


async def fallback(turn: Turn, context: CommandContext) -> list[Outgoing] | StartDialog | None:
    """What to do with a message that is no command: files go to the contact's open ticket;
    a contact's first words about a problem start a fault report; else None (not understood)."""
    if turn.actor.role is not Role.CONTACT:
        return None
    if turn.incoming.files or turn.incoming.unreadable_files:
        return await files_without_command(turn, context)
    text = turn.incoming.text.strip()
    lowered = text.lower()
    if len(text.split()) >= 8 or any(word in lowered for word in _PROBLEM_WORDS):
        report = next(c for c in context.commands if c.name == REPORT_A_FAULT)
        return StartDialog(report, text, t("intake_looks_like_fault", turn.actor.language))
    return None
