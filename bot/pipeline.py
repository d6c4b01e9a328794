"""The core as the adapters see it: persistence of inbound events, the router, background work.

This is also the error boundary of a turn: a bug in a command is logged with its stack trace
here (never sent to a client) and the person gets a polite answer instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from adapters.model import Channel, ConversationRef, Incoming, Outgoing
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
REDRIVE_EVERY_SECONDS = 60.0
MAX_CONCURRENT_TURNS = 8
REDRIVE_AGE = timedelta(seconds=30)
# A re-drive pass leases at most this many events beyond those in flight here: few enough
# that each starts well within its lease, even behind turns that are slow.
REDRIVE_BATCH = 4 * MAX_CONCURRENT_TURNS


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
    ) -> None:
        self._store = store
        self._router = router
        self._directory = directory
        self._tasks = tasks
        self._metrics = metrics
        self._clock = clock
        self._in_flight: set[int] = set()
        self._turns = asyncio.Semaphore(MAX_CONCURRENT_TURNS)
        # A re-drive pass that leased a full batch may have left events behind: the next pass
        # then comes as soon as this replica has room again, not a whole interval later.
        self._backlog = False
        self._wake = asyncio.Event()
        self._processors: dict[
            Channel, Callable[[int, dict[str, Any]], Coroutine[Any, Any, None]]
        ] = {}

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
        self._in_flight.add(event_id)
        try:
            # Bounded: under a flood the loop keeps acknowledging (events are persisted first)
            # while at most MAX_CONCURRENT_TURNS are worked on.
            async with self._turns:
                await self._run_event(channel, event_id, work)
        except asyncio.CancelledError:
            # Shutting down before it was done: hand it back now rather than after the lease.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._store.inbox.release(event_id=event_id), 2.0)
            raise
        finally:
            self._in_flight.discard(event_id)
            if self._backlog_room():
                self._wake.set()

    async def _run_event(
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
            # Left pending and its lease given up: the re-drive loop (of any replica) tries
            # again (a channel does not redeliver what it got a 200 for).
            log.warning("could not process %s event %s yet: %s", channel.value, event_id, exc)
            self.count_error(channel.value)
            await self._store.inbox.release(event_id=event_id)
            return
        await self.finish(event_id)
        self.observe_turn(channel, time.perf_counter() - started)

    async def resume(
        self,
        channel: Channel,
        process: Callable[[int, dict[str, Any]], Coroutine[Any, Any, None]],
    ) -> int:
        self._processors[channel] = process
        # At start nothing is in flight in this process: everything pending is left over.
        return await self._redrive(channel, older_than=timedelta(0))

    async def redrive_forever(self, every: float = REDRIVE_EVERY_SECONDS) -> None:
        """Retry, while running, events left pending by a failure or by a replica that died
        (once their lease ran out), not only at the next start."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), every)
            self._wake.clear()
            self._backlog = False
            for channel in list(self._processors):
                try:
                    await self._redrive(channel, older_than=REDRIVE_AGE)
                except Exception:  # the loop must outlive a database hiccup
                    log.exception("re-driving %s events failed", channel.value)

    async def _redrive(self, channel: Channel, *, older_than: timedelta) -> int:
        """Lease pending events nobody holds (not those another live replica is answering)
        and process them; returns how many were started."""
        process = self._processors[channel]
        room = REDRIVE_BATCH - len(self._in_flight)
        now = self._clock()
        rows = await self._store.inbox.claim(
            channel=channel.value, received_before=now - older_than, now=now, limit=room
        )
        if room > 0 and len(rows) == room:
            self._backlog = True
        started = 0
        for row in rows:
            if row.id is None or row.id in self._in_flight:
                continue  # still being worked on here (its lease ran out meanwhile)
            self._in_flight.add(row.id)  # until run_event takes over
            self.spawn(process(row.id, row.payload), name=f"{channel}-{row.id}")
            started += 1
        return started

    def _backlog_room(self) -> bool:
        return self._backlog and len(self._in_flight) <= REDRIVE_BATCH // 2

    async def begin(self, event_id: int) -> int:
        return await self._store.inbox.start_attempt(event_id=event_id)

    async def finish(self, event_id: int, *, error: str | None = None) -> None:
        await self._store.inbox.finish(event_id=event_id, now=self._clock(), error=error)

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        self._tasks.spawn(work, name=name)

    def observe_turn(self, channel: Channel, seconds: float) -> None:
        self._metrics.turn_seconds.labels(channel=channel.value).observe(seconds)

    def count_error(self, where: str) -> None:
        self._metrics.errors.labels(where=where).inc()

    def count_duplicate(self, channel: Channel) -> None:
        self._metrics.duplicates.labels(channel=channel.value).inc()
