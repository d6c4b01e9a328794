"""Render the neutral `Card` as an Adaptive Card.

One renderer for both channels: Teams shows up to schema 1.5, Webex up to 1.3, and the neutral
card only uses elements both versions have, so the version is just the declared schema.
"""

from __future__ import annotations

from typing import Any

from adapters.model import (
    Action,
    Card,
    ChoiceInput,
    Input,
    OpenUrlAction,
    SubmitAction,
    TextInput,
)

ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def render_adaptive_card(card: Card, *, version: str) -> dict[str, Any]:
    """The Adaptive Card JSON for `card`, declared as `version` (e.g. "1.5" or "1.3")."""
    body: list[dict[str, Any]] = []
    if card.title:  # a question card (e.g. "Did you mean…") speaks in its first paragraph
        body.append(
            {
                "type": "TextBlock",
                "text": card.title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            }
        )
    body += [{"type": "TextBlock", "text": text, "wrap": True} for text in card.paragraphs]
    if card.image_url:
        body.append({"type": "Image", "url": card.image_url, "altText": card.image_alt})
    if card.facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": fact.label, "value": fact.value} for fact in card.facts],
            }
        )
    body += [_render_input(field) for field in card.inputs]
    rendered: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "version": version,
        "body": body,
    }
    if card.actions:
        rendered["actions"] = [_render_action(action) for action in card.actions]
    return rendered


def _render_input(field: Input) -> dict[str, Any]:
    # `label`, `isRequired` and `errorMessage` exist since schema 1.3, so Webex shows them too.
    rendered: dict[str, Any] = {"id": field.id, "label": field.label}
    if field.required:
        rendered |= {"isRequired": True, "errorMessage": field.label}
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
                "choices": [{"title": c.title, "value": c.value} for c in field.choices],
            }
    if field.value:
        rendered["value"] = field.value
    return rendered


def _render_action(action: Action) -> dict[str, Any]:
    match action:
        case SubmitAction(title=title, data=data):
            return {"type": "Action.Submit", "title": title, "data": dict(data)}
        case OpenUrlAction(title=title, url=url):
            return {"type": "Action.OpenUrl", "title": title, "url": url}
