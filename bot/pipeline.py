"""The core as the adapters see it: persistence of inbound events, the router, background work.

This is also the error boundary of a turn: a bug in a command is logged with its stack trace
here (never sent to a client) and the person gets a polite answer instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from adapters.model import Channel, ConversationRef, Incoming, Outgoing
from adapters.ports import PendingEvent
from bot.identity import resolve_actor
from bot.metrics import Metrics
from bot.router import Clock, Router
from bot.tasks import TaskTracker
from dialogs.texts import t
from storage.directory import Directory
from storage.errors import ChannelError, PermanentChannelError, StorageError
from storage.repositories import Store

log = logging.getLogger(__name__)
# An event that failed this often (a poison message) is given up and marked failed.
MAX_ATTEMPTS = 5


class Core:
    """Implements `adapters.ports.CorePort` on top of the store and the router."""

    def __init__(
        self,
        *,
        store: Store,
        router: Router,
        directory: Directory,
        tasks: TaskTracker,
        metrics: Metrics,
        clock: Clock,
        started_at: datetime,
    ) -> None:
        self._store = store
        self._router = router
        self._directory = directory
        self._tasks = tasks
        self._metrics = metrics
        self._clock = clock
        self._started_at = started_at

    async def accept(
        self, *, channel: Channel, dedupe_key: str, payload: dict[str, Any]
    ) -> int | None:
        return await self._store.inbox.accept(
            channel=channel.value, dedupe_key=dedupe_key, payload=payload, now=self._clock()
        )

    async def remember_conversation(
        self, conversation: ConversationRef, *, user_id: str | None, reference: dict[str, Any]
    ) -> None:
        await self._store.conversations.save(
            channel=conversation.channel.value,
            conversation_id=conversation.conversation_id,
            kind=conversation.kind,
            user_id=user_id,
            reference=reference,
            now=self._clock(),
        )

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        try:
            return await self._router.handle(incoming)
        except StorageError:
            raise  # the event stays pending and is retried; nothing half-done was answered
        except Exception:
            log.exception("turn failed for an event on %s", incoming.channel.value)
            self._metrics.errors.labels(where="turn").inc()
            return [self._apology(incoming)]

    def _apology(self, incoming: Incoming) -> Outgoing:
        actor = resolve_actor(self._directory, incoming)
        language = actor.language if actor else "en"
        return Outgoing(
            conversation=incoming.conversation,
            text=t("something_went_wrong", language),
            reply_to=incoming.event_id,
        )

    async def run_event(
        self, channel: Channel, event_id: int, work: Callable[[], Awaitable[None]]
    ) -> None:
        started = time.perf_counter()
        if await self.begin(event_id) > MAX_ATTEMPTS:
            await self.finish(event_id, error=f"gave up after {MAX_ATTEMPTS} attempts")
            return
        try:
            await work()
        except PermanentChannelError as exc:
            log.warning("%s event %s failed for good: %s", channel.value, event_id, exc)
            self.count_error(channel.value)
            await self.finish(event_id, error=str(exc))
            return
        except ChannelError as exc:
            # Left pending: the next start resumes it (a channel does not redeliver what it
            # got a 200 for).
            log.warning("could not process %s event %s yet: %s", channel.value, event_id, exc)
            self.count_error(channel.value)
            return
        await self.finish(event_id)
        self.observe_turn(channel, time.perf_counter() - started)

    async def resume(
        self,
        channel: Channel,
        process: Callable[[int, dict[str, Any]], Coroutine[Any, Any, None]],
    ) -> int:
        pending = await self.pending(channel)
        for event in pending:
            self.spawn(process(event.event_id, event.payload), name=f"{channel}-{event.event_id}")
        return len(pending)

    async def begin(self, event_id: int) -> int:
        await self._store.inbox.start_attempt(event_id=event_id)
        row = await self._store.inbox.get(event_id=event_id)
        return row.attempts if row is not None else 0

    async def finish(self, event_id: int, *, error: str | None = None) -> None:
        await self._store.inbox.finish(event_id=event_id, now=self._clock(), error=error)

    async def pending(self, channel: Channel) -> Sequence[PendingEvent]:
        # Only events from before this process started: newer ones are already in flight here.
        rows = await self._store.inbox.pending(
            channel=channel.value, received_before=self._started_at
        )
        return [
            PendingEvent(event_id=row.id, payload=row.payload, attempts=row.attempts)
            for row in rows
            if row.id is not None
        ]

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        self._tasks.spawn(work, name=name)

    def observe_turn(self, channel: Channel, seconds: float) -> None:
        self._metrics.turn_seconds.labels(channel=channel.value).observe(seconds)

    def count_error(self, where: str) -> None:
        self._metrics.errors.labels(where=where).inc()

    def count_duplicate(self, channel: Channel) -> None:
        self._metrics.duplicates.labels(channel=channel.value).inc()
