"""The integration API's wire models, version 1: what requests may hold and answers hold.

The handlers validate with these models and the OpenAPI document is generated from them, so
the document cannot drift from what the service accepts. Request models forbid unknown fields
and are strict (JSON types are not coerced: `"5"` is no number); query models take the text of
a URL and convert it.

The enumerations (products, priorities, states, vendors) are the core's ids, spelled out here
because they are part of the published contract: `tests/test_api.py` checks they still match.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel, field_validator

ProductId = Literal[
    "webex-calling",
    "webex-contact-center",
    "microsoft-calling",
    "luware-attendant-console",
    "luware-recording",
    "luware-contact-center",
    "other",
]
PriorityId = Literal["P1", "P2", "P3", "P4"]
TicketState = Literal["open", "waiting_for_customer", "resolved"]
TicketKind = Literal["fault", "change_request"]
VendorId = Literal["cisco", "microsoft", "luware"]
LanguageId = Literal["de", "en"]
Flag = Literal["true", "false"]

Number = Annotated[str, Field(min_length=1, max_length=32, examples=["CCS-2026-000123"])]
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]


class _Request(BaseModel):
    """A JSON request body: strict types, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid")


class _Query(BaseModel):
    """Query parameters: text converted to the declared types; an unknown name is refused (a
    misspelt filter would otherwise list everything)."""

    model_config = ConfigDict(extra="forbid")


class _Answer(BaseModel):
    """A response body."""


# --- problems (RFC 9457) ------------------------------------------------------------------------


class FieldProblem(_Answer):
    """One thing wrong with the request, and where (a JSON pointer into the body, or the name
    of a query parameter or header)."""

    pointer: str
    detail: str


class Problem(_Answer):
    """Problem details (RFC 9457), served as `application/problem+json`."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = None


# --- tickets ------------------------------------------------------------------------------------


class TicketQuery(_Query):
    """Which tickets to list, and where to continue."""

    customer: Key | None = Field(default=None, description="customer key")
    state: TicketState | None = None
    product: ProductId | None = None
    priority: PriorityId | None = None
    updated_since: AwareDatetime | None = Field(
        default=None, description="only tickets changed at or after this instant (RFC 3339)"
    )
    breached: Flag | None = Field(
        default=None, description="true: tickets whose SLA breach was announced; false: others"
    )
    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` of the previous page"
    )
    limit: int = Field(default=50, ge=1, le=200)

    @field_validator("updated_since")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else in_utc(value)


def in_utc(value: datetime) -> datetime:
    """The same instant in UTC; ValueError for one UTC cannot express (`0001-01-01T00:00+01:00`
    is before its first day), which the database would otherwise fail on."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("an instant outside the years 1 to 9999 in UTC") from None


class SlaClock(_Answer):
    """One SLA clock (reaction or resolution), in business time."""

    target_seconds: int
    used_seconds: int
    remaining_seconds: int = Field(description="negative once the target is exceeded")
    paused_seconds: int
    deadline: datetime | None = Field(description="null while paused or once stopped")
    stopped_at: datetime | None
    running: bool
    paused: bool
    breached: bool


class SlaWarning(_Answer):
    """A warning (or, at 100 %, the breach) the bot announced."""

    clock: str
    cycle: int
    percent: int
    at: datetime


class Sla(_Answer):
    """The ticket's SLA state now: the current reaction cycle and the resolution clock."""

    contract: str
    service_time: str
    cycle: int
    reaction: SlaClock
    resolution: SlaClock | None
    paused: bool
    breached: bool
    warnings_sent: list[SlaWarning]


class Person(_Answer):
    """Who: an id (staff: e-mail; integrations: `api:<token name>`) and a display name."""

    id: str
    name: str


class TicketSummary(_Answer):
    """A ticket as listed."""

    number: str
    customer: str
    kind: TicketKind
    state: TicketState
    product: ProductId
    priority: PriorityId
    description: str
    external_ref: str | None
    owner: Person | None
    reporter: Person
    created_at: datetime
    updated_at: datetime
    sla: Sla


