"""The outbox dispatcher: delivers queued proactive messages through the channel adapters.

Each due row is leased (the lease renewed while its sends take), sent, and marked sent; a
transient failure (429, 5xx, no route to that team yet) is retried with exponential backoff; a
permanent one, or too many attempts, marks the row dead, and dead rows are reported once in the
managers' channel. Because rows are marked sent only after the adapter returned, a crash in
between can repeat one delivery; it never loses one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from adapters.model import Card, Channel, ConversationRef, Fact, Outgoing, outgoing_from_json
from adapters.ports import ChannelPoster, Posted, ProactiveSender
from bot.heartbeat import Heartbeat
from bot.priority import AckPriority
from bot.webhooks import WebhookSender
from dialogs.context import Language
from dialogs.i18n import gettext_for, ngettext_for
from dialogs.notify import Notifier
from storage.errors import ChannelError, PermanentChannelError, TransientChannelError
from storage.models import OutboxRow
from storage.outbox import SHARED_THREAD
from storage.repositories import Store
from storage.webhooks import WEBHOOK

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=15)
# An integrator's receiver gets longer (its maintenance window should not lose events): 12
# attempts, the gap doubling from 5 s up to an hour, dead about 2 h 25 min after the first.
WEBHOOK_MAX_ATTEMPTS = 12
WEBHOOK_LONGEST_RETRY = timedelta(hours=1)
POLL_SECONDS = 2.0
# Rows another replica gave up on are looked for this often (our own at once): the query ran
# after every delivery pass, several times a second while busy.
DEAD_CHECK_SECONDS = 60.0
# A possible outage's new tickets posted in one message at most (the list shows the first ones).
MAX_MEMBERS_PER_POST = 500
MEMBERS_LISTED = 25


class NotYet(TransientChannelError):
    """The target does not exist yet (a thread whose alert is still being posted)."""


class Dispatcher:
    """Delivers the outbox."""

    def __init__(
        self,
        *,
        store: Store,
        senders: dict[Channel, ProactiveSender],
        posters: dict[Channel, ChannelPoster],
        notifier: Notifier,
        clock: Callable[[], datetime],
        wakeup: asyncio.Event | None = None,
        webhooks: WebhookSender | None = None,
        priority: AckPriority | None = None,
    ) -> None:
        self._store = store
        self._webhooks = webhooks
        # Sends wait while webhooks are being acknowledged (briefly: see `AckPriority`).
        self.priority = priority or AckPriority()
        self._senders = senders
        self._posters = posters
        self._notifier = notifier
        self._clock = clock
        self._wakeup = wakeup or asyncio.Event()
        self._taken: set[int] = set()  # rows another replica took over: not ours to send
        self._dead_check_due = 0.0  # monotonic; at once after a start
        # The rows of the batch being delivered: their leases are renewed while sends take.
        self.heartbeat = Heartbeat(
            what="outbox row",
            lease=store.lease,
            renew=lambda ids: store.outbox.renew(row_ids=ids, now=clock()),
            lost=self._taken.add,
        )

    def wake(self) -> None:
        """Something was queued: deliver now instead of at the next poll."""
        self._wakeup.set()

    async def run(self, poll: float = POLL_SECONDS) -> None:
        """Deliver forever (until cancelled at shutdown)."""
        while True:
            try:
                await self.deliver_due()
                if time.monotonic() >= self._dead_check_due:
                    self._dead_check_due = time.monotonic() + DEAD_CHECK_SECONDS
                    await self.report_dead()
            except ChannelError as exc:  # pragma: no cover - every send is guarded below
                log.warning("outbox pass failed: %s", exc)
            except Exception:
                log.exception("outbox pass failed")
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=poll)

    async def deliver_due(self) -> int:
        """Deliver every due message once; returns how many were sent."""
        sent = 0
        while True:
            await self.priority.yield_to_acknowledgements()
            rows = await self._store.outbox.claim(now=self._clock())
            if not rows:
                return sent
            ids = {row.id for row in rows if row.id is not None}
            self.heartbeat.held |= ids
            try:
                sent += await self._deliver_batch(rows)
            finally:
                self.heartbeat.held -= ids
                self._taken -= ids

    async def _deliver_batch(self, rows: Sequence[OutboxRow]) -> int:
        sent = 0
        members: dict[tuple[str, str], list[OutboxRow]] = {}
        webhooks: list[OutboxRow] = []
        for row in rows:
            if row.id in self._taken:
                continue  # our lease ran out unrenewed and another replica sends it
            await self.priority.yield_to_acknowledgements()
            if row.kind == "member":
                members.setdefault((row.target["incident"], row.channel), []).append(row)
            elif row.kind == WEBHOOK:
                webhooks.append(row)
            else:
                sent += await self._deliver(row)
        sent += await self._deliver_webhooks(webhooks)
        for (incident, channel), held in members.items():
            sent += await self._deliver_members(incident, Channel(channel), held)
        return sent

    async def report_dead(self) -> None:
        """Tell the managers about messages that could not be delivered (once each)."""
        for row in await self._store.outbox.unreported_dead():
            assert row.id is not None
            if ":managers:" not in row.dedupe_key:  # never report a failed report forever
                text = _dead_text(row, self._notifier.managers_language())
                report = Outgoing(ConversationRef(_report_channel(row), ""), text)
                await self._notifier.to_managers(report, event=f"dead:{row.id}")
            await self._store.outbox.mark_reported(row.id)

    async def _deliver_webhooks(self, rows: Sequence[OutboxRow]) -> int:
        """Each to another receiver or about another ticket (a claim hands out one row per
        ordering key), so all at once: one slow receiver must not hold up the others. The
        delivered ones are marked together (one transaction, not one each)."""
        outcomes = await asyncio.gather(*(self._attempt(row) for row in rows))
        delivered = [row.id for row, ok in zip(rows, outcomes, strict=True) if ok and row.id]
        await self._store.outbox.all_sent(delivered, now=self._clock())
        return len(delivered)

    async def _attempt(self, row: OutboxRow) -> bool:
        """One try; a failure is recorded (retry or dead) here."""
        try:
            await self._send(row)
        except ChannelError as exc:
            await self._failed(row, exc)
            return False
        return True

    async def _deliver(self, row: OutboxRow) -> int:
        assert row.id is not None
        try:
            await self._send(row)
        except ChannelError as exc:
            await self._failed(row, exc)
            return 0
        await self._store.outbox.sent(row.id, now=self._clock())
        return 1

    async def _failed(self, row: OutboxRow, exc: ChannelError) -> None:
        """Retry later with backoff (honouring Retry-After), or give up for good."""
        assert row.id is not None
        attempts = row.attempts + 1
        webhook = row.kind == WEBHOOK
        most = WEBHOOK_MAX_ATTEMPTS if webhook else MAX_ATTEMPTS
        if isinstance(exc, PermanentChannelError) or attempts >= most:
            log.warning("outbox %s dead: %s", row.id, exc)
            await self._store.outbox.dead(row.id, error=str(exc), attempts=attempts)
            self._dead_check_due = 0.0  # tell the managers in this pass
            return
        longest = WEBHOOK_LONGEST_RETRY if webhook else LONGEST_RETRY
        delay = min(FIRST_RETRY * 2 ** (attempts - 1), longest)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            delay = max(delay, timedelta(seconds=retry_after))
        await self._store.outbox.retry(
            row.id, at=self._clock() + delay, error=str(exc), attempts=attempts
        )

    async def _deliver_members(self, incident: str, channel: Channel, held: list[OutboxRow]) -> int:
        """A possible outage's new tickets on one chat system: every one that is due goes into
        the incident's thread in one post (a lone ticket as its own card)."""
        more = await self._store.outbox.claim_incident_members(
            incident_key=incident,
            channel=channel.value,
            now=self._clock(),
            exclude=[row.id for row in held if row.id is not None],
            limit=max(0, MAX_MEMBERS_PER_POST - len(held)),
        )
        rows = sorted([*held, *more], key=lambda row: row.id or 0)
        extra = {row.id for row in more if row.id is not None}
        self.heartbeat.held |= extra
        try:
            return await self._post_members(incident, channel, rows)
        finally:
            self.heartbeat.held -= extra

    async def _post_members(self, incident: str, channel: Channel, rows: list[OutboxRow]) -> int:
        try:
            thread = await self._store.incidents.get(key=incident, channel=channel.value)
            if thread is None:
                raise NotYet("the incident's grouped alert is not posted yet")
            post = _members_post(rows, self._notifier.engineers_language(None))
            await self._sender(channel).send_proactive(thread.reference, [post])
        except ChannelError as exc:
            for row in rows:
                await self._failed(row, exc)
            return 0
        await self._store.outbox.members_posted(
            rows,
            root_message_id=thread.root_message_id,
            reference=thread.reference,
            now=self._clock(),
        )
        return len(rows)

    async def _send(self, row: OutboxRow) -> None:
        if row.kind == WEBHOOK:  # to an integrator, not into a chat
            await self._webhook_sender().deliver(row)
            return
        channel = Channel(row.channel)
        answers = [outgoing_from_json(item) for item in row.payload.get("answers", [])]
        match row.kind:
            case "conversation":
                reference = await self._store.conversations.get(
                    channel=row.channel, conversation_id=row.target["conversation_id"]
                )
                if reference is None:
                    raise PermanentChannelError("no stored reference for that conversation")
                await self._sender(channel).send_proactive(reference.reference, answers)
            case "channel":
                posted = await self._poster(channel).post_to_channel(
                    await self._route(channel, row.target), answers[0]
                )
                await self._remember_thread(row, posted)
                if len(answers) > 1:
                    await self._sender(channel).send_proactive(posted.reference, answers[1:])
            case "incident":
                posted = await self._poster(channel).post_to_channel(
                    await self._route(channel, row.target), answers[0]
                )
                await self._store.incidents.add(
                    key=row.target["incident"],
                    channel=row.channel,
                    root_message_id=posted.message_id,
                    reference=posted.reference,
                    now=self._clock(),
                )
            case "thread":
                for thread, _root in await self._threads(row):
                    await self._sender(channel).send_proactive(thread, answers)
            case "update":
                for thread, root in await self._threads(row):
                    if not root.startswith(SHARED_THREAD):  # a card of its own to update
                        await self._poster(channel).update_post(Posted(thread, root), answers[0])
            case _:
                raise PermanentChannelError(f"unknown outbox kind {row.kind!r}")

    async def _threads(self, row: OutboxRow) -> list[tuple[dict[str, Any], str]]:
        if row.ticket_id is None:
            raise PermanentChannelError("a thread message needs its ticket")
        threads = [
            (thread.reference, thread.root_message_id)
            for thread in await self._store.threads.of_ticket(row.ticket_id)
            if thread.channel == row.channel
        ]
        if not threads:
            raise NotYet("the ticket's alert is not posted yet")
        return threads

    async def _route(self, channel: Channel, target: dict[str, Any]) -> dict[str, Any]:
        """Teams needs a serviceUrl (and the team's tenant) to start a channel thread: take them
        from the freshest reference the bot has of that channel or team. Failing that, any Teams
        conversation gives the serviceUrl, but not its tenant (it may be a customer's): then the
        adapter uses the bot's own registration tenant."""
        if channel is not Channel.TEAMS:
            return target
        conversations = self._store.conversations
        for prefix in (target["channel_id"], target.get("team_id", "")):
            known = await conversations.latest(channel="teams", conversation_prefix=prefix)
            if prefix and known is not None:
                return {
                    **target,
                    "service_url": known.reference["serviceUrl"],
                    "tenant_id": _tenant(known.reference),
                }
        anywhere = await conversations.latest(channel="teams")
        if anywhere is None:
            raise TransientChannelError("the bot has not talked in Teams yet (not installed?)")
        return {**target, "service_url": anywhere.reference["serviceUrl"], "tenant_id": ""}

    async def _remember_thread(self, row: OutboxRow, posted: Posted) -> None:
        if row.ticket_id is None:
            return
        await self._store.threads.add(
            ticket_id=row.ticket_id,
            channel=row.channel,
            root_message_id=posted.message_id,
            reference=posted.reference,
            now=self._clock(),
        )

    def _webhook_sender(self) -> WebhookSender:
        if self._webhooks is None:
            raise PermanentChannelError("webhooks are not configured")
        return self._webhooks

    def _sender(self, channel: Channel) -> ProactiveSender:
        sender = self._senders.get(channel)
        if sender is None:
            raise PermanentChannelError(f"the {channel.value} channel is not configured")
        return sender

    def _poster(self, channel: Channel) -> ChannelPoster:
        poster = self._posters.get(channel)
        if poster is None:
            raise PermanentChannelError(f"the {channel.value} channel cannot post to channels")
        return poster


