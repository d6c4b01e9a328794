"""Talking to the integration API of a bot under test: tokens, requests, the example report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.api import new_token, token_hash
from bot.app import STORE
from storage.directory import Customer, Directory
from tests.serving import Bot

V1 = "/api/v1"
EVERY_SCOPE = ("tickets:read", "tickets:write", "customers:read", "reports:read")
REPORT: dict[str, Any] = {
    "customer": "demo",
    "product": "webex-calling",
    "priority": "P2",
    "description": "Outgoing calls drop after 30 seconds for all users in Vienna",
    "affected": "all 40 users of the Vienna office",
    "tested": "restarted two phones, same result",
    "phone": "+43 1 234 5678",
}


def with_second_customer(directory: Directory) -> Directory:
    """The example directory and another customer on the same contract."""
    other = Customer(
        key="other",
        name="Other Customer AG",
        contract=directory.customers[0].contract,
        language="de",
        email_domains=("other.example",),
    )
    return directory.model_copy(update={"customers": [*directory.customers, other]})


async def make_token(
    bot: Bot, name: str, scopes: Sequence[str] = EVERY_SCOPE, customer: str | None = None
) -> str:
    """A token stored in the bot's database, as `chatops token create` stores it."""
    token = new_token()
    await bot.app[STORE].api_tokens.add(
        name=name,
        token_hash=token_hash(token),
        scopes=list(scopes),
        customer_key=customer,
        now=datetime.now(UTC),
    )
    return token


def auth(token: str) -> dict[str, str]:
    """The header that carries a bearer token."""
    return {"Authorization": f"Bearer {token}"}


class Api:
    """One integration's requests, as JSON in and JSON out."""

    def __init__(self, bot: Bot, token: str) -> None:
        self.bot, self.token = bot, token

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, parsed body, headers)."""
        sent = auth(self.token) | (headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        response = await self.bot.request(method, V1 + path, data=data, headers=sent, params=params)
        text = await response.text()
        parsed = json.loads(text) if text else None
        return response.status, parsed, dict(response.headers)

    async def ok(self, method: str, path: str, body: Any = None, **options: Any) -> Any:
        """The parsed body of a request that must succeed."""
        status, parsed, _headers = await self.call(method, path, body, **options)
        assert status < 300, (status, parsed)
        return parsed

    async def open(self, **changes: Any) -> dict[str, Any]:
        """Open a ticket with the example report (and `changes`); the new ticket."""
        created = await self.ok("POST", "/tickets", REPORT | changes)
        ticket: dict[str, Any] = created["ticket"]
        return ticket

    async def event(self, number: str, **event: Any) -> tuple[int, Any]:
        """Post an event; (status, body)."""
        status, body, _headers = await self.call("POST", f"/tickets/{number}/events", event)
        return status, body
