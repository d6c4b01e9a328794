"""The integration API's HTTP edge: `/api/v1/…` routes, each request checked in one order —
authentication (401), rate limit (429), scope (403), input (400/413/415/422), idempotency —
before the core is asked through `IntegrationPort`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, ValidationError

from adapters.api.auth import Principal, RateLimiter, bearer_token, token_hash
from adapters.api.models import (
    BillingReport,
    CustomerList,
    EventDone,
    Explanation,
    ExternalRef,
    FieldProblem,
    NewEvent,
    NewTicket,
    ReportQuery,
    SlaReport,
    Ticket,
    TicketCreated,
    TicketPage,
    TicketQuery,
    in_utc,
)
from adapters.api.openapi import Spec, document
from adapters.api.port import IntegrationPort, Position
from adapters.api.problems import NO_SUCH_TICKET, ApiProblem, invalid, problem_response
from adapters.http import RequestRejected, parse_json_object, read_body
from adapters.text import is_well_formed
from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

BASE = "/api/v1"
VERSION = "1.0.0"
IDEMPOTENCY_KEY = "Idempotency-Key"
_MEDIA_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$"
)
_BYTES = "application/octet-stream"
_KEY_CHARACTERS = frozenset(chr(c) for c in range(0x21, 0x7F))
# The longest value each path parameter can have, and what is missing when it is longer.
_PATH_VALUES = {"number": (32, NO_SUCH_TICKET), "sha256": (64, "no such file")}


@dataclass(frozen=True, slots=True)
class Call:
    """A request that passed every check: who sent it and what it holds."""

    who: Principal
    request: web.Request
    query: Any = None
    body: Any = None
    request_id: str = ""

    @property
    def number(self) -> str:
        """The ticket number of the path."""
        return self.request.match_info.get("number", "")


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful answer: a model as JSON, or a ready response (a file)."""

    model: BaseModel | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    response: web.StreamResponse | None = None


Run = Callable[[IntegrationPort, Call], Awaitable[Answer]]


@dataclass(frozen=True, slots=True)
class Operation:
    """One route: what the document says (`spec`) and what runs (`run`)."""

    spec: Spec
    run: Run


