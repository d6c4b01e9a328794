"""Reminds confirmed maintenance windows on their day, exactly once.

The reminder falls at the opening of the customer's service time on the window's (local) day:
the contact who confirmed (or was asked) hears it in their chat and the engineers' channel gets
a post. The outbox key names the window and its start, and the window's `reminded` flag is set
by a conditional update, so however many replicas look, and whatever crashes in between, each
target hears it once. A window moved to another day is reminded again on the new day.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from adapters.model import customer_text
from dialogs.i18n import gettext_for
from dialogs.maintenance import (
    contact_of,
    customer_calendar,
    find_contact,
    reminder_text,
    span,
    to_contact,
    to_engineers,
)
from dialogs.services import Services
from storage.errors import ChatOpsError
from storage.maintenance import history_entry
from storage.models import MaintenanceWindowRow

log = logging.getLogger(__name__)
POLL_SECONDS = 60.0


class MaintenanceReminder:
    """Looks for windows whose day has begun."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def run(self, poll: float = POLL_SECONDS) -> None:
        """Check forever (until cancelled at shutdown)."""
        while True:
            try:
                await self.tick()
            except ChatOpsError as exc:
                log.warning("maintenance reminder pass failed, retrying: %s", exc)
            except Exception:  # the loop must outlive a bad pass
                log.exception("maintenance reminder pass failed")
            await asyncio.sleep(poll)

    async def tick(self) -> list[int]:
        """Remind what is due now; the ids of the windows reminded."""
        now = self._services.clock()
        reminded = []
        for window in await self._services.store.windows.awaiting_reminder(now=now):
            try:
                if await self._remind(window, now):
                    assert window.id is not None
                    reminded.append(window.id)
            except ChatOpsError:
                raise  # the database: the whole pass retries later
            except Exception:
                # One window the loop cannot work out (its customer left the directory) must
                # not hold up the others.
                log.exception("cannot remind maintenance window %s", window.id)
        return reminded

    def reminder_at(self, window: MaintenanceWindowRow) -> datetime | None:
        """The opening of the service time on the window's day (None: customer unknown)."""
        customer = self._services.directory.customer(window.customer_key)
        if customer is None:
            return None
        calendar = customer_calendar(self._services, customer)
        local = window.starts_at.astimezone(calendar.zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        opening = calendar.next_opening(midnight.astimezone(UTC))
        # a window inside the service time starts at or after that day's opening
        return min(opening, window.starts_at)

    async def _remind(self, window: MaintenanceWindowRow, now: datetime) -> bool:
        due = self.reminder_at(window)
        if due is None or now < due:
            return False
        services = self._services
        customer = services.directory.customer(window.customer_key)
        assert customer is not None
        calendar = customer_calendar(services, customer)
        event = f"maintenance:W{window.id}:reminder:{window.starts_at.astimezone(UTC):%Y%m%dT%H%M}"
        contact = contact_of(window) or await find_contact(services, customer)
        if contact is not None:
            text = reminder_text(window, calendar, contact.language)
            await to_contact(services, contact, text, event=event)
        lang = services.notify.engineers_language(customer.key)
        _ = gettext_for(lang)
        today = _(
            "🛠️ Today: maintenance window {ref} “{title}” for {customer}, {span} (confirmed by "
            "{who})."
        ).format(
            ref=f"W{window.id}",
            title=customer_text(window.title),
            customer=customer.name,
            span=span(window.starts_at, window.ends_at, calendar, lang),
            who=customer_text(window.decided_by) if window.decided_by else _("the contact"),
        )
        await to_engineers(services, window.customer_key, today, event=event)
        assert window.id is not None
        entry = history_entry("reminded", by="bot", at=now, to=contact.name if contact else "")
        return await services.store.windows.mark_reminded(window.id, entry=entry)
