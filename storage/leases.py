"""Leases: how a replica holds the rows it works on (inbound events, outbox rows).

A lease is short and renewed by a heartbeat while its holder is alive, so a replica that dies
(kill -9, a lost machine) gives its work up within one lease, while a live one keeps even a
turn that takes longer than that. Every claim names its holder, so a replica renews and
releases only its own leases, never one another replica took over after it ran out.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

# Short enough that a dead replica's work is taken over within seconds, long enough that a
# heartbeat (every third of it) survives a slow database round trip or two.
DEFAULT_LEASE = timedelta(seconds=20)


@dataclass(frozen=True, slots=True)
class Lease:
    """This process's name on its claims and how long a claim lasts without renewal."""

    owner: str
    duration: timedelta

    @classmethod
    def for_this_process(cls, duration: timedelta = DEFAULT_LEASE) -> Lease:
        """A lease named after this host and process (operators see who holds what), plus a
        random part: a restarted process with a reused pid is another holder."""
        owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        return cls(owner=owner, duration=duration)

    def until(self, now: datetime) -> datetime:
        """When a claim made or renewed at `now` runs out."""
        return now + self.duration

    @property
    def renew_every(self) -> float:
        """Seconds between heartbeats: a third of the lease, so two can fail in a row."""
        return self.duration.total_seconds() / 3
