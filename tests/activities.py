"""Bot Framework activities as Teams sends them, for tests."""

from __future__ import annotations

import itertools
from typing import Any

from storage.directory import Directory

BOT_ID = "28:bot-app-id"
BOT_NAME = "SLA Desk"
_ids = itertools.count(1000)


def personal_message(
    directory: Directory, text: str, *, service_url: str, user: str = "29:clara", **extra: Any
) -> dict[str, Any]:
    """A 1:1 chat message from a contact of the demo customer."""
    tenant = directory.customers[0].teams_tenant_ids[0]
    return _activity(
        text=text,
        service_url=service_url,
        conversation={
            "id": f"a:personal-{user}",
            "conversationType": "personal",
            "tenantId": tenant,
        },
        sender={"id": user, "name": "Clara Contact", "aadObjectId": f"aad-{user}"},
        tenant=tenant,
        **extra,
    )


def channel_mention(
    directory: Directory, text: str, *, service_url: str, thread: str = "1700000000000"
) -> dict[str, Any]:
    """A channel post that @mentions the bot, from the demo customer's tenant."""
    tenant = directory.customers[0].teams_tenant_ids[0]
    mention = f"<at>{BOT_NAME}</at>"
    return _activity(
        text=f"{mention} {text}",
        service_url=service_url,
        conversation={
            "id": f"19:general@thread.tacv2;messageid={thread}",
            "conversationType": "channel",
            "tenantId": tenant,
            "isGroup": True,
        },
        sender={"id": "29:clara", "name": "Clara Contact", "aadObjectId": "aad-clara"},
        tenant=tenant,
        entities=[
            {
                "type": "mention",
                "text": mention,
                "mentioned": {"id": BOT_ID, "name": BOT_NAME},
            }
        ],
        channelData={
            "tenant": {"id": tenant},
            "team": {"id": "19:team@thread.tacv2"},
            "channel": {"id": "19:general@thread.tacv2"},
        },
    )


def _activity(
    *,
    text: str,
    service_url: str,
    conversation: dict[str, Any],
    sender: dict[str, Any],
    tenant: str,
    **extra: Any,
) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message",
        "id": f"activity-{next(_ids)}",
        "timestamp": "2026-01-07T14:30:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender,
        "conversation": conversation,
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "text": text,
        "textFormat": "plain",
        "locale": "en-US",
        "channelData": {"tenant": {"id": tenant}},
    }
    activity.update(extra)
    return activity
