"""What the integration API needs from the core, as a protocol: the bot wires the
implementation (`bot/integration.py`). Nothing here knows about storage or dialogs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from adapters.api.auth import Principal
from adapters.api.models import (
    BillingReport,
    CustomerList,
    Explanation,
    ExternalRef,
    NewEvent,
    NewTicket,
    ReportQuery,
    SlaReport,
    Ticket,
    TicketCreated,
    TicketQuery,
    TicketSummary,
)

# Where a listing continues: the (updated_at, id) of the last ticket of the previous page.
Position = tuple[datetime, int]


@dataclass(frozen=True, slots=True)
class TicketsPage:
    """Tickets of one page and where the next starts (None: this was the last)."""

    items: list[TicketSummary]
    next_after: Position | None


@dataclass(frozen=True, slots=True)
class FileDownload:
    """A ticket's file on disk, to be streamed to the caller."""

    path: Path
    name: str
    content_type: str


@dataclass(frozen=True, slots=True)
class Remembered:
    """An earlier request under the same `Idempotency-Key`: its digest and, once answered, its
    answer (`status` None: still being worked on)."""

    request_digest: str
    status: int | None
    body: dict[str, Any]


class IntegrationPort(Protocol):
    """The core as the integration API sees it. Errors are raised as `ApiProblem`s."""

    async def principal(self, token_hash: str) -> Principal | None:
        """The integration whose live token has this hash."""

    async def tickets(
        self, who: Principal, query: TicketQuery, after: Position | None
    ) -> TicketsPage:
        """A page of the tickets the integration may see."""

    async def ticket(self, who: Principal, number: str) -> Ticket:
        """One ticket (404 for another customer's, exactly as for none)."""

    async def explain(self, who: Principal, number: str) -> Explanation:
        """Why the ticket's reaction deadline is where it is."""

    async def ticket_file(self, who: Principal, number: str, sha256: str) -> FileDownload:
        """One of the ticket's files."""

    async def open_ticket(self, who: Principal, body: NewTicket, request_id: str) -> TicketCreated:
        """A ticket reported through the integration, like a chat report; `request_id` names
        the request (the same for a retry under one `Idempotency-Key`)."""

    async def add_event(
        self, who: Principal, number: str, body: NewEvent, request_id: str
    ) -> tuple[str, Ticket]:
        """Do something to the ticket as the integration, by the chat's rules; what the bot
        says it did, and the ticket now."""

    async def set_external_ref(self, who: Principal, number: str, body: ExternalRef) -> Ticket:
        """Set the ticket's number in the provider's other system."""

    async def customers(self, who: Principal) -> CustomerList:
        """The customers the integration may see."""

    async def sla_report(self, who: Principal, query: ReportQuery) -> SlaReport:
        """The month's SLA report."""

    async def billing_report(self, who: Principal, query: ReportQuery) -> BillingReport:
        """The month's billable effort."""

    async def begin_request(
        self, who: Principal, key: str, request_digest: str
    ) -> Remembered | None:
        """Claim an `Idempotency-Key` (None: new) or say what the earlier request left."""

    async def finish_request(
        self, who: Principal, key: str, status: int, body: dict[str, Any]
    ) -> None:
        """Remember the answer given under the key."""

    async def abandon_request(self, who: Principal, key: str) -> None:
        """Let the key go: the request ended without an answer to repeat."""
