"""Webex messages and card actions ⇄ the neutral message model."""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.cards import ADAPTIVE_CARD_CONTENT_TYPE, render_adaptive_card
from adapters.markup import render_markdown, unescape_markdown
from adapters.model import (
    Channel,
    ConversationKind,
    ConversationRef,
    FileRef,
    Incoming,
    Outgoing,
    Sender,
    without_marks,
)
from adapters.text import well_formed, well_formed_json
from adapters.webex.split import MAX_MESSAGE_BYTES, split_message

WEBEX_CARD_VERSION = "1.3"
_MENTION = re.compile(
    r"<spark-mention\b[^>]*?data-object-id=\"([^\"]*)\"[^>]*>(.*?)</spark-mention>",
    re.IGNORECASE | re.DOTALL,
)
_TAGS = re.compile(r"<[^>]+>")
_MARKUP = re.compile(r"(?<!\\)(\*\*|__|`+)")


@dataclass(frozen=True, slots=True)
class Person:
    """What Webex says about a person: enough to find them in the directory."""

    person_id: str
    name: str = ""
    email: str | None = None
    org_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Person:
        """From a `people/{id}` answer."""
        emails = data.get("emails") or []
        return cls(
            person_id=str(data.get("id", "")),
            name=str(data.get("displayName") or ""),
            email=str(emails[0]) if emails else None,
            org_id=str(data["orgId"]) if data.get("orgId") else None,
        )


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """The bot as Webex knows it (`people/me`): to drop its own messages and mentions."""

    person_id: str
    name: str = ""

    def is_me(self, object_id: str) -> bool:
        """True when a person id (or the UUID inside it, as mentions carry) is the bot's."""
        return object_id in {self.person_id, uuid_of(self.person_id)}


