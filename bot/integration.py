"""The core behind the integration API: `IntegrationPort` implemented with the same dialogs and
repositories the chat uses.

An API write becomes a turn of the integration, as an engineer (events) or reporting for a
customer (a new ticket), handled by the chat's own functions: the rules, the event log, the
notifications and the cards are the chat's, and the event log names the token (`api:<name>`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from adapters.api import (
    BASE,
    NO_SUCH_TICKET,
    ApiProblem,
    FileDownload,
    Principal,
    Remembered,
    TicketsPage,
)
from adapters.api import models as wire
from adapters.api.models import FieldProblem
from adapters.model import Channel, ConversationRef, Incoming, Outgoing, Sender
from dialogs import billing, engineering
from dialogs.commands import CommandContext
from dialogs.context import Actor, Turn, as_language
from dialogs.intake import parse_field
from dialogs.managers import PRODUCT_TITLES, facts_between, report_zone
from dialogs.report_text import report_text
from dialogs.scope import Scope, assess, explanation, out_of_contract_product
from dialogs.services import Services
from dialogs.ticket_state import NOTICE, TicketView, after_change, view_of
from dialogs.tickets import open_ticket
from dialogs.why_text import why_text
from storage.directory import Customer, Priority, Product, Role, parse_duration
from storage.efforts import billable, per_customer
from storage.models import LogfileRow, TicketEventRow, TicketRow
from storage.reports import month_period, period_report
from storage.sla import ClockState
from storage.sla_explain import explain
from storage.tickets import TicketFilter, sla_events

REPORT_FIELDS = ("product", "priority", "description", "since", "affected", "tested", "phone")
# Each event type, the chat command whose rules it obeys, and how its words are passed on.
EventRun = Callable[[Turn, CommandContext, TicketRow, str], Awaitable[list[Outgoing]]]
EVENTS: dict[str, tuple[str, EventRun]] = {
    "ack": ("ack", engineering.ack),
    "take": ("take", engineering.take),
    "assign": ("assign", engineering.assign),
    "note": ("note", engineering.note),
    "reply": ("reply", engineering.reply),
    "ask_logs": ("ask-logs", engineering.ask_logs),
    "vendor": ("vendor", engineering.vendor),
    "resolve": ("resolve", engineering.resolve),
    "reopen": ("reopen", engineering.reopen),
    "effort": ("effort", billing.effort),
}
NOT_FOUND = NO_SUCH_TICKET


class Integration:
    """`IntegrationPort` over the bot's services."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._context = CommandContext(
            directory=services.directory, commands=(), dialogs={}, services=services
        )

    # --- tokens and idempotency ----------------------------------------------------------------

    async def principal(self, token_hash: str) -> Principal | None:
        row = await self._services.store.api_tokens.by_hash(token_hash)
        if row is None:
            return None
        return Principal(row.name, frozenset(row.scopes), row.customer_key)

    async def begin_request(
        self, who: Principal, key: str, request_digest: str
    ) -> Remembered | None:
        earlier = await self._services.store.idempotency.begin(
            token_name=who.name, key=key, request_digest=request_digest, now=self._now()
        )
        if earlier is None:
            return None
        return Remembered(earlier.request_digest, earlier.status, earlier.response)

    async def finish_request(
        self, who: Principal, key: str, status: int, body: dict[str, Any]
    ) -> None:
        await self._services.store.idempotency.finish(
            token_name=who.name, key=key, status=status, response=body
        )

    async def abandon_request(self, who: Principal, key: str) -> None:
        await self._services.store.idempotency.forget(token_name=who.name, key=key)

    # --- reading -------------------------------------------------------------------------------

    async def tickets(
        self, who: Principal, query: wire.TicketQuery, after: tuple[datetime, int] | None
    ) -> TicketsPage:
        filters = TicketFilter(
            customer_key=self._customer_filter(who, query.customer),
            status=query.state,
            product=query.product,
            priority=query.priority,
            updated_since=query.updated_since,
            breached=None if query.breached is None else query.breached == "true",
        )
        store = self._services.store.tickets
        rows = list(await store.page(filters, after=after, limit=query.limit + 1))
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        logs = await store.events_of([row.id for row in rows if row.id is not None])
        now = self._now()
        items = [
            self._summary(view_of(self._services, row, logs[row.id or 0], now)) for row in rows
        ]
        last = rows[-1] if more else None
        next_after = (last.updated_at, last.id) if last is not None and last.id else None
        return TicketsPage(items, next_after)

    async def ticket(self, who: Principal, number: str) -> wire.Ticket:
        return await self._detail(await self._visible(who, number))

    async def explain(self, who: Principal, number: str) -> wire.Explanation:
        ticket = await self._visible(who, number)
        assert ticket.id is not None
        events = await self._services.store.tickets.events(ticket.id)
        now = self._now()
        found = explain(sla_events(events), self._services.sla.terms_for(ticket.customer_key), now)
        lines = [
            wire.ExplainLine(
                kind=line.kind.value,
                start=line.start,
                end=line.end,
                business_seconds=_seconds(line.business),
                total_seconds=_seconds(line.total),
                note=line.note.value,
                text=why_text(replace(found, lines=(line,)), "en"),
            )
            for line in found.lines
        ]
        current = view_of(self._services, ticket, events, now)
        return wire.Explanation(
            number=ticket.number, text=why_text(found, "en"), lines=lines, sla=_sla(current)
        )

    async def ticket_file(self, who: Principal, number: str, sha256: str) -> FileDownload:
        ticket = await self._visible(who, number)
        assert ticket.id is not None
        files = await self._services.store.logfiles.of_ticket(ticket.id)
        found = next((row for row in files if row.sha256 == sha256), None)
        if found is None:
            raise ApiProblem(404, "no such file")
        path = self._services.blobs.path_of(found.sha256)
        if not await asyncio.to_thread(path.is_file):
            raise ApiProblem(404, "the file is no longer kept")
        return FileDownload(path=path, name=found.name, content_type=found.content_type)

    async def customers(self, who: Principal) -> wire.CustomerList:
        directory = self._services.directory
        items = []
        for customer in directory.customers:
            if not who.may_see(customer.key):
                continue
            contract = directory.contracts[customer.contract]
            reaction = customer.overrides.reaction or contract.reaction
            items.append(
                wire.Customer(
                    key=customer.key,
                    name=customer.name,
                    contract=customer.contract,
                    contract_name=f"{contract.name} {contract.version}".strip(),
                    service_time=customer.overrides.service_time or contract.service_time,
                    reaction_seconds=_seconds(parse_duration(reaction)),
                    language=customer.language,
                )
            )
        return wire.CustomerList(items=items)

    # --- writing -------------------------------------------------------------------------------

    async def open_ticket(
        self, who: Principal, body: wire.NewTicket, request_id: str
    ) -> wire.TicketCreated:
        customer = self._customer_to_report_for(who, body.customer)
        language = body.language or as_language(customer.language) or "en"
        report = self._report(body, customer, language)
        scope = assess(report["description"])
        if scope.scope is Scope.CHANGE_REQUEST and body.kind == "fault":
            raise ApiProblem(
                422,
                f"{explanation(scope, 'en')} Send kind `change_request` once the customer "
                "agreed to billing by effort.",
                errors=[FieldProblem(pointer="/kind", detail="a change request")],
            )
        turn, notes = await self._reporting_turn(who, body, customer, language, request_id)
        ticket, answers = await open_ticket(
            turn,
            self._context,
            report,
            {},
            kind=body.kind,
            source_key=f"api:{who.name}:{request_id}",
            created_by=who.actor,
        )
        # The contact hears about their ticket as after a chat report (its number, deadline).
        event = f"opened:{ticket.number}:api"
        await self._services.notify.to_customer(ticket, answers[0].text, event=event)
        contract = self._services.directory.contracts[customer.contract]
        if outside := out_of_contract_product(Product(body.product), contract.products, "en"):
            notes.append(outside.replace("**", ""))
        return wire.TicketCreated(
            ticket=await self._detail(ticket),
            scope=None
            if scope.scope is Scope.IN_SCOPE
            else wire.ScopeNote(
                assessment=scope.scope.value,
                keywords=list(scope.keywords),
                explanation=explanation(scope, "en"),
            ),
            notes=notes,
        )

    async def add_event(
        self, who: Principal, number: str, body: wire.NewEvent, request_id: str
    ) -> tuple[str, wire.Ticket]:
        ticket = await self._visible(who, number)
        event = body.root
        command, run = EVENTS[event.type]
        if (reason := engineering.refusal(command, ticket)) is not None:
            raise ApiProblem(409, reason)
        rest = self._event_words(event)
        answers = await run(self._engineer_turn(who, request_id), self._context, ticket, rest)
        return answers[0].text if answers else "", await self._detail(ticket)

    async def set_external_ref(
        self, who: Principal, number: str, body: wire.ExternalRef
    ) -> wire.Ticket:
        ticket = await self._visible(who, number)
        assert ticket.id is not None
        if ticket.external_ref == body.external_ref:
            # A PSA that sets it on every sync changes nothing: no log entry, no card update,
            # and the ticket does not move up the `updated_since` listing.
            return await self._detail(ticket)
        tickets, now = self._services.store.tickets, self._now()
        await tickets.set_external_ref(ticket.id, external_ref=body.external_ref, at=now)
        await tickets.append(
            ticket.id,
            kind="external_ref",
            at=now,
            actor=who.actor,
            data={"external_ref": body.external_ref},
        )
        # The alert card shows the reference: refresh it (once per change of the log).
        events = await tickets.events(ticket.id)
        await after_change(self._services, ticket, f"extref:{ticket.number}:{events[-1].id}")
        return await self._detail(ticket)

    # --- reports -------------------------------------------------------------------------------

    async def sla_report(self, who: Principal, query: wire.ReportQuery) -> wire.SlaReport:
        key = self._customer_filter(who, query.customer)
        month, start, end, label = self._month(query.month)
        facts = await facts_between(self._services, start, end)
        report = period_report(
            facts,
            start=start,
            end=end,
            label=label,
            customer=key,
            zone=report_zone(self._services),
        )
        return wire.SlaReport(
            month=month,
            label=label,
            customer=key,
            tickets=report.tickets,
            faults=report.faults,
            change_requests=report.change_requests,
            met=report.met,
            breached=report.breached,
            pending=report.pending,
            reaction_met_percent=report.reaction_met_percent,
            responded=report.responded,
            median_reaction_seconds=_maybe_seconds(report.median_reaction),
            p90_reaction_seconds=_maybe_seconds(report.p90_reaction),
            by_product=report.by_product,
            by_priority=report.by_priority,
            paused_seconds=_seconds(report.paused_total),
            weekly=[wire.WeekFigures(week=w, met=m, breached=b) for w, m, b in report.weekly],
            rows=[
                wire.SlaRow(
                    number=f.number,
                    customer=f.customer_key,
                    product=f.product,
                    priority=f.priority,
                    kind=f.kind,
                    created_at=f.created_at,
                    reaction_seconds=_seconds(f.reaction_used),
                    target_seconds=_seconds(f.reaction_target),
                    outcome=f.outcome.value,
                    paused_seconds=_seconds(f.paused),
                    reopened=f.reopened,
                )
                for f in report.rows
            ],
            text=report_text(report, "en", product_names=PRODUCT_TITLES),
        )

    async def billing_report(self, who: Principal, query: wire.ReportQuery) -> wire.BillingReport:
        key = self._customer_filter(who, query.customer)
        month, start, end, label = self._month(query.month)
        entries = await self._services.store.efforts.between(start=start, end=end, customer_key=key)
        rows = per_customer(entries)
        return wire.BillingReport(
            month=month,
            label=label,
            customer=key,
            customers=[
                wire.BillingCustomer(
                    customer=row.customer_key,
                    change_requests=row.change_requests,
                    billable_minutes=row.billable_minutes,
                    billable_hours=round(row.billable_hours, 2),
                    billable_entries=row.billable_lines,
                    fault_minutes=row.fault_minutes,
                )
                for row in rows
            ],
            billable_minutes=sum(row.billable_minutes for row in rows),
            entries=[
                wire.BillingEntry(
                    customer=ticket.customer_key,
                    ticket=ticket.number,
                    kind=ticket.kind,
                    billable=billable(ticket),
                    logged_at=effort.at,
                    minutes=effort.minutes,
                    by=effort.by,
                    note=effort.note,
                )
                for effort, ticket in entries
            ],
        )

    # --- helpers -------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._services.clock()

    async def _visible(self, who: Principal, number: str) -> TicketRow:
        """The ticket if this token may see it; another customer's is "no such ticket" too."""
        ticket = None
        if len(number) <= 32 and number.isascii():
            ticket = await self._services.store.tickets.by_number(number)
        if ticket is None or not who.may_see(ticket.customer_key):
            raise ApiProblem(404, NOT_FOUND)
        return ticket

    def _customer_filter(self, who: Principal, wanted: str | None) -> str | None:
        """The customer a request is limited to: the token's own, or the one asked for."""
        if who.customer_key is not None:
            if wanted is not None and wanted != who.customer_key:
                raise ApiProblem(403, "this token is bound to another customer")
            return who.customer_key
        if wanted is not None and self._services.directory.customer(wanted) is None:
            raise ApiProblem(
                422,
                "no customer with this key",
                errors=[FieldProblem(pointer="query/customer", detail="unknown customer")],
            )
        return wanted

    def _customer_to_report_for(self, who: Principal, wanted: str | None) -> Customer:
        key = self._customer_filter(who, wanted)
        customer = self._services.directory.customer(key) if key else None
        if customer is None:
            raise ApiProblem(
                422,
                "name the customer (`customer`) the ticket is for",
                errors=[FieldProblem(pointer="/customer", detail="unknown or missing")],
            )
        return customer

    def _month(self, month: str | None) -> tuple[str, datetime, datetime, str]:
        zone = report_zone(self._services)
        month = month or f"{self._now().astimezone(zone):%Y-%m}"
        try:
            start, end, label = month_period(month, zone)
        except ValueError as exc:
            raise ApiProblem(
                422, str(exc), errors=[FieldProblem(pointer="query/month", detail=str(exc))]
            ) from None
        return month, start, end, label

    def _report(self, body: wire.NewTicket, customer: Customer, language: str) -> dict[str, str]:
        """The report's fields, each checked as the chat's intake checks it."""
        lang = as_language(language) or "en"
        zone = self._services.sla.terms_for(customer.key)(
            customer.contract, Priority(body.priority)
        ).calendar.zone
        raw = {
            "product": body.product,
            "priority": body.priority,
            "description": body.description,
            "since": body.since.isoformat() if body.since else "",
            "affected": body.affected,
            "tested": body.tested,
            "phone": body.phone,
        }
        report: dict[str, str] = {}
        errors: list[FieldProblem] = []
        for name in REPORT_FIELDS:
            value, problem = parse_field(
                name, raw[name].strip(), now=self._now(), zone=zone, language=lang
            )
            if problem:
                errors.append(FieldProblem(pointer=f"/{name}", detail=problem))
            report[name] = value
        if errors:
            raise ApiProblem(422, "the report is incomplete", errors=errors)
        return report

    async def _reporting_turn(
        self,
        who: Principal,
        body: wire.NewTicket,
        customer: Customer,
        language: str,
        request_id: str,
    ) -> tuple[Turn, list[str]]:
        """The turn a report through the API is: the contact's own, in their 1:1 chat, when
        `contact_email` names one who has written to the bot; else the integration's."""
        store, notes = self._services.store, list[str]()
        channel, conversation = Channel.API, f"api:{who.name}"
        user_id, name = who.actor, body.reporter_name or who.name
        if body.contact_email:
            contact = await store.contacts.by_email(
                customer_key=customer.key, email=body.contact_email
            )
            chat = (
                await store.windows.personal_conversation(
                    channel=contact.channel, user_id=contact.user_id
                )
                if contact is not None
                else None
            )
            if contact is not None and chat is not None:
                channel, conversation = Channel(contact.channel), chat.conversation_id
                user_id, name = contact.user_id, body.reporter_name or contact.name
                language = as_language(contact.language) or language
            else:
                notes.append(
                    "No contact with this e-mail has a chat with the bot: replies cannot "
                    "reach the reporter in chat."
                )
        actor = Actor(
            user_id=user_id,
            name=name,
            role=Role.CONTACT,
            language=as_language(language) or "en",
            customer=customer,
        )
        return Turn(_incoming(channel, conversation, request_id, actor), actor, self._now()), notes

    def _engineer_turn(self, who: Principal, request_id: str) -> Turn:
        """The integration acting as an engineer."""
        actor = Actor(user_id=who.actor, name=who.name, role=Role.ENGINEER, language="en")
        incoming = _incoming(Channel.API, f"api:{who.name}", request_id, actor)
        return Turn(incoming, actor, self._now())

    def _event_words(self, event: Any) -> str:
        """The event's fields as the chat command's arguments (the same parser reads them)."""
        match event:
            case wire.Assign():
                if engineering.engineer_named(self._services.directory, event.to) is None:
                    raise ApiProblem(
                        422,
                        "no engineer of the directory has this name or e-mail",
                        errors=[FieldProblem(pointer="/to", detail="unknown engineer")],
                    )
                return str(event.to)
            case wire.Note() | wire.Reply():
                return str(event.text)
            case wire.AskLogs():
                return str(event.what)
            case wire.Vendor():
                return f"{event.vendor} {event.case}"
            case wire.Resolve():
                return str(event.summary)
            case wire.Effort():
                reason = billing.too_long(timedelta(minutes=event.minutes), f"{event.minutes}m")
                if reason is not None:
                    raise ApiProblem(422, reason)
                return f"{event.minutes}m {event.note}".strip()
            case _:
                return ""

    async def _detail(self, ticket: TicketRow) -> wire.Ticket:
        assert ticket.id is not None
        store = self._services.store
        fresh = await store.tickets.get(ticket.id) or ticket
        events = await store.tickets.events(ticket.id)
        files = await store.logfiles.of_ticket(ticket.id)
        current = view_of(self._services, fresh, events, self._now())
        summary = self._summary(current)
        return wire.Ticket(
            **dict(summary),
            since=fresh.since,
            affected=fresh.affected,
            tested=fresh.tested,
            phone=fresh.phone,
            details=fresh.details,
            language=fresh.language,
            customer_chat=fresh.reporter_channel != Channel.API.value,
            files=[
                wire.TicketFile(
                    name=row.name,
                    size=row.size,
                    content_type=row.content_type,
                    sha256=row.sha256,
                    uploaded_by=row.uploaded_by,
                    uploaded_at=row.created_at,
                    download_url=f"{BASE}/tickets/{fresh.number}/files/{row.sha256}",
                    signed_url=self._signed(row),
                )
                for row in files
            ],
            events=[_event(row) for row in events],
        )

    def _signed(self, row: LogfileRow) -> str | None:
        links = self._services.links
        if links is None or row.id is None:
            return None
        return links.logfile_link(logfile_id=row.id, ticket_id=row.ticket_id, now=self._now())

    def _summary(self, current: TicketView) -> wire.TicketSummary:
        ticket = current.ticket
        owner = (
            wire.Person(id=ticket.owner_user_id, name=ticket.owner_name)
            if ticket.owner_user_id
            else None
        )
        return wire.TicketSummary(
            number=ticket.number,
            customer=ticket.customer_key,
            kind=ticket.kind,
            state=ticket.status,
            product=ticket.product,
            priority=ticket.priority,
            description=ticket.description,
            external_ref=ticket.external_ref,
            owner=owner,
            reporter=wire.Person(id=ticket.reporter_user_id, name=ticket.reporter_name),
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            sla=_sla(current),
        )


