"""The integration API's contract, over HTTP against the whole app, on every database backend
(SQLite, and PostgreSQL where `CHATOPS_TEST_POSTGRES_URL` is set)."""

from __future__ import annotations

import base64
import itertools
import json
import typing
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import pytest
import schemathesis
import yarl
from aiohttp import web
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import update
from sqlmodel import col, select

from adapters.api import SCOPES
from adapters.api import models as wire
from adapters.api.service import operations
from adapters.model import without_marks
from bot.app import SERVICES, STORE, TASKS, create_app
from bot.settings import Settings
from bot.webhook_payloads import openapi_webhooks
from dialogs.ticket_state import alert_card, view
from storage.directory import Directory, Priority, Product
from storage.integrations import IDEMPOTENCY_IN_PROGRESS
from storage.models import ApiIdempotencyRow, OutboxRow, TicketKind, TicketStatus
from storage.repositories import Store
from tests.api_client import REPORT, V1, Api, auth, make_token, with_second_customer
from tests.serving import Bot
from tests.test_fuzz_endpoints import HOSTILE_PIECES, hostile_values, serialize

ClientFactory = Callable[[web.Application], Awaitable[Bot]]
PROBLEM = "application/problem+json"


@pytest.fixture
def two_customers(directory: Directory) -> Directory:
    return with_second_customer(directory)


@pytest.fixture
async def bot(
    aiohttp_client: ClientFactory, settings: Settings, two_customers: Directory, store: Store
) -> Bot:
    on_backend = settings.model_copy(update={"database_url": store.database.url})
    return await aiohttp_client(create_app(on_backend, directory=two_customers))


@pytest.fixture
async def psa(bot: Bot) -> Api:
    """An integration with every scope, for every customer."""
    return Api(bot, await make_token(bot, "psa"))


async def outbox(bot: Bot) -> list[OutboxRow]:
    store = bot.app[STORE]
    async with store.database.session() as session:
        return list((await session.scalars(select(OutboxRow))).all())


# --- the document -------------------------------------------------------------------------------


