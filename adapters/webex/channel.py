"""The Cisco Webex channel: `POST /api/webex`, answers, files, webhooks.

Flow of a delivery: read the raw body and check its `X-Spark-Signature` before anything else
(401 otherwise), check its shape, persist it (a repeated delivery of the same message or card
action stops here), answer 200 at once, then process it in a tracked background task: fetch
the message or the card action (webhooks carry ids only), drop the bot's own messages, strip
the @mention in group spaces, look the person up, hand a neutral `Incoming` to the core and
send its answers. Processing only needs the stored delivery, so events left unfinished by a
crash are resumed at the next start the same way.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.cards import render_adaptive_card
from adapters.http import RequestRejected
from adapters.markup import render_markdown
from adapters.model import (
    Channel,
    ConversationRef,
    FileRef,
    Incoming,
    Outgoing,
)
from adapters.ports import CorePort, Posted
from adapters.text import well_formed
from adapters.webex.files import (
    DownloadedFile,
    FileNotReady,
    FileRefused,
    describe,
    describe_later,
    download,
)
from adapters.webex.inbound import (
    MEMBERSHIPS,
    MESSAGES,
    Delivery,
    parse_delivery,
    read_signed_body,
)
from adapters.webex.people import People
from adapters.webex.sdk import WebexApi
from adapters.webex.summary import change_line, has_state, summary_markdown
from adapters.webex.translate import (
    WEBEX_CARD_VERSION,
    conversation_of,
    file_refs,
    incoming_action,
    incoming_message,
    parse_timestamp,
    plain_fallback,
    room_of,
    sender_of,
    thread_reference,
    to_messages,
)
from adapters.webex.webhooks import CHECK_EVERY_SECONDS, keep_webhooks, webhook_target
from storage.errors import ChannelError, FileRejected, PermanentChannelError

log = logging.getLogger(__name__)


class WebexAdapter:
    """Receives Webex webhooks and sends the bot's answers back through the API facade."""

    def __init__(
        self, *, api: WebexApi, core: CorePort, webhook_secret: str, max_body_bytes: int
    ) -> None:
        if not webhook_secret:
            # Without a secret anyone could post "messages" that make the bot act for them.
            raise ValueError("a Webex webhook secret is required")
        self._api = api
        self._core = core
        self._secret = webhook_secret
        self._max_body_bytes = max_body_bytes
        self._people = People(api)

    async def handle_request(self, request: web.Request) -> web.Response:
        """The `POST /api/webex` handler."""
        with self._core.acknowledgement():
            return await self._acknowledge(request)

    async def _acknowledge(self, request: web.Request) -> web.Response:
        try:
            body = await read_signed_body(
                request, secret=self._secret, max_bytes=self._max_body_bytes
            )
            delivery = parse_delivery(request, body)
        except RequestRejected as rejected:
            return rejected.response()
        if not delivery.handled or self._from_the_bot(delivery):
            return web.Response(status=200)
        if delivery.resource == MEMBERSHIPS and not await self._bot_joined(delivery):
            return web.Response(status=200)  # someone else joined a space: nothing to say
        event_id = await self._core.accept(
            channel=Channel.WEBEX, dedupe_key=delivery.dedupe_key, payload=delivery.payload
        )
        if event_id is None:
            self._core.count_duplicate(Channel.WEBEX)
            return web.Response(status=200)
        self._core.spawn(self.process(event_id, delivery.payload), name=f"webex-event-{event_id}")
        return web.Response(status=200)

    def _from_the_bot(self, delivery: Delivery) -> bool:
        # The bot's own messages come back as webhooks too; once its id is known they are not
        # even stored. Before that, processing drops them.
        return delivery.person_id is not None and delivery.person_id == self._people.known_bot_id

    async def _bot_joined(self, delivery: Delivery) -> bool:
        try:
            bot = await self._people.bot()
        except ChannelError:
            return True  # decided when it is processed
        return delivery.member_id == bot.person_id

    async def resume_pending(self) -> int:
        """Process deliveries a previous run accepted but did not finish; returns how many."""
        return await self._core.resume(Channel.WEBEX, self.process)

    async def process(self, event_id: int, payload: dict[str, Any]) -> None:
        """Answer one stored delivery: fetch, translate, route, send."""

        async def work() -> None:
            incoming = await self._receive(payload)
            if incoming is not None:
                await self._answer(incoming)

        await self._core.run_event(Channel.WEBEX, event_id, work)

    async def _receive(self, payload: Mapping[str, Any]) -> Incoming | None:
        """The neutral message for a delivery, or None when there is nothing to answer."""
        data: Mapping[str, Any] = payload["data"]
        bot = await self._people.bot()
        if payload["resource"] == MEMBERSHIPS:  # `personId` is who joined: the bot, here
            return await self._joined(payload, bot.person_id)
        if data.get("personId") == bot.person_id:
            return None
        if payload["resource"] == MESSAGES:
            message = await self._api.message(str(data["id"]))
            if message.get("personId") == bot.person_id:
                return None
            person = await self._people.person(
                str(message["personId"]), email=message.get("personEmail")
            )
            files = await describe(self._api, file_refs(message))
            return incoming_message(message, person=person, bot=bot, files=files)
        action = await self._api.attachment_action(str(data["id"]))
        person = await self._people.person(str(action["personId"]))
        return incoming_action(action, card_message=await self._card_of(action), person=person)

    async def _joined(self, payload: Mapping[str, Any], bot_id: str) -> Incoming | None:
        """The bot was added to a space (someone opened a 1:1 space with it, or invited it):
        a `joined` message from whoever did it; None for anyone else's membership."""
        data: Mapping[str, Any] = payload["data"]
        actor = payload.get("actorId")
        if data.get("personId") != bot_id or not isinstance(actor, str) or actor == bot_id:
            return None
        room_id = str(data["roomId"])
        room_type = data.get("roomType") or (await self._api.room(room_id)).get("type")
        person = await self._people.person(actor)
        return Incoming(
            channel=Channel.WEBEX,
            event_id=str(data["id"]),
            conversation=conversation_of(
                room_id, room_type, message_id=str(data["id"]), parent_id=None
            ),
            sender=sender_of(person),
            received_at=parse_timestamp(data.get("created")),
            joined=True,
        )

    async def _card_of(self, action: Mapping[str, Any]) -> dict[str, Any] | None:
        """The message that carried the card: its room type and thread say where to answer."""
        try:
            return await self._api.message(str(action["messageId"]))
        except PermanentChannelError:
            room = await self._api.room(str(action["roomId"]))
            return {"roomType": room.get("type")}

    async def _answer(self, incoming: Incoming) -> None:
        conversation = incoming.conversation
        await self._core.remember_conversation(
            conversation,
            user_id=incoming.sender.user_id,
            reference={"roomId": conversation.conversation_id, "kind": conversation.kind},
        )
        for answer in await self._core.handle(incoming):
            await self.send(answer)

    async def send(self, outgoing: Outgoing) -> None:
        """Send one answer: one or more messages (split under the size limit, card last)."""
        if outgoing.replaces is not None:
            await self._replace_card(outgoing.replaces, outgoing)
            return
        for payload in to_messages(outgoing):
            await self._api.create_message(payload)

    async def _replace_card(self, message_id: str, outgoing: Outgoing) -> None:
        """Webex cannot edit a card: when its buttons changed, the current card is posted
        where the old one was and the old one deleted (new first: a retry may show two, never
        none). Unchanged buttons leave the card alone (no noise in the space)."""
        try:
            old = await self._api.message(message_id)
        except PermanentChannelError:
            old = {}  # gone already: the current card is still worth showing
        if _card_actions(old) == _wanted_actions(outgoing):
            return
        await self.send(replace(outgoing, replaces=None))
        if not old:
            return
        try:
            await self._api.delete_message(message_id)
        except PermanentChannelError as gone:
            log.info("a card whose buttons were pressed was not deleted: %s", gone)

    async def send_proactive(self, reference: dict[str, Any], answers: Sequence[Outgoing]) -> None:
        """Send answers into a room the bot was in before (from a stored reference), at the top
        level of the room (a notification starts its own thread), or into the thread the
        reference's `parentId` names (a group space's thread the bot started)."""
        room = room_of(reference)
        for answer in answers:
            await self.send(replace(answer, conversation=room))

    async def post_to_channel(self, target: dict[str, Any], answer: Outgoing) -> Posted:
        """`adapters.ports.ChannelPoster`: start a thread in the space `target["room_id"]` with
        `answer` (markdown with a plain fallback and the card; a long text's further parts
        become replies). A card that is kept current (facts marked `state`) goes into the
        thread under a short text of its title and state, which `update_post` edits. The
        reference's `parentId` is the root message."""
        room_id = target.get("room_id")
        if not isinstance(room_id, str) or not room_id:
            raise PermanentChannelError("the Webex channel target has no room_id")
        space = ConversationRef(Channel.WEBEX, room_id, kind="group")
        payloads = to_messages(replace(answer, conversation=space))
        if not payloads:
            raise PermanentChannelError("a channel post needs a text or a card title")
        if answer.card is not None and has_state(answer.card):
            markdown = summary_markdown(answer.card)
            payloads.insert(0, {"roomId": room_id, **_text_fields(markdown)})
        first, *rest = payloads
        root_id = str((await self._api.create_message(first))["id"])
        for payload in rest:
            await self._api.create_message({**payload, "parentId": root_id})
        return Posted(reference=thread_reference(room_id, root_id), message_id=root_id)

    async def update_post(self, posted: Posted, answer: Outgoing) -> None:
        """`adapters.ports.ChannelPoster`: Webex cannot edit a card, so a post that starts with
        a summary (see `post_to_channel`) gets that summary edited and one line saying what
        changed in its thread; any other post gets the new card in its thread.

        The line goes first: should the edit fail and the update be retried, the thread may
        hear of a change twice but never miss one. A summary Webex no longer lets the bot
        edit (ten edits, deleted) is posted whole into the thread instead."""
        root = await self._summary_root(posted) if has_state(answer.card) else None
        if root is None or answer.card is None:
            await self.send_proactive(posted.reference, [answer])
            return
        before, after = str(root.get("markdown") or ""), summary_markdown(answer.card)
        if before == after:
            return
        line = change_line(before, after)
        room = room_of(posted.reference)
        if line:
            await self._api.create_message(
                {
                    "roomId": room.conversation_id,
                    "parentId": posted.message_id,
                    **_text_fields(line),
                }
            )
        try:
            await self._api.edit_message(
                posted.message_id, {"roomId": room.conversation_id, **_text_fields(after)}
            )
        except PermanentChannelError as refused:
            log.info("the summary of a Webex thread cannot be edited (%s); posting it", refused)
            await self._api.create_message(
                {
                    "roomId": room.conversation_id,
                    "parentId": posted.message_id,
                    **_text_fields(after),
                }
            )
        await self._renew_card(posted, answer)

    async def _renew_card(self, posted: Posted, answer: Outgoing) -> None:
        """The card in the thread offers only what still applies: when its buttons changed,
        the current card is posted into the thread and the bot's older ones are deleted
        (new first: a retry may show two, never none)."""
        assert answer.card is not None
        room = room_of(posted.reference)
        bot = await self._people.bot()
        replies = await self._api.thread_replies(room.conversation_id, posted.message_id)
        cards = [m for m in replies if m.get("personId") == bot.person_id and m.get("attachments")]
        wanted = render_adaptive_card(answer.card, version=WEBEX_CARD_VERSION).get("actions")
        if cards and cards[0]["attachments"][0].get("content", {}).get("actions") == wanted:
            return
        await self.send_proactive(posted.reference, [answer])
        for stale in cards:
            try:
                await self._api.delete_message(str(stale["id"]))
            except PermanentChannelError as gone:
                log.info("an old card in a Webex thread was not deleted: %s", gone)

    async def _summary_root(self, posted: Posted) -> dict[str, Any] | None:
        """The thread's root when it is an editable summary (not a card from before summaries,
        not deleted)."""
        try:
            root = await self._api.message(posted.message_id)
        except PermanentChannelError:
            return None
        if root.get("attachments") or root.get("files"):
            return None
        return root

    async def send_file(self, conversation: ConversationRef, path: Path, *, text: str = "") -> None:
        """Send a local file (with an optional markdown text) into a conversation.

        Webex takes one file per message and no card beside a local file.
        """
        parent = conversation.thread_id if conversation.kind == "group" else None
        await self._api.create_message_with_file(
            room_id=conversation.conversation_id,
            path=path,
            markdown=well_formed(render_markdown(text)),
            parent_id=parent,
        )

    def check(self, file: FileRef) -> None:
        """`adapters.ports.FileSource`: refuse at once a URL outside the Webex API (the bot
        token is only ever sent there)."""
        try:
            self._api.check_origin(file.url)
        except ChannelError as exc:
            raise FileRejected("download_failed", str(exc)) from exc

    async def describe(self, file: FileRef) -> FileRef:
        """`adapters.ports.FileSource`: the real name and type of a file sent while Webex was
        still scanning it (`FileRejected` `not_ready` with `retry_after` while it still is,
        `infected`, `unscannable`, `download_failed`)."""
        try:
            result = await describe_later(self._api, file)
        except ChannelError as exc:
            raise FileRejected("download_failed", str(exc)) from exc
        if isinstance(result, FileRef):
            return result
        raise _rejection(result)

    async def download(self, file: FileRef) -> AsyncIterator[bytes]:
        """`adapters.ports.FileSource`: the file's bytes in chunks as they arrive (never the
        whole file in memory), or `FileRejected` (`not_ready` with `retry_after` while Webex
        scans it, `infected`, `unscannable`, `download_failed`).

        Closing the iterator early (a consumer that stops or fails) releases the connection.
        """
        try:
            result = await download(self._api, file)
        except ChannelError as exc:
            raise FileRejected("download_failed", str(exc)) from exc
        if not isinstance(result, DownloadedFile):
            raise _rejection(result)
        async with result:
            while chunk := await _next_chunk(result):
                yield chunk

    async def keep_webhooks(self, *, public_url: str, every: float = CHECK_EVERY_SECONDS) -> None:
        """Register the bot's webhooks now and keep them active (runs until cancelled)."""
        await keep_webhooks(
            self._api, target_url=webhook_target(public_url), secret=self._secret, every=every
        )


