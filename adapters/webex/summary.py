"""The editable top of a Webex thread: a card's title and its state facts as markdown.

Webex edits a message's text but never its card (nor a message that carries one), and at
most ten times. So a post whose card says where something stands (facts marked `state`) starts
its thread with this short text, which is edited on every change, and the card follows in the
thread. Each change adds one line to the thread: what changed, from what to what.
"""

from __future__ import annotations

from adapters.markup import render_markdown
from adapters.model import Card
from adapters.text import well_formed

_SEPARATOR = ": "


def has_state(card: Card | None) -> bool:
    """True for a card that is kept current (it has facts marked `state`)."""
    return card is not None and any(fact.state for fact in card.facts)


def summary_markdown(card: Card) -> str:
    """`**title**` and one `label: value` line per state fact, as Webex markdown."""
    lines = [f"**{card.title}**"]
    lines += [f"{fact.label}{_SEPARATOR}{fact.value}" for fact in card.facts if fact.state]
    return well_formed(render_markdown("\n".join(lines)))


def change_line(before: str, after: str) -> str:
    """What differs between two summaries, as one line: `Status: New → In progress · Owner:
    – → Megan` (a label new in `after` shows its value only); empty when nothing did."""
    old = dict(_labelled(line) for line in _state_lines(before))
    changes = []
    for line in _state_lines(after):
        label, value = _labelled(line)
        if old.get(label) == value:
            continue
        previous = old.get(label)
        changes.append(f"{label}: {previous} → {value}" if previous else line)
    return " · ".join(changes)


def _state_lines(summary: str) -> list[str]:
    """The fact lines of a summary (the title line and blank lines left out)."""
    lines = [line.strip() for line in summary.splitlines()]
    return [line for line in lines[1:] if line]


def _labelled(line: str) -> tuple[str, str]:
    label, _separator, value = line.partition(_SEPARATOR)
    return label, value
