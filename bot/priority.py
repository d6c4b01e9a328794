"""Acknowledgements first: background work steps aside while webhooks wait for their answer.

A replica's event loop serves both the webhooks (read, verify, store, answer 200) and the
background work those webhooks cause (turns, outbox sends, the watchers). Under a flood the
background work took the CPU the acknowledgements needed, and the senders saw their answers
slow down ten-fold. Here the webhooks count themselves in while they are being acknowledged,
and background loops ask, before they take their next unit of work, to wait until none is —
for a short while at most, so that background work still moves during a flood that never
pauses (its events are stored and leased meanwhile; nothing is lost by waiting).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

# The longest a unit of background work waits for acknowledgements to finish: long enough for
# a batch of them to be stored and answered, short enough that a flood that never pauses still
# leaves the background a turn several times a second.
LONGEST_WAIT_SECONDS = 0.25


class AckPriority:
    """Counts the webhooks being acknowledged; background work yields to them."""

    def __init__(self, *, longest_wait: float = LONGEST_WAIT_SECONDS) -> None:
        self._acknowledging = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._longest_wait = longest_wait

    @property
    def acknowledging(self) -> int:
        """How many webhooks are between arriving and their answer right now."""
        return self._acknowledging

    @contextlib.contextmanager
    def acknowledgement(self) -> Iterator[None]:
        """Around the part of a webhook that its sender waits for (read, verify, store)."""
        self._acknowledging += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._acknowledging -= 1
            if self._acknowledging == 0:
                self._quiet.set()

    async def yield_to_acknowledgements(self) -> None:
        """Return when no webhook is waiting for its answer, or after the longest wait."""
        if self._acknowledging == 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), self._longest_wait)
