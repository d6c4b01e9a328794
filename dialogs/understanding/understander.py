"""From a person's words to a reading: exact command words first (they always keep working),
then the classifier over the masked text, limited to what this person may ask for, with the
entities the command takes."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from rapidfuzz import fuzz, process

from dialogs.understanding import when
from dialogs.understanding.classifier import Example, LinearClassifier, Ranked
from dialogs.understanding.corpus import Utterance, training
from dialogs.understanding.entities import (
    Entities,
    Frame,
    Vocabulary,
    bare_number,
    extract,
    masked,
)
from dialogs.understanding.normalize import (
    fold,
    fold_hard,
    is_pleasantry,
    strip_courtesy,
    strip_greeting,
)
from dialogs.understanding.phrasing import Phrasing
from dialogs.understanding.reading import CANCEL, MESSAGE, NONE, PSEUDO, SMALLTALK, Reading

log = logging.getLogger(__name__)

# A reading of a command the person may not use is named (role-aware refusal) only when the
# classifier is this sure of it and clearly prefers it to everything they may do.
REFUSE_AT = 0.6
REFUSE_MARGIN = 3.0
# Another role's command word is refused by name only when little else follows it.
EXACT_REFUSAL_MAX_REST = 2
# After the words of a command that takes no free text, this many words still read as its
# arguments ("status CCS-2026-000012 please"); more is a sentence to be understood.
FREE_WORDS_AFTER_A_COMMAND = 2
ARGUMENT_WORDS = 6
# Command words followed by words that are not their arguments ("show my tickets") yield to
# the reading of the whole sentence when the classifier is at least this sure of another.
EXACT_OVERRULED_AT = 0.8
READ_AT_MOST = 1000
REPAIRS_KEPT = 10_000
# A message that is nothing but a ticket's number means the first of these the person may use.
LOOK_AT_A_TICKET = ("show", "status")
_A_TICKET = frozenset({"_ticket_", "_num_"})
# Below what the conversation needs to override a question an engineer asked the contact.
BARE_NUMBER_IS_A_TICKET = 0.6
# Keyboard mashes are no language: fewer than half of their letter triples ever occur in what
# people write to the bot, while a word never seen before ("Wartungsübersicht", "dankeee") is
# made of familiar ones.
FAMILIAR_AT_LEAST = 0.5
CANCEL_WORDS = frozenset({
    "cancel", "abbrechen", "abbruch", "stop", "stopp", "halt", "vergiss es", "forget it",
    "never mind", "nevermind", "lass gut sein", "egal", "quit", "exit", "abort",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Intent:
    """What the understander knows of one command: its words and phrasing."""

    name: str
    words: tuple[str, ...]
    phrasing: Phrasing


class Understander:
    """Built once per app (training takes a fraction of a second); thread-safe to read."""

    def __init__(
        self,
        intents: Sequence[Intent],
        vocabulary: Vocabulary,
        corpus: Iterable[Utterance] = (),
        pseudo: dict[str, Phrasing] | None = None,
        cache: Path | None = None,
    ) -> None:
        """`cache`: a directory where the trained model is kept for the next start (training
        takes seconds, loading a fraction of one)."""
        # The corpus' names are read as names too: the classifier learnt "assign _ticket_ to
        # _person_", so "Lukas" must become _person_ whether or not the directory knows him
        # (if not, the command says so).
        self.vocabulary = vocabulary.with_names_of(TRAINING_NAMES)
        self.intents = {intent.name: intent for intent in intents}
        self.pseudo = pseudo or {}
        # Any command is refused by name when it is clearly what the person asked for ("I want
        # to report a fault" from a manager). One with a twin for this person rarely is: the
        # twin shares its likelihood (an engineer's "my tickets" is their "mine").
        self.refusable = frozenset(self.intents)
        self.twins = {intent.name: intent.phrasing.twins for intent in intents}
        self._exact = _exact_table(intents)
        self._symbols = {w: i.name for i in intents for w in i.words if not fold(w)}
        known = set(self.intents) | set(self.pseudo)
        examples = [(u.text, u.intent, u.role) for u in training(list(corpus)) if u.intent in known]
        for intent in intents:
            examples += [(text, intent.name, "") for text in intent.phrasing.examples]
        for name, phrasing in self.pseudo.items():
            examples += [(text, name, "") for text in phrasing.examples]
        self.classifier = _trained(tuple(examples), cache)
        self._known = frozenset(self.classifier.known_words())
        self._words = sorted(self._known)
        self._repairs: dict[str, str] = {}
        # dateparser loads its German and English data on first use (tens of ms): here, while
        # the app trains in a worker thread, not in the first message with a time in it
        when.parse_moment("gestern 9:00", now=_REFERENCE, zone=ZoneInfo("UTC"), prefer="past")

    def _twin(self, name: str, allowed: set[str] | None) -> str | None:
        return next((t for t in self.twins.get(name, ()) if allowed and t in allowed), None)

    def _for(self, ranked: list[Ranked], allowed: set[str]) -> list[Ranked]:
        """The readings this person may have meant: a command that is not theirs counts for its
        twin that is (a contact's "show me 12" is their `status`, an engineer's "my tickets"
        their `mine`)."""
        mine: dict[str, float] = {}
        for reading in ranked:
            name = reading.intent
            if name not in allowed:
                name = next((t for t in self.twins.get(name, ()) if t in allowed), "")
            if name:
                mine[name] = max(mine.get(name, 0.0), reading.probability)
        return sorted((Ranked(n, p) for n, p in mine.items()), key=lambda r: -r.probability)

    def _repaired(self, text: str) -> str:
        """Unknown words replaced by the closest known one ("breachd" → "breached")."""
        return " ".join(self._repair(word) for word in text.split())

    def _repair(self, word: str) -> str:
        if len(word) < 4 or word in self._known or word.startswith("_"):
            return word
        if (repaired := self._repairs.get(word)) is None:
            hit = process.extractOne(word, self._words, scorer=fuzz.ratio, score_cutoff=84)
            repaired = hit[0] if hit is not None else word
            if len(self._repairs) < REPAIRS_KEPT:  # people misspell the same words again
                self._repairs[word] = repaired
        return repaired

    def read(
        self,
        text: str,
        *,
        now: datetime,
        zone: ZoneInfo,
        may: Iterable[str] | None = None,
        role: str = "",
    ) -> Reading:
        """What `text` asks for; `may` lists the commands this person may use (None: all),
        `role` is theirs (contact, engineer, manager; "" when unknown)."""
        # "message" (a word for one of my tickets) is a contact's command like any other
        allowed = None if may is None else set(may) | (PSEUDO - {MESSAGE})
        whole = text
        # A 28 KB paste is understood by its beginning, in bounded time; what the person wrote
        # (a reply, a note, a summary) is kept whole and as typed, line breaks and all.
        text = text[:READ_AT_MOST]
        folded = strip_greeting(fold(text))
        entities = extract(folded, Frame(now, zone, self.vocabulary))
        exact = self._exact_command(whole, text, folded, allowed)
        if exact is not None and self._fits(*exact, entities):
            name, rest = exact
            mine = allowed is None or name in allowed
            short = len(rest.split()) <= EXACT_REFUSAL_MAX_REST
            if not mine and short and (twin := self._twin(name, allowed)):
                name, mine = twin, True  # an engineer's "my tickets" is their "mine"
            if mine or short:
                # "report a fault" from an engineer is refused by name; a sentence that merely
                # begins with another role's command word ("done with the tests…") is read
                reading = Reading(whole, name, 1.0, entities, exact=True, rest=rest, allowed=mine)
                if self._names_nothing(name, rest, entities):
                    reading = self._unless_clearly_another(reading, text, folded, allowed, role)
                return self._with_number(reading, folded)
        reading = self._classified(text, folded, entities, allowed, role)
        reading.text = whole
        return self._with_number(reading, folded)

    def _look_at_a_ticket(self, allowed: set[str] | None) -> str | None:
        """What a ticket's number alone asks this person for: its card for an engineer, its
        status for everyone else."""
        return next((c for c in LOOK_AT_A_TICKET if allowed is None or c in allowed), None)

    def _names_nothing(self, name: str, rest: str, entities: Entities) -> bool:
        """Words after a command word that are not its arguments: "show my tickets" is no
        ticket to show."""
        intent = self.intents.get(name)
        if not rest or intent is None or "text" in intent.phrasing.takes:
            return False
        return not entities.spans and _NUMBER.search(rest) is None

    def _unless_clearly_another(
        self, exact: Reading, text: str, folded: str, allowed: set[str] | None, role: str
    ) -> Reading:
        classified = self._classified(text, folded, exact.entities, allowed, role)
        classified.text = exact.text
        if classified.command in self.intents and classified.confidence >= EXACT_OVERRULED_AT:
            return classified if classified.command != exact.command else exact
        return exact

    def _fits(self, name: str, rest: str, entities: Entities) -> bool:
        """Command words count as the command only when what follows could be its arguments:
        "status 12" is `status`, "Stand heute geht gar nichts mehr, Telefonie komplett
        ausgefallen" is a fault report that begins with a command word."""
        words = len(rest.split())
        intent = self.intents.get(name)
        if name == CANCEL or words <= FREE_WORDS_AFTER_A_COMMAND or intent is None:
            return True
        takes = intent.phrasing.takes
        if "text" in takes or intent.phrasing.shape is not None:
            return True  # a note, a summary, the words for the customer
        named = entities.ticket is not None or entities.customer is not None
        return bool(takes) and named and words <= ARGUMENT_WORDS

    def _with_number(self, reading: Reading, folded: str) -> Reading:
        """A bare number is a ticket only for a command that takes one."""
        e = reading.entities
        intent = self.intents.get(reading.command or "")
        reading.takes = intent.phrasing.takes if intent is not None else ()
        if e.ticket is None and self._takes(reading.command, "ticket"):
            found = bare_number(folded, e.spans, times=self._takes(reading.command, "moment"))
            if found is not None:
                e.ticket = found[0]
        return reading

    def _takes(self, command: str | None, slot: str) -> bool:
        intent = self.intents.get(command or "")
        return intent is not None and slot in intent.phrasing.takes

    def _exact_command(
        self, whole: str, text: str, folded: str, allowed: set[str] | None
    ) -> tuple[str, str] | None:
        """The command its first words name and the rest of `whole` after them, as typed (line
        breaks kept); `text` is the beginning of `whole` that is read."""
        core = strip_courtesy(folded)
        if core in CANCEL_WORDS:
            return CANCEL, ""
        if (symbol := self._symbols.get(text.strip())) is not None:
            return symbol, ""  # "?" is help
        words = list(_WORD.finditer(text))
        # the person's words after a greeting ("Hallo, status 12"), verbatim
        skipped = len(folded.split()) - len(strip_greeting(folded).split())
        for offset in dict.fromkeys((0, max(skipped, 0))):
            candidate = words[offset:]
            for length in range(min(len(candidate), 4), 0, -1):
                key = fold(" ".join(word[0] for word in candidate[:length])).strip(" ,.:;!?")
                name = self._exact.get(key) if key else None
                if name is not None:
                    rest = whole[candidate[length - 1].end() :].strip()
                    if not self._takes(name, "text"):
                        # "status 12 please" asks for 12; a reply's "Thanks!" is the person's own
                        rest = _strip_trailing_courtesy(rest)
                    return name, rest
        return None

    def _classified(
        self, text: str, folded: str, entities: Entities, allowed: set[str] | None, role: str
    ) -> Reading:
        seen = features(folded, entities)
        if not seen or is_pleasantry(seen):  # "hallo", "danke!", "ok, super"
            return Reading(text, SMALLTALK, 1.0, entities)
        if self.classifier.familiarity(seen) < FAMILIAR_AT_LEAST:
            return Reading(text, NONE, 1.0, entities)  # "hgfds", "mnbvcxy": no guess at all
        if set(seen.split()) <= _A_TICKET and (look := self._look_at_a_ticket(allowed)):
            # "#12", "CCS-2026-000012?"; a bare "12" may as well answer "how many users?"
            sure = 1.0 if "_ticket_" in seen else BARE_NUMBER_IS_A_TICKET
            return Reading(text, look, sure, entities)
        everything = self.classifier.rank(self._repaired(seen), role)
        permitted = everything if allowed is None else self._for(everything, allowed)
        total = sum(r.probability for r in permitted) or 1.0
        mine = [Ranked(r.intent, r.probability / total) for r in permitted]
        best = mine[0] if mine else Ranked(NONE, 1.0)
        alternatives = [(r.intent, r.probability) for r in mine[1:4] if r.intent != NONE]
        top = everything[0]
        if (
            allowed is not None
            and top.intent in self.refusable
            and top.intent not in allowed
            and top.probability >= REFUSE_AT
            and top.probability >= REFUSE_MARGIN * max(r.probability for r in permitted)
        ):
            return Reading(text, top.intent, top.probability, entities, alternatives, allowed=False)
        return Reading(text, best.intent, best.probability, entities, alternatives)


