"""The router: from an `Incoming` to the right dialog or command, for a person the directory
knows. It is the one place that checks roles and the one place that loads and saves dialog
state; what people mean is read by `dialogs.understanding` and decided by
`dialogs.conversation`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from adapters.model import Incoming, Outgoing
from bot.identity import resolve_actor
from bot.metrics import Metrics
from bot.understanding import Understanding
from dialogs.base import Dialog, DialogStep
from dialogs.card_refresh import refreshed_card
from dialogs.catalog import build_understander
from dialogs.commands import Command, CommandContext
from dialogs.context import Actor, Turn, as_language, language_of_locale
from dialogs.conversation import Answer, Ask, ClarifyDialog, Conversation, Run, ask_step
from dialogs.i18n import gettext_for
from dialogs.logfiles import files_without_command
from dialogs.services import Services
from dialogs.understanding import CANCEL, NONE, Reading
from dialogs.understanding.normalize import fold, strip_greeting
from dialogs.welcome import welcome, welcome_message
from storage.directory import Directory, Role
from storage.errors import ChannelError, ConcurrencyConflict, StorageError
from storage.repositories import DialogKey, DialogState

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Two messages of one person processed at once (two replicas, a fast double click) conflict on
# the dialog state; the loser re-runs its step on the winner's state.
CONFLICT_RETRIES = 3
# Inside a dialog these still work; an answer to a question is never taken for them unless it
# is the command's own words (or, for help and a language switch, a short sure reading; for my
# tickets and whoami a short sure question, below).
GLOBAL_EXACT = frozenset({"help", "my tickets", "whoami", "language", "report a fault"})
GLOBAL_UNDERSTOOD = frozenset({"help", "language"})
GLOBAL_SURE = 0.9
GLOBAL_MAX_WORDS = 5
# "welche Tickets hab ich?", "who am I registered as": asked in plain words, and asked as a
# question or an order, since an answer may name the same things ("nur mein Account").
GLOBAL_ASKED = frozenset({"my tickets", "whoami"})
# "lass uns das abbrechen": a sentence that says stop, not a one-word answer ("no", "stops")
CANCEL_SURE = 0.98
ASKED_SURE = 0.98
ASKED_MAX_WORDS = 6
_ASKING = re.compile(
    r"^(?:welche[rsnm]?|was|wo|wie|wer|which|what|where|how|who|show|zeig\w*|list\w*|gib|give)\b"
)


class Router:
    """Resolves who is speaking, records them, understands them, and runs their dialog or
    command."""

    def __init__(
        self,
        *,
        directory: Directory,
        services: Services,
        commands: Sequence[Command],
        metrics: Metrics,
        understander: Understanding | None = None,
    ) -> None:
        self._directory = directory
        self._store = services.store
        self._clock = services.clock
        self._commands = list(commands)
        dialogs: dict[str, Dialog] = {
            c.dialog.name: c.dialog for c in self._commands if c.dialog is not None
        }
        dialogs[ClarifyDialog.name] = ClarifyDialog()
        self._context = CommandContext(
            directory=directory, commands=self._commands, dialogs=dialogs, services=services
        )
        self._conversation = Conversation(self._context)
        self._metrics = metrics
        self._lookup = _lookup_table(self._commands)
        self._understanding = understander or Understanding.now(
            build_understander(self._commands, directory)
        )

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        """The bot's answers to one incoming message (possibly none)."""
        actor = resolve_actor(self._directory, incoming)
        if incoming.joined:
            return await self._welcome(incoming, actor)
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

    async def read(self, turn: Turn) -> Reading:
        """What the bot makes of the turn's words, for this person."""
        understander = await self._understanding.get()
        may = [c.name for c in self._commands if c.allowed(turn.actor)]
        zone = self._conversation.zone(turn)
        return understander.read(
            turn.incoming.text, now=turn.now, zone=zone, may=may, role=turn.actor.role.value
        )

    async def _route(self, turn: Turn, key: DialogKey) -> list[Outgoing]:
        snapshot = await self._store.dialog_states.load(key)
        active = self._context.dialogs.get(snapshot.dialog or "")
        submitted = _submitted_command(turn.incoming)
        if active is not None and submitted is None:
            return await self._in_dialog(turn, key, snapshot, active)
        if submitted is not None:
            answers = await self._run_words(turn, key, snapshot, submitted)
            refreshed = await refreshed_card(turn, self._context)
            return [*answers, refreshed] if refreshed is not None else answers
        has_files = turn.incoming.files or turn.incoming.unreadable_files
        if has_files and turn.actor.role is Role.CONTACT:
            self._count(turn.incoming, "files")
            return await files_without_command(turn, self._context)
        _ = gettext_for(turn.actor.language)
        if not turn.incoming.text.strip():
            if turn.incoming.value and "action" in turn.incoming.value:
                # A button of a form whose dialog is over (already sent, cancelled, expired).
                self._count(turn.incoming, "stale-card")
                return [
                    turn.reply(
                        _(
                            "That form was already sent or has expired. Type **help** to start "
                            "again."
                        )
                    )
                ]
            return []
        reading = await self.read(turn)
        return await self._act(turn, key, snapshot, reading)

    async def _act(
        self, turn: Turn, key: DialogKey, snapshot: DialogState, reading: Reading
    ) -> list[Outgoing]:
        decision = await self._conversation.decide(turn, reading)
        self._count(turn.incoming, _outcome(decision, reading))
        match decision:
            case Answer(answers):
                return answers
            case Ask():
                step = ask_step(turn, decision)
                return await self._save(key, self._context.dialogs["clarify"], step, snapshot)
            case Run(command, args, note):
                answers = await self._run(turn, key, snapshot, command, args)
                return [turn.reply(note), *answers] if note else answers
        raise AssertionError(decision)  # pragma: no cover

    async def _run_words(
        self, turn: Turn, key: DialogKey, snapshot: DialogState, words: str
    ) -> list[Outgoing]:
        """A command line from a button: exactly what it says, for who may use it."""
        name, args = parse_command(words, self._lookup)
        command = self._lookup.get(name)
        _ = gettext_for(turn.actor.language)
        if command is None or not command.allowed(turn.actor):
            self._count(turn.incoming, "stale-card")
            return [
                turn.reply(
                    _("That form was already sent or has expired. Type **help** to start again.")
                )
            ]
        self._count(turn.incoming, command.name)
        return await self._run(turn, key, snapshot, command, args)

    async def _run(
        self, turn: Turn, key: DialogKey, snapshot: DialogState, command: Command, args: str
    ) -> list[Outgoing]:
        if command.dialog is not None:
            step = await command.dialog.start(turn, self._context, args)
            return await self._save(key, command.dialog, step, snapshot)
        return await command.handler(turn, self._context, args)

    async def _in_dialog(
        self, turn: Turn, key: DialogKey, snapshot: DialogState, dialog: Dialog
    ) -> list[Outgoing]:
        self._count(turn.incoming, dialog.name)
        if dialog.name == ClarifyDialog.name and (
            turn.incoming.files or turn.incoming.unreadable_files
        ):
            # files are never an answer to "did you mean": the question is dropped, they are kept
            await self._save(key, dialog, DialogStep(), snapshot)
            return await self._route(turn, key)
        if dialog.name != ClarifyDialog.name and turn.incoming.text.strip():
            reading = await self.read(turn)
            if _interrupts(reading):
                return await self._interrupt(turn, key, snapshot, dialog, reading)
        step = await self._resume(turn, snapshot, dialog)
        answers = await self._save(key, dialog, step, snapshot)
        if step.follow is None:
            return answers
        fresh = await self._store.dialog_states.load(key)
        if not step.follow.command:  # not an answer to the question: a new message
            return [*answers, *await self._act(turn, key, fresh, await self.read(turn))]
        return [*answers, *await self._run_words(
            turn, key, fresh, f"{step.follow.command} {step.follow.args}".strip()
        )]  # fmt: skip

    async def _resume(self, turn: Turn, snapshot: DialogState, dialog: Dialog) -> DialogStep:
        """The dialog's next step; a dialog that cannot go on (its state does not load, or a
        bug in its step) is ended with a note, so the next message is not stuck in it."""
        _ = gettext_for(turn.actor.language)
        try:
            return await dialog.resume(turn, self._context, snapshot.state)
        except (StorageError, ChannelError):
            raise  # the turn is retried as a whole; the dialog is fine
        except Exception:
            log.exception("dialog %s could not go on; ending it", dialog.name)
            self._count(turn.incoming, "dialog-failed")
            return DialogStep(
                [
                    turn.reply(
                        _(
                            "Sorry, I could not continue our conversation because of an error on "
                            "my side, so I have ended it (a ticket you already have is not "
                            "affected). Please start again – for example with **report a fault** "
                            "– or type **help** to see what I can do."
                        )
                    )
                ],
                None,
            )

    async def _interrupt(
        self, turn: Turn, key: DialogKey, snapshot: DialogState, dialog: Dialog, reading: Reading
    ) -> list[Outgoing]:
        """A global request inside a dialog: cancel ends it, a new report replaces it, the
        others are answered and the dialog waits on."""
        if reading.command == CANCEL:
            _ = gettext_for(turn.actor.language)
            note = _("Cancelled. Nothing was saved. Type **help** to see what I can do.")
            cancelled = DialogStep([turn.reply(note)], None)
            return await self._save(key, dialog, cancelled, snapshot)
        command = self._lookup[reading.command or ""]
        args = self._conversation.arguments(turn, reading)
        if command.dialog is not None:
            return await self._run(turn, key, snapshot, command, args)
        answers = await command.handler(turn, self._context, args)
        note_language = (
            as_language(reading.entities.language) if command.name == "language" else None
        )
        _ = gettext_for(note_language or turn.actor.language)
        note = _(
            "We're still in the middle of something; answer the last question, or type **cancel**."
        )
        return [*answers, turn.reply(note)]

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

    async def _welcome(self, incoming: Incoming, actor: Actor | None) -> list[Outgoing]:
        """The bot was added to a conversation: a welcome for whoever added it, queued once
        per conversation (through the outbox, which answers it)."""
        if actor is None:
            answer = self._not_registered(incoming)
        else:
            answer = welcome_message(actor, self._directory, incoming)
        if await welcome(self._context.services, incoming, answer):
            self._count(incoming, "welcome")
        return []

    def _not_registered(self, incoming: Incoming) -> Outgoing:
        language = language_of_locale(incoming.locale) or "en"
        _ = gettext_for(language)
        text = _(
            "Hello! I am the support bot of {provider}. I don't know you yet, so "
            "I can't help you here. Please ask your account manager at {provider} "
            "to register you."
        ).format(provider=self._directory.provider.name)
        return Outgoing(conversation=incoming.conversation, text=text, reply_to=incoming.event_id)

    def _count(self, incoming: Incoming, outcome: str) -> None:
        self._metrics.turns.labels(channel=incoming.channel.value, outcome=outcome).inc()