async def test_the_document_describes_every_route_and_is_openapi_3_1(bot: Bot) -> None:
    response = await bot.get(f"{V1}/openapi.json")
    document = await response.json()

    assert response.status == 200
    assert document["openapi"] == "3.1.0"
    served = {
        (route.method, route.resource.canonical.removeprefix(V1))
        for route in bot.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith(V1)
    } - {("GET", "/openapi.json"), ("HEAD", "/openapi.json")}
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method != "head"
    }
    assert {entry for entry in served if entry[0] != "HEAD"} == documented
    # The outbound events are documented beside it, every reference resolving.
    assert "ticket.created" in document["webhooks"]
    refs = [
        operation["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for operation in document["webhooks"].values()
    ]
    assert all(ref.rpartition("/")[2] in document["components"]["schemas"] for ref in refs)
    # Generated from the models the handlers validate with.
    assert document["components"]["schemas"]["NewTicket"]["required"] == [
        name for name, field in wire.NewTicket.model_fields.items() if field.is_required()
    ]


async def test_the_document_and_its_webhooks_section_are_valid_openapi_3_1(bot: Bot) -> None:
    document = await (await bot.get(f"{V1}/openapi.json")).json()

    # The OpenAPI 3.1 meta-schema, as schemathesis checks a document it loads.
    schemathesis.openapi.from_dict(document).validate()
    webhooks, event_schemas = openapi_webhooks()
    assert document["webhooks"] == webhooks  # what payloads are built and checked with
    schemas = document["components"]["schemas"]
    assert {name: schemas[name] for name in event_schemas} == event_schemas
    for schema in schemas.values():  # each a valid JSON Schema (2020-12)
        jsonschema_rs.meta.validate(schema)


def test_the_published_enumerations_are_the_cores() -> None:
    assert set(typing.get_args(wire.ProductId)) == {p.value for p in Product}
    assert set(typing.get_args(wire.PriorityId)) == {p.value for p in Priority}
    assert set(typing.get_args(wire.TicketState)) == {s.value for s in TicketStatus}
    assert set(typing.get_args(wire.TicketKind)) == {k.value for k in TicketKind}


def test_every_operation_needs_a_known_scope() -> None:
    assert {op.spec.scope for op in operations()} <= set(SCOPES)


# --- tokens -------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer cso_not-a-token", "Basic dXNlcjpwdw=="])
async def test_no_or_a_bad_token_gets_401_with_a_bearer_challenge(
    bot: Bot, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = await bot.get(f"{V1}/tickets", headers=headers)

    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.content_type == PROBLEM
    assert (await response.json())["status"] == 401


async def test_a_revoked_token_is_refused(bot: Bot, psa: Api) -> None:
    assert (await psa.call("GET", "/tickets"))[0] == 200
    await bot.app[STORE].api_tokens.revoke(name="psa", now=datetime.now(UTC))

    assert (await psa.call("GET", "/tickets"))[0] == 401


async def test_a_token_acts_only_within_its_scopes(bot: Bot) -> None:
    reader = Api(bot, await make_token(bot, "reader", ["tickets:read"]))

    status, problem, _ = await reader.call("POST", "/tickets", REPORT)
    assert status == 403
    assert "tickets:write" in problem["detail"]
    assert (await reader.call("GET", "/customers"))[0] == 403
    assert (await reader.call("GET", "/tickets"))[0] == 200


async def test_each_token_has_its_own_rate_limit(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory
) -> None:
    slow = settings.model_copy(update={"api_rate": 0.01, "api_burst": 2})
    bot = await aiohttp_client(create_app(slow, directory=directory))
    first = Api(bot, await make_token(bot, "first"))
    second = Api(bot, await make_token(bot, "second"))

    statuses = [(await first.call("GET", "/customers"))[0] for _ in range(3)]
    limited = await first.call("GET", "/customers")

    assert statuses == [200, 200, 429]
    assert limited[0] == 429 and int(limited[2]["Retry-After"]) >= 1
    assert limited[1]["status"] == 429
    assert (await second.call("GET", "/customers"))[0] == 200


# --- opening tickets ----------------------------------------------------------------------------


async def test_a_ticket_opened_by_api_gets_a_deadline_and_the_engineers_alert(
    bot: Bot, psa: Api
) -> None:
    status, created, headers = await psa.call("POST", "/tickets", REPORT)

    assert status == 201, created
    ticket = created["ticket"]
    assert headers["Location"] == f"{V1}/tickets/{ticket['number']}"
    assert ticket["state"] == "open" and ticket["kind"] == "fault"
    assert ticket["sla"]["reaction"]["running"] is True
    assert ticket["sla"]["reaction"]["target_seconds"] == 4 * 3600
    assert ticket["sla"]["reaction"]["deadline"] is not None
    assert ticket["customer_chat"] is False
    assert [(e["kind"], e["actor"]) for e in ticket["events"]] == [("created", "api:psa")]
    alerts = [row for row in await outbox(bot) if row.dedupe_key.startswith("alert:")]
    assert [row.dedupe_key for row in alerts] == [f"alert:{ticket['number']}:teams"]
    assert ticket["description"] in alerts[0].payload["answers"][0]["text"]


async def test_a_report_is_checked_like_a_chat_report(psa: Api) -> None:
    status, problem, _ = await psa.call(
        "POST", "/tickets", REPORT | {"phone": "call me maybe", "description": "broken!!"}
    )

    assert status == 422
    pointers = {error["pointer"] for error in problem["errors"]}
    assert pointers == {"/description"}  # the schema's own limit (10 characters) comes first
    status, problem, _ = await psa.call("POST", "/tickets", REPORT | {"phone": "call me maybe"})
    assert status == 422
    assert (
        problem["errors"] == [{"pointer": "/phone", "detail": problem["errors"][0]["detail"]}]
        and "phone" in problem["errors"][0]["detail"].lower()
    )


async def test_the_scope_guard_asks_for_consent_to_a_change_request(psa: Api) -> None:
    change = REPORT | {"description": "Please add a new user to the hunt group Sales"}

    status, problem, _ = await psa.call("POST", "/tickets", change)
    assert status == 422
    assert "billed by effort" in problem["detail"]

    created = await psa.ok("POST", "/tickets", change | {"kind": "change_request"})
    assert created["ticket"]["kind"] == "change_request"
    assert created["scope"]["assessment"] == "change-request"


async def test_a_hardware_replacement_is_opened_with_the_contracts_explanation(
    psa: Api,
) -> None:
    hardware = REPORT | {"description": "The phone in room 4 is broken, please replace it"}

    created = await psa.ok("POST", "/tickets", hardware)

    assert created["scope"]["assessment"] == "hardware-replacement"
    assert "not part of your support contract" in created["scope"]["explanation"]


async def test_the_same_idempotency_key_gets_the_same_answer(bot: Bot, psa: Api) -> None:
    key = {"Idempotency-Key": "mail-4711"}

    first = await psa.call("POST", "/tickets", REPORT, headers=key)
    again = await psa.call("POST", "/tickets", REPORT, headers=key)
    other = await psa.call("POST", "/tickets", REPORT | {"priority": "P1"}, headers=key)

    assert first[0] == again[0] == 201
    assert again[1] == first[1]
    assert again[2]["Idempotent-Replayed"] == "true"
    assert other[0] == 422
    listed = await psa.ok("GET", "/tickets")
    assert len(listed["items"]) == 1


async def test_a_key_a_crash_left_unanswered_is_taken_over_by_a_later_retry(
    bot: Bot, psa: Api
) -> None:
    key = {"Idempotency-Key": "mail-4712"}
    first = await psa.call("POST", "/tickets", REPORT, headers=key)
    assert first[0] == 201
    # The process died after opening the ticket, before it stored the answer under the key.
    async with bot.app[STORE].database.session() as session:
        await session.execute(
            update(ApiIdempotencyRow)
            .values(status=None, response={})
            .where(col(ApiIdempotencyRow.key) == "mail-4712")
        )

    soon = await psa.call("POST", "/tickets", REPORT, headers=key)
    assert soon[0] == 409  # it may still be at work: the client is asked to come back
    async with bot.app[STORE].database.session() as session:
        await session.execute(
            update(ApiIdempotencyRow).values(
                created_at=datetime.now(UTC) - IDEMPOTENCY_IN_PROGRESS - timedelta(seconds=1)
            )
        )
    later = await psa.call("POST", "/tickets", REPORT, headers=key)
    again = await psa.call("POST", "/tickets", REPORT, headers=key)

    assert later[0] == 201
    assert later[1]["ticket"]["number"] == first[1]["ticket"]["number"]  # opened once
    assert again[2]["Idempotent-Replayed"] == "true" and again[1] == later[1]
    listed = await psa.ok("GET", "/tickets")
    assert len(listed["items"]) == 1


async def test_a_customer_must_be_named_and_known(psa: Api, bot: Bot) -> None:
    without = {k: v for k, v in REPORT.items() if k != "customer"}

    assert (await psa.call("POST", "/tickets", without))[0] == 422
    assert (await psa.call("POST", "/tickets", REPORT | {"customer": "nobody"}))[0] == 422
    bound = Api(bot, await make_token(bot, "portal", customer="other"))
    assert (await bound.call("POST", "/tickets", REPORT))[0] == 403
    created = await bound.ok("POST", "/tickets", without)
    assert created["ticket"]["customer"] == "other"


# --- listing ------------------------------------------------------------------------------------


async def test_listing_filters_and_pages_in_a_stable_order(psa: Api) -> None:
    opened = [
        await psa.open(),
        await psa.open(priority="P1"),
        await psa.open(customer="other", product="microsoft-calling"),
        await psa.open(priority="P1"),
        await psa.open(),
    ]
    numbers = [ticket["number"] for ticket in opened]

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = await psa.ok("GET", "/tickets", params=params)
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == numbers

    def listed(**filters: str) -> Awaitable[Any]:
        return psa.ok("GET", "/tickets", params=filters)

    assert [t["number"] for t in (await listed(priority="P1"))["items"]] == [
        numbers[1],
        numbers[3],
    ]
    assert [t["number"] for t in (await listed(customer="other"))["items"]] == [numbers[2]]
    assert [t["number"] for t in (await listed(product="microsoft-calling"))["items"]] == [
        numbers[2]
    ]
    await psa.event(numbers[0], type="resolve", summary="trunk restarted")
    assert [t["number"] for t in (await listed(state="resolved"))["items"]] == [numbers[0]]
    # the resolved ticket changed last: updated_since from its change lists it alone
    since = (await psa.ok("GET", f"/tickets/{numbers[0]}"))["updated_at"]
    assert [t["number"] for t in (await listed(updated_since=since))["items"]] == [numbers[0]]


async def test_breached_lists_the_tickets_whose_breach_was_announced(bot: Bot, psa: Api) -> None:
    late, fine = await psa.open(), await psa.open()
    store = bot.app[STORE]
    ticket = await store.tickets.by_number(late["number"])
    assert ticket is not None and ticket.id is not None
    await store.tickets.append(
        ticket.id, kind="sla_notice", at=datetime.now(UTC), data={"key": "reaction:0:100"}
    )

    breached = await psa.ok("GET", "/tickets", params={"breached": "true"})
    others = await psa.ok("GET", "/tickets", params={"breached": "false"})

    assert [t["number"] for t in breached["items"]] == [late["number"]]
    assert [t["number"] for t in others["items"]] == [fine["number"]]
    warnings = breached["items"][0]["sla"]["warnings_sent"]
    assert [(w["clock"], w["percent"]) for w in warnings] == [("reaction", 100)]


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "bm90IGEgY3Vyc29y"},
        {"cursor": "%%%"},
        {"limit": "0"},
        {"limit": "9" * 40},
        {"updated_since": "2026-01-01T10:00:00"},
        {"state": "closed"},
    ],
)
async def test_bad_listing_parameters_are_4xx_problems(psa: Api, params: dict[str, str]) -> None:
    status, problem, headers = await psa.call("GET", "/tickets", params=params)

    assert status in (400, 422)
    assert headers["Content-Type"].startswith(PROBLEM)
    assert problem["errors"][0]["pointer"].startswith("query/")


# --- one ticket ---------------------------------------------------------------------------------


async def test_a_ticket_shows_its_sla_files_and_timeline(bot: Bot, psa: Api) -> None:
    number = (await psa.open())["number"]
    store, services = bot.app[STORE], bot.app[SERVICES]
    row = await store.tickets.by_number(number)
    assert row is not None and row.id is not None
    content = b"2026-12-03 09:14:02 SIP 503 from the trunk\n"
    blob = await services.blobs.store(_chunks(content))
    await store.logfiles.attach(
        ticket_id=row.id,
        sha256=blob.sha256,
        name="client log.txt",
        size=blob.size,
        content_type="text/plain",
        uploaded_by="clara",
        channel="webex",
        now=datetime.now(UTC),
    )

    ticket = await psa.ok("GET", f"/tickets/{number}")

    [file] = ticket["files"]
    assert (file["name"], file["size"]) == ("client log.txt", len(content))
    download = await bot.get(file["download_url"], headers=auth(psa.token))
    assert download.status == 200
    assert await download.read() == content
    assert download.content_type == "text/plain"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download.headers["Content-Disposition"]
    assert (await bot.get(file["download_url"])).status == 401
    signed = await bot.get(file["signed_url"].removeprefix("http://localhost:3978"))
    assert signed.status == 200 and await signed.read() == content
    assert (await psa.call("GET", f"/tickets/{number}/files/{'0' * 64}"))[0] == 404


