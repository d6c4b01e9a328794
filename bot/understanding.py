"""The trained understanding step of one app: trained off the event loop while the service
starts, so start-up and the first webhooks are not held up by it."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import threading
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
        """Start training in a thread of its own; must be called on the running loop. A
        daemon thread, not the loop's executor: a service stopped during training stops at
        once instead of waiting seconds for a model nobody will use."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Understander] = loop.create_future()

        def train() -> None:
            try:
                understander = _timed(build)
            except Exception as error:  # handed to whoever waits for it
                _settle(loop, ready, error=error)
            else:
                _settle(loop, ready, understander=understander)

        threading.Thread(target=train, name="understanding", daemon=True).start()
        return cls(ready)

    async def get(self) -> Understander:
        if isinstance(self._ready, Understander):
            return self._ready
        self._ready = await self._ready
        return self._ready


def _settle(
    loop: asyncio.AbstractEventLoop,
    ready: asyncio.Future[Understander],
    *,
    understander: Understander | None = None,
    error: Exception | None = None,
) -> None:
    def settle() -> None:
        if ready.done():
            return  # the app stopped waiting (shut down)
        if error is not None:
            ready.set_exception(error)
        elif understander is not None:
            ready.set_result(understander)

    with contextlib.suppress(RuntimeError):  # the loop is closed: stopped while training
        loop.call_soon_threadsafe(settle)


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