# Training examples are read as of a fixed day, so that "yesterday" masks the same every run.
_REFERENCE = datetime.fromisoformat("2026-06-15T12:00:00+00:00")
_NUMBER = re.compile(r"(?<![\w_])\d+(?:[.,:]\d+)*(?![\w_])")


# The names the corpus uses for customers and colleagues: training masks these, whatever the
# directory of a deployment holds, so one trained model serves every deployment.
TRAINING_NAMES = Vocabulary(
    customers={
        name: name
        for name in (
            "demo", "demo customer gmbh", "demo customer", "contoso", "fabrikam", "muster ag",
            "muster", "stadtwerke graz", "stadtwerke",
        )
    },
    staff={name: name for name in ("megan", "megan bowen", "adele", "adele vance", "lukas",
                                    "sabine", "max", "anna")},
    ticket_prefix="ccs",
)  # fmt: skip


def features(folded: str, entities: Entities) -> str:
    """The text the classifier sees: entities as placeholders, greetings and please/thanks
    gone, umlauts folded hard ("Hallo, ack CCS-2026-000012 bitte" → "ack _ticket_")."""
    spans = list(entities.spans)
    spans += [(m.start(), m.end(), "num") for m in _NUMBER.finditer(folded)]
    return strip_courtesy(fold_hard(masked(folded, spans)))


