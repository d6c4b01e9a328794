"""Split long text under Webex's per-message limit, at the cleanest boundary available."""

from __future__ import annotations

MAX_MESSAGE_BYTES = 7439  # Webex's limit for `text` and `markdown`, in UTF-8 bytes
# Cleanest first: between paragraphs, between lines, between words.
_SEPARATORS = ("\n\n", "\n", " ")


def split_message(text: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """Parts of `text`, each at most `limit` UTF-8 bytes and never cut inside a character.

    A part ends at the last paragraph break that fits, else the last line break, else the last
    space; only a single unbroken run longer than the limit is cut mid-word.
    """
    if limit < 4:
        raise ValueError("the limit must hold at least one character (4 bytes)")
    parts: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > limit:
        window = _fitting_prefix(rest, limit)
        cut, skip = _cut(window)
        head = rest[:cut].rstrip()
        if head:
            parts.append(head)
        rest = rest[cut + skip :].lstrip("\n")
    if rest.strip() or not parts:
        parts.append(rest)
    return parts


def _fitting_prefix(text: str, limit: int) -> str:
    """The longest prefix of whole characters within `limit` bytes."""
    # Dropping an incomplete trailing sequence is all `ignore` can do to a valid string's prefix.
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _cut(window: str) -> tuple[int, int]:
    """Where to end the part inside `window`, and how many separator characters to drop."""
    for separator in _SEPARATORS:
        at = window.rfind(separator)
        if at > 0:
            return at, len(separator)
    return len(window), 0
