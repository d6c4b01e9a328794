"""A fake Webex API on a free local port, which the real webexteamssdk talks to, and Webex's
outbound side: it POSTs signed webhooks to the bot.

Shapes the SDK insists on: POST answers 200 (not 201), DELETE 204, timestamps
`YYYY-MM-DDTHH:MM:SS.mmmZ`, lists paged by `Link: <absolute url>; rel="next"`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.settings import Settings

Json = dict[str, Any]
Handler = Callable[[web.Request], Any]
PREFIX = "/v1/"
BOT_TOKEN = "fake-webex-bot-token"
WEBHOOK_SECRET = "fake-webex-webhook-secret"
DEFAULT_PAGE = 100
STREAM_PIECE = 256 * 1024  # a file's body is written in pieces of this size
MAX_EDITS = 10  # Webex lets a message be edited this often


def webex_id(kind: str, name: str | None = None) -> str:
    """An id shaped like Webex's: unpadded base64 of `ciscospark://us/KIND/<uuid>`."""
    raw = f"ciscospark://us/{kind}/{name or uuid.uuid4()}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


def timestamp(moment: datetime | None = None) -> str:
    """Webex's timestamp format, with milliseconds and a Z."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class FakeFile:
    """A file behind `contents/{id}`; `scan` lists the malware-scan states the next GETs see
    (`scanning` → 423, `infected` → 410, `unscannable` → 428), then it is `clean`."""

    name: str
    data: bytes
    content_type: str = "text/plain"
    scan: deque[str] = field(default_factory=deque)
    final: str = "clean"
    chunked: bool = False  # send no Content-Length (chunked transfer encoding)
    gate: asyncio.Event | None = None  # when given, the body halts after one piece until set
    cut_short: bool = False  # the connection breaks after the body's first piece
    redirect_to: str | None = None  # answer 302 with this Location instead of the body
    transfers: list[Transfer] = field(default_factory=list)

    def state(self) -> str:
        """The state this request sees."""
        return self.scan.popleft() if self.scan else self.final


@dataclass
class Transfer:
    """One GET of a file's body: how far it got, and the connection it went over."""

    transport: asyncio.BaseTransport | None
    sent: int = 0
    complete: bool = False
    aborted: bool = False  # the client went away before the end

    @property
    def connection_closed(self) -> bool:
        """Whether the client's connection is gone (a finished body keeps it alive)."""
        return self.transport is None or self.transport.is_closing()


@dataclass(frozen=True)
class Failure:
    """Answer the next request matching `method` and `path_contains` with `status`."""

    method: str
    path_contains: str
    status: int
    headers: dict[str, str]


