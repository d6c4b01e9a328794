"""What a Webex webhook delivery must pass before anything is stored: signature, then shape."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.http import RequestRejected, parse_json_object, read_body

SIGNATURE_HEADER = "X-Spark-Signature"
# The resources the bot registers webhooks for; anything else is acknowledged and ignored.
MESSAGES = "messages"
ATTACHMENT_ACTIONS = "attachmentActions"
MEMBERSHIPS = "memberships"  # someone (the bot, for a welcome) joined a space
HANDLED_RESOURCES = frozenset({MESSAGES, ATTACHMENT_ACTIONS, MEMBERSHIPS})


def signature(secret: str, body: bytes) -> str:
    """Webex's signature of a body: hex HMAC-SHA1 with the webhook secret."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of `X-Spark-Signature` over the raw bytes received."""
    # `compare_digest` raises on non-ASCII text; such a header is simply wrong.
    if not header or not header.isascii():
        return False
    return hmac.compare_digest(signature(secret, body), header.strip().lower())


async def read_signed_body(request: web.Request, *, secret: str, max_bytes: int) -> bytes:
    """The raw body, once its signature is right; `RequestRejected` (413 or 401) otherwise."""
    body = await read_body(request, max_bytes=max_bytes)
    if not signature_ok(secret, body, request.headers.get(SIGNATURE_HEADER)):
        raise RequestRejected(401, "missing or wrong X-Spark-Signature")
    return body


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery: which resource, the id to fetch, who caused it."""

    resource: str
    event: str
    data_id: str
    person_id: str | None
    payload: dict[str, Any]
    member_id: str | None = None  # memberships: who joined (`person_id` added them)

    @property
    def handled(self) -> bool:
        """True for the events the bot answers (a new message or card submit)."""
        return self.resource in HANDLED_RESOURCES and self.event == "created"

    @property
    def dedupe_key(self) -> str:
        """The same message or card action delivered again has the same key."""
        return f"{self.resource}|{self.data_id}"[:700]


def parse_delivery(request: web.Request, body: bytes) -> Delivery:
    """The delivery in a signed body; `RequestRejected` (415 or 400) when it is not one."""
    if request.content_type != "application/json":
        raise RequestRejected(415, "expected Content-Type: application/json")
    payload = parse_json_object(body)
    data = payload.get("data")
    resource, event = payload.get("resource"), payload.get("event")
    if not (isinstance(resource, str) and isinstance(event, str) and isinstance(data, dict)):
        raise RequestRejected(400, "not a Webex webhook (resource, event, data)")
    data_id, person_id = data.get("id"), data.get("personId")
    if not isinstance(data_id, str) or not data_id:
        raise RequestRejected(400, "webhook data has no id")
    member_id = None
    if resource == MEMBERSHIPS:
        # The member is `personId` (the bot itself, for the memberships the bot answers);
        # who added it is the envelope's `actorId`.
        member_id, person_id = person_id, payload.get("actorId")
    return Delivery(
        resource=resource,
        event=event,
        data_id=data_id,
        person_id=person_id if isinstance(person_id, str) else None,
        payload=payload,
        member_id=member_id if isinstance(member_id, str) else None,
    )
