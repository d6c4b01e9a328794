"""Async test harness for the Microsoft 365 Agents Playground (``@microsoft/m365agentsplayground``).

The Playground is an offline Teams/Bot Connector emulator. It posts activities to an *anonymous*
bot (empty app id, no auth header) and serves a mocked Bot Connector at ``{base_url}/_connector``
(the ``serviceUrl`` of every activity it sends). Everything (UI, connector, test API, WebSockets)
is served from ONE port. ``Playground.start()`` passes ``--port 0`` so the OS picks a free port
(the CLI prints ``Listening on <port>`` on a non-TTY stdout; a busy fixed port silently falls back
to a random one, so the actual port is always parsed from that line). Several instances can
therefore run at the same time; each has its own mock state and random chat ids.

Verified facts for v0.2.28 (see the bundled ``dist/index.js``):

* Launch: ``agentsplayground start -e <bot endpoint> -c msteams -p 0 --dt`` with env
  ``TEAMSAPPTESTER_BROWSER=none`` and ``APPLICATION_INSIGHTS_NO_STATSBEAT=true``. Console
  output goes to ``M365_AGENTS_PLAYGROUND_LOGFILE`` (default
  ``./devTools/m365agentsplayground.log``), so the process runs in a private temporary
  directory and the log file is quoted in startup errors. A ``.m365agentsplayground.yml`` in
  the working directory (or ``M365_AGENTS_PLAYGROUND_CONFIG_PATH``) replaces the mock data;
  pass ``config_file=`` to use one. ``--dt`` stops telemetry events, but an invalid config
  file is reported to Application Insights before ``--dt`` takes effect, so the child's
  ``https_proxy`` points at a dead local port: nothing can leave the machine.
* ``GET /_debug/ping`` -> ``pong``. ``GET /_internal/v1/config`` -> ``{"config": ...,
  "internalConfig": ...}``; it first waits (up to 15 s) for the bot endpoint to accept
  connections.
* ``POST /_conversation/v1/conversations/{id}/messages`` with ``{"from": {"id"}, "text",
  "textFormat": "plain"|"markdown"|"xml", "mentions"?: [{"mentioned": {"id"}, "text"}]}``
  (``textFormat`` is REQUIRED, else 400). The activity's ``from`` is ALWAYS the configured
  current user, whatever ``from.id`` says (it is only validated). The bot is called only in
  the personal chat or when ``mentions`` contains the bot id. Posting to a channel id starts
  a new thread: the response carries ``postConversationId`` =
  ``"{channel};messageid={messageId}"`` and the bot sees that as ``conversation.id``. To act
  as another user, ``send(..., user_id=...)`` posts a hand-built activity to
  ``POST /_internal/v1/customActivities`` (raw activity, forwarded verbatim to the bot).
* ``POST /_conversation/v1/submit`` with ``{"conversation": {"id"}, "from": {"id"},
  "replyToId": <bot message id>, "value": {...}}`` -> the bot gets a ``message`` with
  ``value`` (no text); ``from`` IS honoured here. ``POST /_conversation/v1/invoke`` with
  ``{"name": "adaptiveCard/action", "conversation": {"id"}, "from": {"id"}, "replyToId",
  "value": {"action": {"type": "Action.Execute", "verb", "data"}, "trigger": "manual"}}``
  returns the bot's invoke body as ``{"type", "value"}`` (502 if the bot fails); ``from`` is
  honoured.
* ``/_ws_conversation/v1/conversations/stream`` sends JSON text frames ``{"action":
  "createMessage" | "updateMessage" | "typing", "actionConversationId": ..., "message":
  {"messageId", "timestamp", "from": {"id"}, "text", "textFormat", "attachments":
  [{"contentType", "content"}], "mentions", "postConversationId"?, ...}}`` for BOT output
  only, and only for chats the current user is in (frames are buffered while no client is
  connected). ``/_ws/log/stream`` sends ``{"logAction": "appendLog", "log": {...}}`` for
  every request between bot and Playground (all conversations, including 1:1 chats the bot
  opened with other users); see :class:`ConnectorCall`.

Usage::

    async with Playground.start(bot_endpoint=f"http://127.0.0.1:{port}/api/messages") as pg:
        sent = await pg.send(pg.personal_chat_id, "hello")
        reply = await pg.next_bot_activity(sent.conversation_id, timeout=10)
        assert reply.text == "echo: hello"
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = REPO_ROOT / "node_modules" / ".bin" / "agentsplayground"

JsonDict = dict[str, Any]
_T = TypeVar("_T")
_BLACKHOLE_PROXY = "http://127.0.0.1:9"


class PlaygroundError(RuntimeError):
    """The Playground failed to start, rejected a request or did not produce expected output."""


@dataclass(frozen=True)
class BotEvent:
    """One frame of the conversation WebSocket: something the bot showed to the current user."""

    action: str
    """``"createMessage"``, ``"updateMessage"`` or ``"typing"``."""
    conversation_id: str
    """``actionConversationId``: chat id, channel thread id, or channel id (new root post)."""
    message: Mapping[str, Any]
    raw: Mapping[str, Any]

    @property
    def is_typing(self) -> bool:
        return self.action == "typing"

    @property
    def message_id(self) -> str | None:
        value = self.message.get("messageId")
        return None if value is None else str(value)

    @property
    def text(self) -> str | None:
        value = self.message.get("text")
        return None if value is None else str(value)

    @property
    def attachments(self) -> list[JsonDict]:
        value = self.message.get("attachments")
        return list(value) if isinstance(value, list) else []

    @property
    def post_conversation_id(self) -> str | None:
        """Set when the bot started a new channel thread: the thread's conversation id."""
        value = self.message.get("postConversationId")
        return None if value is None else str(value)

    def in_conversation(self, conversation_id: str) -> bool:
        return conversation_id in (self.conversation_id, self.post_conversation_id)

    def adaptive_cards(self) -> list[JsonDict]:
        return [
            dict(a["content"])
            for a in self.attachments
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]