@dataclass
class FakeWebex:
    """The Webex API state a bot sees; tests arrange it and read what the bot did."""

    token: str = BOT_TOKEN
    secret: str = WEBHOOK_SECRET
    org_id: str = field(default_factory=lambda: webex_id("ORGANIZATION"))
    people: dict[str, Json] = field(default_factory=dict)
    rooms: dict[str, Json] = field(default_factory=dict)
    messages: dict[str, Json] = field(default_factory=dict)
    actions: dict[str, Json] = field(default_factory=dict)
    webhooks: dict[str, Json] = field(default_factory=dict)
    memberships: list[Json] = field(default_factory=list)
    edits: dict[str, int] = field(default_factory=dict)  # message id -> times edited
    files: dict[str, FakeFile] = field(default_factory=dict)
    failures: deque[Failure] = field(default_factory=deque)
    delays: dict[tuple[str, str], float] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    page_size: int = DEFAULT_PAGE
    server: TestServer | None = None
    bot: Json = field(init=False)
    _changed: asyncio.Condition | None = None
    _notifications: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.bot = self.add_person("SLA Desk", "sla-desk@webex.bot", org_id=self.org_id, kind="bot")

    # --- the test's side -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """WEBEX_API_URL for the bot."""
        assert self.server is not None
        return str(self.server.make_url(PREFIX))

    def add_person(
        self, name: str, email: str, *, org_id: str | None = None, kind: str = "person"
    ) -> Json:
        """A Webex user (or the bot) with an e-mail and an organisation."""
        person: Json = {
            "id": webex_id("PEOPLE"),
            "emails": [email],
            "displayName": name,
            "nickName": name.split(maxsplit=1)[0],
            "orgId": org_id or webex_id("ORGANIZATION"),
            "type": kind,
            "created": timestamp(),
        }
        self.people[person["id"]] = person
        return person

    def add_room(self, kind: str = "direct", title: str = "") -> Json:
        """A space: `direct` (1:1 with the bot) or `group`."""
        room: Json = {
            "id": webex_id("ROOM"),
            "title": title or f"{kind} space",
            "type": kind,
            "isLocked": False,
            "creatorId": self.bot["id"],
            "created": timestamp(),
            "lastActivity": timestamp(),
        }
        self.rooms[room["id"]] = room
        return room

    def add_file(
        self,
        name: str,
        data: bytes,
        *,
        content_type: str = "text/plain",
        scan: tuple[str, ...] = (),
        chunked: bool = False,
        gate: asyncio.Event | None = None,
    ) -> str:
        """A file people can attach; returns its `contents/{id}` URL."""
        file_id = webex_id("CONTENT")
        self.files[file_id] = FakeFile(
            name, data, content_type, deque(scan), chunked=chunked, gate=gate
        )
        return f"{self.base_url}contents/{file_id}"

    def say(
        self,
        person: Json,
        room: Json,
        text: str,
        *,
        mention_bot: bool = False,
        parent_id: str | None = None,
        files: tuple[str, ...] = (),
    ) -> Json:
        """A message someone writes (as Webex stores it); deliver its webhook separately."""
        message: Json = {"roomId": room["id"], "roomType": room["type"], "text": text}
        if mention_bot:
            bot_name = self.bot["displayName"]
            message["text"] = f"{bot_name} {text}"
            message["html"] = (
                f'<p><spark-mention data-object-type="person" data-object-id="{self.bot["id"]}">'
                f"{bot_name}</spark-mention> {text}</p>"
            )
            message["mentionedPeople"] = [self.bot["id"]]
        if parent_id:
            message["parentId"] = parent_id
        if files:
            message["files"] = list(files)
        return self._store_message(message, author=person)

    def submit(self, person: Json, card_message: Json, inputs: Json) -> Json:
        """A card submit (an attachment action) on a card the bot sent."""
        action: Json = {
            "id": webex_id("ATTACHMENT_ACTION"),
            "type": "submit",
            "messageId": card_message["id"],
            "roomId": card_message["roomId"],
            "personId": person["id"],
            "inputs": inputs,
            "created": timestamp(),
        }
        self.actions[action["id"]] = action
        return action

    def add_webhook(self, **fields: Any) -> Json:
        """A webhook that already exists (someone else's, or an old one of the bot's)."""
        hook = self._webhook(fields)
        self.webhooks[hook["id"]] = hook
        return hook

    def file(self, url: str) -> FakeFile:
        """The file behind a `contents/{id}` URL."""
        return self.files[url.rsplit("/", 1)[1]]

    def fail_next(
        self, status: int, *, method: str = "POST", path: str = "messages", **headers: str
    ) -> None:
        """Answer the next matching request with `status` (e.g. 429 with Retry-After)."""
        self.failures.append(Failure(method, path, status, dict(headers)))

    def slow(self, method: str, resource: str, seconds: float) -> None:
        """Delay every answer to `method resource` by `seconds`."""
        self.delays[(method, resource)] = seconds

    @property
    def sent(self) -> list[Json]:
        """Messages the bot created, oldest first."""
        return [m for m in self.messages.values() if m["personId"] == self.bot["id"]]

    async def wait_for_sent(self, count: int, *, timeout: float = 10.0) -> list[Json]:
        """The bot's messages, once at least `count` exist; fails the test after `timeout`."""
        changed = self._condition()
        async with asyncio.timeout(timeout), changed:
            await changed.wait_for(lambda: len(self.sent) >= count)
        return self.sent

    async def wait_for_call(self, method: str, resource: str, *, timeout: float = 10.0) -> None:
        """Return once the bot has called `method resource` (even if it is still waiting)."""
        await self.wait_until(lambda: (method, resource) in self.calls, timeout=timeout)

    async def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 10.0) -> None:
        """Return once `predicate` holds, checked whenever the bot called the API."""
        changed = self._condition()
        async with asyncio.timeout(timeout), changed:
            await changed.wait_for(predicate)

    async def deliver(
        self,
        url: str,
        resource: str,
        data: Json,
        *,
        signature: str | None = "sign",
        secret: str | None = None,
        body: bytes | None = None,
        actor_id: str | None = None,
    ) -> int:
        """POST a webhook the way Webex does: signed with HMAC-SHA1 over the raw body.

        `signature=None` sends none; any other string than "sign" is sent as is. `actor_id`
        is who caused the event (default: the `personId` of `data`).
        """
        raw = body if body is not None else self.webhook_body(resource, data, actor_id=actor_id)
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Spark-Signature"] = self.sign(raw, secret=secret)
        elif signature is not None:
            headers["X-Spark-Signature"] = signature
        async with ClientSession() as session, session.post(url, data=raw, headers=headers) as r:
            return r.status

    def webhook_body(self, resource: str, data: Json, *, actor_id: str | None = None) -> bytes:
        """The raw body of a `created` webhook delivery for `resource` with `data`."""
        envelope = self._envelope(resource, data)
        if actor_id is not None:
            envelope["actorId"] = actor_id
        return json.dumps(envelope).encode()

    def sign(self, body: bytes, *, secret: str | None = None) -> str:
        """Webex's X-Spark-Signature for `body`: hex HMAC-SHA1 with the webhook secret."""
        key = (secret or self.secret).encode()
        return hmac.new(key, body, hashlib.sha1).hexdigest()

    def message_data(self, message: Json) -> Json:
        """The `data` of a `messages`/`created` webhook: ids only, never the text."""
        keys = ("id", "roomId", "roomType", "personId", "personEmail", "created")
        return {key: message[key] for key in keys if key in message}

    def membership_data(self, room: Json, *, person: Json | None = None) -> Json:
        """The `data` of a `memberships`/`created` webhook: `person` (default the bot) joined
        `room`; the membership is new each time."""
        member = person or self.bot
        membership: Json = {
            "id": webex_id("MEMBERSHIP"),
            "roomId": room["id"],
            "roomType": room["type"],
            "personId": member["id"],
            "personEmail": member["emails"][0],
            "isModerator": False,
            "created": timestamp(),
        }
        self.memberships.append(membership)
        return membership

    def action_data(self, action: Json) -> Json:
        """The `data` of an `attachmentActions`/`created` webhook."""
        keys = ("id", "type", "messageId", "roomId", "personId", "created")
        return {key: action[key] for key in keys}

    # --- the API -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp app serving the API under /v1/."""
        app = web.Application(middlewares=[self._middleware])
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "people/me", self._me),
            ("GET", "people/{id}", self._person),
            ("GET", "people", self._list_people),
            ("GET", "rooms", self._list_rooms),
            ("GET", "rooms/{id}", self._room),
            ("GET", "memberships", self._list_memberships),
            ("POST", "messages", self._create_message),
            ("GET", "messages", self._list_messages),
            ("GET", "messages/{id}", self._message),
            ("PUT", "messages/{id}", self._edit_message),
            ("DELETE", "messages/{id}", self._delete_message),
            ("GET", "attachment/actions/{id}", self._action),
            ("GET", "contents/{id}", self._content),
            ("GET", "webhooks", self._list_webhooks),
            ("POST", "webhooks", self._create_webhook),
            ("GET", "webhooks/{id}", self._get_webhook),
            ("PUT", "webhooks/{id}", self._update_webhook),
            ("DELETE", "webhooks/{id}", self._delete_webhook),
        ]
        for method, path, handler in routes:
            if method == "GET":  # HEAD too: files are described by a HEAD request
                app.router.add_get(PREFIX + path, handler)
            else:
                app.router.add_route(method, PREFIX + path, handler)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.path.removeprefix(PREFIX)
        self.calls.append((request.method, resource))
        self._notify()
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "The request requires a valid access token.")
        for failure in list(self.failures):
            if failure.method == request.method and failure.path_contains in resource:
                self.failures.remove(failure)
                return _error(failure.status, "injected failure", failure.headers)
        delay = self.delays.get((request.method, resource.split("/")[0]))
        if delay:
            await asyncio.sleep(delay)
        response: web.StreamResponse = await handler(request)
        self._notify()  # the state changed: wake whoever waits for it
        return response

    async def _me(self, _request: web.Request) -> web.Response:
        return web.json_response(self.bot)

    async def _person(self, request: web.Request) -> web.Response:
        return _found(self.people.get(request.match_info["id"]), "person")

    async def _list_people(self, request: web.Request) -> web.Response:
        email = request.query.get("email")
        people = [p for p in self.people.values() if email is None or email in p["emails"]]
        return self._page(request, people)

    async def _list_rooms(self, request: web.Request) -> web.Response:
        return self._page(request, list(self.rooms.values()))

    async def _room(self, request: web.Request) -> web.Response:
        return _found(self.rooms.get(request.match_info["id"]), "room")

    async def _list_memberships(self, request: web.Request) -> web.Response:
        room = request.query.get("roomId")
        return self._page(request, [m for m in self.memberships if room in (None, m["roomId"])])

    async def _create_message(self, request: web.Request) -> web.Response:
        if request.content_type.startswith("multipart/"):
            fields = await self._multipart_fields(request)
        else:
            fields = await request.json()
        room = self.rooms.get(fields.get("roomId", ""))
        if room is None:
            return _error(404, "room not found")
        fields["roomType"] = room["type"]
        return web.json_response(self._store_message(fields, author=self.bot))

    async def _multipart_fields(self, request: web.Request) -> Json:
        form = await request.post()
        fields: Json = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                file_id = webex_id("CONTENT")
                data = value.file.read()
                self.files[file_id] = FakeFile(value.filename, data, value.content_type)
                fields["files"] = [f"{self.base_url}contents/{file_id}"]
            else:
                fields[key] = value
        return fields

    async def _list_messages(self, request: web.Request) -> web.Response:
        room = request.query.get("roomId")
        if room is None:
            return _error(400, "roomId is required")
        parent = request.query.get("parentId")
        found = [
            m
            for m in self.messages.values()
            if m["roomId"] == room and (parent is None or m.get("parentId") == parent)
        ]
        return self._page(request, list(reversed(found)))  # newest first, as Webex lists

    async def _message(self, request: web.Request) -> web.Response:
        return _found(self.messages.get(request.match_info["id"]), "message")

    async def _edit_message(self, request: web.Request) -> web.Response:
        """Webex's rules: only the bot's own messages, only their text, at most `MAX_EDITS`
        times, never one that carries files or a card; `roomId` and a text are required."""
        message = self.messages.get(request.match_info["id"])
        if message is None:
            return _error(404, "message not found")
        if message["personId"] != self.bot["id"]:
            return _error(403, "only the author may edit a message")
        changes = await request.json()
        if changes.get("roomId") != message["roomId"]:
            return _error(400, "roomId is required and must be the message's room")
        if not (changes.get("text") or changes.get("markdown")):
            return _error(400, "text or markdown is required")
        if set(changes) - {"roomId", "text", "markdown"}:
            return _error(400, "only text and markdown can be edited")
        if message.get("files") or message.get("attachments"):
            return _error(400, "a message with files or attachments cannot be edited")
        if self.edits.get(message["id"], 0) >= MAX_EDITS:
            return _error(400, f"a message can be edited at most {MAX_EDITS} times")
        self.edits[message["id"]] = self.edits.get(message["id"], 0) + 1
        message.pop("markdown", None)
        message.pop("text", None)
        message.update(changes, updated=timestamp())
        return web.json_response(message)

    async def _delete_message(self, request: web.Request) -> web.Response:
        if self.messages.pop(request.match_info["id"], None) is None:
            return _error(404, "message not found")
        return web.Response(status=204)

    async def _action(self, request: web.Request) -> web.Response:
        return _found(self.actions.get(request.match_info["id"]), "attachment action")

    async def _content(self, request: web.Request) -> web.StreamResponse:
        file = self.files.get(request.match_info["id"])
        if file is None:
            return _error(404, "content not found")
        if file.redirect_to is not None:
            raise web.HTTPFound(file.redirect_to)
        state = file.state()
        if state == "scanning":
            return _error(423, "file is being scanned", {"Retry-After": "0"})
        if state == "infected":
            return _error(410, "file is infected")
        if state == "unscannable" and request.query.get("allow") != "unscannable":
            return _error(428, "file could not be scanned")
        headers = {"Content-Disposition": f'attachment; filename="{file.name}"'}
        if request.method == "HEAD":
            return web.Response(body=file.data, content_type=file.content_type, headers=headers)
        return await self._stream(request, file, headers)

    async def _stream(
        self, request: web.Request, file: FakeFile, headers: dict[str, str]
    ) -> web.StreamResponse:
        """The body in pieces, as a real server sends a large file; recorded in `transfers`."""
        transfer = Transfer(request.transport)
        file.transfers.append(transfer)
        response = web.StreamResponse(headers=headers)
        response.content_type = file.content_type
        if not file.chunked:
            response.content_length = len(file.data)
        await response.prepare(request)
        try:
            for start in range(0, len(file.data), STREAM_PIECE):
                piece = file.data[start : start + STREAM_PIECE]
                await response.write(piece)
                transfer.sent += len(piece)
                if file.gate is not None:
                    await file.gate.wait()
                if file.cut_short and request.transport is not None:
                    request.transport.abort()
            await response.write_eof()
            transfer.complete = True
        except ConnectionError:
            pass  # the client went away (aiohttp may cancel the handler instead)
        finally:
            transfer.aborted = not transfer.complete
        return response

    async def _list_webhooks(self, request: web.Request) -> web.Response:
        return self._page(request, list(self.webhooks.values()))

    async def _create_webhook(self, request: web.Request) -> web.Response:
        hook = self._webhook(await request.json())
        self.webhooks[hook["id"]] = hook
        return web.json_response(hook)

    async def _get_webhook(self, request: web.Request) -> web.Response:
        return _found(self.webhooks.get(request.match_info["id"]), "webhook")

    async def _update_webhook(self, request: web.Request) -> web.Response:
        hook = self.webhooks.get(request.match_info["id"])
        if hook is None:
            return _error(404, "webhook not found")
        changes = await request.json()
        if not {"name", "targetUrl"} <= changes.keys():
            return _error(400, "name and targetUrl are required")
        allowed = {"name", "targetUrl", "secret", "status", "ownedBy"}
        hook.update({k: v for k, v in changes.items() if k in allowed})
        return web.json_response(hook)

    async def _delete_webhook(self, request: web.Request) -> web.Response:
        if self.webhooks.pop(request.match_info["id"], None) is None:
            return _error(404, "webhook not found")
        return web.Response(status=204)

    # --- helpers -----------------------------------------------------------------------------

    def _store_message(self, fields: Json, *, author: Json) -> Json:
        message: Json = {
            "id": webex_id("MESSAGE"),
            **fields,
            "personId": author["id"],
            "personEmail": author["emails"][0],
            "created": timestamp(),
        }
        self.messages[message["id"]] = message
        self._notify()
        return message

    def _webhook(self, fields: Json) -> Json:
        return {
            "id": webex_id("WEBHOOK"),
            "status": "active",
            "orgId": self.org_id,
            "createdBy": self.bot["id"],
            "appId": webex_id("APPLICATION"),
            "ownedBy": "creator",
            "created": timestamp(),
            **fields,
        }

    def _envelope(self, resource: str, data: Json) -> Json:
        return {
            "id": webex_id("WEBHOOK"),
            "name": f"chatops {resource}",
            "targetUrl": "https://bot.example/api/webex",
            "resource": resource,
            "event": "created",
            "orgId": self.org_id,
            "createdBy": self.bot["id"],
            "appId": webex_id("APPLICATION"),
            "ownedBy": "creator",
            "status": "active",
            "created": timestamp(),
            "actorId": data.get("personId", ""),
            "data": data,
        }

    def _page(self, request: web.Request, items: list[Json]) -> web.Response:
        size = int(request.query.get("max") or self.page_size)
        size = min(size, self.page_size)
        start = int(request.query.get("cursor") or 0)
        response = web.json_response({"items": items[start : start + size]})
        if start + size < len(items):
            query = {**request.query, "cursor": str(start + size), "max": str(size)}
            response.headers["Link"] = f'<{request.url.with_query(query)}>; rel="next"'
        return response

    def _notify(self) -> None:
        changed = self._condition()

        async def notify() -> None:
            async with changed:
                changed.notify_all()

        task = asyncio.get_running_loop().create_task(notify())
        self._notifications.add(task)  # a strong reference until it ran
        task.add_done_callback(self._notifications.discard)

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed


def _found(item: Json | None, what: str) -> web.Response:
    return web.json_response(item) if item is not None else _error(404, f"{what} not found")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"message": message, "errors": [{"description": message}], "trackingId": "FAKE_1"}
    return web.json_response(body, status=status, headers=headers)


class running_fake_webex:
    """Start a `FakeWebex` on a free port; stop it on exit."""

    def __init__(self, fake: FakeWebex | None = None) -> None:
        self.fake = fake or FakeWebex()

    async def __aenter__(self) -> FakeWebex:
        server = TestServer(self.fake.app(), host="127.0.0.1")
        await server.start_server()
        self.fake.server = server
        return self.fake

    async def __aexit__(self, *_exc: object) -> None:
        assert self.fake.server is not None
        await self.fake.server.close()


def bot_settings(settings: Settings, fake: FakeWebex, **extra: object) -> Settings:
    """`settings` with the Webex channel pointed at `fake` (token, secret, API URL)."""
    update: dict[str, object] = {
        "webex_bot_token": SecretStr(fake.token),
        "webex_webhook_secret": SecretStr(fake.secret),
        "webex_api_url": fake.base_url,
        **extra,
    }
    return settings.model_copy(update=update)
