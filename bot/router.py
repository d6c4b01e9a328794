"""The router: from an `Incoming` to the right command, for a person the directory knows."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from adapters.model import Incoming, Outgoing
from bot.identity import resolve_actor
from bot.metrics import Metrics
from dialogs.commands import Command, CommandContext
from dialogs.context import Actor, Language, Turn
from dialogs.texts import t
from storage.directory import Directory
from storage.repositories import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class Router:
    """Resolves who is speaking, records them, and runs the command they asked for."""

    def __init__(
        self,
        *,
        directory: Directory,
        store: Store,
        clock: Clock,
        commands: Sequence[Command],
        metrics: Metrics,
    ) -> None:
        self._directory = directory
        self._store = store
        self._clock = clock
        self._commands = list(commands)
        self._context = CommandContext(directory=directory, commands=self._commands)
        self._metrics = metrics
        self._lookup = _lookup_table(self._commands)

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        """The bot's answers to one incoming message (possibly none)."""
        actor = resolve_actor(self._directory, incoming)
        if actor is None:
            self._metrics.turns.labels(channel=incoming.channel.value, outcome="unknown").inc()
            return [self._not_registered(incoming)]
        await self._remember(incoming, actor)
        turn = Turn(incoming=incoming, actor=actor, now=self._clock())
        name, args = parse_command(incoming, self._lookup)
        command = self._lookup.get(name) if name else None
        # A command the person may not use gets the same answer as one that does not exist.
        if command is None or not command.allowed(actor):
            self._metrics.turns.labels(channel=incoming.channel.value, outcome="unknown").inc()
            shown = (incoming.text or name or "").strip()[:80]
            return [turn.reply(t("unknown_command", actor.language, text=shown))]
        self._metrics.turns.labels(channel=incoming.channel.value, outcome=command.name).inc()
        return await command.handler(turn, self._context, args)

    def _not_registered(self, incoming: Incoming) -> Outgoing:
        language: Language = "de" if (incoming.locale or "").lower().startswith("de") else "en"
        text = t("not_registered", language, provider=self._directory.provider.name)
        return Outgoing(conversation=incoming.conversation, text=text, reply_to=incoming.event_id)

    async def _remember(self, incoming: Incoming, actor: Actor) -> None:
        sender = incoming.sender
        await self._store.contacts.touch(
            channel=incoming.channel.value,
            user_id=sender.user_id,
            role=actor.role.value,
            customer_key=actor.customer.key if actor.customer else None,
            name=actor.name,
            email=sender.email,
            aad_object_id=sender.aad_object_id,
            now=self._clock(),
        )


def _lookup_table(commands: Sequence[Command]) -> dict[str, Command]:
    table: dict[str, Command] = {}
    for command in commands:
        for word in (command.name, *command.aliases):
            table[word] = command
    return table


def parse_command(incoming: Incoming, lookup: dict[str, Command]) -> tuple[str, str]:
    """(command name, the rest) from a card submit's `command` or the message's words.

    Multi-word aliases ("wer bin ich") win over shorter ones; case and spacing do not matter.
    """
    if incoming.value and isinstance(incoming.value.get("command"), str):
        raw = str(incoming.value["command"])
    else:
        raw = incoming.text
    words = raw.strip().split()
    for length in range(len(words), 0, -1):
        candidate = " ".join(words[:length]).lower()
        if candidate in lookup:
            return lookup[candidate].name, " ".join(words[length:])
    return (words[0].lower(), " ".join(words[1:])) if words else ("", "")
