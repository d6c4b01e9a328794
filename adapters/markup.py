"""Customer text in markdown (the Teams text messages and Webex's `markdown`): literal, quoted.

Both chat systems read CommonMark-like markdown and act on some of what a customer could type:
links (`[x](https://evil)`), emphasis, headings and list lines that look like the bot's own
facts, HTML, and mentions (Webex `<@all>`, `<@personEmail:…>`; Teams `<at>…</at>`). A span marked
by `adapters.model.customer_text` is therefore escaped: markdown punctuation gets a backslash,
`<`, `>` and `&` become entities (so no mention, tag or autolink starts), and it never starts a
line of its own. A span that stands on its own line(s) is shown as a blockquote; a span inside
a sentence stays on that line, its line breaks turned into spaces.
"""

from __future__ import annotations

import html
import re

from adapters.model import MAX_QUOTED_CHARS, has_customer_text, text_spans

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-!|~])")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-!|~])")


def escape_markdown(text: str) -> str:
    """`text` as literal markdown: shown exactly as typed, acting as nothing."""
    entities = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", entities)


def unescape_markdown(text: str) -> str:
    """The inverse of `escape_markdown` (for plain-text fallbacks)."""
    return html.unescape(_ESCAPED.sub(r"\1", text))


def render_markdown(text: str) -> str:
    """The bot's markdown with every customer-text span escaped and quoted."""
    if not has_customer_text(text):
        return text
    spans = text_spans(text)
    out: list[str] = []
    for index, (piece, quoted) in enumerate(spans):
        if not quoted:
            out.append(piece)
            continue
        starts_line = index == 0 or spans[index - 1][0].endswith("\n")
        ends_line = index == len(spans) - 1 or spans[index + 1][0].startswith("\n")
        shortened = _shorten(piece)
        out.append(_blockquote(shortened) if starts_line and ends_line else _inline(shortened))
    return "".join(out)


def _blockquote(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines()] or [""]
    return "\n".join(f"> {escape_markdown(line)}" if line else ">" for line in lines)


def _inline(text: str) -> str:
    return escape_markdown(" ".join(text.split()))


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_QUOTED_CHARS else text[: MAX_QUOTED_CHARS - 1] + "…"
