"""E-mail addresses (and names) of Teams users: activities carry only ids, the directory knows
e-mails."""

from __future__ import annotations

import logging
import time
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

log = logging.getLogger(__name__)


class MemberEmails:
    """Looks up a user's e-mail (or UPN) through the connector, cached per user.

    A failed lookup is remembered briefly only, so a passing connector hiccup does not hide a
    staff member's e-mail for an hour.
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = 3600,
        failure_ttl_seconds: float = 60,
        max_entries: int = 10_000,
    ) -> None:
        self._ttl = ttl_seconds
        self._failure_ttl = failure_ttl_seconds
        self._max_entries = max_entries
        self._cache: dict[tuple[str, str], tuple[tuple[str | None, str | None], float]] = {}

    async def email(
        self, turn: TurnContext, user_id: str, *, aad_object_id: str | None = None
    ) -> str | None:
        """The user's e-mail address, or None when Teams does not tell."""
        return (await self.details(turn, user_id, aad_object_id=aad_object_id))[0]

    async def details(
        self, turn: TurnContext, user_id: str, *, aad_object_id: str | None = None
    ) -> tuple[str | None, str | None]:
        """The user's e-mail address and display name, each None when Teams does not tell
        (install events name nobody; messages do).

        Cached per user id and Entra object id: in Teams one id is one person, but in the
        Agents Playground the current user keeps its id when the configuration switches the
        person (Alex, Megan, Adele), and the new person must not get the last one's e-mail.
        """
        key = (user_id, aad_object_id or "")
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() < cached[1]:
            return cached[0]
        found = await self._lookup(turn, user_id)
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        ttl = self._ttl if found[0] is not None else self._failure_ttl
        self._cache[key] = (found, time.monotonic() + ttl)
        return found

    @staticmethod
    async def _lookup(turn: TurnContext, user_id: str) -> tuple[str | None, str | None]:
        try:
            member: Any = await TeamsInfo.get_member(turn, user_id)
        except Exception as exc:
            log.info("no member details for a Teams user: %s", type(exc).__name__)
            return None, None
        found = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        name = getattr(member, "name", None)
        return (str(found).lower() if found else None), (str(name) if name else None)