@dataclass(frozen=True)
class ConnectorCall:
    """One entry of the log WebSocket (``log.type == "bot"``): a bot <-> Playground request.

    ``direction == "from_bot"``: the bot called the mocked connector (``name`` is the logged
    activity name, e.g. ``"message"``, ``"typing"``, ``"createConversation"``; ``request`` is
    the JSON the bot sent). ``"to_bot"``: the Playground called the bot.
    """

    name: str
    direction: Literal["from_bot", "to_bot"]
    conversation_id: str | None
    request: Any
    response_status: int | None
    response_body: Any
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class SentMessage:
    message_id: str | None
    conversation_id: str
    """Where the bot will answer: the chat id, or the new thread id when posting to a channel."""


@dataclass
class _Process:
    proc: asyncio.subprocess.Process
    workdir: Path
    log_file: Path
    output: list[str] = field(default_factory=list)
    drain: asyncio.Task[None] | None = None


class Playground:
    """A running Playground; create it with ``async with Playground.start(...) as pg``."""

    def __init__(
        self,
        process: _Process,
        base_url: str,
        session: aiohttp.ClientSession,
    ) -> None:
        self._process = process
        self.base_url = base_url
        self._session = session
        self._config: JsonDict = {}
        self.bot_events: list[BotEvent] = []
        self.connector_calls: list[ConnectorCall] = []
        self._cursors: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._websockets: list[aiohttp.ClientWebSocketResponse] = []

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        bot_endpoint: str,
        *,
        channel_id: str = "msteams",
        port: int = 0,
        config_file: Path | None = None,
        personal_conversation_id: str | None = None,
        binary: Path = DEFAULT_BINARY,
        startup_timeout: float = 30.0,
    ) -> AsyncIterator[Playground]:
        """Launch the Playground against ``bot_endpoint`` and yield a connected harness.

        The bot should already be listening (the config call waits up to 15 s for it).
        ``port=0`` (default) lets the OS pick a free port.
        """
        if not await asyncio.to_thread(binary.exists):
            raise PlaygroundError(f"Playground binary not found: {binary} (run `npm ci`)")
        with tempfile.TemporaryDirectory(prefix="playground-") as tmp:
            workdir = Path(tmp)
            log_file = workdir / "playground.log"
            env = _child_env(log_file, config_file)
            args = [
                "start",
                "--app-endpoint",
                bot_endpoint,
                "--channel-id",
                channel_id,
                "--port",
                str(port),
                "--disable-telemetry",
            ]
            if personal_conversation_id is not None:
                args += ["--conversation-id", personal_conversation_id]
            proc = await asyncio.create_subprocess_exec(
                str(binary),
                *args,
                cwd=workdir,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
            process = _Process(proc=proc, workdir=workdir, log_file=log_file)
            try:
                async with aiohttp.ClientSession() as session:
                    real_port = await _wait_for_port(process, startup_timeout)
                    pg = cls(process, f"http://127.0.0.1:{real_port}", session)
                    try:
                        await pg._connect(startup_timeout)
                        yield pg
                    finally:
                        await pg._disconnect()
            finally:
                await _terminate(proc)
                if process.drain is not None:
                    await process.drain

    async def _connect(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._process.proc.returncode is not None:
                raise PlaygroundError(self._failure("Playground exited during startup"))
            try:
                async with self._session.get(f"{self.base_url}/_debug/ping") as resp:
                    if resp.status == 200 and (await resp.text()) == "pong":
                        break
            except aiohttp.ClientError:
                pass
            if loop.time() > deadline:
                raise PlaygroundError(self._failure("Playground did not answer /_debug/ping"))
            await asyncio.sleep(0.1)
        ws_base = "ws" + self.base_url.removeprefix("http")
        conv_ws = await self._session.ws_connect(
            f"{ws_base}/_ws_conversation/v1/conversations/stream", heartbeat=None
        )
        log_ws = await self._session.ws_connect(f"{ws_base}/_ws/log/stream", heartbeat=None)
        self._websockets += [conv_ws, log_ws]
        self._tasks.append(asyncio.create_task(self._read(conv_ws, self._on_conversation_frame)))
        self._tasks.append(asyncio.create_task(self._read(log_ws, self._on_log_frame)))
        remaining = max(deadline - loop.time(), 20.0)
        async with asyncio.timeout(remaining):
            await self.config(refresh=True)

    async def _disconnect(self) -> None:
        for ws in self._websockets:
            await ws.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _read(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        handler: Callable[[JsonDict], None],
    ) -> None:
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            if isinstance(data, dict):
                handler(data)
                async with self._changed:
                    self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    def _on_conversation_frame(self, data: JsonDict) -> None:
        message = data.get("message")
        self.bot_events.append(
            BotEvent(
                action=str(data.get("action")),
                conversation_id=str(data.get("actionConversationId")),
                message=message if isinstance(message, dict) else {},
                raw=data,
            )
        )

    def _on_log_frame(self, data: JsonDict) -> None:
        log = data.get("log")
        if not isinstance(log, dict) or log.get("type") != "bot":
            return
        request = log.get("request")
        response = log.get("response")
        conv = log.get("conversationId")
        self.connector_calls.append(
            ConnectorCall(
                name=str(log.get("activityName")),
                direction="from_bot" if log.get("from") == "User Application" else "to_bot",
                conversation_id=None if conv is None else str(conv),
                request=request.get("body") if isinstance(request, dict) else None,
                response_status=response.get("statusCode") if isinstance(response, dict) else None,
                response_body=response.get("body") if isinstance(response, dict) else None,
                raw=log,
            )
        )

    def _failure(self, what: str) -> str:
        log = ""
        with contextlib.suppress(OSError):
            log = self._process.log_file.read_text(errors="replace")
        output = "".join(self._process.output)
        return f"{what}.\n--- process output ---\n{output}\n--- playground log ---\n{log}"

    @property
    def log_text(self) -> str:
        """The Playground's own log file (its console output)."""
        try:
            return self._process.log_file.read_text(errors="replace")
        except OSError:
            return ""

    # ------------------------------------------------------------------ mock data
    async def config(self, *, refresh: bool = False) -> JsonDict:
        """``GET /_internal/v1/config`` (cached after startup)."""
        if refresh or not self._config:
            self._config = await self._request("GET", "/_internal/v1/config")
        return self._config

    @property
    def _mock(self) -> JsonDict:
        mock = self._config.get("config")
        if not isinstance(mock, dict):
            raise PlaygroundError("config not loaded")
        return mock

    @property
    def connector_url(self) -> str:
        """The ``serviceUrl`` the bot sees (``http://localhost:{port}/_connector``)."""
        return self.base_url.replace("127.0.0.1", "localhost") + "/_connector"

    @property
    def tenant_id(self) -> str:
        return str(self._mock["tenantId"])

    @property
    def bot_id(self) -> str:
        return str(self._mock["bot"]["id"])

    @property
    def bot_name(self) -> str:
        return str(self._mock["bot"]["name"])

    @property
    def current_user(self) -> JsonDict:
        return dict(self._mock["currentUser"])

    @property
    def current_user_id(self) -> str:
        return str(self._mock["currentUser"]["id"])

    @property
    def users(self) -> list[JsonDict]:
        """The current user first, then the other five mock users."""
        return [self.current_user, *(dict(u) for u in self._mock["users"])]

    def user(self, user_id: str) -> JsonDict:
        for candidate in self.users:
            if candidate["id"] == user_id:
                return candidate
        raise KeyError(user_id)

    @property
    def other_user_ids(self) -> list[str]:
        return [str(u["id"]) for u in self._mock["users"]]

    @property
    def personal_chat_id(self) -> str:
        return str(self._mock["personalChat"]["id"])

    @property
    def group_chat_id(self) -> str:
        return str(self._mock["groupChats"][0]["id"])

    @property
    def team_id(self) -> str:
        return str(self._mock["teams"][0]["id"])

    @property
    def channel_ids(self) -> list[str]:
        """General first (its id equals the team id), then the extra channel."""
        return [str(c["id"]) for c in self._mock["teams"][0]["channels"]]

    # ------------------------------------------------------------------ user actions
    async def send(
        self,
        conversation_id: str,
        text: str,
        *,
        user_id: str | None = None,
        mention_bot: bool = False,
        mentions: Sequence[Mapping[str, Any]] = (),
        text_format: str = "plain",
    ) -> SentMessage:
        """Send ``text`` as a user. ``mention_bot`` prefixes ``<at>{bot name}</at> `` and adds the
        mention entity (required in the group chat and channels, or the bot is not called).

        With ``user_id`` other than the current user the message is injected as a custom activity
        into ``conversation_id`` verbatim (for a channel, pass a thread id from an earlier
        :class:`SentMessage`, or the bot's replies become new root posts). ``mentions`` items are
        ``{"mentioned": {"id": ...}, "text": "<at>Name</at>"}``.
        """
        all_mentions = [dict(m) for m in mentions]
        if mention_bot:
            tag = f"<at>{self.bot_name}</at>"
            text = f"{tag} {text}"
            all_mentions.insert(0, {"mentioned": {"id": self.bot_id}, "text": tag})
        if user_id is not None and user_id != self.current_user_id:
            activity = self.build_activity(
                conversation_id, user_id=user_id, text=text, mentions=all_mentions
            )
            await self.send_activity(activity)
            return SentMessage(message_id=str(activity["id"]), conversation_id=conversation_id)
        body: JsonDict = {
            "from": {"id": self.current_user_id},
            "text": text,
            "textFormat": text_format,
        }
        if all_mentions:
            body["mentions"] = all_mentions
        result = await self._request(
            "POST", f"/_conversation/v1/conversations/{conversation_id}/messages", body
        )
        message_id = result.get("messageId")
        return SentMessage(
            message_id=None if message_id is None else str(message_id),
            conversation_id=str(result.get("postConversationId") or conversation_id),
        )

    async def submit(
        self,
        conversation_id: str,
        reply_to_id: str,
        value: Mapping[str, Any],
        *,
        user_id: str | None = None,
    ) -> None:
        """Press an ``Action.Submit``: ``value`` is the action's ``data`` merged with the inputs.
        ``reply_to_id`` must be the ``message_id`` of a bot message in ``conversation_id``."""
        body = {
            "conversation": {"id": conversation_id},
            "from": {"id": user_id or self.current_user_id},
            "replyToId": reply_to_id,
            "value": dict(value),
        }
        await self._request("POST", "/_conversation/v1/submit", body)

    async def invoke(
        self,
        conversation_id: str,
        reply_to_id: str,
        *,
        verb: str,
        data: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        name: str = "adaptiveCard/action",
    ) -> JsonDict:
        """Press an ``Action.Execute``; returns the bot's invoke body as ``{"type", "value"}``."""
        body = {
            "name": name,
            "conversation": {"id": conversation_id},
            "from": {"id": user_id or self.current_user_id},
            "replyToId": reply_to_id,
            "value": {
                "action": {"type": "Action.Execute", "verb": verb, "data": dict(data or {})},
                "trigger": "manual",
            },
        }
        return await self._request("POST", "/_conversation/v1/invoke", body)

    async def send_activity(self, activity: Mapping[str, Any]) -> None:
        """Forward a raw activity to the bot (``POST /_internal/v1/customActivities``).

        Fire-and-forget: the Playground answers 200 before calling the bot. The conversation id
        must exist in the Playground or the bot's replies fail with ``ConversationNotFound``."""
        await self._request("POST", "/_internal/v1/customActivities", dict(activity))

    async def activity_template(self, conversation_id: str, kind: str | None = None) -> JsonDict:
        """The Playground's own template (``kind``: install, uninstall, userAdded, userRemoved,
        botAdded, botRemoved, channelCreated, channelRenamed, channelDeleted, teamRenamed, ...)."""
        params = {"conversationId": conversation_id}
        if kind is not None:
            params["type"] = kind
        return await self._request("GET", "/_internal/v1/customActivities/template", params=params)

    async def install(self, conversation_id: str) -> None:
        """Simulate installing the app: ``installationUpdate`` (Teams) + ``conversationUpdate``."""
        await self._request("POST", f"/_debug/conversation/{conversation_id}/installation", {})

    def build_activity(
        self,
        conversation_id: str,
        *,
        user_id: str,
        text: str | None = None,
        mentions: Sequence[Mapping[str, Any]] = (),
        activity_type: str = "message",
        value: Any = None,
    ) -> JsonDict:
        """An activity shaped like the ones the Playground generates, from any mock user."""
        sender = self.user(user_id)
        channel = conversation_id.split(";", 1)[0]
        conversation: JsonDict = {"id": conversation_id, "tenantId": self.tenant_id}
        channel_data: JsonDict = {"tenant": {"id": self.tenant_id}}
        if conversation_id == self.group_chat_id:
            conversation |= {"isGroup": True, "conversationType": "groupChat"}
        elif channel in self.channel_ids:
            conversation |= {"isGroup": True, "conversationType": "channel"}
            channel_data |= {
                "teamsChannelId": channel,
                "teamsTeamId": self.team_id,
                "team": {"id": self.team_id},
                "channel": {"id": channel},
            }
        else:
            conversation["conversationType"] = "personal"
        entities: list[JsonDict] = [
            {
                "type": "mention",
                "mentioned": {
                    "id": m["mentioned"]["id"],
                    "name": self._account_name(str(m["mentioned"]["id"])),
                },
                "text": m["text"],
            }
            for m in mentions
        ]
        entities.append({"type": "clientInfo", "locale": "en-US", "country": "US"})
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        activity: JsonDict = {
            "type": activity_type,
            "id": str(uuid.uuid4()),
            "timestamp": now,
            "channelId": "msteams",
            "serviceUrl": self.connector_url,
            "from": {
                "id": user_id,
                "name": sender.get("name"),
                "aadObjectId": sender.get("aadObjectId"),
            },
            "recipient": {"id": self.bot_id, "name": self.bot_name},
            "conversation": conversation,
            "locale": "en-US",
            "entities": entities,
            "channelData": channel_data,
        }
        if text is not None:
            activity |= {"text": text, "textFormat": "plain"}
        if value is not None:
            activity["value"] = value
        return activity

    def _account_name(self, account_id: str) -> str:
        if account_id == self.bot_id:
            return self.bot_name
        with contextlib.suppress(KeyError):
            return str(self.user(account_id)["name"])
        return account_id

    # ------------------------------------------------------------------ bot output
    def mark(self) -> int:
        """Position in :attr:`bot_events`; pass it as ``since=`` to ignore earlier output."""
        return len(self.bot_events)

    async def wait_for(
        self,
        predicate: Callable[[BotEvent], bool],
        *,
        timeout: float = 10.0,
        since: int = 0,
    ) -> BotEvent:
        """The first bot event at index >= ``since`` matching ``predicate``."""
        index = await self._wait_index(self.bot_events, predicate, since, timeout)
        return self.bot_events[index]

    async def next_bot_activity(
        self,
        conversation_id: str,
        *,
        timeout: float = 10.0,
        include_typing: bool = False,
        include_updates: bool = False,
    ) -> BotEvent:
        """The next not-yet-returned bot message in ``conversation_id`` (a chat id, a channel
        thread id, or a channel id for new root posts). Typing and updates are skipped unless
        asked for."""

        def wanted(event: BotEvent) -> bool:
            if not event.in_conversation(conversation_id):
                return False
            if event.action == "typing":
                return include_typing
            if event.action == "updateMessage":
                return include_updates
            return True

        start = self._cursors.get(conversation_id, 0)
        index = await self._wait_index(self.bot_events, wanted, start, timeout)
        self._cursors[conversation_id] = index + 1
        return self.bot_events[index]

    async def assert_no_bot_activity(self, conversation_id: str, *, within: float = 1.0) -> None:
        """Fail if the bot shows anything (typing included) in ``conversation_id`` in time."""
        start = self._cursors.get(conversation_id, 0)
        with contextlib.suppress(TimeoutError):
            index = await self._wait_index(
                self.bot_events, lambda e: e.in_conversation(conversation_id), start, within
            )
            raise PlaygroundError(f"unexpected bot output: {self.bot_events[index].raw}")

    async def wait_for_connector_call(
        self,
        predicate: Callable[[ConnectorCall], bool],
        *,
        timeout: float = 10.0,
        since: int = 0,
    ) -> ConnectorCall:
        """First :attr:`connector_calls` entry at index >= ``since`` matching ``predicate``.
        Use it for output the conversation stream hides, e.g. 1:1 chats with other users."""
        index = await self._wait_index(self.connector_calls, predicate, since, timeout)
        return self.connector_calls[index]

    async def _wait_index(
        self,
        items: list[_T],
        predicate: Callable[[_T], bool],
        start: int,
        timeout: float,
    ) -> int:
        position = start
        try:
            async with asyncio.timeout(timeout):
                while True:
                    async with self._changed:
                        while position < len(items):
                            if predicate(items[position]):
                                return position
                            position += 1
                        if self._process.proc.returncode is not None:
                            raise PlaygroundError(self._failure("Playground exited"))
                        await self._changed.wait()
        except TimeoutError:
            seen = [getattr(i, "raw", i) for i in items[start:]]
            raise TimeoutError(f"no matching event within {timeout}s; seen since: {seen}") from None

    # ------------------------------------------------------------------ HTTP
    async def _request(
        self,
        method: str,
        path: str,
        body: JsonDict | None = None,
        params: Mapping[str, str] | None = None,
    ) -> JsonDict:
        async with self._session.request(
            method, f"{self.base_url}{path}", json=body, params=params
        ) as resp:
            text = await resp.text()
            if resp.status >= 300:
                raise PlaygroundError(f"{method} {path} -> HTTP {resp.status}: {text}")
            if not text:
                return {}
            data = json.loads(text)
            return data if isinstance(data, dict) else {"value": data}


def _child_env(log_file: Path, config_file: Path | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEAMSAPPTESTER_", "M365_AGENTS_PLAYGROUND_", "TEAMS_APP_TEST_TOOL_"))
    }
    no_proxy = ",".join(filter(None, [env.get("NO_PROXY", ""), "localhost,127.0.0.1,::1"]))
    env |= {
        # Telemetry stays off (``--dt``), but a config error is reported before that flag is
        # applied; route any HTTPS (Application Insights) to a dead local port, never outside.
        "https_proxy": _BLACKHOLE_PROXY,
        "HTTPS_PROXY": _BLACKHOLE_PROXY,
        "TEAMSAPPTESTER_BROWSER": "none",
        "APPLICATION_INSIGHTS_NO_STATSBEAT": "true",
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(log_file),
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }
    if config_file is not None:
        env["M365_AGENTS_PLAYGROUND_CONFIG_PATH"] = str(config_file.resolve())
    return env


async def _wait_for_port(process: _Process, timeout: float) -> int:
    stdout = process.proc.stdout
    assert stdout is not None
    try:
        async with asyncio.timeout(timeout):
            while True:
                raw = await stdout.readline()
                if not raw:
                    await process.proc.wait()
                    break
                line = raw.decode(errors="replace")
                process.output.append(line)
                if line.startswith("Listening on "):
                    process.drain = asyncio.create_task(_drain(process, stdout))
                    return int(line.split()[-1])
    except TimeoutError:
        pass
    log = ""
    with contextlib.suppress(OSError):
        log = process.log_file.read_text(errors="replace")
    raise PlaygroundError(
        f"Playground did not report its port within {timeout}s "
        f"(exit code {process.proc.returncode}).\n--- process output ---\n"
        f"{''.join(process.output)}\n--- playground log ---\n{log}"
    )


async def _drain(process: _Process, stdout: asyncio.StreamReader) -> None:
    while raw := await stdout.readline():
        if len(process.output) < 1000:
            process.output.append(raw.decode(errors="replace"))


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the whole process group, SIGKILL after 5 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            async with asyncio.timeout(5):
                await proc.wait()
            break
        except TimeoutError:
            continue
    # The group may outlive its leader; make sure nothing is left.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
