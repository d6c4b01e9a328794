"""Group commit of inbound events: the webhooks arriving together are stored in one transaction.

Every webhook must be stored before it is acknowledged (so a crash loses nothing the sender
was told we have). One transaction per event made the commit, not the webhook, the bottleneck
under a flood: a process acknowledged a few hundred deliveries a second. Here each request
queues its event and waits; one writer takes whatever is queued (after a very short window,
or as soon as a batch is full), stores it in one transaction and then answers every request of
that batch. A request is answered only after its batch committed.

De-duplication is the database's, as before: the insert skips an event whose (channel,
dedupe key) is stored already, whether by an earlier batch, another replica or a request
earlier in the same batch, and each request learns whether its event was new. A batch the
database refuses as a whole is written again one event at a time, so one bad event fails
only its own request; a database that is unreachable fails every request of the batch with
`DatabaseUnavailable` (503: the senders retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from storage.db import retry_on_stale
from storage.errors import DatabaseUnavailable, EventNotStored, StorageError
from storage.repositories import NewEvent

log = logging.getLogger(__name__)

# Events stored per transaction at most; more wait for the next one.
MAX_BATCH = 128
# How long the writer, woken by a first event, waits for others to join it. Under load the
# writer is busy with the previous batch meanwhile anyway; alone, an event waits this long.
WINDOW_SECONDS = 0.001
# Shutdown waits this long for queued events to be stored and answered.
CLOSE_TIMEOUT_SECONDS = 10.0

Write = Callable[[Sequence[NewEvent]], Awaitable[Sequence[int | None]]]


@dataclass(slots=True)
class _Waiting:
    event: NewEvent
    answer: asyncio.Future[int | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class InboundBatcher:
    """Stores concurrently arriving inbound events in shared transactions (one per process).

    `write(events)` stores a batch in one transaction and returns, for each event in order,
    its new id or None when it was stored before. `orphaned(id)` gets the events that were
    stored for a request that stopped waiting meanwhile (its sender got no answer and will
    retry, which then finds the event stored): someone must still process them.
    """

    def __init__(
        self,
        write: Write,
        *,
        orphaned: Callable[[int], None] = lambda _event_id: None,
        max_batch: int = MAX_BATCH,
        window: float = WINDOW_SECONDS,
    ) -> None:
        self._write = write
        self._orphaned = orphaned
        self._max_batch = max_batch
        self._window = window
        self._queue: list[_Waiting] = []
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self._closing = False
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the writer (in the running loop)."""
        self._writer = asyncio.get_running_loop().create_task(self._run(), name="inbound-writer")

    async def accept(self, event: NewEvent) -> int | None:
        """Store `event` with the others arriving now; its id once its batch committed, or
        None when it was stored before (a redelivery)."""
        if self._closing or self._writer is None or self._writer.done():
            raise DatabaseUnavailable("not accepting events: shutting down")
        waiting = _Waiting(event)
        self._queue.append(waiting)
        self._arrived.set()
        if len(self._queue) >= self._max_batch:
            self._full.set()
        return await waiting.answer

    async def close(self) -> None:
        """Store and answer what is queued (for a while at most), then stop the writer."""
        self._closing = True
        self._arrived.set()
        if self._writer is None:
            return
        # `wait` neither raises what ended the writer nor cancels it when time is up.
        _, running = await asyncio.wait({self._writer}, timeout=CLOSE_TIMEOUT_SECONDS)
        if running:
            self._writer.cancel()
            await asyncio.wait({self._writer})

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            if not self._queue:
                if self._closing:
                    return
                self._arrived.clear()
                continue
            await self._let_others_join()
            batch = self._take_batch()
            if batch:
                await self._store(batch)

    async def _let_others_join(self) -> None:
        if self._closing or len(self._queue) >= self._max_batch:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._full.wait(), self._window)

    def _take_batch(self) -> list[_Waiting]:
        batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        if len(self._queue) < self._max_batch:
            self._full.clear()
        # A request that stopped waiting before its event was written is not stored: its
        # sender got no answer and delivers it again.
        return [waiting for waiting in batch if not waiting.answer.done()]

    async def _store(self, batch: list[_Waiting]) -> None:
        events = [waiting.event for waiting in batch]
        try:
            # A second try on a fresh connection if the first was found dead: safe, as an
            # event is never stored twice (at worst, when only the commit's answer was lost,
            # the second try finds the events stored and they are processed after their
            # lease, by the re-drive; their senders still get their 200).
            ids = await retry_on_stale(lambda: self._write(events))
        except asyncio.CancelledError:
            for waiting in batch:
                waiting.answer.cancel()
            raise
        except DatabaseUnavailable as exc:
            log.warning("could not store %d inbound event(s): %s", len(batch), exc)
            for waiting in batch:
                _fail(waiting, exc)
            return
        except Exception as exc:
            if len(batch) == 1:
                log.warning("could not store an inbound event: %s", type(exc).__name__)
                _fail(batch[0], EventNotStored(type(exc).__name__))
                return
            # One event the database refuses must not cost the others their place.
            log.warning("a batch of %d inbound events failed; storing them one by one", len(batch))
            for waiting in batch:
                await self._store([waiting])
            return
        for waiting, event_id in zip(batch, ids, strict=True):
            self._answer(waiting, event_id)

    def _answer(self, waiting: _Waiting, event_id: int | None) -> None:
        if not waiting.answer.done():
            waiting.answer.set_result(event_id)
        elif event_id is not None:
            self._orphaned(event_id)


def _fail(waiting: _Waiting, error: StorageError) -> None:
    if not waiting.answer.done():
        waiting.answer.set_exception(error)
