"""The router: from an `Incoming` to the right dialog or command, for a person the directory
knows. It is the one place that checks roles and the one place that loads and saves dialog state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime

from adapters.model import Incoming, Outgoing
from bot.identity import resolve_actor
from bot.metrics import Metrics
from dialogs.base import Dialog, DialogStep
from dialogs.catalog import StartDialog, fallback
from dialogs.commands import Command, CommandContext
from dialogs.context import Language, Turn, as_language
from dialogs.services import Services
from dialogs.texts import t
from storage.directory import Directory
from storage.errors import ConcurrencyConflict
from storage.repositories import DialogKey, DialogState

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Fallback = Callable[[Turn, CommandContext], Awaitable[list[Outgoing] | StartDialog | None]]
CANCEL_WORDS = frozenset({"cancel", "abbrechen", "stop", "abbruch"})
# Two messages of one person processed at once (two replicas, a fast double click) conflict on
# the dialog state; the loser re-runs its step on the winner's state.
CONFLICT_RETRIES = 3


class Router:
    """Resolves who is speaking, records them, and runs their dialog or command."""

    def __init__(
        self,
        *,
        directory: Directory,
        services: Services,
        commands: Sequence[Command],
        metrics: Metrics,
        fallback: Fallback = fallback,
    ) -> None:
        self._directory = directory
        self._store = services.store
        self._clock = services.clock
        self._commands = list(commands)
        self._fallback = fallback
        dialogs = {c.dialog.name: c.dialog for c in self._commands if c.dialog is not None}
        self._context = CommandContext(
            directory=directory, commands=self._commands, dialogs=dialogs, services=services
        )
        self._metrics = metrics
        self._lookup = _lookup_table(self._commands)

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        """The bot's answers to one incoming message (possibly none)."""
        actor = resolve_actor(self._directory, incoming)
        if actor is None:
            self._count(incoming, "unregistered")
            return [self._not_registered(incoming)]
        chosen = await self._store.contacts.touch(
            channel=incoming.channel.value,
            user_id=incoming.sender.user_id,
            role=actor.role.value,
            customer_key=actor.customer.key if actor.customer else None,
            name=actor.name,
            email=incoming.sender.email,
            aad_object_id=incoming.sender.aad_object_id,
            now=self._clock(),
        )
        if (language := as_language(chosen)) is not None:
            actor = replace(actor, language=language)
        turn = Turn(incoming=incoming, actor=actor, now=self._clock())
        key = DialogKey(
            channel=incoming.channel.value,
            conversation_id=incoming.conversation.conversation_id,
            user_id=incoming.sender.user_id,
        )
        for _ in range(CONFLICT_RETRIES - 1):
            try:
                return await self._route(turn, key)
            except ConcurrencyConflict:
                log.info("dialog state changed under us; re-running the step")
        return await self._route(turn, key)

    async def _route(self, turn: Turn, key: DialogKey) -> list[Outgoing]:
        snapshot = await self._store.dialog_states.load(key)
        active = self._context.dialogs.get(snapshot.dialog or "")
        if active is not None:
            return await self._continue_dialog(turn, key, snapshot, active)
        name, args = parse_command(turn.incoming, self._lookup)
        command = self._lookup.get(name) if name else None
        # A command the person may not use gets the same answer as one that does not exist.
        if command is None or not command.allowed(turn.actor):
            return await self._not_a_command(turn, key, snapshot, name)
        self._count(turn.incoming, command.name)
        if command.dialog is not None:
            step = await command.dialog.start(turn, self._context, args)
            return await self._save(key, command.dialog, step, snapshot)
        return await command.handler(turn, self._context, args)

    async def _not_a_command(
        self, turn: Turn, key: DialogKey, snapshot: DialogState, name: str
    ) -> list[Outgoing]:
        handled = await self._fallback(turn, self._context)
        if isinstance(handled, StartDialog) and handled.command.dialog is not None:
            self._count(turn.incoming, handled.command.name)
            step = await handled.command.dialog.start(turn, self._context, handled.args)
            answers = await self._save(key, handled.command.dialog, step, snapshot)
            return [turn.reply(handled.note), *answers]
        if isinstance(handled, list):
            self._count(turn.incoming, "fallback")
            return handled
        if turn.incoming.value and "action" in turn.incoming.value:
            # A button of a form whose dialog is over (already sent, cancelled, expired).
            self._count(turn.incoming, "stale-card")
            return [turn.reply(t("card_expired", turn.actor.language))]
        self._count(turn.incoming, "unknown")
        shown = (turn.incoming.text or name or "").strip()[:80]
        return [turn.reply(t("unknown_command", turn.actor.language, text=shown))]

    async def _continue_dialog(
        self, turn: Turn, key: DialogKey, snapshot: DialogState, dialog: Dialog
    ) -> list[Outgoing]:
        self._count(turn.incoming, dialog.name)
        if turn.incoming.text.strip().lower() in CANCEL_WORDS:
            cancelled = DialogStep([turn.reply(t("cancelled", turn.actor.language))], None)
            return await self._save(key, dialog, cancelled, snapshot)
        step = await dialog.resume(turn, self._context, snapshot.state)
        return await self._save(key, dialog, step, snapshot)

    async def _save(
        self, key: DialogKey, dialog: Dialog, step: DialogStep, snapshot: DialogState
    ) -> list[Outgoing]:
        """Persist the dialog's new state before anything is answered."""
        finished = step.state is None
        await self._store.dialog_states.save(
            key,
            dialog=None if finished else dialog.name,
            state=step.state or {},
            expected=snapshot.version,
            now=self._clock(),
        )
        return step.answers

    def _not_registered(self, incoming: Incoming) -> Outgoing:
        language: Language = "de" if (incoming.locale or "").lower().startswith("de") else "en"
        text = t("not_registered", language, provider=self._directory.provider.name)
        return Outgoing(conversation=incoming.conversation, text=text, reply_to=incoming.event_id)

    def _count(self, incoming: Incoming, outcome: str) -> None:
        self._metrics.turns.labels(channel=incoming.channel.value, outcome=outcome).inc()


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