# The model of this process (one: every app of it reads with the same), by its examples.
_MODELS: dict[tuple[tuple[str, str, str], ...], LinearClassifier] = {}
_TRAINING = threading.Lock()  # apps built side by side wait for one training, not train twice


def _trained(
    examples: tuple[tuple[str, str, str], ...], cache: Path | None = None
) -> LinearClassifier:
    """The classifier for these examples. A pure function of them (and of this package's
    code), so every app of a process (the test suite builds hundreds) shares one training
    run, and a start finds it in `cache` when an earlier one trained the same."""
    with _TRAINING:
        if (model := _MODELS.get(examples)) is None:
            model = _kept_or_trained(examples, cache)
            _MODELS.clear()
            _MODELS[examples] = model
        return model


def forget_trained() -> None:
    """Train again at the next build (the benchmark measures training)."""
    with _TRAINING:
        _MODELS.clear()


def _kept_or_trained(
    examples: tuple[tuple[str, str, str], ...], cache: Path | None
) -> LinearClassifier:
    kept = None if cache is None else cache / f"understanding-{_fingerprint(examples)}.npz"
    if kept is not None and kept.exists():
        try:
            return LinearClassifier.load(kept)
        except (OSError, ValueError, KeyError) as error:
            log.warning("the kept understanding in %s is unreadable (%s): training", kept, error)
    frame = Frame(_REFERENCE, ZoneInfo("Europe/Vienna"), TRAINING_NAMES, read_times=False)
    classifier = LinearClassifier.train(
        Example(features(fold(text), extract(fold(text), frame)), intent, who)
        for text, intent, who in examples
    )
    if kept is not None:
        _keep(classifier, kept)
    return classifier


