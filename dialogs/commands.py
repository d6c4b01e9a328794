"""Chat commands, declared as data: name, aliases, who may use them, and the handler.

The router parses a message into a command name and arguments and checks the role here, in one
place, before any handler runs; a handler never sees a person who may not use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from adapters.model import Card, Fact, Outgoing, SubmitAction
from dialogs.base import Dialog
from dialogs.context import Actor, Language, Turn
from dialogs.formats import duration
from dialogs.i18n import N_, gettext_for
from dialogs.services import Services
from dialogs.subcommands import SubCommands
from dialogs.understanding import Phrasing
from storage.directory import Directory, Role, parse_duration

Handler = Callable[[Turn, "CommandContext", str], Awaitable[list[Outgoing]]]


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What every command may consult: the directory and the full command table."""

    directory: Directory
    commands: Sequence[Command]
    dialogs: Mapping[str, Dialog]
    services: Services


async def _starts_a_dialog(_turn: Turn, _context: CommandContext, _args: str) -> list[Outgoing]:
    raise AssertionError("the router starts the command's dialog instead")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Command:
    """One chat command; `roles` lists who may run it. A command either answers at once
    (`handler`) or starts a multi-turn `dialog`."""

    name: str
    #: What it does, in English (`N_`), translated where shown.
    summary: str
    roles: frozenset[Role]
    handler: Handler = _starts_a_dialog
    aliases: tuple[str, ...] = ()
    #: How it is typed, in English (`N_`), e.g. `add logs <ticket>`; translated where shown.
    usage: str = ""
    dialog: Dialog | None = None
    phrasing: Phrasing = field(default_factory=Phrasing)
    #: The words after the command that choose what it does (`duties take`), in both languages.
    subcommands: SubCommands = field(default_factory=SubCommands.of)
    # False for commands only buttons send (not shown in help)
    listed: bool = True

    def allowed(self, actor: Actor) -> bool:
        """True when `actor` holds one of the command's roles."""
        return any(actor.may(role) for role in self.roles)


EVERYONE = frozenset({Role.CONTACT, Role.ENGINEER, Role.MANAGER})


_ROLES: Final = {
    Role.CONTACT: N_("customer contact"),
    Role.ENGINEER: N_("engineer"),
    Role.MANAGER: N_("manager"),
}
#: How a usage line names the ticket it takes; replaced by the number when one is known.
TICKET_PLACEHOLDER: Final = N_("<ticket>")


def role_label(actor: Actor) -> str:
    """The actor's roles in their language, e.g. "engineer, manager"."""
    roles = actor.staff.roles if actor.staff is not None else (actor.role,)
    _ = gettext_for(actor.language)
    return ", ".join(_(_ROLES[role]) for role in roles)


def command_words(command: Command, language: Language, ticket: str | None = None) -> str:
    """How a person of `language` types `command`: its usage (or its name) in their words,
    e.g. `logs hinzufügen ‹Ticket›`, with `ticket` filled in when known. Placeholders are shown
    in ‹single guillemets›: `<…>` would be read as an HTML tag by the chat clients."""
    _ = gettext_for(language)
    words = _(command.usage or command.name)
    if ticket:
        words = words.replace(_(TICKET_PLACEHOLDER), ticket)
    return words.replace("<", "‹").replace(">", "›")


async def _known_ticket(turn: Turn, context: CommandContext) -> str | None:
    """The contact's open ticket, when there is exactly one: the ticket their commands mean."""
    if turn.actor.role is not Role.CONTACT:
        return None
    tickets = await context.services.store.tickets.open_for_reporter(
        channel=turn.incoming.channel.value, user_id=turn.actor.user_id
    )
    return tickets[0].number if len(tickets) == 1 else None


async def help_command(turn: Turn, context: CommandContext, _args: str) -> list[Outgoing]:
    """The help card: only what the asker's role may do, each with a button where useful."""
    actor = turn.actor
    _ = gettext_for(actor.language)
    allowed = [c for c in context.commands if c.allowed(actor) and c.listed]
    customer = _(" for {customer}").format(customer=actor.customer.name) if actor.customer else ""
    intro = _(
        "Hello {name}, you are signed in as **{role}**{customer}. Type a command or press a button."
    ).format(name=actor.name, role=role_label(actor), customer=customer)
    ticket = await _known_ticket(turn, context)
    facts = tuple(
        Fact(label=command_words(c, actor.language, ticket), value=_(c.summary)) for c in allowed
    )
    card = Card(
        title=_("What I can do for you"),
        paragraphs=(intro,),
        facts=facts,
        actions=tuple(
            SubmitAction(title=_(c.name), data={"command": c.name}) for c in allowed if not c.usage
        ),
    )
    lines = [f"**{card.title}**", intro, ""]
    lines += [f"- `{fact.label}`: {fact.value}" for fact in facts]
    return [turn.reply("\n".join(lines), card=card)]


CHANNEL_NAMES: Final[Mapping[str, str]] = {"teams": "Microsoft Teams", "webex": "Webex"}


async def whoami_command(turn: Turn, context: CommandContext, _args: str) -> list[Outgoing]:
    """Show the directory's view of the asker: name, role, customer, contract, channel."""
    actor = turn.actor
    _ = gettext_for(actor.language)
    facts = [
        Fact(_("Name"), actor.name),
        Fact(_("Role"), role_label(actor)),
        Fact(_("Channel"), CHANNEL_NAMES.get(turn.incoming.channel.value, "")),
    ]
    if actor.customer is not None:
        directory = context.directory
        contract = directory.contracts[actor.customer.contract]
        reaction = actor.customer.overrides.reaction or contract.reaction
        service_time = actor.customer.overrides.service_time or contract.service_time
        facts += [
            Fact(_("Customer"), actor.customer.name),
            Fact(_("Contract"), f"{contract.name} {contract.version}".strip()),
            # as people say them, not the directory's keys ("4h", "SNAZ")
            Fact(_("Reaction time"), duration(parse_duration(reaction), actor.language)),
            Fact(_("Service time"), directory.service_times[service_time].name or service_time),
        ]
    card = Card(title=_("Who you are to me"), facts=tuple(facts))
    text = "\n".join([f"**{card.title}**", *(f"- {f.label}: {f.value}" for f in facts)])
    return [turn.reply(text, card=card)]


def foundation_commands() -> list[Command]:
    """The commands every deployment has."""
    return [
        Command(
            N_("help"),
            N_("show this overview"),
            EVERYONE,
            help_command,
            aliases=("hilfe", "?", "start"),
            phrasing=Phrasing(
                (
                    "what can you do",
                    "how does this work",
                    "I need help",
                    "was kannst du",
                    "wie funktioniert das hier",
                    "welche Befehle gibt es",
                    "show me the commands",
                )
            ),
        ),
        Command(
            N_("whoami"),
            N_("show who I think you are, your role and your contract"),
            EVERYONE,
            whoami_command,
            aliases=("wer bin ich", "who am i"),
            phrasing=Phrasing(
                (
                    "who am I to you",
                    "which customer am I registered for",
                    "what is my role",
                    "für welche Firma bin ich eingetragen",
                    "welcher Vertrag gilt für uns",
                    "kennst du mich",
                )
            ),
        ),
    ]
