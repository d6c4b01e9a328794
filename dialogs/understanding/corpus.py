"""The labelled utterances that ship with the bot (`corpus/*.tsv`), and their fixed split into
a training part and a held-out part that the classifier never sees."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).parent / "corpus"
# One line in five is held out, chosen by a hash of its text: stable across runs and machines,
# and independent of the order or the file a line is in.
HELD_OUT_BUCKETS = 5


@dataclass(frozen=True, slots=True)
class Utterance:
    """One labelled line: what someone wrote, in which language, meaning which intent."""

    language: str
    intent: str
    text: str
    role: str = ""  # whose words these are, from the file's name (contacts.tsv: contact)

    @property
    def held_out(self) -> bool:
        return zlib.crc32(self.text.encode()) % HELD_OUT_BUCKETS == 0


_ROLES = {"contacts": "contact", "engineers": "engineer", "managers": "manager"}


class CorpusError(ValueError):
    """A corpus line that cannot be read (named with its file and line number)."""


def load(directory: Path = CORPUS_DIR) -> list[Utterance]:
    """Every utterance of every `*.tsv` file in `directory`, in a stable order. A text written
    twice is an error: the held-out part would otherwise be partly seen in training (a
    duplicate is held out exactly when its twin is, but two labels for one text are noise)."""
    found: dict[str, str] = {}
    utterances = []
    for path in sorted(directory.glob("*.tsv")):
        for number, utterance in _read(path):
            key = f"{utterance.role}\t{utterance.text.casefold()}"
            if key in found:
                raise CorpusError(f"{path.name}:{number}: written before, in {found[key]}")
            found[key] = f"{path.name}:{number}"
            utterances.append(utterance)
    return utterances


def _read(path: Path) -> Iterator[tuple[int, Utterance]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or fields[0] not in ("de", "en") or not fields[2].strip():
            raise CorpusError(f"{path.name}:{number}: expected lang<TAB>intent<TAB>text")
        role = _ROLES.get(path.stem.split("-")[0], "")
        yield number, Utterance(fields[0], fields[1].strip(), fields[2].strip(), role)


def training(utterances: list[Utterance]) -> list[Utterance]:
    return [u for u in utterances if not u.held_out]


def held_out(utterances: list[Utterance]) -> list[Utterance]:
    return [u for u in utterances if u.held_out]
