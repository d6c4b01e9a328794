"""The channel-neutral message model: what adapters translate to and from.

Nothing here knows about Teams or Webex wire formats. The router, the dialogs and the storage
only ever see these types; each adapter converts at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

ConversationKind = Literal["personal", "group", "channel"]

# Customer text (a fault description, a display name, a relayed message) travels inside the
# bot's own strings between these two private-use characters, so it survives f-strings,
# `str.format` and the outbox's JSON. Each adapter shows such a span as literal, quoted text
# for its channel (escaped markdown, no mentions, no links, no lines of its own) and drops the
# marks: a customer cannot write markup, mentions or fake facts into the engineers' channel.
# What staff type for others to read (a reply or resolution for the customer, a note, a
# maintenance title) is marked the same way: the bot shows people's words, never their markup.
CUSTOMER_OPEN, CUSTOMER_CLOSE = "\ue000", "\ue001"
_MARKS = str.maketrans("", "", CUSTOMER_OPEN + CUSTOMER_CLOSE)
# Longest span of customer text shown in one message (a fault description in an alert is cut
# there; the ticket keeps all of it). `customer_paragraphs` marks longer text in several spans.
MAX_QUOTED_CHARS = 3000


def customer_text(text: str) -> str:
    """Mark `text` as written by a customer (see `CUSTOMER_OPEN`)."""
    return f"{CUSTOMER_OPEN}{without_marks(text)}{CUSTOMER_CLOSE}"


def customer_paragraphs(text: str) -> str:
    """`text` marked as a person's words in spans short enough to be shown whole, one after
    the other on lines of their own: a message meant for its reader (an engineer's reply to
    the customer) is never cut, while a span in an alert is."""
    spans: list[str] = []
    for whole_line in without_marks(text).strip().splitlines() or [""]:
        line = whole_line
        while len(line) > MAX_QUOTED_CHARS:
            spans.append(line[:MAX_QUOTED_CHARS])
            line = line[MAX_QUOTED_CHARS:]
        if spans and len(spans[-1]) + 1 + len(line) <= MAX_QUOTED_CHARS:
            spans[-1] += "\n" + line
        else:
            spans.append(line)
    return "\n".join(customer_text(span) for span in spans)


def without_marks(text: str) -> str:
    """The text with the customer-text marks removed (for plain-text places and inputs)."""
    return text.translate(_MARKS)


def text_spans(text: str) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is customer text), in order, marks removed; empty pieces are
    left out. An unclosed mark makes the rest customer text (the cautious reading)."""
    spans: list[tuple[str, bool]] = []
    rest = text
    while rest:
        before, opened, after = rest.partition(CUSTOMER_OPEN)
        if before:
            spans.append((without_marks(before), False))
        if not opened:
            break
        quoted, _closed, rest = after.partition(CUSTOMER_CLOSE)
        if quoted:
            spans.append((without_marks(quoted), True))
    return [(piece, quoted) for piece, quoted in spans if piece]


def has_customer_text(text: str) -> bool:
    """True when `text` carries a customer-text span."""
    return CUSTOMER_OPEN in text


class Channel(StrEnum):
    """The chat systems the bot lives in, and the integration API beside them."""

    TEAMS = "teams"
    WEBEX = "webex"
    # Not a chat: the integration API (a ticket another system opened, a change it made).
    API = "api"


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """Where a message came from or goes to.

    `thread_id` names a thread inside a channel or space (Teams: the root message id of a
    channel thread; Webex: the parent message id).
    """

    channel: Channel
    conversation_id: str
    kind: ConversationKind = "personal"
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """Who the channel says sent a message; identity is resolved later from the directory."""

    user_id: str
    name: str = ""
    email: str | None = None
    aad_object_id: str | None = None
    tenant_id: str | None = None
    webex_org_id: str | None = None


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file attached to an incoming message, downloadable by the adapter that saw it."""

    name: str
    url: str
    content_type: str = "application/octet-stream"
    size: int | None = None
    # The chat system still scans it for malware and keeps its name and type until then (a
    # placeholder name): it is judged once the bot fetches it, later.
    scanning: bool = False


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message (or card submit) from a person to the bot."""

    channel: Channel
    event_id: str
    conversation: ConversationRef
    sender: Sender
    text: str = ""
    value: Mapping[str, object] | None = None
    locale: str | None = None
    files: tuple[FileRef, ...] = ()
    # The person attached files the bot cannot receive here (Teams channels and group chats).
    unreadable_files: bool = False
    received_at: datetime | None = None
    # The bot was just added to this conversation (installed, invited into a space) by
    # `sender`: nothing was said, a welcome is due.
    joined: bool = False
    # A card submit: the id of the message that carries the card whose button was pressed.
    card_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    """A label and its value, shown as a two-column row on a card.

    `state` marks the facts that say where a thing stands now (status, owner, deadline): where
    a channel cannot edit a card, it keeps a short text of these current instead (Webex).
    """

    label: str
    value: str
    state: bool = False


