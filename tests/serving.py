"""Serving a whole bot app on a free port inside a test, the way `chatops serve` would."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

Bot = TestClient[web.Request, web.Application]

# Later than anything a test receives: "everything still pending".
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


class running:
    """Start an app on a free port, and stop it (running its cleanup) on exit."""

    def __init__(self, app: web.Application) -> None:
        self._client = TestClient(TestServer(app))

    async def __aenter__(self) -> Bot:
        await self._client.start_server()
        return self._client

    async def __aexit__(self, *_exc: object) -> None:
        await self._client.close()
