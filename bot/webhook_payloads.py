"""The payloads of outbound webhooks: what an integrator receives, versioned.

Every delivery is `{"type": …, "timestamp": …, "schema_version": 1, "data": {…}}` (the shape
the Standard Webhooks specification recommends), `data` always holding the ticket as it is
after the event plus what is particular to the event type (a text the event did not record is
empty, never missing). A new optional field keeps the
version; removing or changing a field raises it.

The models are the contract: deliveries are built through them, and `webhook_schemas` /
`openapi_webhooks` give their JSON Schemas for the OpenAPI document's `webhooks` section.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from storage.models import TicketKind
from storage.webhooks import WebhookEvent

SCHEMA_VERSION: Literal[1] = 1


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class TicketSnapshot(_Model):
    """The ticket as it is right after the event."""

    number: str = Field(examples=["CCS-2026-000123"])
    customer: str = Field(description="The customer's key in the bot's directory.")
    kind: Literal["fault", "change_request"]
    status: Literal["open", "waiting_for_customer", "resolved"]
    priority: str = Field(examples=["P2"])
    product: str = Field(examples=["webex-calling"])
    contract: str = Field(examples=["CCSB"])
    owner_id: str | None = Field(description="The owning engineer's e-mail, if owned.")
    owner_name: str
    reporter_name: str
    description: str
    affected: str
    since: datetime | None = Field(description="When the fault began, as reported.")
    created_at: datetime
    updated_at: datetime
    # Setting it (`PATCH /tickets/{number}`) is no event of its own: see the README's
    # "Mirroring tickets into a PSA". Optional, so deliveries queued before it was added fit.
    external_ref: str | None = Field(
        default=None,
        description="The ticket's number in the provider's PSA or ITSM, as the integration "
        "set it (`PATCH /tickets/{number}`).",
        examples=["HALO-5521"],
    )


class EventData(_Model):
    """What every event carries."""

    ticket: TicketSnapshot
    actor: str = Field(
        description="Who caused the event: a chat user id, an engineer's e-mail, "
        "`api:<token name>` for a write through the integration API; empty for the bot "
        "itself (SLA notices)."
    )


class TicketCreatedData(EventData):
    """A fault report or change request became a ticket."""


class TicketAcknowledgedData(EventData):
    """An engineer acknowledged the ticket."""


class TicketTakenData(EventData):
    """An engineer took the ticket (owns it now)."""

    by: str = Field(default="", description="The engineer's display name.")


class TicketAssignedData(EventData):
    """The ticket was given to an engineer."""

    to: str = Field(default="", description="The new owner's e-mail.")


class TextData(EventData):
    """An event that carries a text."""

    text: str = ""


class TicketNoteData(TextData):
    """An internal note by an engineer (never shown to the customer)."""


class TicketEngineerReplyData(TextData):
    """An engineer's reply, sent to the customer's chat."""


class TicketCustomerReplyData(TextData):
    """The customer wrote about the ticket."""


class TicketWaitingData(EventData):
    """The ticket waits for the customer (logfiles, a test); its SLA clock is paused."""

    reason: str = ""
    what: str = ""


class TicketResumedData(EventData):
    """The customer answered or delivered: the SLA clock runs again."""

    reason: str = ""


class TicketLogfileAddedData(EventData):
    """The customer delivered a file for the ticket."""

    name: str = ""
    sha256: str = ""


class TicketVendorCaseData(EventData):
    """A case was opened with the manufacturer."""

    vendor: str = Field(default="", examples=["cisco"])
    case: str = ""


class TicketResolvedData(EventData):
    """The ticket was resolved."""

    summary: str = ""


class TicketReopenedData(EventData):
    """A resolved ticket was reopened: a new reaction cycle begins."""

    text: str = Field(default="", description="What the customer wrote, if they reopened it.")


class TicketPriorityChangedData(EventData):
    """The ticket's priority changed (its deadlines follow from now on)."""

    priority: str = Field(examples=["P1"])


class TicketEffortLoggedData(EventData):
    """An engineer logged time on the ticket."""

    minutes: int
    note: str = ""
    billable: bool = Field(description="True for change requests (billed by effort).")


class SlaNoticeData(EventData):
    """A share of an SLA clock's target was used up."""

    clock: Literal["reaction", "resolution"]
    percent: int = Field(description="The share of the target used: 50, 75, 90, … or 100.")
    cycle: int = Field(description="The reaction cycle (0, and one more after each reopen).")
    deadline: datetime | None


class SlaWarningData(SlaNoticeData):
    """A warning before the deadline (at the contract's percentages)."""


class SlaBreachedData(SlaNoticeData):
    """The deadline passed without the response or resolution."""


