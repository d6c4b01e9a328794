"""Who the bot is and who is writing to it, looked up in Webex and cached briefly."""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters.webex.errors import WebexPermanentError
from adapters.webex.sdk import WebexApi
from adapters.webex.translate import BotIdentity, Person

PERSON_TTL_SECONDS = 3600.0
MAX_CACHED = 5000


class People:
    """`people/me` once, `people/{id}` at most hourly per person (e-mail and organisation
    rarely change, and every message would otherwise cost one more API call)."""

    def __init__(self, api: WebexApi, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._api = api
        self._clock = clock
        self._bot: BotIdentity | None = None
        self._cache: dict[str, tuple[float, Person]] = {}

    @property
    def known_bot_id(self) -> str | None:
        """The bot's person id once it has been looked up (no I/O)."""
        return self._bot.person_id if self._bot else None

    async def bot(self) -> BotIdentity:
        """The bot's own identity."""
        if self._bot is None:
            me = await self._api.me()
            self._bot = BotIdentity(person_id=str(me["id"]), name=str(me.get("displayName") or ""))
        return self._bot

    async def person(self, person_id: str, *, email: str | None = None) -> Person:
        """A person by id; `email` (from the message) is the fallback when Webex will not say."""
        cached = self._cache.get(person_id)
        if cached is not None and self._clock() - cached[0] < PERSON_TTL_SECONDS:
            return cached[1]
        try:
            person = Person.from_json(await self._api.person(person_id))
        except WebexPermanentError:
            # People outside the bot's organisation can be hidden; the message still names them.
            return Person(person_id=person_id, email=email)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[person_id] = (self._clock(), person)
        return person
