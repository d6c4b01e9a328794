"""The managers' digest: a summary at the start of each service day, and on Mondays also last
week's figures, posted to the managers' channel while `digest on` is set. Each is posted once
(the outbox key names the day or the week), whichever replica notices first."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.model import Card, Channel, ConversationRef, Outgoing
from dialogs.i18n import gettext_for
from dialogs.managers import DIGEST, report_zone
from dialogs.services import Services
from dialogs.status import card_text, service_overview

log = logging.getLogger(__name__)
POLL_SECONDS = 300.0
WeeklyCard = Callable[[datetime, datetime], Awaitable[Card]]


class DigestPoster:
    """Posts the digests when they fall due."""

    def __init__(self, services: Services, *, weekly: WeeklyCard | None = None) -> None:
        self._services = services
        self._weekly = weekly

    async def run(self, poll: float = POLL_SECONDS) -> None:
        """Check forever (until cancelled at shutdown)."""
        while True:
            try:
                await self.tick()
            except Exception:  # the loop must outlive a bad pass
                log.exception("digest pass failed")
            await asyncio.sleep(poll)

    async def tick(self) -> list[str]:
        """Queue whatever digest is due now; the keys of what was queued."""
        setting = await self._services.store.preferences.get(DIGEST)
        if not setting or not setting.get("on"):
            return []
        now = self._services.clock()
        opening = self._opening_today(now)
        if opening is None or now < opening:
            return []
        day = opening.astimezone(self._zone()).date()
        queued = [f"digest:daily:{day.isoformat()}"]
        lang = self._services.notify.managers_language()
        _ = gettext_for(lang)
        overview = service_overview(self._services, title_suffix=_("daily digest"), language=lang)
        await self._post(await overview, queued[0])
        if day.weekday() == 0 and self._weekly is not None:
            week = f"digest:weekly:{day.isocalendar().year}-W{day.isocalendar().week:02d}"
            start = opening - timedelta(days=7)
            await self._post(await self._weekly(start, opening), week)
            queued.append(week)
        return queued

    def _calendar_key(self) -> str:
        contracts = self._services.directory.contracts
        return next(iter(contracts.values())).service_time

    def _zone(self) -> ZoneInfo:
        return report_zone(self._services)

    def _opening_today(self, now: datetime) -> datetime | None:
        """The first opening of today's service time, None on a closed day."""
        calendar = self._services.sla.calendar(self._calendar_key())
        local = now.astimezone(calendar.zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        opening = calendar.next_opening(midnight)
        return opening if opening.astimezone(calendar.zone).date() == local.date() else None

    async def _post(self, card: Card, key: str) -> None:
        answer = Outgoing(ConversationRef(Channel.TEAMS, ""), card_text(card), card=card)
        await self._services.notify.to_managers(answer, event=key)