def _incoming(channel: Channel, conversation: str, request_id: str, actor: Actor) -> Incoming:
    return Incoming(
        channel=channel,
        event_id=request_id,
        conversation=ConversationRef(channel=channel, conversation_id=conversation),
        sender=Sender(user_id=actor.user_id, name=actor.name),
    )


def _sla(current: TicketView) -> wire.Sla:
    state = current.sla
    resolution = state.resolution
    return wire.Sla(
        contract=state.terms.contract,
        service_time=state.terms.service_time,
        cycle=state.cycle,
        reaction=_clock(state.reaction),
        resolution=_clock(resolution) if resolution is not None else None,
        paused=state.reaction.is_paused or bool(resolution and resolution.is_paused),
        breached=state.reaction.breached or bool(resolution and resolution.breached),
        warnings_sent=_warnings(current.events),
    )


def _clock(clock: ClockState) -> wire.SlaClock:
    return wire.SlaClock(
        target_seconds=_seconds(clock.target),
        used_seconds=_seconds(clock.used),
        remaining_seconds=_seconds(clock.left),
        paused_seconds=_seconds(clock.paused),
        deadline=clock.deadline,
        stopped_at=clock.stopped_at,
        running=clock.running,
        paused=clock.is_paused,
        breached=clock.breached,
    )


def _warnings(events: Sequence[TicketEventRow]) -> list[wire.SlaWarning]:
    """The watcher's announcements (`<clock>:<cycle>:<percent>`), oldest first."""
    found = []
    for row in events:
        if row.kind != NOTICE:
            continue
        clock, _, rest = str(row.data.get("key", "")).partition(":")
        cycle, _, percent = rest.partition(":")
        if cycle.isdigit() and percent.isdigit():
            found.append(
                wire.SlaWarning(clock=clock, cycle=int(cycle), percent=int(percent), at=row.at)
            )
    return found


def _event(row: TicketEventRow) -> wire.TicketEvent:
    assert row.id is not None
    return wire.TicketEvent(id=row.id, kind=row.kind, at=row.at, actor=row.actor, data=row.data)


def _seconds(duration: timedelta) -> int:
    return int(duration.total_seconds())


def _maybe_seconds(duration: timedelta | None) -> int | None:
    return None if duration is None else _seconds(duration)