def _card_actions(message: Mapping[str, Any]) -> object:
    """The buttons of a message's card (None: it carries no card)."""
    attachments = message.get("attachments") or [{}]
    return attachments[0].get("content", {}).get("actions")


def _wanted_actions(outgoing: Outgoing) -> object:
    """The buttons `outgoing`'s card will have as Webex renders it."""
    if outgoing.card is None:
        return None
    return render_adaptive_card(outgoing.card, version=WEBEX_CARD_VERSION).get("actions")


def _text_fields(markdown: str) -> dict[str, str]:
    """A message's `markdown` with its plain-text fallback."""
    return {"markdown": markdown, "text": plain_fallback(markdown)}


async def _next_chunk(file: DownloadedFile) -> bytes:
    """The file's next chunk, `b""` at its end; a broken transfer is `download_failed`."""
    try:
        return await anext(file, b"")
    except ChannelError as exc:
        raise FileRejected("download_failed", str(exc)) from exc


def _rejection(result: FileNotReady | FileRefused) -> FileRejected:
    """Why a file cannot be had (yet), as the port's `FileRejected`."""
    if isinstance(result, FileNotReady):
        return FileRejected(
            "not_ready", "Webex is still scanning it", retry_after=result.retry_after
        )
    return FileRejected(result.reason, result.message)
