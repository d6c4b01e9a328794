"""A plausible new ticket, for tests that store tickets without going through the dialog."""

from __future__ import annotations

from typing import Any

from storage.directory import Priority
from storage.tickets import NewTicket


def sample_ticket(**overrides: Any) -> NewTicket:
    """A P2 Webex Calling fault of the demo customer, with `overrides` applied."""
    fields: dict[str, Any] = {
        "customer_key": "demo",
        "kind": "fault",
        "contract": "CCSB",
        "product": "webex-calling",
        "priority": Priority.P2,
        "description": "calls drop",
        "since": None,
        "affected": "all",
        "tested": "restart",
        "phone": "+43 1",
        "language": "en",
        "reporter_channel": "teams",
        "reporter_user_id": "u",
        "reporter_name": "Clara",
        "conversation_id": "a:1",
    }
    return NewTicket(**(fields | overrides))
