"""A fake Bot Connector: the service Teams' bots POST their replies to, on a free local port."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass(frozen=True)
class ConnectorCall:
    """One activity the bot posted to the connector."""

    path: str
    conversation_id: str
    reply_to_id: str | None
    authorization: str | None
    body: dict[str, Any]
    connection: tuple[str, int] | None = None  # the bot's end of the TCP connection
    activity_id: str = ""  # the id the connector gave the new activity


@dataclass(frozen=True)
class CreatedConversation:
    """One `POST v3/conversations`: a new channel thread the bot started."""

    conversation_id: str
    activity_id: str
    authorization: str | None
    body: dict[str, Any]

    @property
    def channel_id(self) -> str:
        """The channel the thread was started in (`channelData.channel.id`)."""
        return str(self.body["channelData"]["channel"]["id"])

    @property
    def activity(self) -> dict[str, Any]:
        """The thread's root post."""
        activity: dict[str, Any] = self.body["activity"]
        return activity


@dataclass
class FakeBotConnector:
    """Records `POST {prefix}v3/conversations/{id}/activities[/{id}]` (in `calls`), new
    channel threads `POST {prefix}v3/conversations` (in `created`) and updates
    `PUT {prefix}v3/conversations/{id}/activities/{id}` (in `updated`); can fail on request.

    Teams' serviceUrls carry a path (`https://smba.trafficmanager.net/emea/`); `prefix` is it.
    """

    prefix: str = "/"
    calls: list[ConnectorCall] = field(default_factory=list)
    failures: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: list[CreatedConversation] = field(default_factory=list)
    updated: list[ConnectorCall] = field(default_factory=list)
    server: TestServer | None = None
    # When set, a typing indicator is answered only once the event is set (a slow connector).
    typing_gate: asyncio.Event | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None

    def app(self) -> web.Application:
        """The aiohttp app serving the connector's conversation routes."""
        app = web.Application()
        route = self.prefix + "v3/conversations/{conversation_id}/activities"
        app.router.add_post(route, self._post)
        app.router.add_post(route + "/{activity_id}", self._post)
        app.router.add_put(route + "/{activity_id}", self._update)
        app.router.add_post(self.prefix + "v3/conversations", self._create)
        members = self.prefix + "v3/conversations/{conversation_id}/members/{member_id}"
        app.router.add_get(members, self._member)
        return app

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["member_id"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(member)

    @property
    def url(self) -> str:
        """The serviceUrl to put into activities."""
        assert self.server is not None
        return str(self.server.make_url(self.prefix))

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer the next request with `status` instead of accepting it."""
        self.failures.append((status, headers or {}))

    @property
    def messages(self) -> list[ConnectorCall]:
        """Accepted message activities (typing indicators left out)."""
        return [c for c in self.calls if c.body.get("type") == "message"]

    async def wait_for(self, count: int, *, timeout: float = 5.0) -> list[ConnectorCall]:
        """Every call, once at least `count` have arrived; fails the test after `timeout`."""
        await self._wait_until(lambda: len(self.calls) >= count, timeout)
        return list(self.calls)

    async def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[ConnectorCall]:
        """The message calls, once at least `count` have arrived."""
        await self._wait_until(lambda: len(self.messages) >= count, timeout)
        return self.messages

    async def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Return once `predicate` holds (checked after every request); fails after `timeout`."""
        await self._wait_until(predicate, timeout)

    async def _wait_until(self, predicate: Any, timeout: float) -> None:
        changed = self._condition()
        async with asyncio.timeout(timeout), changed:
            await changed.wait_for(predicate)

    async def _post(self, request: web.Request) -> web.Response:
        if self.failures:
            return self._failure()
        activity_id = f"bot-activity-{next(self._ids)}"
        self.calls.append(
            ConnectorCall(
                path=request.path,
                conversation_id=request.match_info["conversation_id"],
                reply_to_id=request.match_info.get("activity_id"),
                authorization=request.headers.get("Authorization"),
                body=await request.json(),
                connection=request.transport.get_extra_info("peername")
                if request.transport
                else None,
                activity_id=activity_id,
            )
        )
        await self._notify()
        if self.typing_gate is not None and self.calls[-1].body.get("type") == "typing":
            await self.typing_gate.wait()
        return web.json_response({"id": activity_id})

    async def _create(self, request: web.Request) -> web.Response:
        """Start a channel thread: its id is `<channel>;messageid=<root post id>`, as in Teams."""
        if self.failures:
            return self._failure()
        body = await request.json()
        activity_id = str(next(self._ids))
        channel = str(body["channelData"]["channel"]["id"])
        created = CreatedConversation(
            conversation_id=f"{channel};messageid={activity_id}",
            activity_id=activity_id,
            authorization=request.headers.get("Authorization"),
            body=body,
        )
        self.created.append(created)
        await self._notify()
        answer = {"id": created.conversation_id, "activityId": activity_id}
        return web.json_response(answer, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        if self.failures:
            return self._failure()
        activity_id = request.match_info["activity_id"]
        self.updated.append(
            ConnectorCall(
                path=request.path,
                conversation_id=request.match_info["conversation_id"],
                reply_to_id=activity_id,
                authorization=request.headers.get("Authorization"),
                body=await request.json(),
            )
        )
        await self._notify()
        return web.json_response({"id": activity_id})

    def _failure(self) -> web.Response:
        status, headers = self.failures.popleft()
        return web.json_response({"error": {"code": "Failed"}}, status=status, headers=headers)

    async def _notify(self) -> None:
        changed = self._condition()
        async with changed:
            changed.notify_all()

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed
