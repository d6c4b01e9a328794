"""Bot Framework activities ⇄ the neutral message model."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from botbuilder.core import CardFactory
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    TextFormatTypes,
)
from botbuilder.schema.teams import ChannelInfo, TeamsChannelData, TenantInfo

from adapters.cards import render_adaptive_card
from adapters.markup import render_markdown
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

TEAMS_CARD_VERSION = "1.5"
TEAMS_CHANNEL_ID = "msteams"  # the Bot Framework's name for the Teams channel
THREAD_MARKER = ";messageid="  # a channel thread's conversation id: <channel>;messageid=<root>
FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
_KINDS: Mapping[str, ConversationKind] = {
    "personal": "personal",
    "groupChat": "group",
    "channel": "channel",
}
_TAGS = re.compile(r"<[^>]+>")
# Lines that markdown keeps apart on its own: list items and quote lines.
_OWN_LINE = re.compile(r"^\s*(?:[-*+] |\d+[.)] |>)")


def conversation_of(activity: Activity) -> ConversationRef:
    """The neutral conversation an activity belongs to (channel threads keep their root id)."""
    conversation = activity.conversation
    kind = _KINDS.get(conversation.conversation_type or "personal", "personal")
    thread = root_message_id(conversation.id)
    return ConversationRef(
        channel=Channel.TEAMS,
        conversation_id=conversation.id,
        kind=kind,
        thread_id=thread or None,
    )


def root_message_id(conversation_id: str) -> str | None:
    """The root post's id of a channel thread's conversation id; None for other conversations."""
    _, _, thread = conversation_id.partition(THREAD_MARKER)
    return thread or None


def tenant_of(activity: Activity) -> str | None:
    """The Microsoft 365 tenant the sender belongs to."""
    if activity.conversation and activity.conversation.tenant_id:
        return str(activity.conversation.tenant_id)
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") if isinstance(data.get("tenant"), dict) else {}
    found = tenant.get("id") if tenant else None
    return str(found) if found else None


def to_incoming(activity: Activity, *, email: str | None = None) -> Incoming:
    """The neutral message for a message activity or a card action (`email`: the sender's,
    when the connector told us)."""
    conversation = conversation_of(activity)
    sender = activity.from_property
    return Incoming(
        channel=Channel.TEAMS,
        event_id=activity.id or "",
        conversation=conversation,
        sender=Sender(
            user_id=sender.id,
            name=sender.name or "",
            email=email,
            aad_object_id=sender.aad_object_id,
            tenant_id=tenant_of(activity),
        ),
        text=_plain_text(activity, conversation.kind),
        value=card_value(activity),
        locale=activity.locale,
        files=_files(activity),
        unreadable_files=conversation.kind != "personal" and _mentions_a_file(activity),
        received_at=activity.timestamp,
        joined=bot_added(activity),
        card_message_id=_pressed_card(activity),
    )


def bot_added(activity: Activity) -> bool:
    """The bot was just added to the conversation: a `conversationUpdate` whose
    `membersAdded` names the bot, or an `installationUpdate` that adds (or upgrades) it."""
    if activity.type == ActivityTypes.installation_update:
        return str(activity.action or "").lower().startswith("add")
    if activity.type != ActivityTypes.conversation_update:
        return False
    bot_id = getattr(activity.recipient, "id", None)
    added = activity.members_added or []
    return bool(bot_id) and any(getattr(member, "id", None) == bot_id for member in added)


def _pressed_card(activity: Activity) -> str | None:
    """The card message a button was pressed on: Teams names it in `replyToId`."""
    if card_value(activity) is None:
        return None
    return str(activity.reply_to_id) if activity.reply_to_id else None


def card_value(activity: Activity) -> Mapping[str, object] | None:
    """What a card sent: Action.Submit's merged inputs, or Action.Execute's data."""
    value = activity.value
    if not isinstance(value, dict):
        return None
    if activity.type == ActivityTypes.invoke:
        action = value.get("action")
        data = action.get("data") if isinstance(action, dict) else None
        return data if isinstance(data, dict) else None
    return value


def _plain_text(activity: Activity, kind: ConversationKind) -> str:
    """The message text without the bot's @mention and without markup."""
    text = activity.text if isinstance(activity.text, str) else ""
    if kind != "personal":
        for mention in bot_mentions(activity):
            text = text.replace(mention, " ")
    text = html.unescape(_TAGS.sub(" ", text))
    return " ".join(without_marks(text).split())  # the bot's own marks are not for typing