_DATA: dict[WebhookEvent, type[EventData]] = {
    WebhookEvent.TICKET_CREATED: TicketCreatedData,
    WebhookEvent.TICKET_ACKNOWLEDGED: TicketAcknowledgedData,
    WebhookEvent.TICKET_TAKEN: TicketTakenData,
    WebhookEvent.TICKET_ASSIGNED: TicketAssignedData,
    WebhookEvent.TICKET_NOTE: TicketNoteData,
    WebhookEvent.TICKET_ENGINEER_REPLY: TicketEngineerReplyData,
    WebhookEvent.TICKET_CUSTOMER_REPLY: TicketCustomerReplyData,
    WebhookEvent.TICKET_WAITING_FOR_CUSTOMER: TicketWaitingData,
    WebhookEvent.TICKET_RESUMED: TicketResumedData,
    WebhookEvent.TICKET_LOGFILE_ADDED: TicketLogfileAddedData,
    WebhookEvent.TICKET_VENDOR_CASE: TicketVendorCaseData,
    WebhookEvent.TICKET_RESOLVED: TicketResolvedData,
    WebhookEvent.TICKET_REOPENED: TicketReopenedData,
    WebhookEvent.TICKET_PRIORITY_CHANGED: TicketPriorityChangedData,
    WebhookEvent.TICKET_EFFORT_LOGGED: TicketEffortLoggedData,
    WebhookEvent.SLA_WARNING: SlaWarningData,
    WebhookEvent.SLA_BREACHED: SlaBreachedData,
}


def _envelope(event: WebhookEvent, data: type[EventData]) -> type[BaseModel]:
    """`{"type": <event>, "timestamp", "schema_version", "data": <data>}` as a model."""
    name = "".join(part.title() for part in event.value.replace(".", "_").split("_"))
    annotations = {"type": Literal[event.value], "data": data}
    namespace: dict[str, Any] = {
        "__annotations__": annotations,
        "__doc__": data.__doc__,
        "__module__": __name__,
    }
    return type(f"{name}Webhook", (_Envelope,), namespace)


class _Envelope(_Model):
    type: str = Field(description="The event type (each has its own model).")
    timestamp: datetime = Field(description="When the event happened (UTC).")
    schema_version: Literal[1] = SCHEMA_VERSION


WEBHOOK_MODELS: dict[WebhookEvent, type[BaseModel]] = {
    event: _envelope(event, data) for event, data in _DATA.items()
}


def build_payload(raw: dict[str, Any]) -> BaseModel:
    """The delivery body of an outbox row's stored event (`storage/webhooks.py`), validated
    against its model; `ValueError` when it does not fit (never sent, never retried)."""
    event = WebhookEvent(raw["type"])
    details = dict(raw.get("details") or {})
    fields: dict[str, Any] = {"ticket": raw["ticket"], "actor": raw.get("actor", "")}
    fields |= _particular(event, details, raw["ticket"])
    model = WEBHOOK_MODELS[event]
    return model.model_validate(
        {"type": event.value, "timestamp": raw["timestamp"], "data": fields}
    )


def _particular(
    event: WebhookEvent, details: dict[str, Any], ticket: dict[str, Any]
) -> dict[str, Any]:
    """The event type's own fields, from what the event log recorded."""
    data = _DATA[event]
    if issubclass(data, SlaNoticeData):
        clock, cycle, percent = str(details.get("key", "")).split(":")
        return {
            "clock": clock,
            "cycle": int(cycle),
            "percent": int(percent),
            "deadline": details.get("deadline") or None,
        }
    if data is TicketEffortLoggedData:
        return {
            "minutes": details["minutes"],
            "note": details.get("note", ""),
            "billable": ticket["kind"] == TicketKind.CHANGE_REQUEST,
        }
    if data is TicketPriorityChangedData:
        return {"priority": details.get("priority", ticket["priority"])}
    if data is TicketTakenData:
        return {"by": details.get("by", ticket.get("owner_name", ""))}
    own = set(data.model_fields) - set(EventData.model_fields)
    return {name: details[name] for name in own if name in details}


def webhook_schemas() -> dict[str, dict[str, Any]]:
    """Every event type's JSON Schema (draft 2020-12, self-contained), by type."""
    return {event.value: model.model_json_schema() for event, model in WEBHOOK_MODELS.items()}


def openapi_webhooks() -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI 3.1 `webhooks` section and the component schemas it refers to
    (`#/components/schemas/…`): merge both into the API's document."""
    mode: Literal["validation"] = "validation"
    models = [(model, mode) for model in WEBHOOK_MODELS.values()]
    refs, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
    webhooks = {
        event.value: {
            "post": {
                "summary": event.value,
                "description": _DATA[event].__doc__,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": refs[(model, mode)]}},
                },
                "responses": {
                    "2XX": {"description": "Received. Anything else is retried."},
                    "410": {"description": "Gone: the bot disables this subscription."},
                },
            }
        }
        for event, model in WEBHOOK_MODELS.items()
    }
    return webhooks, definitions.get("$defs", {})