async def _chunks(content: bytes) -> typing.AsyncIterator[bytes]:
    yield content


async def test_explain_gives_the_why_text_and_its_stretches(psa: Api) -> None:
    number = (await psa.open())["number"]

    explained = await psa.ok("GET", f"/tickets/{number}/explain")

    assert explained["number"] == number
    assert explained["lines"]
    assert explained["text"] == "\n".join(line["text"] for line in explained["lines"])
    assert explained["lines"][0]["kind"] == "start"


async def test_the_external_reference_is_set_logged_and_on_the_card(bot: Bot, psa: Api) -> None:
    number = (await psa.open())["number"]

    ticket = await psa.ok(
        "PATCH",
        f"/tickets/{number}",
        {"external_ref": "HALO-5521"},
        headers={"Content-Type": "application/merge-patch+json"},
    )

    assert ticket["external_ref"] == "HALO-5521"
    assert (ticket["events"][-1]["kind"], ticket["events"][-1]["actor"]) == (
        "external_ref",
        "api:psa",
    )
    updates = [row for row in await outbox(bot) if row.kind == "update"]
    assert any("HALO-5521" in row.payload["answers"][0]["text"] for row in updates)
    row = await bot.app[STORE].tickets.by_number(number)
    assert row is not None
    services = bot.app[SERVICES]
    card = alert_card(await view(services, row, services.clock()), "Demo", services.clock())
    assert "External ref" in card.text  # what `show` shows
    # A PSA that sets it again on its next sync changes nothing (no entry, no card update).
    again = await psa.ok("PATCH", f"/tickets/{number}", {"external_ref": "HALO-5521"})
    assert (again["events"], again["updated_at"]) == (ticket["events"], ticket["updated_at"])
    assert len([row for row in await outbox(bot) if row.kind == "update"]) == len(updates)
    cleared = await psa.ok("PATCH", f"/tickets/{number}", {"external_ref": None})
    assert cleared["external_ref"] is None