class TicketFile(_Answer):
    """A file delivered for the ticket."""

    name: str
    size: int
    content_type: str
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    download_url: str = Field(description="needs the same bearer token (`tickets:read`)")
    signed_url: str | None = Field(
        description="a link that works without the token for 7 days (as engineers get in "
        "chat), to hand to someone; null where the bot signs no links"
    )


class TicketEvent(_Answer):
    """One entry of the ticket's append-only event log."""

    id: int
    kind: str
    at: datetime
    actor: str
    data: dict[str, Any]


class Ticket(TicketSummary):
    """A ticket with everything the bot knows about it."""

    since: datetime | None
    affected: str
    tested: str
    phone: str
    details: dict[str, Any]
    language: str
    customer_chat: bool = Field(
        description="true when the reporter can be reached in chat (`reply` events reach them)"
    )
    files: list[TicketFile]
    events: list[TicketEvent]


class TicketPage(_Answer):
    """One page of tickets, oldest change first; `next_cursor` is null on the last page."""

    items: list[TicketSummary]
    next_cursor: str | None


class ScopeNote(_Answer):
    """What the contract's scope guard noticed in the description (as the chat explains it)."""

    assessment: str
    keywords: list[str]
    explanation: str


class NewTicket(_Request):
    """A fault (or change request) reported through another system."""

    customer: Key | None = Field(
        default=None, description="required unless the token is bound to a customer"
    )
    kind: TicketKind = Field(
        default="fault",
        description="a description that asks for a configuration change needs `change_request`"
        " (billed by effort: the caller confirms the customer's consent)",
    )
    product: ProductId
    priority: PriorityId
    description: str = Field(min_length=10, max_length=4000)
    since: AwareDatetime | None = Field(default=None, description="when the fault started")
    affected: str = Field(min_length=2, max_length=1000)
    tested: str = Field(min_length=2, max_length=2000)
    phone: str = Field(min_length=6, max_length=40, examples=["+43 1 234 5678"])
    contact_email: str | None = Field(
        default=None,
        max_length=320,
        description="a contact of the customer who has written to the bot: the ticket is "
        "theirs in chat, so replies reach them there",
    )
    reporter_name: str | None = Field(default=None, min_length=1, max_length=200)
    language: LanguageId | None = None


class TicketCreated(_Answer):
    """The new ticket, and what the scope guard and the contract check noticed."""

    ticket: Ticket
    scope: ScopeNote | None
    notes: list[str]


class ExternalRef(_Request):
    """The ticket's number in the provider's PSA or ITSM (null clears it)."""

    external_ref: str | None = Field(min_length=1, max_length=100)


# --- events -------------------------------------------------------------------------------------


class Ack(_Request):
    """Acknowledge: the first qualified response; the customer learns who works on it."""

    type: Literal["ack"]


class Take(_Request):
    """Take the ticket: the integration owns it (and it counts as acknowledged)."""

    type: Literal["take"]


class Assign(_Request):
    """Give the ticket to an engineer of the directory (name or e-mail)."""

    type: Literal["assign"]
    to: str = Field(min_length=1, max_length=320, pattern=r"\S")


class Note(_Request):
    """An internal note: on the ticket and in its thread, never to the customer."""

    type: Literal["note"]
    text: str = Field(min_length=1, max_length=4000, pattern=r"\S")


class Reply(_Request):
    """A message to the customer in their chat (the first one is the first response)."""

    type: Literal["reply"]
    text: str = Field(min_length=1, max_length=4000, pattern=r"\S")


class AskLogs(_Request):
    """Ask the customer for logfiles: the ticket waits for them, the SLA clock pauses."""

    type: Literal["ask_logs"]
    what: str = Field(default="", max_length=1000)