class ApiService:
    """Builds the `/api/v1` sub-application around a port to the core."""

    def __init__(
        self,
        *,
        limiter: RateLimiter,
        max_body_bytes: int,
        port: IntegrationPort | None = None,
        webhooks: tuple[dict[str, Any], dict[str, Any]] | None = None,
    ) -> None:
        self._bound = port
        self._limiter = limiter
        self._max_body_bytes = max_body_bytes
        self.operations = operations()
        self.document = document(
            [op.spec for op in self.operations],
            title="SLA Desk integration API",
            version=VERSION,
            base=BASE,
            webhooks=webhooks,
        )

    def bind(self, port: IntegrationPort) -> None:
        """Connect the API to the core (built after the routes, when the app starts)."""
        self._bound = port

    @property
    def _port(self) -> IntegrationPort:
        if self._bound is None:
            raise ApiProblem(503, "starting up, retry later", headers={"Retry-After": "1"})
        return self._bound

    def app(self) -> web.Application:
        """The sub-application to mount at `BASE`."""
        app = web.Application(middlewares=[_problems])
        app.router.add_get("/openapi.json", self._openapi, name="api-openapi")
        for operation in self.operations:
            spec = operation.spec
            app.router.add_route(
                spec.method, spec.path, self._handler(operation), name=f"api-{spec.operation_id}"
            )
        return app

    async def _openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(self.document)

    def _handler(
        self, operation: Operation
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            who = await self._authenticate(request)
            self._within_rate(who)
            if not who.may(operation.spec.scope):
                raise ApiProblem(403, f"this token lacks the scope {operation.spec.scope}")
            call = await self._call(operation.spec, request, who)
            key = request.headers.get(IDEMPOTENCY_KEY) if operation.spec.idempotent else None
            if key is None:
                return _respond(await operation.run(self._port, call))
            return await self._once(operation, call, key)

        return handle

    async def _authenticate(self, request: web.Request) -> Principal:
        token = bearer_token(request.headers.get("Authorization", ""))
        who = await self._port.principal(token_hash(token)) if token else None
        if who is None:
            error = ', error="invalid_token"' if token else ""
            raise ApiProblem(
                401,
                "a valid bearer token is required (Authorization: Bearer …)",
                headers={"WWW-Authenticate": f'Bearer realm="api"{error}'},
            )
        return who

    def _within_rate(self, who: Principal) -> None:
        wait = self._limiter.wait_for(who.name)
        if wait > 0:
            raise ApiProblem(
                429,
                "too many requests for this token; retry later",
                headers={"Retry-After": RateLimiter.retry_after(wait)},
            )

    async def _call(self, spec: Spec, request: web.Request, who: Principal) -> Call:
        _check_path(request)
        query = _query(spec.query, request) if spec.query is not None else None
        body = None
        if spec.body is not None:
            body = await self._body(spec, request)
        return Call(who=who, request=request, query=query, body=body)

    async def _body(self, spec: Spec, request: web.Request) -> BaseModel:
        assert spec.body is not None
        if request.content_type not in spec.body_types:
            raise ApiProblem(415, f"expected Content-Type: {' or '.join(spec.body_types)}")
        try:
            raw = await read_body(request, max_bytes=self._max_body_bytes)
            parse_json_object(raw)  # UTF-8, an object, storable text, sane numbers: else 400
        except RequestRejected as exc:
            raise ApiProblem(exc.status, exc.reason) from None
        try:
            return spec.body.model_validate_json(raw)
        except ValidationError as exc:
            raise invalid(exc) from None

    async def _once(self, operation: Operation, call: Call, key: str) -> web.StreamResponse:
        """Run the write once per `Idempotency-Key`: a retry gets the first answer again."""
        if not 1 <= len(key) <= 255 or not set(key) <= _KEY_CHARACTERS:
            raise ApiProblem(
                400,
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
                errors=[FieldProblem(pointer=f"header/{IDEMPOTENCY_KEY}", detail="malformed")],
            )
        digest = _digest(call)
        earlier = await self._port.begin_request(call.who, key, digest)
        if earlier is not None:
            if earlier.request_digest != digest:
                raise ApiProblem(422, "this Idempotency-Key was used for a different request")
            if earlier.status is None:
                raise ApiProblem(409, "a request with this Idempotency-Key is still in progress")
            return _replay(earlier.status, earlier.body)
        call = Call(call.who, call.request, call.query, call.body, _request_id(call.who, key))
        try:
            answer = await operation.run(self._port, call)
        except BaseException:
            await self._port.abandon_request(call.who, key)
            raise
        assert answer.model is not None
        stored = {"body": answer.model.model_dump(mode="json"), "headers": answer.headers}
        await self._port.finish_request(call.who, key, answer.status, stored)
        return _respond(answer)


def _check_path(request: web.Request) -> None:
    """404 for a path value no ticket or file can have, before the database sees it: a NUL
    (PostgreSQL refuses it in any statement), half a surrogate pair, or more than the column
    holds."""
    for name, value in request.match_info.items():
        longest, missing = _PATH_VALUES.get(name, (255, "not found"))
        if len(value) > longest or "\x00" in value or not is_well_formed(value):
            raise ApiProblem(404, missing)


def _query(model: type[BaseModel], request: web.Request) -> BaseModel:
    try:
        return model.model_validate({name: request.query[name] for name in request.query})
    except ValidationError as exc:
        raise _in_query(invalid(exc)) from None


def _in_query(problem: ApiProblem) -> ApiProblem:
    for error in problem.errors:
        error.pointer = "query" + error.pointer
    return problem


def _digest(call: Call) -> str:
    """What makes two requests "the same": method, path and the body's content."""
    body = call.body.model_dump(mode="json") if call.body is not None else None
    text = json.dumps([call.request.method, call.request.path, body], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _request_id(who: Principal, key: str) -> str:
    """The name a keyed request's effects carry (notifications, effort entries), so a retry
    after a crash half way queues nothing twice."""
    return "key-" + hashlib.sha256(f"{who.name}\n{key}".encode()).hexdigest()[:32]


def _respond(answer: Answer) -> web.StreamResponse:
    if answer.response is not None:
        return answer.response
    assert answer.model is not None
    return web.Response(
        status=answer.status,
        body=answer.model.model_dump_json().encode(),
        content_type="application/json",
        headers=answer.headers,
    )


def _replay(status: int, stored: dict[str, Any]) -> web.Response:
    headers = {**stored.get("headers", {}), "Idempotent-Replayed": "true"}
    return web.Response(
        status=status,
        body=json.dumps(stored.get("body")).encode(),
        content_type="application/json",
        headers=headers,
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error of the API as problem details; never a stack trace."""
    try:
        return await handler(request)
    except ApiProblem as problem:
        return problem.response(request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return problem_response(exc.status, exc.reason, instance=request.path, headers=headers)
    except DatabaseUnavailable:
        log.warning("database unavailable while handling %s %s", request.method, request.path)
        return problem_response(
            503,
            "temporarily unavailable, retry later",
            instance=request.path,
            headers={"Retry-After": "5"},
        )
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return problem_response(500, "internal error", instance=request.path)


# --- cursors ------------------------------------------------------------------------------------


def encode_cursor(position: Position | None) -> str | None:
    """An opaque cursor for where the next page starts."""
    if position is None:
        return None
    at, ticket_id = position
    raw = json.dumps({"u": at.isoformat(), "i": ticket_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names; 400 for anything this service did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        at, ticket_id = datetime.fromisoformat(data["u"]), data["i"]
        if at.tzinfo is None or not isinstance(ticket_id, int) or not 0 <= ticket_id < 2**31:
            raise ValueError("not a cursor")
        at = in_utc(at)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise ApiProblem(
            400,
            "cursor is not one this service handed out",
            errors=[FieldProblem(pointer="query/cursor", detail="unknown cursor")],
        ) from None
    return at, ticket_id


# --- the operations -----------------------------------------------------------------------------


async def _list_tickets(port: IntegrationPort, call: Call) -> Answer:
    query: TicketQuery = call.query
    after = decode_cursor(query.cursor) if query.cursor else None
    page = await port.tickets(call.who, query, after)
    return Answer(TicketPage(items=page.items, next_cursor=encode_cursor(page.next_after)))


async def _ticket(port: IntegrationPort, call: Call) -> Answer:
    return Answer(await port.ticket(call.who, call.number))


async def _explain(port: IntegrationPort, call: Call) -> Answer:
    return Answer(await port.explain(call.who, call.number))


async def _file(port: IntegrationPort, call: Call) -> Answer:
    found = await port.ticket_file(call.who, call.number, call.request.match_info["sha256"])
    disposition = "attachment; filename*=UTF-8''" + _quote(found.name)
    # The type came with the upload: only a plain `type/subtype` is passed on, never sniffed.
    content_type = found.content_type if _MEDIA_TYPE.match(found.content_type) else _BYTES
    response = web.FileResponse(
        found.path,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
        },
    )
    return Answer(response=response)


def _quote(name: str) -> str:
    return quote(name.encode("utf-8", "replace"), safe="")


async def _open_ticket(port: IntegrationPort, call: Call) -> Answer:
    created = await port.open_ticket(call.who, call.body, call.request_id or _fresh_id())
    location = f"{BASE}/tickets/{created.ticket.number}"
    return Answer(created, status=201, headers={"Location": location})


async def _add_event(port: IntegrationPort, call: Call) -> Answer:
    message, ticket = await port.add_event(
        call.who, call.number, call.body, call.request_id or _fresh_id()
    )
    return Answer(EventDone(message=message, ticket=ticket))


async def _set_external_ref(port: IntegrationPort, call: Call) -> Answer:
    return Answer(await port.set_external_ref(call.who, call.number, call.body))


async def _customers(port: IntegrationPort, call: Call) -> Answer:
    return Answer(await port.customers(call.who))


async def _sla_report(port: IntegrationPort, call: Call) -> Answer:
    return Answer(await port.sla_report(call.who, call.query))


async def _billing_report(port: IntegrationPort, call: Call) -> Answer:
    return Answer(await port.billing_report(call.who, call.query))


def _fresh_id() -> str:
    return "req-" + uuid.uuid4().hex


def operations() -> list[Operation]:
    """Every route of `/api/v1`, declared as data."""
    read, write = "tickets:read", "tickets:write"
    return [
        Operation(Spec("GET", "/tickets", "listTickets", "List tickets", read, TicketPage,
                       query=TicketQuery,
                       description="Oldest change first; follow `next_cursor` to page on. "
                       "`updated_since` with the last `updated_at` seen mirrors changes."),
                  _list_tickets),
        Operation(Spec("POST", "/tickets", "openTicket", "Open a ticket", write, TicketCreated,
                       status=201, body=NewTicket, idempotent=True,
                       description="Validated like a chat report; the engineers get the same "
                       "alert, the reaction deadline is set."),
                  _open_ticket),
        Operation(Spec("GET", "/tickets/{number}", "getTicket", "Read a ticket", read, Ticket),
                  _ticket),
        Operation(Spec("PATCH", "/tickets/{number}", "setExternalRef",
                       "Set the ticket's external reference", write, Ticket, body=ExternalRef,
                       body_types=("application/json", "application/merge-patch+json")),
                  _set_external_ref),
        Operation(Spec("GET", "/tickets/{number}/explain", "explainTicket",
                       "Why the reaction deadline is where it is", read, Explanation),
                  _explain),
        Operation(Spec("POST", "/tickets/{number}/events", "addEvent", "Act on a ticket", write,
                       EventDone, body=NewEvent, idempotent=True, conflicts=True,
                       description="By the same rules as the engineers' chat commands; the "
                       "event log names the token as `api:<name>`. 409 when the ticket's state "
                       "does not allow it (e.g. acknowledging a resolved ticket)."),
                  _add_event),
        Operation(Spec("GET", "/tickets/{number}/files/{sha256}", "getTicketFile",
                       "Download one of the ticket's files", read, None),
                  _file),
        Operation(Spec("GET", "/customers", "listCustomers", "List customers",
                       "customers:read", CustomerList),
                  _customers),
        Operation(Spec("GET", "/reports/sla", "slaReport", "The month's SLA report",
                       "reports:read", SlaReport, query=ReportQuery),
                  _sla_report),
        Operation(Spec("GET", "/reports/billing", "billingReport", "The month's billable effort",
                       "reports:read", BillingReport, query=ReportQuery),
                  _billing_report),
    ]  # fmt: skip