# --- events -------------------------------------------------------------------------------------


async def test_events_follow_the_chat_rules_and_name_the_token(bot: Bot, psa: Api) -> None:
    number = (await psa.open())["number"]

    status, done = await psa.event(number, type="ack")
    assert status == 200, done
    first_cycle = done["ticket"]["sla"]["cycle"]
    assert "first response recorded" in done["message"]
    assert done["ticket"]["owner"] == {"id": "api:psa", "name": "psa"}
    assert done["ticket"]["sla"]["reaction"]["stopped_at"] is not None
    status, done = await psa.event(number, type="assign", to="Megan")
    assert done["ticket"]["owner"]["id"] == "meganb@example.com"
    assert (await psa.event(number, type="assign", to="nobody at all"))[0] == 422
    assert (await psa.event(number, type="note", text="checked the trunk"))[0] == 200
    assert (await psa.event(number, type="vendor", vendor="cisco", case="SR 69 123"))[0] == 200
    assert (await psa.event(number, type="effort", minutes=45, note="trunk analysis"))[0] == 200
    assert (await psa.event(number, type="effort", minutes=25 * 60))[0] == 422
    status, done = await psa.event(number, type="resolve", summary="trunk restarted")
    assert done["ticket"]["state"] == "resolved"

    status, refused = await psa.event(number, type="ack")
    assert status == 409
    assert refused["detail"] == f"{number} is resolved; `reopen {number}` first."
    assert (await psa.event(number, type="resolve", summary="again"))[0] == 409
    status, done = await psa.event(number, type="reopen")
    assert status == 200 and done["ticket"]["state"] == "open"
    assert done["ticket"]["sla"]["cycle"] == first_cycle + 1

    ticket = await psa.ok("GET", f"/tickets/{number}")
    written = [e for e in ticket["events"] if e["kind"] not in ("sla_notice",)]
    assert {e["actor"] for e in written} == {"api:psa"}
    assert [e["kind"] for e in written] == [
        "created",
        "responded",
        "acknowledged",
        "assigned",
        "note",
        "vendor_case",
        "resolved",
        "reopened",
    ]
    await bot.app[TASKS].idle()


async def chat_contact(bot: Bot) -> str:
    """A contact of the demo customer who has written to the bot (Webex, 1:1); their e-mail."""
    store, now = bot.app[STORE], datetime.now(UTC)
    await store.contacts.touch(
        channel="webex", user_id="clara-id", role="contact", customer_key="demo",
        name="Clara Contact", email="clara@demo-customer.example", aad_object_id=None, now=now,
    )  # fmt: skip
    await store.conversations.save(
        channel="webex", conversation_id="clara-direct", kind="personal", user_id="clara-id",
        reference={"roomId": "clara-direct"}, now=now,
    )  # fmt: skip
    return "clara@demo-customer.example"


async def test_a_contact_named_by_email_owns_the_ticket_in_chat(bot: Bot, psa: Api) -> None:
    email = await chat_contact(bot)

    created = await psa.ok("POST", "/tickets", REPORT | {"contact_email": email.upper()})
    ticket = created["ticket"]
    status, _done = await psa.event(ticket["number"], type="reply", text="Please restart it")

    assert ticket["customer_chat"] is True
    assert ticket["reporter"] == {"id": "clara-id", "name": "Clara Contact"}
    assert ticket["events"][0]["actor"] == "api:psa"
    assert status == 200
    to_clara = [
        row for row in await outbox(bot) if row.target.get("conversation_id") == "clara-direct"
    ]
    texts = [without_marks(row.payload["answers"][0]["text"]) for row in to_clara]
    assert any(ticket["number"] in text for text in texts)  # the confirmation
    assert f"**psa** wrote on {ticket['number']}:\n\nPlease restart it" in texts


