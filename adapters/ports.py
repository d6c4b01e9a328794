"""What an adapter needs from the core, as a protocol: the bot wires the implementation.

Adapters never import storage or the router; they are handed a `CorePort`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from adapters.model import Channel, ConversationRef, FileRef, Incoming, Outgoing


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An accepted event whose processing has not finished (e.g. after a crash)."""

    event_id: int
    payload: dict[str, Any]
    attempts: int


class CorePort(Protocol):
    """The core, as seen from a channel adapter."""

    def acknowledgement(self) -> AbstractContextManager[None]:
        """Around the part of a webhook its sender waits for (reading, verifying, storing):
        background work yields to it meanwhile."""

    async def accept(
        self, *, channel: Channel, dedupe_key: str, payload: dict[str, Any]
    ) -> int | None:
        """Persist an inbound event (together with others arriving at the same time); its id
        once it is stored, None when it was delivered before (a retry)."""

    async def remember_conversation(
        self, conversation: ConversationRef, *, user_id: str | None, reference: dict[str, Any]
    ) -> None:
        """Store or refresh what is needed to write into this conversation later."""

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        """Run the router on one message and return the answers."""

    async def run_event(
        self, channel: Channel, event_id: int, work: Callable[[], Awaitable[None]]
    ) -> None:
        """Process one accepted event: count the attempt (giving up after too many), run
        `work`, then mark it done; a permanent channel error marks it failed, a transient one
        leaves it pending to be retried later (by any replica)."""

    async def resume(
        self, channel: Channel, process: Callable[[int, dict[str, Any]], Coroutine[Any, Any, None]]
    ) -> int:
        """Start `process` for every event of `channel` a previous run left unfinished."""

    async def finish(self, event_id: int, *, error: str | None = None) -> None:
        """Mark an event processed (or failed for good, with a short reason)."""

    async def release(self, event_id: int) -> None:
        """Hand back an accepted event whose processing stopped unfinished, so that any
        replica may retry it at once (best effort: otherwise its lease runs out)."""

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run work in a tracked background task that shutdown waits for or cancels."""

    def count_error(self, where: str) -> None:
        """Count a failure that was handled (logged and answered politely)."""

    def count_duplicate(self, channel: Channel) -> None:
        """Count an inbound event delivered again and ignored."""


class FileSource(Protocol):
    """Downloads the files people send on one channel."""

    def check(self, file: FileRef) -> None:
        """Raise `storage.errors.FileRejected` now, without any I/O, for a file whose
        download would certainly be refused (e.g. a URL outside the channel's file storage)."""

    async def describe(self, file: FileRef) -> FileRef:
        """The file with the name, type and size the channel gives it now (a file sent while
        it was still scanned arrives with a placeholder name); `storage.errors.FileRejected`
        as for `download` when the channel will not tell yet or at all."""

    def download(self, file: FileRef) -> AsyncIterator[bytes]:
        """The file's bytes in chunks; raises `storage.errors.FileRejected` when the channel
        will not hand it over (still being scanned, infected, gone)."""


class ProactiveSender(Protocol):
    """Writes into a conversation the bot was in before, outside of any incoming message."""

    async def send_proactive(self, reference: dict[str, Any], answers: Sequence[Outgoing]) -> None:
        """Send `answers` into the conversation described by the stored `reference`."""


@dataclass(frozen=True, slots=True)
class Posted:
    """Where a proactive post landed. `reference` is opaque to the core: handed back to the
    same adapter's `send_proactive`, it writes into the post's thread."""

    reference: dict[str, Any]
    message_id: str


class ChannelPoster(Protocol):
    """Starts threads in team channels (Teams) or spaces (Webex) and keeps their cards current."""

    async def post_to_channel(self, target: dict[str, Any], answer: Outgoing) -> Posted:
        """Post `answer` as a new thread. `target` is the directory's channel entry for this
        chat system (Teams: `team_id`, `channel_id`, plus `service_url` and `tenant_id` the
        core adds from a stored reference; Webex: `room_id`)."""

    async def update_post(self, posted: Posted, answer: Outgoing) -> None:
        """Show `answer` in place of the post's card where the channel allows editing; where it
        does not (Webex cards), post it into the thread instead."""
