"""An integrator's webhook endpoint on a free port, checking signatures like a real one.

Every request is verified with the `standardwebhooks` package's own verifier against the
subscription's secret (a request that fails is answered 400 and kept in `rejected`); the
verified ones are kept in `received` in arrival order. Every verified payload is also checked
against its type's schema in the OpenAPI document's `webhooks` section (JSON Schema 2020-12,
formats included): what does not fit is kept in `invalid` (the fixtures fail a test that leaves
anything there). A test scripts the next answers: an HTTP
status, or `HANG` (no answer until the sender has given up).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from aiohttp import web
from aiohttp.test_utils import TestServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bot.webhook_payloads import openapi_webhooks

HANG = "hang"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One verified request."""

    webhook_id: str
    timestamp: str
    body: bytes
    payload: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.payload["type"])

    @property
    def number(self) -> str:
        return str(self.payload["data"]["ticket"]["number"])


def documented_validators() -> dict[str, jsonschema_rs.Validator]:
    """A validator per event type, of the schema the `webhooks` section refers to (its
    `$ref`s resolved against the section's component schemas, as in the served document)."""
    webhooks, components = openapi_webhooks()
    found: dict[str, jsonschema_rs.Validator] = {}
    for event, item in webhooks.items():
        schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        document = {"$ref": schema["$ref"], "components": {"schemas": components}}
        found[event] = jsonschema_rs.Draft202012Validator(document, validate_formats=True)
    return found


class WebhookReceiver:
    """Records verified deliveries; answers as scripted (200 when nothing is scripted)."""

    def __init__(self, *, hang_seconds: float = 2.0) -> None:
        self.secret = ""
        self.received: list[Delivery] = []
        self.rejected: list[str] = []
        self.invalid: list[str] = []
        self._schemas = documented_validators()
        self.script: list[int | str] = []
        self.hang_seconds = hang_seconds
        self._arrived = asyncio.Event()
        self._server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/hooks/chatops"))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/chatops", self._handle)
        app.router.add_post("/moved", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """Until `count` deliveries were verified (whatever was answered)."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.received

    def types(self) -> list[str]:
        return [delivery.type for delivery in self.received]

    def _check_schema(self, payload: dict[str, Any]) -> None:
        validator = self._schemas.get(str(payload.get("type")))
        if validator is None:
            self.invalid.append(f"an undocumented type: {payload.get('type')!r}")
            return
        for error in validator.iter_errors(payload):
            self.invalid.append(
                f"{payload['type']} at {list(error.instance_path)}: {error.message}"
            )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            payload = Webhook(self.secret).verify(body, dict(request.headers))
        except WebhookVerificationError as exc:
            self.rejected.append(str(exc))
            return web.Response(status=400)
        self._check_schema(payload)
        headers = request.headers
        self.received.append(
            Delivery(headers["webhook-id"], headers["webhook-timestamp"], body, payload)
        )
        self._arrived.set()
        answer = self.script.pop(0) if self.script else 200
        if answer == HANG:
            await asyncio.sleep(self.hang_seconds)
            return web.Response(status=200)
        if answer in (301, 302, 307, 308):
            return web.Response(status=int(answer), headers={"Location": "/moved"})
        return web.Response(status=int(answer), text=json.dumps({"ok": answer == 200}))