@dataclass(frozen=True, slots=True)
class SubmitAction:
    """A button that sends `data` back to the bot as a card submit."""

    title: str
    data: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class OpenUrlAction:
    """A button that opens a link."""

    title: str
    url: str


@dataclass(frozen=True, slots=True)
class ShowCardAction:
    """A button that unfolds `card` (its own inputs and buttons) below the card it is on: a
    question to answer before a submit (e.g. the resolution before "Resolve")."""

    title: str
    card: Card


Action = SubmitAction | OpenUrlAction | ShowCardAction


@dataclass(frozen=True, slots=True)
class TextInput:
    """A text field; its value comes back under `id` when a submit button is pressed."""

    id: str
    label: str
    placeholder: str = ""
    value: str = ""
    multiline: bool = False
    required: bool = False
    max_length: int | None = None
    # What the client says when a required field is left empty (in the reader's language).
    error: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a `ChoiceInput`."""

    title: str
    value: str


@dataclass(frozen=True, slots=True)
class ChoiceInput:
    """A pick-one list; `expanded` shows radio buttons instead of a drop-down."""

    id: str
    label: str
    choices: tuple[Choice, ...]
    value: str = ""
    required: bool = False
    expanded: bool = False
    error: str = ""  # as `TextInput.error`


Input = TextInput | ChoiceInput


@dataclass(frozen=True, slots=True)
class Card:
    """A card every channel can render: a title, paragraphs, facts, inputs and buttons."""

    title: str
    paragraphs: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()
    inputs: tuple[Input, ...] = ()
    actions: tuple[Action, ...] = ()
    image_url: str | None = None
    image_alt: str = ""
    # The heading of the box that shows customer text apart from the bot's own lines, in the
    # reader's language (e.g. "Customer wrote:"); empty: the box without a heading.
    quote_label: str = ""
    # The bot's own markdown lines shown after the facts and the customer's words (e.g. the
    # ticket's files with their download links).
    footer: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message from the bot: markdown text (always, as the fallback) and optionally a card."""

    conversation: ConversationRef
    text: str
    card: Card | None = None
    reply_to: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    # The id of a card message this one takes the place of (the card a button was pressed
    # on, shown again with what applies now): edited where the channel can, else replaced.
    replaces: str | None = None


def outgoing_to_json(outgoing: Outgoing) -> dict[str, Any]:
    """A JSON-able form of a message (for the outbox)."""
    return asdict(outgoing)


def outgoing_from_json(data: dict[str, Any]) -> Outgoing:
    """The message `outgoing_to_json` wrote."""
    conversation = data["conversation"]
    card = data.get("card")
    return Outgoing(
        conversation=ConversationRef(
            channel=Channel(conversation["channel"]),
            conversation_id=conversation["conversation_id"],
            kind=conversation.get("kind", "personal"),
            thread_id=conversation.get("thread_id"),
        ),
        text=data["text"],
        card=_card_from_json(card) if card else None,
        reply_to=data.get("reply_to"),
        extra=data.get("extra") or {},
        replaces=data.get("replaces"),
    )


def _card_from_json(data: dict[str, Any]) -> Card:
    return Card(
        title=data["title"],
        paragraphs=tuple(data.get("paragraphs", ())),
        facts=tuple(Fact(**fact) for fact in data.get("facts", ())),
        inputs=tuple(_input_from_json(item) for item in data.get("inputs", ())),
        actions=tuple(_action_from_json(action) for action in data.get("actions", ())),
        image_url=data.get("image_url"),
        image_alt=data.get("image_alt", ""),
        quote_label=data.get("quote_label", ""),
        footer=tuple(data.get("footer", ())),
    )


def _action_from_json(data: dict[str, Any]) -> Action:
    if "data" in data:
        return SubmitAction(data["title"], data["data"])
    if "card" in data:
        return ShowCardAction(data["title"], _card_from_json(data["card"]))
    return OpenUrlAction(data["title"], data["url"])


def _input_from_json(data: dict[str, Any]) -> Input:
    if "choices" in data:
        choices = tuple(Choice(**choice) for choice in data["choices"])
        return ChoiceInput(**{**data, "choices": choices})
    return TextInput(**data)
