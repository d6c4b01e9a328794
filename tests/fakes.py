"""A fake Bot Connector: the service Teams' bots POST their replies to, on a free local port."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class ConnectorCall:
    """One request the bot made to the connector."""

    method: str
    path: str
    conversation_id: str
    body: dict[str, Any]
    authorization: str | None


@dataclass
class FakeBotConnector:
    """Records the bot's outbound activities; can be told to fail the next requests."""

    calls: list[ConnectorCall] = field(default_factory=list)
    failures: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    server: TestServer | None = None

    def app(self) -> web.Application:
        """The aiohttp app serving the connector's conversation routes."""
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._post)
        app.router.add_post(
            "/v3/conversations/{conversation_id}/activities/{activity_id}", self._post
        )
        return app

    @property
    def url(self) -> str:
        """The serviceUrl to put into activities."""
        assert self.server is not None
        return str(self.server.make_url("/"))

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer the next request with `status` instead of accepting it."""
        self.failures.append((status, headers or {}))

    @property
    def messages(self) -> list[ConnectorCall]:
        """Accepted message activities (typing indicators left out)."""
        return [c for c in self.calls if c.body.get("type") == "message"]

    async def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[ConnectorCall]:
        """Wait until at least `count` messages arrived; fail the test after `timeout`."""
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.messages

    async def _post(self, request: web.Request) -> web.Response:
        if self.failures:
            status, headers = self.failures.popleft()
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=status, headers=headers
            )
        body = await request.json()
        self.calls.append(
            ConnectorCall(
                method=request.method,
                path=request.path,
                conversation_id=request.match_info["conversation_id"],
                body=body,
                authorization=request.headers.get("Authorization"),
            )
        )
        self._arrived.set()
        return web.json_response({"id": f"reply-{next(self._ids)}"})
