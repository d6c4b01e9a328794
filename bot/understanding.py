"""The trained understanding step of one app: trained off the event loop while the service
starts, so start-up and the first webhooks are not held up by it."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable

from dialogs.understanding import Understander

log = logging.getLogger(__name__)


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
        return cls(asyncio.ensure_future(asyncio.to_thread(_timed, build)))

    async def get(self) -> Understander:
        if isinstance(self._ready, Understander):
            return self._ready
        self._ready = await self._ready
        return self._ready


def _timed(build: Callable[[], Understander]) -> Understander:
    started = time.perf_counter()
    understander = build()
    _give_back_memory()
    log.info("understanding ready in %.2f s", time.perf_counter() - started)
    return understander


def _give_back_memory() -> None:
    """Hand the memory training used (about 100 MiB, freed by now) back to the system: glibc
    keeps freed memory of a worker thread's arena for itself unless asked, and every replica
    would carry it for its whole life."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc (musl, macOS): nothing to ask for