def bot_mentions(activity: Activity) -> list[str]:
    """The texts (`<at>Bot</at>`) of the mention entities that name the bot.

    The SDK's `remove_recipient_mention` fails on any entity that is not shaped as it expects
    (no `mentioned`, a number as text, no type); entities come from the sender, so every part
    is checked here and a malformed one is simply not a mention of the bot.
    """
    bot_id = getattr(activity.recipient, "id", None)
    if not isinstance(bot_id, str) or not bot_id:
        return []
    found = (_mention_text(entity, bot_id) for entity in activity.entities or [])
    return [text for text in found if text]


def _mention_text(entity: object, bot_id: str) -> str | None:
    if str(getattr(entity, "type", "")).lower() != "mention":
        return None
    properties = getattr(entity, "additional_properties", None)
    if not isinstance(properties, dict):
        return None
    mentioned, text = properties.get("mentioned"), properties.get("text")
    if not (isinstance(mentioned, dict) and mentioned.get("id") == bot_id):
        return None
    return text if isinstance(text, str) else None


def _files(activity: Activity) -> tuple[FileRef, ...]:
    files = []
    for attachment in activity.attachments or []:
        content = attachment.content if isinstance(attachment.content, dict) else {}
        if attachment.content_type == FILE_DOWNLOAD_INFO and content.get("downloadUrl"):
            files.append(
                FileRef(
                    name=attachment.name or "file",
                    url=str(content["downloadUrl"]),
                    content_type=str(content.get("fileType") or "application/octet-stream"),
                )
            )
    return tuple(files)


def _mentions_a_file(activity: Activity) -> bool:
    """In channels and group chats Teams hands bots no files, only the message's HTML, where
    a shared file shows as an `<attachment>` element."""
    return any(
        attachment.content_type == "text/html" and "<attachment" in str(attachment.content)
        for attachment in activity.attachments or []
    )


def to_activity(outgoing: Outgoing) -> Activity:
    """A message activity: the card when there is one (text as its summary), else markdown."""
    if outgoing.card is None:
        return Activity(
            type=ActivityTypes.message,
            text=well_formed(with_line_breaks(render_markdown(outgoing.text))),
            text_format=TextFormatTypes.markdown,
        )
    card = well_formed_json(render_adaptive_card(outgoing.card, version=TEAMS_CARD_VERSION))
    return Activity(
        type=ActivityTypes.message,
        attachments=[adaptive_card_attachment(card)],
        summary=well_formed(without_marks(outgoing.card.title)),
    )


def with_line_breaks(markdown: str) -> str:
    """The bot's markdown with each line on a line of its own in Teams.

    Teams reads a single newline as a space (markdown's soft break), which runs the lines of
    `why` or a heading and its text together; an empty line between them is a line break there.
    List items and quote lines keep their single newline: markdown starts each on its own line.
    """
    lines = markdown.split("\n")
    out = [lines[0]]
    for previous, line in pairwise(lines):
        joined = not previous.strip() or not line.strip() or _OWN_LINE.match(line)
        out.append(("\n" if joined else "\n\n") + line)
    return "".join(out)


def adaptive_card_attachment(card: dict[str, Any]) -> Attachment:
    """Wrap Adaptive Card JSON as a Bot Framework attachment."""
    attachment: Attachment = CardFactory.adaptive_card(card)
    return attachment


def channel_post_parameters(
    *, channel_id: str, tenant_id: str | None, activity: Activity
) -> ConversationParameters:
    """What the connector needs to start a new thread in a team channel with `activity` as its
    root post (`create_conversation` answers `<channel>;messageid=<root>` and the post's id)."""
    tenant = TenantInfo(id=tenant_id) if tenant_id else None
    return ConversationParameters(
        is_group=True,
        channel_data=TeamsChannelData(channel=ChannelInfo(id=channel_id), tenant=tenant),
        activity=activity,
    )


def thread_reference(
    *,
    service_url: str,
    conversation_id: str,
    tenant_id: str | None,
    bot_id: str,
    message_id: str,
) -> dict[str, Any]:
    """A serialized `ConversationReference` for a channel thread: `continue_conversation` on
    it writes into the thread (`activityId` is the thread's root post)."""
    reference = ConversationReference(
        activity_id=message_id,
        bot=ChannelAccount(id=bot_id),
        channel_id=TEAMS_CHANNEL_ID,
        conversation=ConversationAccount(
            id=conversation_id,
            conversation_type="channel",
            is_group=True,
            tenant_id=tenant_id or None,
        ),
        service_url=service_url,
    )
    serialized: dict[str, Any] = reference.serialize()
    return serialized
