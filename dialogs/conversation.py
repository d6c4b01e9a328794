"""What the bot does with a reading of someone's words: act when sure, ask once when two
readings are close, offer what this person can do when it has no idea, refuse by role when the
request is not theirs — and, for customer contacts, route free text to the right ticket:

- a message is added to a ticket only when it is about that ticket: it names it, it answers a
  question an engineer asked there, or the contact has exactly one open ticket and the message
  reads as information for it (not a new fault, a command, small talk or a language switch);
- several open tickets and no reference: the contact is asked which (buttons);
- "still not working" about a ticket resolved in the last days offers to reopen it;
- a new fault starts the report, pre-filled from the message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from adapters.model import Card, Outgoing, SubmitAction, customer_text
from dialogs.base import DialogStep, FollowUp
from dialogs.context import Language, Turn, service_zone
from dialogs.customer_tickets import recently_resolved
from dialogs.i18n import N_, gettext_for
from dialogs.references import Resolved, resolve
from dialogs.understanding import CANCEL, MESSAGE, NONE, SMALLTALK, Reading
from dialogs.understanding.normalize import fold
from dialogs.understanding.when import compact, duration_in
from storage.directory import Role
from storage.models import TicketRow, TicketStatus

if TYPE_CHECKING:
    from dialogs.commands import Command, CommandContext

# A contact asked by an engineer is answering unless their words are surely something else.
ANSWER_UNLESS_SURE = 0.8
# The bot acts on a reading at least this likely, when the next one is at least GAP behind.
ACT_AT = 0.5
GAP = 0.2
# Below this the bot has no idea; between the two it asks which of the close readings.
NO_IDEA_BELOW = 0.25
# With an open ticket, words read as news for it or as a new fault ask which when the other
# reading is at least this likely: a new fault added to an old ticket gets no alert and no
# SLA clock of its own, so one question is cheap by comparison.
FAULT_OR_NEWS_ASK_AT = 0.05
REPORT_A_FAULT = "report a fault"
REOPEN = "reopen"
ADD_LOGS = "add logs"
RESOLVE = "resolve"
# What each role is offered when the bot has no better idea.
DEFAULT_OFFERS: dict[Role, tuple[str, ...]] = {
    Role.CONTACT: (REPORT_A_FAULT, "my tickets", "help"),
    Role.ENGINEER: ("queue", "mine", "help"),
    Role.MANAGER: ("status", "report", "help"),
}
# Commands others notice (the customer, the SLA clock, a colleague): done on plain words only
# when the words are an order, not a question or a "don't".
SIDE_EFFECTS = frozenset({
    "ack", "take", "assign", "reply", "ask-logs", "vendor", "resolve", "reopen", "effort",
    "maintenance", "done", "digest",
})  # fmt: skip
SURE_ENOUGH_TO_ACT = 0.9
_NEGATION = re.compile(
    r"\b(?:don'?t|do not|not yet|nicht|noch nicht|kein|keine|never|nie|no need)\b", re.I
)
_QUESTION = re.compile(
    r"\?\s*$|^\W*(?:did|does|do|has|have|should|shall|is|are|can|could|would|who|why|whether|"
    r"hat|hast|habt|ist|sind|soll|sollen|sollten|kann|koennen|können|wer|was|warum|wieso|ob)\b",
    re.I,
)
# A contact's readings that only make sense about one of their tickets: routing decides them.
_ROUTED = frozenset({MESSAGE, REOPEN})
# Events after which the customer's next words are most likely the answer.
_QUESTIONS = frozenset({"engineer_reply", "paused"})
_TALK = _QUESTIONS | {"customer_message"}
#: Who may do what a person asked for and may not: "That is something {who} do".
_WHO: Final = {
    frozenset({Role.MANAGER}): N_("managers"),
    frozenset({Role.ENGINEER}): N_("our engineers"),
    frozenset({Role.CONTACT}): N_("customer contacts"),
}
_WHO_STAFF: Final = N_("our staff")
_THANKS = ("danke", "thank", "thx", "merci", "ty", "vergelt")
_HELLO = ("hallo", "hello", "hi", "servus", "moin", "gruez", "gruss", "guten", "good", "hey")


@dataclass(frozen=True, slots=True)
class Run:
    """Run `command` with `args` (a dialog's start or a handler), saying `note` first."""

    command: Command
    args: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """Answer this and nothing else."""

    answers: list[Outgoing]


@dataclass(frozen=True, slots=True)
class Option:
    """One thing the person may have meant: a command line the bot runs when chosen."""

    label: str
    command: str
    args: str = ""


@dataclass(frozen=True, slots=True)
class Ask:
    """Ask which option the person meant (kept as a small dialog, so a typed "2" works)."""

    prompt: str
    options: Sequence[Option] = field(default_factory=tuple)


Decision = Run | Answer | Ask


class Conversation:
    """Turns readings into decisions for one app (see the module docstring)."""

    def __init__(self, context: CommandContext) -> None:
        self._context = context
        self._commands = {c.name: c for c in context.commands}

    async def decide(self, turn: Turn, reading: Reading) -> Decision:
        """What to do with `reading` of `turn`'s text."""
        lang = turn.actor.language
        sure = reading.exact or reading.confidence >= ACT_AT
        # "nothing to cancel" or a pleasantry only for words that are clearly that: "Restarted
        # it, calls still drop" (cancel 0.5, news 0.3) is for the ticket
        clear = sure and (reading.exact or reading.confidence - _second(reading) >= GAP)
        if not turn.actor.is_staff and not reading.exact:
            clear = clear and reading.confidence >= ANSWER_UNLESS_SURE  # else: routed below
        _ = gettext_for(lang)
        if reading.command == CANCEL and clear:
            return Answer([turn.reply(_("There is nothing to cancel right now."))])
        if reading.command == SMALLTALK and clear:
            return self._smalltalk(turn, reading)
        resolved = await self._resolve(turn, reading)
        if not reading.allowed:
            ticket = resolved.ticket
            if not turn.actor.is_staff and ticket and ticket.status != TicketStatus.RESOLVED:
                # a contact's "resolve 12" is news for the engineers of their ticket 12
                return self._run(MESSAGE, f"{ticket.number} {reading.text}")
            return self._refusal(turn, reading)
        if resolved.ambiguous:
            return self._which_of(turn, reading, resolved.candidates)
        named_nothing = reading.entities.ticket is not None and resolved.ticket is None
        if named_nothing and sure and self._needs(reading, "ticket"):
            return Answer([self._not_found(turn, reading)])
        if not turn.actor.is_staff and not reading.exact:
            routed = await self._route_contact(turn, reading, resolved.ticket)
            if routed is not None:
                return routed
        return self._by_confidence(turn, reading)

    # ------------------------------------------------------------------ commands

    def _by_confidence(self, turn: Turn, reading: Reading) -> Decision:
        command = self._commands.get(reading.command or "")
        if command is not None and not reading.exact and command.name in _ROUTED:
            command = None  # a contact's words about a ticket that routing found none for
        second = _second(reading)
        if command is not None and (
            reading.exact or (reading.confidence >= ACT_AT and reading.confidence - second >= GAP)
        ):
            if command.name == REPORT_A_FAULT and not reading.exact:
                return self._fault(turn, reading.text)
            if not reading.exact and command.name in SIDE_EFFECTS and _doubtful(reading):
                return self._confirm(turn, reading, command)
            return Run(command, self.arguments(turn, reading))
        _ = gettext_for(turn.actor.language)
        if command is not None and reading.confidence >= NO_IDEA_BELOW:
            close = [(reading.command or "", reading.confidence), *reading.alternatives]
            options = [
                self._option(turn, reading, name)
                for name, p in close
                if p >= NO_IDEA_BELOW / 2 and name in self._commands and name not in _ROUTED
            ]
            if len(options) > 1:
                return Ask(_("Did you mean:"), options[:3])
            return Run(command, self.arguments(turn, reading))
        return self._no_idea(turn, reading)

    def arguments(
        self, turn: Turn, reading: Reading, *, without: frozenset[str] = frozenset()
    ) -> str:
        """The arguments the command's handler takes, from the reading (leaving out the slots
        named in `without`)."""
        command = self._commands.get(reading.command or "")
        if command is None:
            return ""
        if reading.exact:
            return _exact_arguments(reading)
        if command.name == REPORT_A_FAULT:
            return reading.text
        if command.name == MESSAGE:
            return f"{reading.number or ''} {reading.text}".strip()
        zone = self.zone(turn)
        if command.phrasing.shape is not None:
            return command.phrasing.shape(reading, zone)
        slots = (s for s in command.phrasing.takes if s not in without)
        return " ".join(v for s in slots if (v := reading.slot(s, zone)))

    def _confirm(self, turn: Turn, reading: Reading, command: Command) -> Ask:
        """ "should we close 14?" is a question, not an order: one button to do it."""
        # A doubtful resolve keeps its ticket but not its words: in "don't resolve 1 yet,
        # waiting for the carrier" they are no resolution, and resolve asks for one when the
        # button is pressed. Other commands keep their words, and the button shows them.
        without = frozenset({"text"}) if command.name == RESOLVE else frozenset()
        arguments = self.arguments(turn, reading, without=without)
        label = self._label(turn, command)
        # the button says what it will do: "Give a ticket to another engineer: CCS-… Adele Vance"
        if arguments:
            label = f"{label}: {_short(arguments, 60)}"
        _ = gettext_for(turn.actor.language)
        prompt = _("I'm not sure you want me to do this now. Shall I?")
        return Ask(prompt, [Option(label, command.name, arguments)])

    def _option(self, turn: Turn, reading: Reading, name: str) -> Option:
        command = self._commands[name]
        shaped = Reading(
            reading.text, name, reading.confidence, reading.entities, number=reading.number
        )
        return Option(self._label(turn, command), name, self.arguments(turn, shaped))

    def _label(self, turn: Turn, command: Command) -> str:
        """A button's words: the command's summary up to its colon ("Report a fault")."""
        lang = turn.actor.language
        _ = gettext_for(lang)
        if command.name == "help":  # "show this overview" names no overview here
            return _("What I can do")
        summary = _(command.summary).split(":")[0]
        if summary.count("(") > summary.count(")"):  # "where a ticket stands (managers: …)"
            summary = summary.split(" (")[0]
        return summary[:1].upper() + summary[1:]

    def _needs(self, reading: Reading, slot: str) -> bool:
        command = self._commands.get(reading.command or "")
        takes_it = command is not None and slot in command.phrasing.takes
        return takes_it or reading.exact

    # ------------------------------------------------------------------ tickets

    async def _resolve(self, turn: Turn, reading: Reading) -> Resolved:
        ref = reading.entities.ticket
        if ref is None:
            return Resolved()
        found = await resolve(turn, self._context, ref, self.zone(turn))
        if found.ticket is not None:
            reading.number = found.ticket.number
        return found

    def _which_of(self, turn: Turn, reading: Reading, tickets: Sequence[TicketRow]) -> Ask:
        name = reading.command or MESSAGE
        if name not in self._commands or name in (NONE, SMALLTALK):
            name = MESSAGE if not turn.actor.is_staff else "show"
        options = []
        _ = gettext_for(turn.actor.language)
        for ticket in tickets[:4]:
            chosen = Reading(
                reading.text, name, reading.confidence, reading.entities, number=ticket.number
            )
            label = f"{ticket.number}: {_short(ticket.description)}"
            options.append(Option(label, name, self.arguments(turn, chosen)))
        return Ask(_("You have several open tickets. Which one is this about?"), options)

    def _not_found(self, turn: Turn, reading: Reading) -> Outgoing:
        ref = reading.entities.ticket
        shown = ref.value if ref is not None and ref.value else reading.text[:40]
        _ = gettext_for(turn.actor.language)
        if turn.actor.is_staff:
            return turn.reply(_("I can't find a ticket “{ref}”.").format(ref=shown))
        text = _("I can't find a ticket “{ref}” among yours. `my tickets` lists them.")
        return turn.reply(text.format(ref=shown))

    # ------------------------------------------------------------------ contacts

    async def _route_contact(
        self, turn: Turn, reading: Reading, named: TicketRow | None
    ) -> Decision | None:
        name, text = reading.command, reading.text
        if name == REOPEN:
            return await self._still_broken(turn, reading, named)
        unsure = reading.confidence < ANSWER_UNLESS_SURE
        if name in (CANCEL, SMALLTALK):
            name = NONE  # an unsure "cancel" or pleasantry: words like any others
        if name not in (MESSAGE, REPORT_A_FAULT, NONE, ADD_LOGS) and not unsure:
            return None
        if named is not None:
            if named.status == TicketStatus.RESOLVED:
                return await self._still_broken(turn, reading, named)
            if name == REPORT_A_FAULT:  # "new fault, like ticket 2 …", "floor #2 is dead"
                return self._add_or_new(turn, text, [named], first="new")
            return self._run(MESSAGE, f"{named.number} {text}")
        if reading.entities.ticket is not None and name in (MESSAGE, NONE):
            return Answer([self._not_found(turn, reading)])  # never to another ticket
        store = self._context.services.store.tickets
        open_tickets = await store.open_for_reporter(
            channel=turn.incoming.channel.value, user_id=turn.actor.user_id
        )
        waiting = await self._asked_customer(open_tickets)
        if len(waiting) == 1 and (name in (MESSAGE, NONE, ADD_LOGS) or unsure):
            # the answer to what an engineer asked ("sent them via Help > Send logs")
            return self._run(MESSAGE, f"{waiting[0].number} {text}")
        match name:
            case "message":
                return self._information(turn, reading, open_tickets)
            case "report a fault":
                return self._new_fault(turn, reading, open_tickets)
            case "none" if len(text.split()) >= 4 and len(open_tickets) == 1:
                # no idea what it is, but a sentence: about the ticket, or something new?
                return self._add_or_new(turn, text, open_tickets, first="add")
        return None

    def _information(
        self, turn: Turn, reading: Reading, open_tickets: Sequence[TicketRow]
    ) -> Decision | None:
        """Words for a ticket: the one open ticket, or which of several."""
        lang, text = turn.actor.language, reading.text
        fault_odds = dict(reading.alternatives).get(REPORT_A_FAULT, 0.0)
        if open_tickets and fault_odds >= FAULT_OR_NEWS_ASK_AT:  # news for it, or a new fault?
            return self._add_or_new(turn, text, open_tickets, first="add")
        if len(open_tickets) == 1:
            return self._run(MESSAGE, f"{open_tickets[0].number} {text}")
        if open_tickets:
            return self._which_open(turn, text, open_tickets)
        if reading.confidence < ACT_AT:
            return None  # unsure, and no ticket it could be for: say what I can do
        _ = gettext_for(lang)
        return Ask(_("You have no open ticket I could add this to. Is it a new fault?"), [
            Option(_("Report a new fault"), REPORT_A_FAULT, text),
            Option(self._label(turn, self._commands["my tickets"]), "my tickets"),
        ])  # fmt: skip

    def _new_fault(
        self, turn: Turn, reading: Reading, open_tickets: Sequence[TicketRow]
    ) -> Decision:
        """A new fault, unless it could as well be news for an open ticket: then ask."""
        message_odds = dict(reading.alternatives).get(MESSAGE, 0.0)
        if open_tickets and message_odds >= FAULT_OR_NEWS_ASK_AT:
            return self._add_or_new(turn, reading.text, open_tickets, first="new")
        return self._fault(turn, reading.text)

    def _add_or_new(
        self, turn: Turn, text: str, open_tickets: Sequence[TicketRow], *, first: str
    ) -> Ask:
        lang = turn.actor.language
        _ = gettext_for(lang)
        new = Option(_("Report a new fault"), REPORT_A_FAULT, text)
        adds = [
            Option(
                _("Add this to {number}").format(number=row.number), MESSAGE, f"{row.number} {text}"
            )
            for row in open_tickets[:3]
        ]
        return Ask(_("Did you mean:"), [new, *adds] if first == "new" else [*adds, new])

    async def _still_broken(
        self, turn: Turn, reading: Reading, named: TicketRow | None
    ) -> Decision:
        """A fault that is back: reopen a recently resolved ticket (asked first), add to an
        open one, or report it anew."""
        lang, text = turn.actor.language, reading.text
        target = named
        if target is None:
            recent = await recently_resolved(turn, self._context)
            target = recent[0] if recent else None
        if target is None:
            return self._fault(turn, text)
        if target.status != TicketStatus.RESOLVED:
            return self._run(MESSAGE, f"{target.number} {text}")
        _ = gettext_for(lang)
        return Ask(_("{number} was resolved recently. Is the fault back? I can reopen it; "
"the engineers are told at once.").format(number=target.number), [
            Option(_("Reopen {number}").format(number=target.number), REOPEN, target.number),
            Option(_("Report a new fault"), REPORT_A_FAULT, text),
        ])  # fmt: skip

    def _which_open(self, turn: Turn, text: str, tickets: Sequence[TicketRow]) -> Ask:
        lang = turn.actor.language
        _ = gettext_for(lang)
        options = [
            Option(
                _("{number}: {summary}").format(number=row.number, summary=_short(row.description)),
                MESSAGE,
                f"{row.number} {text}",
            )
            for row in tickets[:4]
        ]
        options.append(Option(_("Report a new fault"), REPORT_A_FAULT, text))
        return Ask(_("You have several open tickets. Which one is this about?"), options)

    async def _asked_customer(self, tickets: Sequence[TicketRow]) -> list[TicketRow]:
        """The tickets that wait for the customer, or whose newest talk is an engineer's
        message to them (the customer's next words are most likely the answer)."""
        ids = [row.id for row in tickets if row.id is not None]
        logs = await self._context.services.store.tickets.events_of(ids) if ids else {}

        def asked(row: TicketRow) -> bool:
            if row.status == TicketStatus.WAITING_FOR_CUSTOMER:
                return True
            talk = [e.kind for e in logs.get(row.id or 0, []) if e.kind in _TALK]
            return bool(talk) and talk[-1] in _QUESTIONS

        return [row for row in tickets if asked(row)]

    def _fault(self, turn: Turn, text: str) -> Run:
        """A new fault in the contact's own words: the report starts, pre-filled."""
        _ = gettext_for(turn.actor.language)
        note = _("That sounds like a fault – let's report it. (Type **cancel** to stop.)")
        return Run(self._commands[REPORT_A_FAULT], text, note)

    def _run(self, name: str, args: str) -> Run:
        return Run(self._commands[name], args)

    # ------------------------------------------------------------------ no command

    def _smalltalk(self, turn: Turn, reading: Reading) -> Decision:
        folded, actor = fold(turn.incoming.text), turn.actor
        first = actor.name.split()[0] if actor.name else ""
        _ = gettext_for(actor.language)
        if any(word in folded for word in _THANKS):
            return Answer([turn.reply(_("You're welcome, {name}!").format(name=first))])
        if any(folded.startswith(word) for word in _HELLO):  # what this person can do, as buttons
            hello = _("Hello {name}! What can I do for you?").format(name=first)
            return Ask(hello, self._offers(turn, reading))
        other = _("Glad to hear, {name}. Anything else I can do for you?").format(name=first)
        return Answer([turn.reply(other)])

    def _refusal(self, turn: Turn, reading: Reading) -> Ask:
        command = self._commands.get(reading.command or "")
        roles = command.roles if command is not None else frozenset()
        who = _WHO.get(frozenset(roles), _WHO_STAFF)
        lang = turn.actor.language
        _ = gettext_for(lang)
        prompt = _(
            "That is something {who} do, so I can't do it for you. Here is what I can do for you:"
        ).format(who=_(who))
        return Ask(prompt, self._offers(turn, reading))

    def _no_idea(self, turn: Turn, reading: Reading) -> Ask:
        shown = " ".join(turn.incoming.text.split())[:80]
        _ = gettext_for(turn.actor.language)
        return Ask(
            _("I'm not sure what you mean by “{text}”. Is it one of these?").format(text=shown),
            self._offers(turn, reading),
        )

    def _offers(self, turn: Turn, reading: Reading) -> list[Option]:
        """The closest 2–3 commands this person may use, else their role's usual ones."""
        names = [n for n, p in reading.alternatives if n in self._commands and p >= 0.1]
        if reading.allowed and reading.command in self._commands:
            names.insert(0, reading.command or "")
        names += DEFAULT_OFFERS.get(turn.actor.role, ("help",))
        chosen: list[Option] = []
        for name in dict.fromkeys(names):
            command = self._commands.get(name)
            if command is None or not command.allowed(turn.actor) or not command.listed:
                continue
            if name in _ROUTED and not turn.actor.is_staff:
                continue
            # a report offered for words the bot could not place starts with those words
            words = reading.text if name == REPORT_A_FAULT and not reading.exact else ""
            chosen.append(Option(self._label(turn, command), name, words))
            if len(chosen) == 3:
                break
        return chosen

    def zone(self, turn: Turn) -> ZoneInfo:
        """The time zone the person means when they say "9 Uhr"."""
        return service_zone(turn.actor, self._context.directory)


def _doubtful(reading: Reading) -> bool:
    """A question, a negation, or a reading not sure enough for something others notice."""
    text = reading.text
    return (
        reading.confidence < SURE_ENOUGH_TO_ACT
        or bool(_NEGATION.search(text))
        or bool(_QUESTION.search(text))
    )


def _exact_arguments(reading: Reading) -> str:
    """After exact command words: the rest as typed, with a short ticket reference ("12",
    "#12", "the last one") replaced by the ticket's full number and a duration as people
    write it ("1,5h", "90 min") as the command takes it ("1h30m")."""
    rest = reading.rest
    if "duration" in reading.takes and (found := duration_in(rest.lower())) is not None:
        start, end = found[1]
        rest = f"{rest[:start]}{compact(found[0])}{rest[end:]}"
        reading = replace(reading, rest=rest)
    if reading.number is None or reading.number.lower() in rest.lower():
        return rest
    return f"{reading.number} {reading.without_ticket_words()}".strip()


def _short(text: str, limit: int = 40) -> str:
    line = " ".join(text.split())
    return customer_text(line if len(line) <= limit else f"{line[: limit - 1]}…")


def ask_step(turn: Turn, ask: Ask) -> DialogStep:
    """The question as a card with one button per option (and a numbered text fallback),
    and the state the clarify dialog keeps to read the answer."""
    lang: Language = turn.actor.language
    asked = turn.incoming.event_id  # the buttons of this question, not of an older one
    lines = [ask.prompt, ""]
    lines += [f"{i}. {option.label}" for i, option in enumerate(ask.options, start=1)]
    _ = gettext_for(lang)
    lines += ["", _("Press a button or reply with its number.")] if ask.options else []
    card = Card(
        title="",
        paragraphs=(ask.prompt,),
        actions=tuple(
            SubmitAction(option.label, {"action": "choose", "choice": str(i), "asked": asked})
            for i, option in enumerate(ask.options)
        ),
    )
    state: dict[str, Any] = {
        "options": [{"label": o.label, "command": o.command, "args": o.args} for o in ask.options],
        "asked": asked,
    }
    return DialogStep(
        [turn.reply("\n".join(lines).strip(), card=card)], state if ask.options else None
    )


class ClarifyDialog:
    """Waits for the answer to a clarifying question: a button, a number, or an option's
    words. Anything else is read as a new message."""

    name = "clarify"

    async def start(self, turn: Turn, context: CommandContext, args: str) -> DialogStep:
        raise AssertionError("the router asks with ask_step()")  # pragma: no cover

    async def resume(
        self, turn: Turn, context: CommandContext, state: dict[str, Any]
    ) -> DialogStep:
        options = [o for o in state.get("options", []) if isinstance(o, dict)]
        value = turn.incoming.value or {}
        _ = gettext_for(turn.actor.language)
        if value.get("action") == "choose" and value.get("asked") != state.get("asked"):
            # a button of an earlier question: it no longer applies; this one still waits
            return DialogStep(
                [
                    turn.reply(
                        _(
                            "That form was already sent or has expired. Type **help** to start "
                            "again."
                        )
                    )
                ],
                state,
            )
        choice = _choice(turn, options)
        if choice is None:
            return DialogStep([], None, follow=FollowUp("", turn.incoming.text))
        option = options[choice]
        return DialogStep([], None, follow=FollowUp(str(option["command"]), str(option["args"])))


def _choice(turn: Turn, options: list[dict[str, Any]]) -> int | None:
    value = turn.incoming.value or {}
    raw = str(value.get("choice", "")) if value.get("action") == "choose" else ""
    typed = fold(turn.incoming.text).strip(" .)")
    raw = raw or typed
    if raw.isdigit():
        index = int(raw) - (0 if value.get("action") == "choose" else 1)
        return index if 0 <= index < len(options) else None
    labels = [fold(str(o.get("label", ""))) for o in options]
    return labels.index(typed) if typed and typed in labels else None


def _second(reading: Reading) -> float:
    """How likely the next reading is."""
    return reading.alternatives[0][1] if reading.alternatives else 0.0