def _keep(classifier: LinearClassifier, kept: Path) -> None:
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        classifier.save(kept)
        for older in kept.parent.glob("understanding-*.npz"):
            if older != kept:
                older.unlink(missing_ok=True)  # trained from older code or corpus
    except OSError as error:  # a read-only disk costs the next start seconds, no more
        log.warning("could not keep the trained understanding in %s: %s", kept.parent, error)


def _fingerprint(examples: tuple[tuple[str, str, str], ...]) -> str:
    """What the trained model depends on: the examples, the code that turns them into
    features and trains on them (every module of this package), and NumPy's version."""
    digest = hashlib.sha256(json.dumps(examples, ensure_ascii=False).encode())
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    digest.update(np.__version__.encode())
    return digest.hexdigest()[:24]


_WORD = re.compile(r"\S+")
_COURTESY_END = re.compile(r"[\s,]*\b(?:bitte|please|pls|plz|danke|thanks|thx)\b[\s!.]*$", re.I)


def _strip_trailing_courtesy(rest: str) -> str:
    return _COURTESY_END.sub("", rest).strip()


def _exact_table(intents: Sequence[Intent]) -> dict[str, str]:
    table: dict[str, str] = {}
    for intent in intents:
        for word in intent.words:
            if key := fold(word):  # "?" folds to nothing: it is matched as typed, below
                table.setdefault(key, intent.name)
    return table