def _lookup_table(commands: Sequence[Command]) -> dict[str, Command]:
    table: dict[str, Command] = {}
    for command in commands:
        for word in (command.name, *command.aliases):
            table[word] = command
    return table


def _submitted_command(incoming: Incoming) -> str | None:
    """The command line a card's button carries, if any."""
    value = incoming.value or {}
    command = value.get("command")
    return command if isinstance(command, str) and command.strip() else None


def _interrupts(reading: Reading) -> bool:
    words = len(reading.text.split())
    if reading.command == CANCEL:
        # "cancel", "abbrechen", "lass uns das abbrechen"; a "no" is an answer to the question
        return reading.exact or (
            reading.confidence >= CANCEL_SURE and 2 <= words <= GLOBAL_MAX_WORDS
        )
    if reading.command in GLOBAL_ASKED and not reading.exact:
        asked = reading.text.rstrip().endswith("?") or _ASKING.match(
            strip_greeting(fold(reading.text))
        )
        return bool(asked) and reading.confidence >= ASKED_SURE and words <= ASKED_MAX_WORDS
    if reading.exact:  # the bare words: "Störung, Webex geht nicht" is an answer
        bare = not reading.rest or reading.command == "language"
        return bare and reading.command in GLOBAL_EXACT
    if reading.command == "language" and reading.entities.language is None:
        return False  # "Deutsch bitte" switches; "today 08:15" is an answer
    return (
        reading.command in GLOBAL_UNDERSTOOD
        and reading.confidence >= GLOBAL_SURE
        and len(reading.text.split()) <= GLOBAL_MAX_WORDS
    )


def _outcome(decision: Answer | Ask | Run, reading: Reading) -> str:
    match decision:
        case Run(command):
            return command.name
        case Ask():
            return "clarify" if reading.allowed and reading.command != NONE else "unknown"
    return reading.command or "unknown"


def parse_command(words: str, lookup: dict[str, Command]) -> tuple[str, str]:
    """(command name, the rest) of a command line. Multi-word aliases ("wer bin ich") win over
    shorter ones; case and spacing do not matter."""
    parts = words.strip().split()
    for length in range(len(parts), 0, -1):
        candidate = " ".join(parts[:length]).lower()
        if candidate in lookup:
            return lookup[candidate].name, " ".join(parts[length:])
    return (parts[0].lower(), " ".join(parts[1:])) if parts else ("", "")
