"""Background tasks that are tracked, logged when they fail, and awaited at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskTracker:
    """Keeps a strong reference to every task so none is garbage-collected mid-flight."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: set[asyncio.Task[None]] = set()

    def start_loop(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        """Start a loop that runs until shutdown (sweepers, watchers); `idle` ignores it."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._loops.add(task)
        task.add_done_callback(self._loops.discard)
        task.add_done_callback(self._log_failure)
        return task

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        """Start `work` now; its failure is logged (without leaking it to any client)."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._log_failure(task)

    @staticmethod
    def _log_failure(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error(
                "background task %s failed: %s",
                task.get_name(),
                type(error).__name__,
                exc_info=error,
            )

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float) -> None:
        """Stop the loops, let running work finish for up to `grace` seconds, cancel the rest."""
        for loop_task in set(self._loops):
            loop_task.cancel()
        if self._loops:
            await asyncio.wait(set(self._loops))
        if not self._tasks:
            return
        _, still_running = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.wait(still_running)

    async def idle(self) -> None:
        """Wait until no task is running (tests use this to observe finished work)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
