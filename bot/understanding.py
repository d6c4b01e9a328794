"""The trained understanding step of one app: trained off the event loop while the service
starts, so start-up and the first webhooks are not held up by it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dialogs.understanding import Understander


class Understanding:
    """An `Understander` that may still be training; `get()` waits for it."""

    def __init__(self, ready: asyncio.Future[Understander] | Understander) -> None:
        self._ready = ready

    @classmethod
    def now(cls, understander: Understander) -> Understanding:
        """One that is ready (tests, the command line)."""
        return cls(understander)

    @classmethod
    def in_background(cls, build: Callable[[], Understander]) -> Understanding:
        """Start training in a worker thread; must be called on the running loop."""
        return cls(asyncio.ensure_future(asyncio.to_thread(build)))

    async def get(self) -> Understander:
        if isinstance(self._ready, Understander):
            return self._ready
        self._ready = await self._ready
        return self._ready
