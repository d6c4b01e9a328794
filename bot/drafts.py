"""Unfinished fault reports: reminded once, then discarded after a while.

A tracked background loop looks for intake drafts nobody has answered for
`draft_remind_after` (remind once) or `draft_expire_after` (discard and say so). The reminder
does not count as activity, so expiry is measured from the contact's last answer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from adapters.model import Channel, ConversationRef, Outgoing
from dialogs.context import as_language
from dialogs.i18n import gettext_for
from dialogs.intake import IntakeDialog
from dialogs.services import Services
from storage.errors import ChatOpsError, ConcurrencyConflict
from storage.models import DialogStateRow
from storage.repositories import DialogKey

log = logging.getLogger(__name__)
SWEEP_INTERVAL_SECONDS = 60.0


class DraftSweeper:
    """Reminds and expires intake drafts."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def run(self, interval: float = SWEEP_INTERVAL_SECONDS) -> None:
        """Sweep forever (until cancelled at shutdown)."""
        while True:
            try:
                await self.sweep()
            except ChatOpsError as exc:
                log.warning("draft sweep failed, retrying later: %s", exc)
            except Exception:  # the sweeper must outlive any one bad pass
                log.exception("draft sweep failed")
            await asyncio.sleep(interval)

    async def sweep(self) -> int:
        """One pass; returns how many drafts were reminded or expired."""
        settings, now = self._services.tunables, self._services.clock()
        states = self._services.store.dialog_states
        handled = 0
        for row in await states.idle(
            dialog=IntakeDialog.name, since=now - settings.draft_remind_after
        ):
            expired = row.updated_at <= now - settings.draft_expire_after
            if not expired and row.state.get("reminded"):
                continue
            try:
                await self._settle(row, expired=expired, now=now)
            except ConcurrencyConflict:
                continue  # the contact answered meanwhile: nothing to remind
            handled += 1
        return handled

    async def _settle(self, row: DialogStateRow, *, expired: bool, now: datetime) -> None:
        key = DialogKey(row.channel, row.conversation_id, row.user_id)
        if expired:
            await self._services.store.dialog_states.save(
                key, dialog=None, state={}, expected=row.version, now=now
            )
        else:
            await self._services.store.dialog_states.save(
                key,
                dialog=row.dialog,
                state={**row.state, "reminded": True},
                expected=row.version,
                now=now,
                touch=False,
            )
        _ = gettext_for(as_language(row.state.get("language")) or "en")
        if expired:
            text = _(
                "Your unfinished fault report has expired and was discarded. Type "
                "**report a fault** to start again."
            )
        else:
            text = _(
                "Your fault report is not finished yet. Answer the last question to "
                "continue, or type **cancel**."
            )
        await self._tell(row, text)

    async def _tell(self, row: DialogStateRow, text: str) -> None:
        channel = Channel(row.channel)
        sender = self._services.senders.get(channel)
        reference = await self._services.store.conversations.get(
            channel=row.channel, conversation_id=row.conversation_id
        )
        if sender is None or reference is None:
            log.info("cannot reach %s conversation to note a draft's state", row.channel)
            return
        conversation = ConversationRef(channel=channel, conversation_id=row.conversation_id)
        try:
            await sender.send_proactive(reference.reference, [Outgoing(conversation, text)])
        except ChatOpsError as exc:
            log.warning("draft note not delivered: %s", exc)
