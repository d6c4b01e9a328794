"""Chat commands, declared as data: name, aliases, who may use them, and the handler.

The router parses a message into a command name and arguments and checks the role here, in one
place, before any handler runs; a handler never sees a person who may not use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from adapters.model import Card, Fact, Outgoing, SubmitAction
from dialogs.base import Dialog
from dialogs.context import Actor, Turn
from dialogs.services import Services
from dialogs.texts import t
from dialogs.understanding import Phrasing
from storage.directory import Directory, Role

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
    summary_key: str
    roles: frozenset[Role]
    handler: Handler = _starts_a_dialog
    aliases: tuple[str, ...] = ()
    usage: str = ""
    dialog: Dialog | None = None
    phrasing: Phrasing = field(default_factory=Phrasing)
    # False for commands only buttons send (not shown in help)
    listed: bool = True

    def allowed(self, actor: Actor) -> bool:
        """True when `actor` holds one of the command's roles."""
        return any(actor.may(role) for role in self.roles)


EVERYONE = frozenset({Role.CONTACT, Role.ENGINEER, Role.MANAGER})


def role_label(actor: Actor) -> str:
    """The actor's roles in their language, e.g. "engineer, manager"."""
    roles = actor.staff.roles if actor.staff is not None else (actor.role,)
    return ", ".join(t(f"role_{role.value}", actor.language) for role in roles)


async def help_command(turn: Turn, context: CommandContext, _args: str) -> list[Outgoing]:
    """The help card: only what the asker's role may do, each with a button where useful."""
    actor = turn.actor
    allowed = [c for c in context.commands if c.allowed(actor) and c.listed]
    customer = (
        t("help_customer_suffix", actor.language, customer=actor.customer.name)
        if actor.customer
        else ""
    )
    intro = t(
        "help_intro", actor.language, name=actor.name, role=role_label(actor), customer=customer
    )
    facts = tuple(
        Fact(label=c.usage or c.name, value=t(c.summary_key, actor.language)) for c in allowed
    )
    card = Card(
        title=t("help_title", actor.language),
        paragraphs=(intro,),
        facts=facts,
        actions=tuple(
            SubmitAction(title=c.name, data={"command": c.name}) for c in allowed if not c.usage
        ),
    )
    lines = [f"**{t('help_title', actor.language)}**", intro, ""]
    lines += [f"- `{fact.label}`: {fact.value}" for fact in facts]
    return [turn.reply("\n".join(lines), card=card)]


async def whoami_command(turn: Turn, context: CommandContext, _args: str) -> list[Outgoing]:
    """Show the directory's view of the asker: name, role, customer, contract, channel."""
    actor, lang = turn.actor, turn.actor.language
    facts = [
        Fact(t("fact_name", lang), actor.name),
        Fact(t("fact_role", lang), role_label(actor)),
        Fact(t("fact_channel", lang), turn.incoming.channel.value),
    ]
    if actor.customer is not None:
        contract = context.directory.contracts[actor.customer.contract]
        reaction = actor.customer.overrides.reaction or contract.reaction
        service_time = actor.customer.overrides.service_time or contract.service_time
        facts += [
            Fact(t("fact_customer", lang), actor.customer.name),
            Fact(t("fact_contract", lang), f"{contract.name} {contract.version}".strip()),
            Fact(t("fact_reaction", lang), reaction),
            Fact(t("fact_service_time", lang), service_time),
        ]
    card = Card(title=t("whoami_title", lang), facts=tuple(facts))
    text = "\n".join([f"**{card.title}**", *(f"- {f.label}: {f.value}" for f in facts)])
    return [turn.reply(text, card=card)]


def foundation_commands() -> list[Command]:
    """The commands every deployment has."""
    return [
        Command(
            "help",
            "cmd_help",
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
            "whoami",
            "cmd_whoami",
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
