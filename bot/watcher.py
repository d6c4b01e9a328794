"""The SLA watcher: announces warnings, breaches and reminders, each exactly once, on time.

Every ticket stores the next instant something about it is due (`sla_next_due`, indexed). The
watcher claims the tickets whose instant has come (leased, so replicas share the work), works
out what is due from the event log, queues the messages through the outbox, records each
announcement in the log (that record is what makes it "once"), and stores the next instant.

Warnings fall at the contract's percentages of the reaction (or resolution) time while the
ticket is not acknowledged; a breach also goes to the managers' channel. Tickets under a
business-hours service time are not pinged outside it (unless `notify_outside_service_time`):
what falls due at night is announced when the service time opens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.model import Channel, ConversationRef, Outgoing
from bot.priority import AckPriority
from dialogs import formats
from dialogs.context import Language, as_language
from dialogs.i18n import N_, gettext_for
from dialogs.services import Services
from dialogs.ticket_state import (
    CUSTOMER_REMINDED,
    NOTICE,
    VENDOR_CHASED,
    Due,
    TicketView,
    due_items,
    refresh_all_next_due,
    view,
)
from dialogs.when import in_words
from storage.errors import ChatOpsError
from storage.models import TicketRow
from storage.sla import terms_fingerprint

log = logging.getLogger(__name__)
#: The SLA clocks a warning names ("50 % of the reaction time used").
_CLOCKS = {"reaction": N_("reaction"), "resolution": N_("resolution")}
POLL_SECONDS = 15.0
# Tickets claimed per query; a pass claims batch after batch until nothing due is left.
BATCH = 50
# Where the digest of the SLA terms the stored instants were computed with is kept.
TERMS_KEY = "sla-terms"
_RECORD = {"milestone": NOTICE, "customer_reminder": CUSTOMER_REMINDED,
           "vendor_chase": VENDOR_CHASED}  # fmt: skip


class SlaWatcher:
    """Looks at due tickets and says what is due."""

    def __init__(
        self, services: Services, *, batch: int = BATCH, priority: AckPriority | None = None
    ) -> None:
        self._services = services
        self._priority = priority or AckPriority()
        self._batch = batch
        self._terms_checked = False

    async def run(self, poll: float = POLL_SECONDS) -> None:
        """Watch forever (until cancelled at shutdown)."""
        while True:
            if not self._terms_checked:
                try:
                    await self.follow_terms()
                    self._terms_checked = True
                except Exception:  # tried again next pass; watching must go on meanwhile
                    log.exception("recomputing the SLA instants after a terms change failed")
            try:
                await self.check()
            except ChatOpsError as exc:
                log.warning("SLA watch pass failed, retrying: %s", exc)
            except Exception:  # the watcher must outlive any one bad pass
                log.exception("SLA watch pass failed")
            await asyncio.sleep(poll)

    async def follow_terms(self) -> int | None:
        """After the directory's calendars or contract terms changed (a new closed day, other
        hours), recompute every open ticket's next instant, once: at the first start that sees
        the change. Returns how many instants moved (None: nothing had changed)."""
        services = self._services
        fingerprint = terms_fingerprint(services.directory)
        stored = await services.store.preferences.get(TERMS_KEY)
        if stored is not None and stored.get("sha256") == fingerprint:
            return None
        started = time.perf_counter()
        moved = await refresh_all_next_due(services)
        await services.store.preferences.put(
            TERMS_KEY, {"sha256": fingerprint}, now=services.clock()
        )
        log.info(
            "SLA terms changed: recomputed open tickets in %.1f s, %d moved",
            time.perf_counter() - started,
            moved,
        )
        return moved

    async def check(self) -> int:
        """One pass over the due tickets; returns how many announcements were queued.

        A claim moves each ticket's instant past `now`, so batch after batch drains what is due
        (a deadline falling for hundreds of tickets at 09:00 must not wait for later passes)."""
        now = self._services.clock()
        announced = 0
        while True:
            await self._priority.yield_to_acknowledgements()
            tickets = await self._services.store.tickets.claim_due(
                now=now, lease=self._lease, limit=self._batch
            )
            held_until = now + self._lease
            renewed_at = time.monotonic()
            for n, ticket in enumerate(tickets):
                if time.monotonic() - renewed_at > self._lease.total_seconds() / 3:
                    # A slow batch keeps the rest of its tickets (not re-checked elsewhere).
                    held_until = await self._renew([t.id for t in tickets[n:]], held_until)
                    renewed_at = time.monotonic()
                announced += await self._check_isolated(ticket, now)
            if len(tickets) < self._batch:
                return announced

    @property
    def _lease(self) -> timedelta:
        return self._services.store.lease.duration

    async def _renew(self, ticket_ids: list[int | None], held_until: datetime) -> datetime:
        until = self._services.clock() + self._lease
        await self._services.store.tickets.extend_claim(
            [i for i in ticket_ids if i is not None], held_until=held_until, until=until
        )
        return until

    async def _check_isolated(self, ticket: TicketRow, now: datetime) -> int:
        try:
            return await self._check(ticket, now)
        except ChatOpsError:
            raise  # the database or a channel: the whole pass retries later
        except Exception:
            # One ticket the watcher cannot work out (e.g. its contract left the directory)
            # must not silence the others; its lease brings it back after the lease.
            log.exception("cannot watch ticket %s", ticket.number)
            return 0

    async def _check(self, ticket: TicketRow, now: datetime) -> int:
        assert ticket.id is not None
        current = await view(self._services, ticket, now)
        items = due_items(current, self._services)
        ready = [item for item in items if item.at <= now]
        calendar = current.sla.terms.calendar
        if ready and not self._may_ping(current, now):
            await self._services.store.tickets.set_next_due(ticket.id, calendar.next_opening(now))
            return 0
        for item in ready:
            await self._announce(current, item, now)
        later = [item.at for item in items if item.at > now]
        await self._services.store.tickets.set_next_due(ticket.id, min(later, default=None))
        return len(ready)

    def _may_ping(self, current: TicketView, now: datetime) -> bool:
        calendar = current.sla.terms.calendar
        if self._services.tunables.notify_outside_service_time or calendar.always_open:
            return True
        # A deadline at a window's end (17:00) is still announced at 17:00.
        return calendar.is_open(now) or calendar.is_open(now - timedelta(microseconds=1))

    async def _announce(self, current: TicketView, item: Due, now: datetime) -> None:
        ticket, notify = current.ticket, self._services.notify
        assert ticket.id is not None
        event = f"{item.kind}:{ticket.number}:{item.key}"
        if item.kind == "customer_reminder":
            await notify.to_customer(ticket, self._customer_reminder(ticket), event=event)
        else:
            message = self._thread_message(current, item, now)
            await notify.to_thread(ticket, [message], event=event)
            if item.kind == "milestone" and item.percent == 100:
                await notify.to_managers(self._escalation(current, item, now), event=event)
        await self._services.store.tickets.append(
            ticket.id, kind=_RECORD[item.kind], at=now, data=_record_data(current, item)
        )

    def _thread_message(self, current: TicketView, item: Due, now: datetime) -> Outgoing:
        ticket = current.ticket
        zone = current.sla.terms.calendar.zone
        deadline = current.sla.reaction.deadline
        lang = self._services.notify.engineers_language(ticket.customer_key)
        _ = gettext_for(lang)
        clock = _(_CLOCKS.get(item.clock, item.clock))
        if item.kind == "vendor_chase":
            owner = ticket.owner_name or _("the owner")
            text = _("⏰ {owner}: please chase the vendor case of {number}.")
            text = text.format(owner=owner, number=ticket.number)
        elif item.percent == 100:
            text = _("🚨 {number} breached its {clock} time (due {due}).").format(
                number=ticket.number, clock=clock, due=_when(item.at, now, zone, lang)
            )
        else:
            text = _(
                "⚠️ {number}: {percent} of the {clock} time used, not acknowledged yet; due {due}."
            ).format(
                number=ticket.number,
                percent=formats.percent(item.percent, lang),
                clock=clock,
                due=_when(deadline, now, zone, lang),
            )
        return Outgoing(ConversationRef(Channel(ticket.reporter_channel), ""), text)

    def _escalation(self, current: TicketView, item: Due, now: datetime) -> Outgoing:
        ticket = current.ticket
        customer = self._services.directory.customer(ticket.customer_key)
        name = customer.name if customer else ticket.customer_key
        zone = current.sla.terms.calendar.zone
        lang = self._services.notify.managers_language()
        _ = gettext_for(lang)
        text = _(
            "🚨 Breach: {number} ({customer}, {priority}) passed its {clock} deadline {due}; "
            "owner: {owner}."
        ).format(
            number=ticket.number,
            customer=name,
            priority=ticket.priority,
            clock=_(_CLOCKS.get(item.clock, item.clock)),
            due=_when(item.at, now, zone, lang),
            owner=ticket.owner_name or _("nobody"),
        )
        return Outgoing(ConversationRef(Channel(ticket.reporter_channel), ""), text)

    def _customer_reminder(self, ticket: TicketRow) -> str:
        _ = gettext_for(as_language(ticket.language) or "en")
        text = _("A reminder: for {number} we are still waiting for your logfiles or answer.")
        return text.format(number=ticket.number)


def _record_data(current: TicketView, item: Due) -> dict[str, str]:
    """What the log keeps of an announcement: its key (what makes it "once") and, for a
    warning or breach, the deadline it was about (integrators' webhooks report it)."""
    if item.kind != "milestone":
        return {"key": item.key}
    clock = current.sla.reaction if item.clock == "reaction" else current.sla.resolution
    deadline = clock.deadline if clock is not None else None
    return {"key": item.key, "deadline": deadline.isoformat() if deadline else ""}


def _when(instant: datetime | None, now: datetime, zone: ZoneInfo, language: Language) -> str:
    if instant is None:
        return "–"
    return in_words(instant, now=now, zone=zone, language=language)
