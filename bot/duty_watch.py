"""The duty watcher: generates every onboarded customer's contract duties at start and once a day
(idempotent, a year ahead), and sends the duty reminders and the customer's onboarding questions
when they fall due (see `dialogs/duties.py` for the rules). Every message goes through the
outbox under a key naming the duty and the reminder, so each goes out once, whichever replica
notices first."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from dialogs.duties import generate_all, remind
from dialogs.services import Services
from storage.errors import ChatOpsError

log = logging.getLogger(__name__)
POLL_SECONDS = 60.0


class DutyWatcher:
    """Generates duties daily and reminds of them on time."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._generated_on: date | None = None

    async def run(self, poll: float = POLL_SECONDS) -> None:
        """Watch forever (until cancelled at shutdown)."""
        while True:
            try:
                await self.tick()
            except ChatOpsError as exc:
                log.warning("duty watch pass failed, retrying: %s", exc)
            except Exception:  # the watcher must outlive any one bad pass
                log.exception("duty watch pass failed")
            await asyncio.sleep(poll)

    async def tick(self) -> int:
        """Generate (at the first pass of each UTC day) and remind; how many reminders and
        questions went out."""
        today = self._services.clock().date()
        if self._generated_on != today:
            created = await generate_all(self._services)
            if created:
                log.info("generated %d contract duties", created)
            self._generated_on = today
        return await remind(self._services)
