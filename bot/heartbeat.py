"""The heartbeat: renews the leases of the rows a replica is still working on.

With it a lease can be short (a dead replica's work is taken over within one lease) although a
turn or a send may take longer than that: a live replica renews every third of the lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from storage.errors import StorageError
from storage.leases import Lease

log = logging.getLogger(__name__)

Renew = Callable[[Sequence[int]], Awaitable[Sequence[int]]]


class Heartbeat:
    """Renews the leases of `held` (ids of one kind of row) until cancelled.

    `renew(ids)` extends this replica's leases and returns the ids another replica holds
    now; each of those is handed to `lost` once (so the work stops rather than runs twice).
    """

    def __init__(
        self, *, what: str, lease: Lease, renew: Renew, lost: Callable[[int], None]
    ) -> None:
        self.held: set[int] = set()
        self._what = what
        self._lease = lease
        self._renew = renew
        self._lost = lost

    async def run(self) -> None:
        """Beat every third of the lease, forever; a failed beat is logged and the next one
        tries again (two may fail before a lease runs out)."""
        while True:
            await asyncio.sleep(self._lease.renew_every)
            await self.beat()

    async def beat(self) -> None:
        """Renew every lease held now, once."""
        ids = sorted(self.held)
        if not ids:
            return
        try:
            taken = await self._renew(ids)
        except StorageError as exc:
            log.warning("could not renew %d %s lease(s): %s", len(ids), self._what, exc)
            return
        except Exception:  # the heartbeat must outlive anything one beat runs into
            log.exception("renewing %s leases failed", self._what)
            return
        for item in taken:
            if item in self.held:
                self.held.discard(item)
                log.warning("lost the lease of %s %s to another replica", self._what, item)
                self._lost(item)
