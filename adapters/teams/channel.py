"""The Microsoft Teams channel: `POST /api/messages`, replies, retries.

Flow of a message: check the body, authenticate the JWT, store the conversation reference,
persist the activity (a retry of the same activity stops here), answer 200 at once, then
process it in a tracked background task that sends a typing indicator and the answers through
`continue_conversation`. Because processing only needs the stored activity, events left
unfinished by a crash are resumed at the next start the same way.

Card actions that arrive as `adaptiveCard/action` invokes are answered inline: Teams waits for
the invoke's body (and gives up after about 5 seconds).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ConversationReference
from botframework.connector.auth import ServiceClientCredentialsFactory
from yarl import URL

from adapters.cards import ADAPTIVE_CARD_CONTENT_TYPE, render_adaptive_card
from adapters.file_fetch import FetchPolicy, FileFetcher
from adapters.http import RequestRejected, json_error, read_json_object
from adapters.markup import render_markdown
from adapters.model import Channel, FileRef, Outgoing
from adapters.ports import CorePort, Posted
from adapters.retry import RetryPolicy, with_retries
from adapters.teams.auth import TeamsCredentials, authenticate, build_authentication
from adapters.teams.members import MemberEmails
from adapters.teams.translate import (
    TEAMS_CARD_VERSION,
    TEAMS_CHANNEL_ID,
    bot_added,
    channel_post_parameters,
    conversation_of,
    root_message_id,
    tenant_of,
    thread_reference,
    to_activity,
    to_incoming,
)
from storage.errors import (
    ChannelError,
    PermanentChannelError,
    TransientChannelError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# Bot Framework guidance: retry throttling and gateway errors; everything else is final.
_TRANSIENT_STATUS = frozenset({412, 429, 500, 502, 503, 504})
_PERMANENT_STATUS = frozenset({400, 401, 403, 404})
_PROCESSED_TYPES = frozenset({ActivityTypes.message, ActivityTypes.invoke})
_REMEMBERED_TYPES = _PROCESSED_TYPES | {
    ActivityTypes.conversation_update,
    ActivityTypes.installation_update,
}
CARD_ACTION_INVOKE = "adaptiveCard/action"


class TeamsAdapter:
    """Receives Teams activities and sends the bot's answers back."""

    def __init__(
        self,
        *,
        credentials: TeamsCredentials,
        core: CorePort,
        max_body_bytes: int,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
        retry: RetryPolicy | None = None,
        file_policy: FetchPolicy | None = None,
        trust_env: bool = False,
    ) -> None:
        self._credentials = credentials
        self._core = core
        self._max_body_bytes = max_body_bytes
        self._retry = retry or RetryPolicy()
        self._authentication = build_authentication(
            credentials, credentials_factory=credentials_factory, trust_env=trust_env
        )
        self._adapter = CloudAdapter(self._authentication)
        self._members = MemberEmails()
        self._files = FileFetcher(file_policy)

    async def handle_request(self, request: web.Request) -> web.Response:
        """The `POST /api/messages` handler."""
        with self._core.acknowledgement():
            accepted = await self._accept(request)
        if isinstance(accepted, web.Response):
            return accepted
        event_id, activity, body = accepted
        if activity.type == ActivityTypes.invoke:
            # Teams waits for the invoke's answer: the turn runs here, no longer counted as
            # an acknowledgement (background work need not wait for it).
            return await self._answer_invoke(event_id, activity)
        self._core.spawn(self.process(event_id, body), name=f"teams-event-{event_id}")
        return web.Response(status=200)

    async def _accept(
        self, request: web.Request
    ) -> web.Response | tuple[int, Activity, dict[str, Any]]:
        """Check and store an activity: its stored event, or the answer when there is none
        to process (refused, ignored, delivered before)."""
        try:
            body = await read_json_object(request, max_bytes=self._max_body_bytes)
        except RequestRejected as rejected:
            return rejected.response()
        activity = _deserialize(body)
        if activity is None:
            return json_error(400, "not a Bot Framework activity")
        if problem := _identity_problem(activity):
            return json_error(400, problem)
        auth_header = request.headers.get("Authorization", "")
        if await authenticate(self._authentication, activity, auth_header) is None:
            return json_error(401, "unauthorized")
        if activity.channel_id != TEAMS_CHANNEL_ID:
            # A token for this bot from another Bot Framework channel (Web Chat, Direct Line)
            # is genuine, but its tenant and Entra ids are whatever that client claims.
            return json_error(403, f"only {TEAMS_CHANNEL_ID} activities are accepted here")
        if activity.type not in _REMEMBERED_TYPES:
            return web.Response(status=200)
        await self._remember(activity, body)
        if activity.type not in _PROCESSED_TYPES and not bot_added(activity):
            return web.Response(status=200)
        event_id = await self._core.accept(
            channel=Channel.TEAMS, dedupe_key=_dedupe_key(activity, body), payload=body
        )
        if event_id is None:
            self._core.count_duplicate(Channel.TEAMS)
            return web.Response(status=200)
        return event_id, activity, body

    def check(self, file: FileRef) -> None:
        """`adapters.ports.FileSource`: refuse at once a URL outside Teams' file hosts."""
        self._files.policy.check_url(URL(file.url))

    async def describe(self, file: FileRef) -> FileRef:
        """`adapters.ports.FileSource`: Teams names a file in the activity already."""
        return file

    def download(self, file: FileRef) -> AsyncIterator[bytes]:
        """A personal-chat file's bytes from its pre-authorised `downloadUrl`, in chunks; only
        from Teams' file hosts (the URL is the sender's word, see `adapters.file_fetch`)."""
        return self._files.chunks(file.url)

    async def send_proactive(self, reference: dict[str, Any], answers: Sequence[Outgoing]) -> None:
        """Send answers into a conversation from its stored reference (reminders, alerts)."""

        async def send_all(turn: TurnContext) -> None:
            for answer in answers:
                await self._deliver(turn, answer)

        conversation = ConversationReference().deserialize(reference)
        await self._adapter.continue_conversation(conversation, send_all, self._credentials.app_id)

    async def post_to_channel(self, target: dict[str, Any], answer: Outgoing) -> Posted:
        """`adapters.ports.ChannelPoster`: start a new thread in a team channel with `answer`.

        `target` needs `channel_id` and `service_url`; `tenant_id` defaults to the bot's own
        registration tenant (left out when neither is known), `bot_id` to `28:<app id>`. The
        returned reference is a serialized `ConversationReference` of the thread:
        `send_proactive` on it replies in the thread.
        """
        service_url = _target_field(target, "service_url")
        tenant_id = str(target.get("tenant_id") or self._credentials.tenant_id or "") or None
        parameters = channel_post_parameters(
            channel_id=_target_field(target, "channel_id"),
            tenant_id=tenant_id,
            activity=to_activity(answer),
        )
        created: list[Activity] = []

        async def capture(turn: TurnContext) -> None:
            created.append(turn.activity)  # the SDK's record of the new conversation

        async def create() -> None:
            await self._adapter.create_conversation(
                self._credentials.app_id,
                capture,
                parameters,
                TEAMS_CHANNEL_ID,
                service_url,
                None,
            )

        await self._retrying(create, what="Teams channel post")
        thread = created[-1]
        conversation_id = str(thread.conversation.id)
        # Teams names a thread after its root post; the SDK invents an id if none came back.
        message_id = root_message_id(conversation_id) or str(thread.id)
        reference = thread_reference(
            service_url=service_url,
            conversation_id=conversation_id,
            tenant_id=tenant_id,
            bot_id=str(target.get("bot_id") or self._bot_id()),
            message_id=message_id,
        )
        return Posted(reference=reference, message_id=message_id)

    async def update_post(self, posted: Posted, answer: Outgoing) -> None:
        """`adapters.ports.ChannelPoster`: replace the post's card with `answer` for everyone
        (`update_activity` on the root post, in the thread's conversation)."""

        async def replace_post(turn: TurnContext) -> None:
            activity = to_activity(answer)
            activity.id = posted.message_id
            await self._retrying(lambda: turn.update_activity(activity), what="Teams card update")

        reference = ConversationReference().deserialize(posted.reference)
        await self._adapter.continue_conversation(reference, replace_post, self._credentials.app_id)

    def _bot_id(self) -> str:
        """The bot's account id in Teams conversations."""
        return f"28:{self._credentials.app_id}"

    async def close(self) -> None:
        """Release the HTTP clients: file downloads and the kept Bot Connector connections."""
        await self._files.close()
        await self._authentication.close()

    async def resume_pending(self) -> int:
        """Process events a previous run accepted but did not finish; returns how many."""
        return await self._core.resume(Channel.TEAMS, self.process)

    async def process(self, event_id: int, payload: dict[str, Any]) -> None:
        """Answer one stored message activity: typing indicator, router, replies."""
        activity = Activity().deserialize(payload)
        await self._core.run_event(
            Channel.TEAMS,
            event_id,
            lambda: self._continue(activity, lambda turn: self._reply(turn, activity)),
        )

    async def _reply(self, turn: TurnContext, activity: Activity) -> None:
        if bot_added(activity):  # nothing was said: no typing, the welcome goes by the outbox
            email, name = await self._members.details(
                turn, activity.from_property.id, aad_object_id=activity.from_property.aad_object_id
            )
            activity.from_property.name = activity.from_property.name or name
            await self._core.handle(to_incoming(activity, email=email))
            return
        # The typing indicator goes out while the turn is worked on (its round trip to the
        # connector no longer delays the answer), and always before the answer.
        typing = asyncio.create_task(self._send_typing(turn, activity))
        try:
            email = await self._members.email(
                turn, activity.from_property.id, aad_object_id=activity.from_property.aad_object_id
            )
            answers = await self._core.handle(to_incoming(activity, email=email))
        except BaseException:
            typing.cancel()
            raise
        await typing
        for answer in answers:
            await self._deliver(turn, answer)

    async def _answer_invoke(self, event_id: int, activity: Activity) -> web.Response:
        if activity.name != CARD_ACTION_INVOKE:
            await self._core.finish(event_id)
            return web.json_response({})
        try:
            answers = await self._core.handle(to_incoming(activity))
        except BaseException:
            # Teams retries the invoke; meanwhile any replica's re-drive may answer it.
            await self._core.release(event_id)
            raise
        await self._core.finish(event_id)
        first, rest = _invoke_answer(answers)
        if rest:
            self._core.spawn(self._send_later(activity, rest), name=f"teams-invoke-{event_id}")
        return web.json_response(invoke_body(first))

    async def _send_later(self, activity: Activity, answers: list[Outgoing]) -> None:
        async def send_all(turn: TurnContext) -> None:
            for answer in answers:
                await self._deliver(turn, answer)

        try:
            await self._continue(activity, send_all)
        except ChannelError as exc:
            log.warning("could not send follow-up answers to a card action: %s", exc)
            self._core.count_error("teams-send")

    async def _continue(
        self, activity: Activity, logic: Callable[[TurnContext], Awaitable[None]]
    ) -> None:
        reference = TurnContext.get_conversation_reference(activity)

        async def as_reply(turn: TurnContext) -> None:
            # The SDK gives a continuation a fresh id and no channel data; answers should point
            # at the message they answer (replyToId), and TeamsInfo needs the team.
            turn.activity.id = activity.id
            turn.activity.channel_data = activity.channel_data
            await logic(turn)

        await self._adapter.continue_conversation(reference, as_reply, self._credentials.app_id)

    async def _send_typing(self, turn: TurnContext, activity: Activity) -> None:
        # Teams shows a bot's typing only in chats; in a channel thread it is noise, and the
        # Agents Playground's page stops showing the thread's answers when it arrives first.
        if (
            activity.conversation is not None
            and activity.conversation.conversation_type == "channel"
        ):
            return
        try:
            await turn.send_activity(Activity(type=ActivityTypes.typing))
        except Exception as exc:
            log.debug("typing indicator not sent: %s", type(exc).__name__)

    async def _deliver(self, turn: TurnContext, answer: Outgoing) -> None:
        """Send an answer; one that `replaces` a card edits that card's activity instead, in
        the turn's conversation, for everyone who sees it."""
        activity = to_activity(answer)
        if answer.replaces is None:
            await self._send(turn, activity)
            return
        activity.id = answer.replaces
        activity.reply_to_id = None
        await self._retrying(lambda: turn.update_activity(activity), what="Teams card update")

    async def _send(self, turn: TurnContext, activity: Activity) -> None:
        await self._retrying(lambda: turn.send_activity(activity), what="Teams send")

    async def _retrying(self, call: Callable[[], Awaitable[T]], *, what: str) -> T:
        """Run a connector call under the retry policy, its failures mapped to channel errors
        (429, 412 and 5xx are retried; 400, 401, 403 and 404 are final)."""

        async def attempt() -> T:
            try:
                return await call()
            except ChannelError:
                raise
            except Exception as exc:
                raise classify_send_error(exc) from exc

        return await with_retries(attempt, policy=self._retry, what=what)

    async def _remember(self, activity: Activity, body: dict[str, Any]) -> None:
        reference = TurnContext.get_conversation_reference(activity)
        if reference.conversation.tenant_id is None:
            # The SDK reads only `tenantID` and drops Teams' `conversation.tenantId`; keep the
            # tenant (from channelData) so channel posts can name it later.
            reference.conversation.tenant_id = tenant_of(activity)
        await self._core.remember_conversation(
            conversation_of(activity),
            user_id=activity.from_property.id if activity.from_property else None,
            reference=reference.serialize(),
        )


def _invoke_answer(answers: list[Outgoing]) -> tuple[Outgoing | None, list[Outgoing]]:
    """The answer the invoke's body carries, and the rest (sent after it). The pressed card
    shown again (Universal Actions: the body's card takes its place) wins over the first."""
    refresh = next((answer for answer in answers if answer.replaces is not None), None)
    if refresh is not None:
        return refresh, [answer for answer in answers if answer is not refresh]
    return (answers[0], answers[1:]) if answers else (None, [])


def invoke_body(answer: Outgoing | None) -> dict[str, Any]:
    """The Universal Actions response: a refreshed card, or a message Teams shows briefly."""
    if answer is not None and answer.card is not None:
        card = render_adaptive_card(answer.card, version=TEAMS_CARD_VERSION)
        return {"statusCode": 200, "type": ADAPTIVE_CARD_CONTENT_TYPE, "value": card}
    text = render_markdown(answer.text) if answer is not None else ""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def classify_send_error(exc: Exception) -> ChannelError:
    """Map a connector failure to transient (retry) or permanent (surface) by HTTP status."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    reason = f"{type(exc).__name__} (HTTP {status})" if status else type(exc).__name__
    if status in _PERMANENT_STATUS:
        return PermanentChannelError(reason)
    if status in _TRANSIENT_STATUS or status is None:
        return TransientChannelError(reason, retry_after=_retry_after(response))
    return PermanentChannelError(reason)


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _target_field(target: dict[str, Any], name: str) -> str:
    """A required field of a channel post's target; its absence is final, not transient."""
    value = target.get(name)
    if not isinstance(value, str) or not value:
        raise PermanentChannelError(f"the Teams channel target has no {name}")
    return value