async def test_nobody_in_chat_gets_no_reply_and_the_integration_is_told(bot: Bot, psa: Api) -> None:
    created = await psa.ok("POST", "/tickets", REPORT | {"contact_email": "x@nowhere.example"})
    number = created["ticket"]["number"]

    status, refused = await psa.event(number, type="reply", text="Please restart it")

    assert created["ticket"]["customer_chat"] is False
    assert "has a chat with the bot: replies cannot reach" in created["notes"][0]
    assert status == 409 and "answer them there" in refused["detail"]
    assert [row for row in await outbox(bot) if row.kind == "conversation"] == []


async def test_ask_logs_pauses_the_clock_once(bot: Bot, psa: Api) -> None:
    number = (await psa.open(contact_email=await chat_contact(bot)))["number"]

    status, done = await psa.event(number, type="ask_logs", what="the Webex App logs")

    assert status == 200
    assert done["ticket"]["state"] == "waiting_for_customer"
    assert done["ticket"]["sla"]["paused"] is True
    assert (await psa.event(number, type="ask_logs"))[0] == 409


async def test_an_event_retried_with_its_key_is_done_once(bot: Bot, psa: Api) -> None:
    number = (await psa.open())["number"]
    key = {"Idempotency-Key": "note-1"}
    path = f"/tickets/{number}/events"

    first = await psa.call(
        "POST", path, {"type": "note", "text": "called the customer"}, headers=key
    )
    again = await psa.call(
        "POST", path, {"type": "note", "text": "called the customer"}, headers=key
    )

    assert first[0] == again[0] == 200
    ticket = await psa.ok("GET", f"/tickets/{number}")
    assert [e["kind"] for e in ticket["events"]].count("note") == 1


@pytest.mark.parametrize(
    "event",
    [
        {"type": "explode"},
        {"type": "note"},
        {"type": "note", "text": "   "},
        {"type": "effort", "minutes": "45"},
        {"type": "effort", "minutes": 10**30},
        {"type": "vendor", "vendor": "nokia", "case": "1"},
        {"type": "ack", "extra": 1},
    ],
)
async def test_malformed_events_are_422(psa: Api, event: dict[str, Any]) -> None:
    number = (await psa.open())["number"]

    status, problem = await psa.event(number, **event)

    assert status == 422
    assert problem["errors"]


# --- customers and reports ----------------------------------------------------------------------


async def test_customers_are_listed_with_their_terms(bot: Bot, psa: Api) -> None:
    listed = await psa.ok("GET", "/customers")
    bound = Api(bot, await make_token(bot, "portal", customer="other"))

    assert [(c["key"], c["reaction_seconds"]) for c in listed["items"]] == [
        ("demo", 4 * 3600),
        ("other", 4 * 3600),
    ]
    assert [c["key"] for c in (await bound.ok("GET", "/customers"))["items"]] == ["other"]


async def test_reports_give_the_chats_figures(bot: Bot, psa: Api) -> None:
    answered, waiting = await psa.open(), await psa.open(customer="other")
    change = await psa.open(description="Please add a new user to the hunt group Sales",
                            kind="change_request")  # fmt: skip
    await psa.event(answered["number"], type="ack")
    await psa.event(change["number"], type="effort", minutes=90, note="hunt group")
    await psa.event(answered["number"], type="effort", minutes=30, note="analysis")

    sla = await psa.ok("GET", "/reports/sla")  # this month, as the chat's `report`
    billing = await psa.ok("GET", "/reports/billing")
    one = await psa.ok("GET", "/reports/sla", params={"month": sla["month"], "customer": "other"})

    assert (sla["tickets"], sla["responded"], sla["met"], sla["pending"]) == (3, 1, 1, 2)
    assert "Tickets: 3 (2 faults, 1 change request)" in sla["text"]
    assert [row["number"] for row in one["rows"]] == [waiting["number"]]
    [demo] = billing["customers"]
    assert (demo["billable_minutes"], demo["fault_minutes"], demo["change_requests"]) == (
        90,
        30,
        1,
    )
    assert billing["billable_minutes"] == 90
    assert (await psa.call("GET", "/reports/sla", params={"month": "2026-13"}))[0] == 422
    assert (await psa.call("GET", "/reports/sla", params={"customer": "nobody"}))[0] == 422


