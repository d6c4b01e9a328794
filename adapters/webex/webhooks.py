"""The bot's own Webex webhooks: registered idempotently, kept active, others left alone.

A webhook is the bot's when its name, target URL, resource and event are the ones below; any
other webhook of the token (another deployment, a colleague's test) is never changed or
deleted. Webex turns a webhook `inactive` after repeated delivery failures (the bot was down),
so a periodic check puts ours back to `active`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adapters.webex.inbound import ATTACHMENT_ACTIONS, MEMBERSHIPS, MESSAGES
from adapters.webex.sdk import WebexApi
from storage.errors import ChannelError

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/webex"
CHECK_EVERY_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class WantedWebhook:
    """One webhook the bot needs (the firehose does not cover card actions, so several)."""

    name: str
    resource: str
    event: str = "created"


WANTED = (
    WantedWebhook("chatops messages", MESSAGES),
    WantedWebhook("chatops card actions", ATTACHMENT_ACTIONS),
    # the bot added to a space: its welcome
    WantedWebhook("chatops memberships", MEMBERSHIPS),
)

Outcome = Literal["created", "updated", "reactivated", "unchanged"]


@dataclass(frozen=True, slots=True)
class WebhookChange:
    """What registering did to one wanted webhook."""

    name: str
    outcome: Outcome
    webhook_id: str


def webhook_target(public_url: str) -> str:
    """Where Webex should deliver: the bot's public base URL plus `/api/webex`."""
    return public_url.rstrip("/") + WEBHOOK_PATH


async def ensure_webhooks(api: WebexApi, *, target_url: str, secret: str) -> list[WebhookChange]:
    """Create the bot's webhooks that are missing, update or reactivate the ones that differ."""
    existing = await api.webhooks()
    return [await _ensure_one(api, wanted, existing, target_url, secret) for wanted in WANTED]


async def _ensure_one(
    api: WebexApi,
    wanted: WantedWebhook,
    existing: Sequence[Mapping[str, Any]],
    target_url: str,
    secret: str,
) -> WebhookChange:
    mine = next((hook for hook in existing if _is_mine(hook, wanted, target_url)), None)
    if mine is None:
        created = await api.create_webhook(
            name=wanted.name,
            targetUrl=target_url,
            resource=wanted.resource,
            event=wanted.event,
            secret=secret,
        )
        return WebhookChange(wanted.name, "created", str(created.get("id", "")))
    outcome = _needed_change(mine, secret)
    if outcome != "unchanged":
        # Webex's PUT wants name and targetUrl every time; status and secret are what change.
        await api.update_webhook(
            str(mine["id"]), name=wanted.name, targetUrl=target_url, secret=secret, status="active"
        )
    return WebhookChange(wanted.name, outcome, str(mine["id"]))


def _is_mine(hook: Mapping[str, Any], wanted: WantedWebhook, target_url: str) -> bool:
    return (
        hook.get("name") == wanted.name
        and hook.get("targetUrl") == target_url
        and hook.get("resource") == wanted.resource
        and hook.get("event") == wanted.event
    )


def _needed_change(hook: Mapping[str, Any], secret: str) -> Outcome:
    if hook.get("status", "active") != "active":
        return "reactivated"
    # Webex shows the secret to the webhook's owner; a different (or hidden) one is replaced.
    if hook.get("secret") != secret:
        return "updated"
    return "unchanged"


async def keep_webhooks(
    api: WebexApi, *, target_url: str, secret: str, every: float = CHECK_EVERY_SECONDS
) -> None:
    """Register at once, then check every `every` seconds; failures are logged, never fatal."""
    while True:
        try:
            changes = await ensure_webhooks(api, target_url=target_url, secret=secret)
        except ChannelError as exc:
            log.warning("could not check the Webex webhooks (will try again): %s", exc)
        else:
            for change in changes:
                if change.outcome != "unchanged":
                    log.info("Webex webhook %r %s", change.name, change.outcome)
        await asyncio.sleep(every)


async def register_webhooks(
    *, token: str, api_url: str, public_url: str, secret: str
) -> list[WebhookChange]:
    """One registration run with its own API client (the `chatops webex webhooks` command)."""
    api = WebexApi(token=token, base_url=api_url)
    try:
        return await ensure_webhooks(api, target_url=webhook_target(public_url), secret=secret)
    finally:
        await api.close()
