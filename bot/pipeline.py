"""The core as the adapters see it: persistence of inbound events, the router, background work.

This is also the error boundary of a turn: a bug in a command is logged with its stack trace
here (never sent to a client) and the person gets a polite answer instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from adapters.model import Channel, ConversationRef, Incoming, Outgoing
from bot.heartbeat import Heartbeat
from bot.identity import resolve_actor
from bot.ingest import InboundBatcher
from bot.metrics import Metrics
from bot.priority import AckPriority
from bot.router import Clock, Router
from bot.tasks import TaskTracker
from dialogs.i18n import gettext_for
from storage.db import retry_on_stale
from storage.directory import Directory
from storage.errors import ChannelError, PermanentChannelError, StorageError
from storage.repositories import NewEvent, Store

log = logging.getLogger(__name__)
# An event that failed this often (a poison message) is given up and marked failed.
MAX_ATTEMPTS = 5
MAX_CONCURRENT_TURNS = 8
# A re-drive pass leases at most this many events beyond those in flight here: the lease of
# every one is renewed while it waits for a turn slot, but a dead replica should leave few.
REDRIVE_BATCH = 4 * MAX_CONCURRENT_TURNS
# After a transient channel failure an event is retried after this, doubling per attempt: a
# channel outage of a few minutes is outlasted before the event is given up.
FIRST_RETRY = timedelta(seconds=15)


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
        priority: AckPriority | None = None,
    ) -> None:
        self._store = store
        self._router = router
        self._directory = directory
        self._tasks = tasks
        self._metrics = metrics
        self._clock = clock
        self.priority = priority or AckPriority()
        # Webhooks arriving together are stored in one transaction (started by `start`).
        self.batcher = InboundBatcher(self._store_batch, orphaned=self._orphaned)
        # Events this replica holds (accepted or claimed, not finished): their leases are
        # renewed while they wait for a turn slot and while their turn runs.
        self.heartbeat = Heartbeat(
            what="inbound event",
            lease=store.lease,
            renew=lambda ids: store.inbox.renew(event_ids=ids, now=clock()),
            lost=self._stop_turn,
        )
        self._in_flight = self.heartbeat.held
        self._turn_tasks: dict[int, asyncio.Task[Any]] = {}
        self._in_turn: set[int] = set()  # events whose turn holds a slot now
        self._stopping = False
        self._turns = asyncio.Semaphore(MAX_CONCURRENT_TURNS)
        # A re-drive pass that leased a full batch may have left events behind: the next pass
        # then comes as soon as this replica has room again, not a whole interval later.
        self._backlog = False
        self._wake = asyncio.Event()
        self._processors: dict[
            Channel, Callable[[int, dict[str, Any]], Coroutine[Any, Any, None]]
        ] = {}

    def acknowledgement(self) -> AbstractContextManager[None]:
        return self.priority.acknowledgement()

    async def accept(
        self, *, channel: Channel, dedupe_key: str, payload: dict[str, Any]
    ) -> int | None:
        event_id = await self.batcher.accept(NewEvent(channel.value, dedupe_key, payload))
        if event_id is not None:
            self._in_flight.add(event_id)  # held until finished, released or lost
        return event_id

    async def _store_batch(self, events: Sequence[NewEvent]) -> list[int | None]:
        ids = await self._store.inbox.accept_many(events=events, now=self._clock())
        self._metrics.inbound_batch_size.observe(len(events))
        return ids

    def _orphaned(self, event_id: int) -> None:
        """Stored for a request that stopped waiting (its sender will deliver it again and
        find it stored): hand it to the re-drive now rather than after its lease."""
        self.spawn(self.release(event_id), name=f"release-{event_id}")

    async def remember_conversation(
        self, conversation: ConversationRef, *, user_id: str | None, reference: dict[str, Any]
    ) -> None:
        await retry_on_stale(  # an upsert: safe to run twice
            lambda: self._store.conversations.save(
                channel=conversation.channel.value,
                conversation_id=conversation.conversation_id,
                kind=conversation.kind,
                user_id=user_id,
                reference=reference,
                now=self._clock(),
            )
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
        _ = gettext_for(language)
        return Outgoing(
            conversation=incoming.conversation,
            text=_(
                "Sorry, something went wrong on my side. Nothing you sent is lost; "
                "please try again in a minute."
            ),
            reply_to=incoming.event_id,
        )

    async def run_event(
        self, channel: Channel, event_id: int, work: Callable[[], Awaitable[None]]
    ) -> None:
        self._in_flight.add(event_id)
        task = asyncio.current_task()
        if task is not None:
            self._turn_tasks[event_id] = task
        try:
            # Bounded: under a flood the loop keeps acknowledging (events are persisted first)
            # while at most MAX_CONCURRENT_TURNS are worked on.
            async with self._turns:
                await self.priority.yield_to_acknowledgements()
                if self._stopping:
                    return  # handed back in bulk by `stop_starting_turns`
                self._in_turn.add(event_id)
                await self._run_event(channel, event_id, work)
        except asyncio.CancelledError:
            # Shutting down before it was done: hand it back now rather than after the lease
            # (a no-op when the cancel came because another replica holds it now; done in
            # bulk already for a turn that had not started when the shutdown began).
            if event_id in self._in_turn or not self._stopping:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._store.inbox.release(event_id=event_id), 2.0)
            raise
        finally:
            self._in_flight.discard(event_id)
            self._in_turn.discard(event_id)
            self._turn_tasks.pop(event_id, None)
            if self._backlog_room():
                self._wake.set()

    async def stop_starting_turns(self) -> None:
        """At shutdown: start no further turn, and hand every held event whose turn has not
        started back in one statement, so that the next start or another replica answers it
        at once (a flood can leave thousands; one release each took longer than the grace)."""
        self._stopping = True
        waiting = sorted(self._in_flight - self._in_turn)
        self._in_flight.difference_update(waiting)
        try:
            await self._store.inbox.release_many(event_ids=waiting)
        except StorageError as exc:  # then their leases run out unrenewed instead
            log.warning("could not hand %d event(s) back at shutdown: %s", len(waiting), exc)

    def _stop_turn(self, event_id: int) -> None:
        """Another replica took this event over (our lease ran out unrenewed: the database or
        this process stalled for a whole lease): stop working on it, so it is not run twice."""
        task = self._turn_tasks.get(event_id)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _run_event(
        self, channel: Channel, event_id: int, work: Callable[[], Awaitable[None]]
    ) -> None:
        started = time.perf_counter()
        attempts = await self.begin(event_id)
        if attempts == 0:
            log.info("%s event %s is held by another replica now", channel.value, event_id)
            return
        if attempts > MAX_ATTEMPTS:
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
            # again later (a channel does not redeliver what it got a 200 for).
            log.warning("could not process %s event %s yet: %s", channel.value, event_id, exc)
            self.count_error(channel.value)
            retry_at = self._clock() + FIRST_RETRY * 2 ** (attempts - 1)
            await self._store.inbox.release(event_id=event_id, retry_at=retry_at)
            return
        except StorageError as exc:
            # Nothing half-done was answered: hand it back at once for any replica to retry
            # (if the database is gone, its lease runs out unrenewed instead).
            log.warning("%s event %s stopped by the database: %s", channel.value, event_id, exc)
            with contextlib.suppress(StorageError):
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
        return await self._redrive(channel, at_start=True)

    async def redrive_forever(self, every: float | None = None) -> None:
        """Retry, while running, events left pending by a failure or by a replica that died
        (once their lease ran out), not only at the next start. It looks four times per lease
        (every 5 s with the 20-s default): a dead replica's events are taken over within a
        lease and a quarter of its last heartbeat."""
        every = every or self._store.lease.duration.total_seconds() / 4
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), every)
            self._wake.clear()
            self._backlog = False
            await self.priority.yield_to_acknowledgements()
            for channel in list(self._processors):
                try:
                    await self._redrive(channel)
                except StorageError as exc:  # the loop must outlive a database outage
                    log.warning("re-driving %s events failed: %s", channel.value, exc)
                except Exception:
                    log.exception("re-driving %s events failed", channel.value)

    async def _redrive(self, channel: Channel, *, at_start: bool = False) -> int:
        """Lease pending events nobody holds (not those another live replica is answering)
        and process them; returns how many were started."""
        process = self._processors[channel]
        room = REDRIVE_BATCH - len(self._in_flight)
        now = self._clock()
        rows = await self._store.inbox.claim(
            channel=channel.value, received_before=now, now=now, limit=room, retry_early=at_start
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
        self._in_flight.discard(event_id)

    async def release(self, event_id: int) -> None:
        self._in_flight.discard(event_id)
        try:
            await self._store.inbox.release(event_id=event_id)
        except StorageError as exc:  # then its lease runs out unrenewed instead
            log.warning("could not hand event %s back: %s", event_id, exc)

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        self._tasks.spawn(work, name=name)

    def observe_turn(self, channel: Channel, seconds: float) -> None:
        self._metrics.turn_seconds.labels(channel=channel.value).observe(seconds)

    def count_error(self, where: str) -> None:
        self._metrics.errors.labels(where=where).inc()

    def count_duplicate(self, channel: Channel) -> None:
        self._metrics.duplicates.labels(channel=channel.value).inc()