# --- isolation ----------------------------------------------------------------------------------


async def test_a_token_bound_to_a_customer_never_sees_anothers_tickets(bot: Bot, psa: Api) -> None:
    theirs = (await psa.open(customer="demo"))["number"]
    mine = (await psa.open(customer="other"))["number"]
    portal = Api(bot, await make_token(bot, "portal", customer="other"))
    missing = theirs[:-6] + "999999"

    listed = await portal.ok("GET", "/tickets")
    assert [t["number"] for t in listed["items"]] == [mine]
    assert (await portal.call("GET", "/tickets", params={"customer": "demo"}))[0] == 403

    for method, path, body in [
        ("GET", "/tickets/{}", None),
        ("GET", "/tickets/{}/explain", None),
        ("PATCH", "/tickets/{}", {"external_ref": "X-1"}),
        ("POST", "/tickets/{}/events", {"type": "ack"}),
        ("GET", "/tickets/{}/files/" + "0" * 64, None),
    ]:
        other = await portal.call(method, path.format(theirs), body)
        none = await portal.call(method, path.format(missing), body)
        assert other[0] == none[0] == 404
        assert {**other[1], "instance": ""} == {**none[1], "instance": ""}
    assert (await portal.call("GET", "/reports/sla", params={"customer": "demo"}))[0] == 403
    report = await portal.ok("GET", "/reports/sla")
    assert [row["number"] for row in report["rows"]] == [mine]
    ticket = await psa.ok("GET", f"/tickets/{theirs}")
    assert [e["kind"] for e in ticket["events"]] == ["created"]


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"\xff\xfe{}", "application/json", 400),
        (b'{"description": "\\ud800 broken phones"}', "application/json", 400),
        (b'{"phone": 9' + b"9" * 5000 + b"}", "application/json", 400),
        (b'{"a": "\\u0000"}', "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"{not json", "application/json", 400),
        (b"{}", "text/plain", 415),
        (b"{}", "application/x-www-form-urlencoded", 415),
        (b'{"x": "' + b"a" * 300_000 + b'"}', "application/json", 413),
        (b'{"product": 5}', "application/json", 422),
    ],
)
async def test_bad_bodies_are_problems_never_500(
    psa: Api, body: bytes, content_type: str, status: int
) -> None:
    response = await psa.bot.post(
        f"{V1}/tickets", data=body, headers=auth(psa.token) | {"Content-Type": content_type}
    )

    assert response.status == status
    assert response.content_type == PROBLEM
    problem = await response.json()
    assert problem["status"] == status and "Traceback" not in str(problem)


async def test_unknown_routes_and_methods_are_problems(psa: Api) -> None:
    assert (await psa.call("GET", "/nothing-here"))[0] == 404
    status, problem, headers = await psa.call("DELETE", "/tickets")
    assert status == 405 and "GET" in headers["Allow"]
    assert problem["status"] == 405
    assert (await psa.call("GET", "/tickets/" + "\u00e4" * 40))[0] == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/tickets/CCS%00-1", None),
        ("GET", "/tickets/CCS%00-1/explain", None),
        ("GET", "/tickets/CCS%00-1/files/" + "ab" * 32, None),
        ("GET", "/tickets/CCS-2026-000001/files/%00", None),
        ("POST", "/tickets/CCS%00-1/events", {"type": "ack"}),
        ("PATCH", "/tickets/CCS%00-1", {"external_ref": "HALO-1"}),
        ("GET", "/tickets/" + "A" * 5000, None),
        ("POST", "/tickets/" + "9" * 5000 + "/events", {"type": "note", "text": "x"}),
        ("GET", "/tickets/CCS-%ED%A0%80", None),
    ],
)
async def test_a_ticket_number_no_ticket_can_have_is_404_never_500(
    psa: Api, method: str, path: str, body: Any
) -> None:
    # A NUL is refused by PostgreSQL in any statement; the number goes into the path raw.
    await psa.open()
    headers = auth(psa.token) | ({"Content-Type": "application/json"} if body else {})
    data = json.dumps(body).encode() if body else None
    response = await psa.bot.request(
        method, yarl.URL(V1 + path, encoded=True), data=data, headers=headers
    )

    assert response.status == 404
    assert response.content_type == PROBLEM


