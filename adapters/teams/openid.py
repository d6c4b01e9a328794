"""Fixes to the SDK's cache of Bot Framework signing keys (botbuilder 4.17.1, archived).

Two defects of `_OpenIdMetadata`:
- it fetches the OpenID metadata and keys with a blocking `requests.get` without a timeout,
  on the event loop: a slow Microsoft endpoint would freeze every request;
- a token signed with a key it has not cached raises `IndexError` before its "refresh when a
  key is unknown" step runs, so after Microsoft rotates its keys every request is refused until
  the daily refresh or a restart.

The SDK keeps this cache on the `JwtTokenExtractor` class, so the fix has to be installed there;
`install()` is idempotent and only changes how cache entries fetch and look up keys.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import requests
from botframework.connector.auth import jwt_token_extractor

FETCH_TIMEOUT_SECONDS = 10.0
_SdkOpenIdMetadata: Any = jwt_token_extractor._OpenIdMetadata


class ResilientOpenIdMetadata(_SdkOpenIdMetadata):  # type: ignore[misc]
    """The SDK's key cache, fetching off the loop and refreshing when a key id is unknown."""

    max_age_seconds: ClassVar[float] = 24 * 3600
    # Throttles refreshes for unknown key ids, so forged tokens cannot make us fetch per request.
    unknown_key_refresh_seconds: ClassVar[float] = 300.0

    # After a failed fetch, requests fail fast for this long instead of each starting a fetch.
    failure_backoff_seconds: ClassVar[float] = 30.0

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._lock: asyncio.Lock | None = None

    async def get(self, key_id: str) -> Any:
        if self._age() > self.max_age_seconds:
            await self._refresh_once(self.max_age_seconds)
        key = self._find(key_id)
        if key is None and self._age() > self.unknown_key_refresh_seconds:
            await self._refresh_once(self.unknown_key_refresh_seconds)
            key = self._find(key_id)
        return key

    async def _refresh_once(self, older_than: float) -> None:
        """One fetch at a time; whoever waited for it uses its result."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._age() <= older_than:
                return  # another request refreshed while this one waited
            if self._failed_at is not None and (
                time.monotonic() - self._failed_at < self.failure_backoff_seconds
            ):
                raise ConnectionError("signing keys unavailable (recent fetch failed)")
            try:
                await self._refresh()
            except Exception:
                self._failed_at = time.monotonic()
                raise
            self._failed_at = None

    def _age(self) -> float:
        return float("inf") if self._fetched_at is None else time.monotonic() - self._fetched_at

    async def _refresh(self) -> None:
        self.keys = await asyncio.to_thread(_fetch_keys, str(self.url))
        self._fetched_at = time.monotonic()

    def _find(self, key_id: str) -> Any:
        if not any(key.get("kid") == key_id for key in self.keys or ()):
            return None  # the SDK would raise IndexError here and never refresh
        return super()._find(key_id)


def _fetch_keys(metadata_url: str) -> list[dict[str, Any]]:
    metadata = requests.get(metadata_url, timeout=FETCH_TIMEOUT_SECONDS)
    metadata.raise_for_status()
    keys = requests.get(metadata.json()["jwks_uri"], timeout=FETCH_TIMEOUT_SECONDS)
    keys.raise_for_status()
    found: list[dict[str, Any]] = keys.json()["keys"]
    return found


def install() -> None:
    """Make every key cache the SDK creates from now on a `ResilientOpenIdMetadata`."""
    jwt_token_extractor._OpenIdMetadata = ResilientOpenIdMetadata
    cache = jwt_token_extractor.JwtTokenExtractor.metadataCache
    for url, entry in list(cache.items()):
        if not isinstance(entry, ResilientOpenIdMetadata):
            cache[url] = ResilientOpenIdMetadata(url)