def uuid_of(person_id: str) -> str:
    """The UUID inside a Webex id (base64 of `ciscospark://us/PEOPLE/<uuid>`), else the id."""
    try:
        decoded = base64.urlsafe_b64decode(person_id + "=" * (-len(person_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return person_id
    return decoded.rpartition("/")[2] if decoded.startswith("ciscospark://") else person_id


def conversation_of(
    room_id: str, room_type: str | None, *, message_id: str, parent_id: str | None
) -> ConversationRef:
    """The neutral conversation; in a group space the thread is the root message (Webex
    threads are one level deep, so a reply to a reply must name the root)."""
    kind: ConversationKind = "group" if room_type == "group" else "personal"
    thread = (parent_id or message_id) if kind == "group" else None
    return ConversationRef(
        channel=Channel.WEBEX, conversation_id=room_id, kind=kind, thread_id=thread
    )


def sender_of(person: Person) -> Sender:
    """The neutral sender."""
    return Sender(
        user_id=person.person_id, name=person.name, email=person.email, webex_org_id=person.org_id
    )


def incoming_message(
    message: Mapping[str, Any], *, person: Person, bot: BotIdentity, files: tuple[FileRef, ...]
) -> Incoming:
    """A message the bot received, without the bot's @mention."""
    conversation = conversation_of(
        str(message["roomId"]),
        message.get("roomType"),
        message_id=str(message["id"]),
        parent_id=message.get("parentId"),
    )
    return Incoming(
        channel=Channel.WEBEX,
        event_id=str(message["id"]),
        conversation=conversation,
        sender=sender_of(person),
        text=message_text(message, bot=bot, group=conversation.kind == "group"),
        files=files,
        received_at=parse_timestamp(message.get("created")),
    )


def incoming_action(
    action: Mapping[str, Any], *, card_message: Mapping[str, Any] | None, person: Person
) -> Incoming:
    """A card submit: its inputs (the button's data merged with the card's fields) as `value`.

    The answer goes where the card was: the same room and, in a group space, the same thread.
    """
    card = card_message or {}
    conversation = conversation_of(
        str(action["roomId"]),
        card.get("roomType"),
        message_id=str(action.get("messageId") or action["id"]),
        parent_id=card.get("parentId"),
    )
    inputs = action.get("inputs")
    return Incoming(
        channel=Channel.WEBEX,
        event_id=str(action["id"]),
        conversation=conversation,
        sender=sender_of(person),
        value=dict(inputs) if isinstance(inputs, Mapping) else {},
        received_at=parse_timestamp(action.get("created")),
        card_message_id=str(action["messageId"]) if action.get("messageId") else None,
    )


def message_text(message: Mapping[str, Any], *, bot: BotIdentity, group: bool) -> str:
    """Plain text; in a group space without the bot's mention (other mentions keep their name)."""
    if not group:
        return _squash(str(message.get("text") or ""))
    if message.get("html"):
        without = _MENTION.sub(
            lambda m: "" if bot.is_me(m.group(1)) else m.group(2), str(message["html"])
        )
        return _squash(html.unescape(_TAGS.sub(" ", without)))
    return _strip_leading_name(_squash(str(message.get("text") or "")), bot.name)


def _strip_leading_name(text: str, name: str) -> str:
    """Without markup the mention is just the bot's name (or its first word) in front."""
    for candidate in (name, name.split(" ", maxsplit=1)[0] if name else ""):
        if candidate and text.lower().startswith(candidate.lower()):
            return text[len(candidate) :].strip()
    return text


def _squash(text: str) -> str:
    return " ".join(without_marks(text).split())  # the bot's own marks are not for typing


def parse_timestamp(value: object) -> datetime | None:
    """Webex's `2026-01-07T14:30:00.000Z`, timezone-aware."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def file_refs(message: Mapping[str, Any]) -> tuple[str, ...]:
    """The content URLs of a message's files (names come from a HEAD request)."""
    return tuple(str(url) for url in message.get("files") or ())


def to_messages(outgoing: Outgoing) -> list[dict[str, Any]]:
    """The `messages` create payloads for one answer: markdown with a plain-text fallback,
    split under the size limit; a card rides on the last part (one card per message)."""
    text = well_formed(
        render_markdown(outgoing.text or (outgoing.card.title if outgoing.card else ""))
    )
    if not text:
        return []
    base = _addressing(outgoing.conversation)
    payloads = [
        {**base, "markdown": part, "text": plain_fallback(part)}
        for part in split_message(text, MAX_MESSAGE_BYTES)
    ]
    if outgoing.card is not None:
        card = well_formed_json(render_adaptive_card(outgoing.card, version=WEBEX_CARD_VERSION))
        payloads[-1]["attachments"] = [{"contentType": ADAPTIVE_CARD_CONTENT_TYPE, "content": card}]
    return payloads


def room_of(reference: Mapping[str, Any]) -> ConversationRef:
    """The conversation a stored reference (`roomId`, `kind`, optional `parentId`) names; a
    `parentId` in a group space makes answers replies in that thread."""
    kind: ConversationKind = "group" if reference.get("kind") == "group" else "personal"
    parent = reference.get("parentId")
    return ConversationRef(
        channel=Channel.WEBEX,
        conversation_id=str(reference["roomId"]),
        kind=kind,
        thread_id=str(parent) if parent and kind == "group" else None,
    )


def thread_reference(room_id: str, root_id: str) -> dict[str, Any]:
    """The reference of a thread the bot started in a space: `roomId`, `kind`, `parentId`."""
    return {"roomId": room_id, "kind": "group", "parentId": root_id}


def _addressing(conversation: ConversationRef) -> dict[str, Any]:
    address: dict[str, Any] = {"roomId": conversation.conversation_id}
    if conversation.kind == "group" and conversation.thread_id:
        address["parentId"] = conversation.thread_id
    return address


def plain_fallback(markdown: str) -> str:
    """What clients without markdown (and notifications) show: the text without emphasis
    (customer text as it was typed)."""
    return unescape_markdown(_MARKUP.sub("", markdown))
