"""The words after a command that choose what it does (`duties take D3`, `wartung absagen W4`),
declared as one table per command next to its handler.

Each sub-command has one English name (what the handler matches and what buttons send) and
the German words a German speaker writes for it; the first German word is the one German help
and usage hints show. Every word works for everyone, whatever their language, in any case and
with umlauts written as `ü` or `ue`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dialogs.understanding.normalize import fold


@dataclass(frozen=True, slots=True)
class SubCommand:
    """One sub-command: `name` in English, `german` its German words (the first is shown),
    `also` further words that mean it but are never shown (`ok` for confirm)."""

    name: str
    german: tuple[str, ...]
    also: tuple[str, ...] = ()

    def words(self) -> tuple[str, ...]:
        """Every word that means this sub-command."""
        return (self.name, *self.german, *self.also)


@dataclass(frozen=True, slots=True)
class SubCommands:
    """The sub-commands of one command."""

    entries: tuple[SubCommand, ...]
    _index: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {fold(word): entry.name for entry in self.entries for word in entry.words()}
        object.__setattr__(self, "_index", index)

    @classmethod
    def of(cls, *entries: SubCommand) -> SubCommands:
        """The table of these sub-commands."""
        return cls(entries)

    def name(self, word: str) -> str | None:
        """The English name `word` means (`absagen` → `cancel`), None when it is none."""
        return self._index.get(fold(word))

    def split(self, args: str) -> tuple[str | None, str]:
        """(sub-command, the rest) when `args` begin with one; else (None, `args`)."""
        first, _space, rest = args.strip().partition(" ")
        name = self.name(first) if first else None
        return (name, rest.strip()) if name is not None else (None, args.strip())

    def around(
        self, words: list[str], names_a_thing: Callable[[str], object]
    ) -> tuple[str | None, list[str]]:
        """(sub-command, the other words in order) when `words` begin with a sub-command
        (`absagen W4 Kunde krank`) or with the thing it acts on followed by one (`W4 absagen
        Kunde krank`, as German puts the verb last); else (None, `words`)."""
        if words and (name := self.name(words[0])) is not None:
            return name, words[1:]
        if len(words) >= 2 and names_a_thing(words[0]) and (name := self.name(words[1])):
            return name, [words[0], *words[2:]]
        return None, words

    def find(self, words: list[str]) -> int:
        """The index of the first word that is a sub-command (`len(words)` when none): what
        comes before it names something (`onboarding demo erledigt c` → 1)."""
        return next((i for i, word in enumerate(words) if self.name(word)), len(words))