class Vendor(_Request):
    """A case opened with the manufacturer."""

    type: Literal["vendor"]
    vendor: VendorId
    case: str = Field(min_length=1, max_length=200, pattern=r"\S")


class Resolve(_Request):
    """Resolve the ticket; the customer is told."""

    type: Literal["resolve"]
    summary: str = Field(
        min_length=1,
        max_length=2000,
        pattern=r"\S",
        description="what was done (told the customer)",
    )


class Reopen(_Request):
    """Reopen a resolved ticket: a new reaction cycle starts."""

    type: Literal["reopen"]


class Effort(_Request):
    """Time spent on the ticket (change requests are billed by it; at most a day per entry)."""

    type: Literal["effort"]
    minutes: int = Field(ge=1, le=24 * 60)
    note: str = Field(default="", max_length=500)


AnyEvent = Annotated[
    Ack | Take | Assign | Note | Reply | AskLogs | Vendor | Resolve | Reopen | Effort,
    Field(discriminator="type"),
]


class NewEvent(RootModel[AnyEvent]):
    """Something done to a ticket, by the token's integration."""


class EventDone(_Answer):
    """What the bot says it did (the same sentence as in chat), and the ticket now."""

    message: str
    ticket: Ticket


# --- explanation --------------------------------------------------------------------------------


class ExplainLine(_Answer):
    """One stretch of the reaction clock's timeline."""

    kind: str
    start: datetime
    end: datetime | None
    business_seconds: int
    total_seconds: int
    note: str = Field(description="what the line says, as a code (`none`, `paused`, `breached`, …)")
    text: str


class Explanation(_Answer):
    """Why the deadline is where it is: the `why` text of the chat and its stretches."""

    number: str
    text: str
    lines: list[ExplainLine]
    sla: Sla


# --- customers and reports ----------------------------------------------------------------------


class Customer(_Answer):
    """A customer of the directory and the terms of its contract."""

    key: str
    name: str
    contract: str
    contract_name: str
    service_time: str
    reaction_seconds: int
    language: str


class CustomerList(_Answer):
    """The customers this token may see."""

    items: list[Customer]


class ReportQuery(_Query):
    """A month (default: the current one) and optionally one customer."""

    month: Month | None = None
    customer: Key | None = None


class WeekFigures(_Answer):
    """Outcomes known for the tickets created in one ISO week."""

    week: str
    met: int
    breached: int


class SlaRow(_Answer):
    """One ticket of the SLA report."""

    number: str
    customer: str
    product: str
    priority: str
    kind: str
    created_at: datetime
    reaction_seconds: int
    target_seconds: int
    outcome: Literal["met", "breached", "pending"]
    paused_seconds: int
    reopened: bool


class SlaReport(_Answer):
    """The reaction SLA of the tickets created in one month (the chat's `report`)."""

    month: str
    label: str
    customer: str | None
    tickets: int
    faults: int
    change_requests: int
    met: int
    breached: int
    pending: int
    reaction_met_percent: float | None
    responded: int
    median_reaction_seconds: int | None
    p90_reaction_seconds: int | None
    by_product: dict[str, int]
    by_priority: dict[str, int]
    paused_seconds: int
    weekly: list[WeekFigures]
    rows: list[SlaRow]
    text: str = Field(description="the figures in words, as the chat shows them")


class BillingCustomer(_Answer):
    """One customer's effort in the month."""

    customer: str
    change_requests: int
    billable_minutes: int
    billable_hours: float
    billable_entries: int
    fault_minutes: int


class BillingEntry(_Answer):
    """One logged effort."""

    customer: str
    ticket: str
    kind: str
    billable: bool
    logged_at: datetime
    minutes: int
    by: str
    note: str


class BillingReport(_Answer):
    """Billable effort of one month (the chat's `billing`)."""

    month: str
    label: str
    customer: str | None
    customers: list[BillingCustomer]
    billable_minutes: int
    entries: list[BillingEntry]
