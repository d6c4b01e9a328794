"""Bounded retries with exponential backoff and full jitter, for calls to a channel's API."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from storage.errors import TransientChannelError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry transient failures."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt `attempt + 1`; honours the server's Retry-After."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography


async def with_retries(call: Callable[[], Awaitable[T]], *, policy: RetryPolicy, what: str) -> T:
    """Run `call`, retrying `TransientChannelError` up to the policy's limit."""
    for attempt in range(policy.attempts):
        try:
            return await call()
        except TransientChannelError as exc:
            if attempt + 1 >= policy.attempts:
                raise
            pause = policy.delay(attempt, getattr(exc, "retry_after", None))
            log.warning(
                "%s failed transiently (%s); retry %d in %.1fs", what, exc, attempt + 1, pause
            )
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover
