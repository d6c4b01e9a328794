"""Who hears about a ticket, through the outbox: the customer's chat, the engineers' channel
(one alert thread per ticket), the ticket's thread, the managers' channel.

Every message gets a dedupe key naming the event and the target, so however often an event is
handled (a retry, a second replica, a restart), each target hears about it once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.model import Card, Channel, ConversationRef, Fact, Outgoing, outgoing_to_json
from dialogs.context import Language
from storage.directory import ChannelTarget, Directory
from storage.models import TicketRow
from storage.repositories import Store

ENGINEERS, MANAGERS = "engineers", "managers"
# A possible outage's new tickets are posted into its thread together, at most once per slot of
# this length per chat system (in a storm: one post a slot, not one per report).
MEMBER_DIGEST_EVERY = timedelta(seconds=30)


def next_digest_slot(now: datetime, every: timedelta = MEMBER_DIGEST_EVERY) -> datetime:
    """The next boundary of the slot grid (UTC, from the epoch) at or after `now`. Every
    replica computes the same grid, so the members queued within one slot are due together."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    slots = -((epoch - now) // every)  # ceiling division of timedeltas
    return epoch + slots * every


class Notifier:
    """Queues proactive messages; the outbox dispatcher delivers them."""

    def __init__(
        self,
        *,
        store: Store,
        directory: Directory,
        clock: Callable[[], datetime],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._directory = directory
        self._clock = clock
        self._wake = wake

    async def to_customer(
        self, ticket: TicketRow, text: str, *, event: str, card: Card | None = None
    ) -> None:
        """A message (and its card, if any) into the chat where the customer reported the
        ticket."""
        channel = Channel(ticket.reporter_channel)
        if channel is Channel.API:
            return  # opened by another system for nobody in chat: that system tells them
        answer = replace(_message(channel, ticket.conversation_id, text), card=card)
        await self._enqueue(
            f"{event}:customer",
            channel,
            "conversation",
            {"conversation_id": ticket.conversation_id},
            [answer],
            ticket=ticket,
        )

    async def to_conversation(
        self, channel: Channel, conversation_id: str, answer: Outgoing, *, event: str
    ) -> bool:
        """A message into one conversation the bot knows (e.g. a contact's 1:1 chat), once per
        `event`; False when it was queued before."""
        queued = await self._store.outbox.enqueue(
            dedupe_key=f"{event}:contact",
            channel=channel.value,
            kind="conversation",
            target={"conversation_id": conversation_id},
            payload={"answers": [outgoing_to_json(answer)]},
            now=self._clock(),
        )
        self._wake()
        return queued is not None

    async def to_engineers(self, customer_key: str, answer: Outgoing, *, event: str) -> int:
        """A new post (not about one ticket) in the customer's engineers' channel, once per
        `event` and chat system; how many were queued now."""
        queued = 0
        for channel, target in self.engineers_of(customer_key):
            queued += (
                await self._store.outbox.enqueue(
                    dedupe_key=f"{event}:engineers:{channel.value}",
                    channel=channel.value,
                    kind="channel",
                    target=target,
                    payload={"answers": [outgoing_to_json(answer)]},
                    now=self._clock(),
                )
                is not None
            )
        self._wake()
        return queued

    def engineers_language(self, customer_key: str | None) -> Language:
        """The language of the customer's engineers' channel (None: the default one, where
        possible outages are posted)."""
        customer = self._directory.customer(customer_key) if customer_key else None
        own = customer.channels.get(ENGINEERS) if customer is not None else None
        return self._language(own or self._directory.provider.default_channels.get(ENGINEERS))

    def managers_language(self) -> Language:
        """The language of the managers' channel."""
        return self._language(self._directory.provider.default_channels.get(MANAGERS))

    def _language(self, key: str | None) -> Language:
        target = self._directory.channels.get(key) if key else None
        return target.language if target is not None else "en"

    def engineers_of(self, customer_key: str) -> list[tuple[Channel, dict[str, Any]]]:
        """The customer's engineers' channel (or the provider's default) in each chat system."""
        customer = self._directory.customer(customer_key)
        own = customer.channels.get(ENGINEERS) if customer is not None else None
        return self._targets(own or self._directory.provider.default_channels.get(ENGINEERS))

    async def new_alert(self, ticket: TicketRow, answer: Outgoing) -> None:
        """The ticket's alert: a new thread in the engineers' channel of its customer."""
        for channel, target in self.engineers_of(ticket.customer_key):
            await self._enqueue(
                f"alert:{ticket.number}:{channel}",
                channel,
                "channel",
                target,
                [answer],
                ticket=ticket,
            )

    async def incident_alert(self, key: str, answer: Outgoing) -> None:
        """The grouped alert of a possible outage: one new thread in the default engineers'
        channel, however many customers report."""
        channel_key = self._directory.provider.default_channels.get(ENGINEERS)
        for channel, target in self._targets(channel_key):
            await self._enqueue(
                f"incident:{key}:{channel}",
                channel,
                "incident",
                {**target, "incident": key},
                [answer],
            )

    async def member_alert(
        self, ticket: TicketRow, key: str, answer: Outgoing, *, line: Fact
    ) -> None:
        """A ticket of a possible outage: it goes into the incident's thread instead of a thread
        of its own, and its later updates follow it there. Members due in the same slot are
        posted as one list of `line`s (a single member as its own card, `answer`)."""
        channel_key = self._directory.provider.default_channels.get(ENGINEERS)
        for channel, _target in self._targets(channel_key):
            await self._enqueue(
                f"alert:{ticket.number}:{channel}",
                channel,
                "member",
                {"incident": key},
                [answer],
                ticket=ticket,
                due=next_digest_slot(self._clock()),
                extra={"line": [line.label, line.value]},
            )

    async def to_thread(
        self, ticket: TicketRow, answers: Sequence[Outgoing], *, event: str
    ) -> None:
        """Messages into the ticket's alert thread(s)."""
        for channel, _target in self.engineers_of(ticket.customer_key):
            await self._enqueue(
                f"{event}:thread:{channel}", channel, "thread", {}, answers, ticket=ticket
            )

    async def update_alert(self, ticket: TicketRow, answer: Outgoing, *, event: str) -> None:
        """Show the ticket's current state on its alert card."""
        for channel, _target in self.engineers_of(ticket.customer_key):
            await self._enqueue(
                f"{event}:update:{channel}", channel, "update", {}, [answer], ticket=ticket
            )

    async def to_managers(self, answer: Outgoing, *, event: str) -> None:
        """A new post in the managers' channel."""
        key = self._directory.provider.default_channels.get(MANAGERS)
        for channel, target in self._targets(key):
            await self._enqueue(f"{event}:managers:{channel}", channel, "channel", target, [answer])

    def _targets(self, key: str | None) -> list[tuple[Channel, dict[str, Any]]]:
        target: ChannelTarget | None = self._directory.channels.get(key) if key else None
        if target is None:
            return []
        found: list[tuple[Channel, dict[str, Any]]] = []
        if target.teams is not None:
            found.append((Channel.TEAMS, target.teams.model_dump()))
        if target.webex is not None:
            found.append((Channel.WEBEX, target.webex.model_dump()))
        return found

    async def _enqueue(
        self,
        key: str,
        channel: Channel,
        kind: str,
        target: dict[str, Any],
        answers: Sequence[Outgoing],
        *,
        ticket: TicketRow | None = None,
        due: datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        await self._store.outbox.enqueue(
            dedupe_key=key,
            channel=channel.value,
            kind=kind,
            target=target,
            payload={"answers": [outgoing_to_json(answer) for answer in answers], **(extra or {})},
            now=self._clock(),
            ticket_id=ticket.id if ticket is not None else None,
            due=due,
        )
        if due is None:  # due later: the dispatcher's poll finds it (a wake-up would find nothing)
            self._wake()


def _message(channel: Channel, conversation_id: str, text: str) -> Outgoing:
    return Outgoing(ConversationRef(channel=channel, conversation_id=conversation_id), text)
