"""Customers named by people: by key or name, typos forgiven (the understanding's matcher)."""

from __future__ import annotations

from dialogs.understanding.entities import Vocabulary, name_in
from dialogs.understanding.normalize import fold
from storage.directory import Customer, Directory

# How close a misspelt name must be (rapidfuzz ratio), as in the understanding step.
CUSTOMER_CUTOFF = 86


def customer_named(directory: Directory, text: str) -> Customer | None:
    """The customer `text` names by key or name ("demo", "Contoso", "Contosso"), or None."""
    names = Vocabulary.of(directory).customers
    hit = name_in(fold(text), names, [], CUSTOMER_CUTOFF)
    return directory.customer(hit[0]) if hit is not None else None