@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01T00:00:00+01:00",  # before the first instant UTC can express
        "9999-12-31T23:59:59-01:00",  # after the last
    ],
)
async def test_an_instant_beyond_the_calendar_is_a_bad_parameter_never_500(
    psa: Api, since: str
) -> None:
    await psa.open()

    status, problem, _ = await psa.call("GET", "/tickets", params={"updated_since": since})
    assert status == 422
    assert problem["errors"][0]["pointer"] == "query/updated_since"

    cursor = base64.urlsafe_b64encode(json.dumps({"u": since, "i": 1}).encode()).decode()
    status, problem, _ = await psa.call("GET", "/tickets", params={"cursor": cursor})
    assert status == 400
    assert problem["errors"][0]["pointer"] == "query/cursor"


async def test_a_number_too_large_for_a_limit_is_422(psa: Api) -> None:
    status, problem, _ = await psa.call("GET", "/tickets", params={"limit": "1" + "0" * 4000})

    assert status == 422
    assert problem["errors"][0]["pointer"] == "query/limit"


async def test_the_reaction_deadline_of_an_api_ticket_matches_a_chat_tickets(
    bot: Bot, psa: Api
) -> None:
    ticket = await psa.open()
    services = bot.app[SERVICES]
    terms = services.sla.terms_for("demo")("CCSB", Priority.P2)
    created = datetime.fromisoformat(ticket["created_at"])
    expected = terms.calendar.add(created, timedelta(hours=4))

    assert datetime.fromisoformat(ticket["sla"]["reaction"]["deadline"]) == expected


# --- hostile input, generated --------------------------------------------------------------------

EXTREME_INSTANTS = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "²"]
# 2,000 digits: a few still fit the 8 KB request line (past it aiohttp's parser answers 400
# before the app sees the request).
pieces = st.sampled_from([*HOSTILE_PIECES, "9" * 2_000, "CCS-2026-000001"]) | st.text(max_size=4)
hostile = st.sampled_from(EXTREME_INSTANTS) | st.lists(pieces, min_size=1, max_size=3).map("".join)
QUERY_NAMES = ["customer", "state", "product", "priority", "updated_since", "breached", "cursor"]
TOKEN_NUMBERS = itertools.count()
EVENT_FIELDS = ["type", "text", "to", "what", "vendor", "case", "summary", "minutes", "note"]


def in_url(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@seed(20261203)
@examples(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    number=hostile,
    query=st.tuples(st.sampled_from(QUERY_NAMES), hostile),
    event=st.dictionaries(st.sampled_from(EVENT_FIELDS), hostile_values, max_size=3),
)
async def test_hostile_paths_queries_and_events_never_fail_with_500(
    bot: Bot, number: str, query: tuple[str, str], event: dict[str, Any]
) -> None:
    # The same classes of input as the chat endpoints' fuzzing: NUL, half surrogate pairs,
    # 5,000-digit numbers, instants UTC cannot express; on every database.
    psa = Api(bot, await make_token(bot, f"psa-{next(TOKEN_NUMBERS)}"))  # a fresh rate limit
    if (await psa.call("GET", "/tickets/CCS-2026-000001"))[0] == 404:
        await psa.open()
    headers = auth(psa.token) | {"Content-Type": "application/json"}
    listing = f"{query[0]}={in_url(query[1])}"  # one at a time: another's 422 would hide it
    requests = [
        ("GET", f"/tickets?{listing}", None),
        ("GET", f"/reports/sla?{listing}", None),
        ("GET", f"/tickets/{in_url(number)}", None),
        ("GET", f"/tickets/{in_url(number)}/explain", None),
        ("POST", f"/tickets/{in_url(number)}/events", serialize(event)),
        ("POST", "/tickets/CCS-2026-000001/events", serialize({"type": "note"} | event)),
        ("PATCH", f"/tickets/{in_url(number)}", serialize({"external_ref": number})),
    ]
    for method, path, body in requests:
        response = await psa.bot.request(
            method, yarl.URL(V1 + path, encoded=True), data=body, headers=headers
        )
        text = await response.text()
        assert response.status < 500, (method, path, text)
        assert response.content_type in (PROBLEM, "application/json")
