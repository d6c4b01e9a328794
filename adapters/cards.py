"""Render the neutral `Card` as an Adaptive Card.

One renderer for both channels: Teams shows up to schema 1.5, Webex up to 1.3, and the neutral
card only uses elements both versions have, so the version is just the declared schema.
"""

from __future__ import annotations

from typing import Any

from adapters.model import (
    MAX_QUOTED_CHARS,
    Action,
    Card,
    ChoiceInput,
    Input,
    OpenUrlAction,
    ShowCardAction,
    SubmitAction,
    TextInput,
    has_customer_text,
    text_spans,
    without_marks,
)

ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def render_adaptive_card(card: Card, *, version: str) -> dict[str, Any]:
    """The Adaptive Card JSON for `card`, declared as `version` (e.g. "1.5" or "1.3").

    Customer text (`adapters.model.customer_text`) is never put where markdown is read
    (TextBlock, FactSet): it goes into `TextRun`s, which both channels show literally, and
    paragraphs and facts made of it are shown together in a box of their own, apart from the
    bot's lines, under `card.quote_label`.
    """
    body: list[dict[str, Any]] = []
    if card.title:  # a question card (e.g. "Did you mean…") speaks in its first paragraph
        body.append(_text(card.title, weight="Bolder", size="Medium"))
    own = [text for text in card.paragraphs if not _only_customer_text(text)]
    body += [_text(text) for text in own]
    if card.image_url:
        body.append({"type": "Image", "url": card.image_url, "altText": card.image_alt})
    own_facts = [fact for fact in card.facts if not has_customer_text(fact.value)]
    if own_facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": fact.label, "value": fact.value} for fact in own_facts],
            }
        )
    quoted = _customer_box(card)
    if quoted is not None:
        body.append(quoted)
    body += [_text(text) for text in card.footer]
    body += [_render_input(field) for field in card.inputs]
    rendered: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "version": version,
        "body": body,
    }
    if card.actions:
        rendered["actions"] = [_render_action(action, version) for action in card.actions]
    return rendered


def _only_customer_text(text: str) -> bool:
    spans = text_spans(text)
    return bool(spans) and all(quoted for _piece, quoted in spans)


def _text(text: str, **style: str) -> dict[str, Any]:
    """A TextBlock for the bot's own markdown; a RichTextBlock when customer text is inside."""
    if not has_customer_text(text):
        return {"type": "TextBlock", "text": text, "wrap": True, **style}
    return _rich([_run(piece, quoted, **style) for piece, quoted in text_spans(text)])


def _run(piece: str, quoted: bool, **style: str) -> dict[str, Any]:
    """A TextRun: literal text, never markdown. The bot's `**` around a word are dropped."""
    text = _shorten(piece) if quoted else piece.replace("**", "")
    run: dict[str, Any] = {"type": "TextRun", "text": text}
    if quoted:
        run["italic"] = True
    return run | style


def _rich(inlines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": inlines}


def _customer_box(card: Card) -> dict[str, Any] | None:
    """The customer's paragraphs and facts, quoted in an emphasised container."""
    items: list[dict[str, Any]] = [
        _rich([_run(piece, True) for piece, _quoted in text_spans(text)])
        for text in card.paragraphs
        if _only_customer_text(text)
    ]
    items += [
        _rich(
            [
                {"type": "TextRun", "text": f"{fact.label}: ", "weight": "Bolder"},
                *(_run(piece, quoted) for piece, quoted in text_spans(fact.value)),
            ]
        )
        for fact in card.facts
        if has_customer_text(fact.value)
    ]
    if not items:
        return None
    if card.quote_label:
        label = {"type": "TextBlock", "text": card.quote_label, "isSubtle": True, "wrap": True}
        items.insert(0, label | {"size": "Small", "weight": "Bolder"})
    return {"type": "Container", "style": "emphasis", "items": items}


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_QUOTED_CHARS else text[: MAX_QUOTED_CHARS - 1] + "…"


def _render_input(field: Input) -> dict[str, Any]:
    # `label`, `isRequired` and `errorMessage` exist since schema 1.3, so Webex shows them too.
    label = without_marks(field.label)
    rendered: dict[str, Any] = {"id": field.id, "label": label}
    if field.required:
        # The client marks a required field itself (Teams adds a red "*"): a star in the
        # label too would show two.
        label = label.rstrip().removesuffix("*").rstrip()
        error = without_marks(field.error) if field.error else label
        rendered |= {"label": label, "isRequired": True, "errorMessage": error}
    match field:
        case TextInput():
            rendered |= {"type": "Input.Text", "isMultiline": field.multiline}
            if field.placeholder:
                rendered["placeholder"] = field.placeholder
            if field.max_length:
                rendered["maxLength"] = field.max_length
        case ChoiceInput():
            rendered |= {
                "type": "Input.ChoiceSet",
                "style": "expanded" if field.expanded else "compact",
                "choices": [
                    {"title": without_marks(c.title), "value": c.value} for c in field.choices
                ],
            }
    if field.value:
        rendered["value"] = without_marks(field.value)
    return rendered


def _render_action(action: Action, version: str) -> dict[str, Any]:
    match action:
        case ShowCardAction(title=title, card=shown):
            inner = render_adaptive_card(shown, version=version)
            del inner["$schema"]  # a card inside a card declares no schema of its own
            return {"type": "Action.ShowCard", "title": without_marks(title), "card": inner}
        case SubmitAction(title=title, data=data):
            plain = {key: without_marks(value) for key, value in data.items()}
            return {"type": "Action.Submit", "title": without_marks(title), "data": plain}
        case OpenUrlAction(title=title, url=url):
            return {"type": "Action.OpenUrl", "title": without_marks(title), "url": url}