def _deserialize(body: dict[str, Any]) -> Activity | None:
    """A typed activity, or None when the body lacks what every activity has."""
    if not isinstance(body.get("type"), str):
        return None
    try:
        activity = Activity().deserialize(body)
    except Exception:
        return None
    conversation_ok = activity.conversation is not None and isinstance(
        activity.conversation.id, str
    )
    if activity.type in _REMEMBERED_TYPES and not (
        conversation_ok and activity.service_url and activity.from_property is not None
    ):
        return None
    return activity


# The widths of the columns these ids are stored in; Teams' own ids are far shorter.
MAX_CONVERSATION_ID = 512
MAX_USER_ID = 255
MAX_AAD_OBJECT_ID = 64


def _identity_problem(activity: Activity) -> str | None:
    """Why the activity's conversation or sender ids cannot be stored, or None."""
    conversation, sender = activity.conversation, activity.from_property
    fields = {
        "conversation.id": (getattr(conversation, "id", None), MAX_CONVERSATION_ID),
        "from.id": (getattr(sender, "id", None), MAX_USER_ID),
        "from.aadObjectId": (getattr(sender, "aad_object_id", None), MAX_AAD_OBJECT_ID),
    }
    for name, (value, limit) in fields.items():
        if value is not None and not isinstance(value, str):
            return f"{name} must be a string"
        if isinstance(value, str) and len(value) > limit:
            return f"{name} longer than {limit} characters"
    return None


def _dedupe_key(activity: Activity, body: dict[str, Any]) -> str:
    if activity.id:
        return f"{activity.conversation.id}|{activity.id}"[:700]
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return f"{activity.conversation.id[:600]}|sha256:{digest}"
