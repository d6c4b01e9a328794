"""Bearer tokens, their scopes, and the per-token rate limit of the integration API."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# A token is `cso_` and 43 URL-safe characters (32 random bytes): guessing one is hopeless, so
# a plain SHA-256 of it is a safe thing to store (no salt or slow hash needed).
TOKEN_PREFIX = "cso_"  # noqa: S105 (a prefix, not a secret)
SCOPES = {
    "tickets:read": "list and read tickets, their SLA state, files and explanation",
    "tickets:write": "open tickets, add events, set the external reference",
    "customers:read": "list customers",
    "reports:read": "SLA and billing reports",
}


def new_token() -> str:
    """A fresh bearer token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored and looked up instead of the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def bearer_token(header: str) -> str | None:
    """The token of an `Authorization: Bearer …` header, if it is one."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    return token


@dataclass(frozen=True, slots=True)
class Principal:
    """The integration a request comes from: its token's name, scopes and customer."""

    name: str
    scopes: frozenset[str]
    customer_key: str | None = None

    @property
    def actor(self) -> str:
        """How the integration appears in ticket event logs."""
        return f"api:{self.name}"

    def may(self, scope: str) -> bool:
        """True when the token holds `scope`."""
        return scope in self.scopes

    def may_see(self, customer_key: str) -> bool:
        """A token bound to a customer sees only that customer's tickets."""
        return self.customer_key is None or self.customer_key == customer_key


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclass(slots=True)
class RateLimiter:
    """A token bucket per integration: `rate` requests a second on average, bursts of up to
    `burst`. Kept in memory per replica (each replica allows the rate on its own)."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def wait_for(self, name: str) -> float:
        """0 when `name` may make a request now (and counts it), else the seconds to wait."""
        now = self.clock()
        bucket = self._buckets.setdefault(name, _Bucket(float(self.burst), now))
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(seconds: float) -> str:
        """The `Retry-After` header's whole seconds (at least 1)."""
        return str(max(1, math.ceil(seconds)))
