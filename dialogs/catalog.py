"""Every command the bot understands, and what it does with a message that is none of them."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.model import Outgoing
from dialogs import billing, engineering, maintenance, managers, status
from dialogs.commands import EVERYONE, Command, CommandContext, foundation_commands
from dialogs.context import Turn, as_language
from dialogs.duties import (
    QUESTIONS,
    OnboardingQuestions,
    done_command,
    duties_command,
    onboarding_command,
)
from dialogs.engineering import ENGINEERS, relay_to_open_ticket
from dialogs.intake import IntakeDialog
from dialogs.logfiles import LogfilesDialog, files_without_command
from dialogs.texts import t
from storage.directory import Role

CONTACTS = frozenset({Role.CONTACT})
STAFF = frozenset({Role.ENGINEER, Role.MANAGER})
MANAGERS = frozenset({Role.MANAGER})
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
        *engineer_commands(),
        Command("status", "cmd_status", EVERYONE, status.status_command,
                usage="status <ticket>", aliases=("stand",)),
        Command("my tickets", "cmd_my_tickets", CONTACTS, status.my_tickets,
                aliases=("meine tickets", "tickets")),
        Command("why", "cmd_why", STAFF, status.why_command, usage="why <ticket>",
                aliases=("warum",)),
        Command("onboarding", "cmd_onboarding", STAFF, onboarding_command,
                usage="onboarding <customer> [done <item> [note] | ask]"),
        Command("duties", "cmd_duties", STAFF, duties_command,
                usage="duties [customer] | duties take D<n>", aliases=("pflichten",)),
        Command("done", "cmd_done", STAFF, done_command, usage="done D<n> <summary>",
                aliases=("erledigt",)),
        # Nobody starts it: the duty watcher puts a customer's contact into it.
        Command(QUESTIONS, "cmd_onboarding_questions", frozenset(),
                dialog=OnboardingQuestions()),
        Command("report", "cmd_report_sla", MANAGERS, managers.report_command,
                usage="report [YYYY-MM] [customer]"),
        Command("breaches", "cmd_breaches", MANAGERS, managers.breaches_command,
                usage="breaches [this week|this month|YYYY-MM]"),
        Command("digest", "cmd_digest", MANAGERS, managers.digest_command,
                usage="digest on|off"),
        Command("maintenance", "cmd_maintenance", ENGINEERS, maintenance.maintenance_command,
                usage="maintenance [customer] [YYYY-MM-DD HH:MM duration title]",
                aliases=("wartung",)),
        Command(maintenance.CONTACT_COMMAND, "cmd_windows", CONTACTS,
                dialog=maintenance.MaintenanceAnswerDialog(),
                aliases=("wartungsfenster", "maintenance windows")),
        Command("effort", "cmd_effort", ENGINEERS,
                engineering.on_ticket(billing.effort, open_only=False),
                usage="effort <ticket> [45m note]", aliases=("aufwand",)),
        Command("billing", "cmd_billing", MANAGERS, billing.billing_command,
                usage="billing [YYYY-MM] [customer]", aliases=("abrechnung",)),
        Command(
            "language",
            "cmd_language",
            EVERYONE,
            language_command,
            usage="language de|en",
            aliases=("sprache",),
        ),
    ]  # fmt: skip


def engineer_commands() -> list[Command]:
    """What engineers do with tickets (see dialogs/engineering.py)."""
    e = engineering
    return [
        Command("ack", "cmd_ack", ENGINEERS, e.on_ticket(e.ack), usage="ack <ticket>",
                aliases=("acknowledge",)),
        Command("take", "cmd_take", ENGINEERS, e.on_ticket(e.take), usage="take <ticket>"),
        Command("assign", "cmd_assign", ENGINEERS, e.on_ticket(e.assign, needs_text="a name"),
                usage="assign <ticket> <person>"),
        Command("reply", "cmd_reply", ENGINEERS, e.on_ticket(e.reply, needs_text="the text"),
                usage="reply <ticket> <text>"),
        Command("ask-logs", "cmd_ask_logs", ENGINEERS, e.on_ticket(e.ask_logs),
                usage="ask-logs <ticket> [what]", aliases=("asklogs", "ask logs")),
        Command("note", "cmd_note", ENGINEERS,
                e.on_ticket(e.note, needs_text="the note", open_only=False),
                usage="note <ticket> <text>"),
        Command("vendor", "cmd_vendor", ENGINEERS, e.on_ticket(e.vendor),
                usage="vendor <ticket> cisco|microsoft|luware <case id>"),
        Command("resolve", "cmd_resolve", ENGINEERS, e.on_ticket(e.resolve, open_only=False),
                usage="resolve <ticket> <summary>"),
        Command("reopen", "cmd_reopen", ENGINEERS, e.on_ticket(e.reopen, open_only=False),
                usage="reopen <ticket>"),
        Command("show", "cmd_show", ENGINEERS, e.on_ticket(e.show, open_only=False),
                usage="show <ticket>"),
        Command("mine", "cmd_mine", ENGINEERS, e.mine),
        Command("queue", "cmd_queue", ENGINEERS, e.queue),
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
    relayed = await relay_to_open_ticket(turn, context, text)
    if relayed is not None:
        return relayed
    lowered = text.lower()
    if len(text.split()) >= 8 or any(word in lowered for word in _PROBLEM_WORDS):
        report = next(c for c in context.commands if c.name == REPORT_A_FAULT)
        return StartDialog(report, text, t("intake_looks_like_fault", turn.actor.language))
    return None
