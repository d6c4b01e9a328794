"""The integration API (`/api/v1`): the provider's other systems (PSA, ITSM, e-mail gateway)
read tickets, their SLA state and reports, open tickets and act on them by the chat's rules.

Like the chat adapters, it translates at the edge and talks to the core through a port
(`IntegrationPort`); the bot wires the implementation.
"""

from adapters.api.auth import SCOPES, Principal, RateLimiter, new_token, token_hash
from adapters.api.port import FileDownload, IntegrationPort, Remembered, TicketsPage
from adapters.api.problems import NO_SUCH_TICKET, ApiProblem
from adapters.api.service import BASE, ApiService

__all__ = [
    "BASE",
    "NO_SUCH_TICKET",
    "SCOPES",
    "ApiProblem",
    "ApiService",
    "FileDownload",
    "IntegrationPort",
    "Principal",
    "RateLimiter",
    "Remembered",
    "TicketsPage",
    "new_token",
    "token_hash",
]
