"""Text that every encoder can write: what the bot sends must never hold half a surrogate pair.

Python strings may hold unpaired UTF-16 surrogates (JSON's `"\\ud800"` decodes to one); UTF-8
cannot encode them, so a message carrying one fails in the HTTP client on every retry.
"""

from __future__ import annotations

from typing import Any


def is_well_formed(text: str) -> bool:
    """True unless `text` holds an unpaired UTF-16 surrogate (no UTF encoding can write it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def well_formed(text: str) -> str:
    """`text` with every unpaired surrogate replaced by U+FFFD, so it can be sent anywhere."""
    if is_well_formed(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def well_formed_json(value: Any) -> Any:
    """A JSON-like value (card, payload) with `well_formed` applied to every string in it."""
    if isinstance(value, str):
        return well_formed(value)
    if isinstance(value, dict):
        return {well_formed(str(key)): well_formed_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [well_formed_json(item) for item in value]
    return value