def _members_post(rows: list[OutboxRow], language: Language) -> Outgoing:
    """One ticket's own card, or one list for several: "N tickets …", a line each."""
    _, ngettext = gettext_for(language), ngettext_for(language)
    try:
        first = outgoing_from_json(rows[0].payload["answers"][0])
        lines = [Fact(*row.payload["line"]) for row in rows if "line" in row.payload]
    except (KeyError, IndexError, TypeError, ValueError) as exc:  # never retried forever
        raise PermanentChannelError(f"a malformed member alert: {exc!r}") from exc
    if len(rows) == 1:
        return first
    title = ngettext(
        "{n} ticket joined this possible outage",
        "{n} tickets joined this possible outage",
        len(rows),
    ).format(n=len(rows))
    listed = _("The first {n} are listed; `queue` shows every open ticket.")
    note = (listed.format(n=MEMBERS_LISTED),) if len(lines) > MEMBERS_LISTED else ()
    card = Card(title=title, paragraphs=note, facts=tuple(lines[:MEMBERS_LISTED]))
    text = "\n".join([f"**{title}**", *note, *(f"- {f.label}: {f.value}" for f in card.facts)])
    return Outgoing(first.conversation, text, card=card)


def _dead_text(row: OutboxRow, language: Language) -> str:
    """What the managers read about a message given up on (the error stays as logged)."""
    _ = gettext_for(language)
    error = row.last_error or _("unknown error")
    if row.kind == WEBHOOK:
        return _(
            "Could not deliver the webhook {type} about {ticket} to subscription {subscription} "
            "after {attempts} attempts: {error}. Its receiver misses this event "
            "(`chatops webhook list`)."
        ).format(
            type=row.payload.get("type", "?"),
            ticket=row.payload.get("ticket", {}).get("number", "?"),
            subscription=row.target.get("subscription_id", "?"),
            attempts=row.attempts,
            error=error,
        )
    return _(
        "Could not deliver a message ({kind} on {channel}, {what}) after {attempts} attempts: "
        "{error}"
    ).format(
        kind=row.kind,
        channel=row.channel,
        what=row.dedupe_key.split(":")[0],
        attempts=row.attempts,
        error=error,
    )


def _report_channel(row: OutboxRow) -> Channel:
    """The chat system a report about `row` is labelled with (a webhook has none: any)."""
    return Channel(row.channel) if row.channel in set(Channel) else Channel.TEAMS


def _tenant(reference: dict[str, Any]) -> str:
    conversation = reference.get("conversation") or {}
    # botbuilder serialises the tenant as `tenantID`; Teams itself sends `tenantId`.
    return str(conversation.get("tenantID") or conversation.get("tenantId") or "")
