"""The integration's "done when": a PSA mirrors a ticket and pushes its own work back with nothing
but the integration API and the outbound webhooks, while the people work it in chat (the fake
Webex), on SQLite and PostgreSQL.

The PSA opens a ticket by API; the alert appears in the engineers' space; an engineer presses
Acknowledge there; the PSA's receiver (signatures verified, payloads checked against the
documented schemas) gets `ticket.created`, then `ticket.acknowledged`; the PSA sets its own
ticket number as the external reference (shown by `show`; no event of its own: it comes with
the next event's ticket); a note by API lands in the alert's thread; a reply by
API reaches the contact; the resolution by API brings `ticket.resolved`. The PSA's mirror, built
only from API reads and deliveries, ends equal to what the API says of the ticket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from bot.app import create_app
from bot.settings import Settings
from storage.directory import ChannelTarget, Directory, WebexSpace
from storage.repositories import Store
from storage.webhooks import WebhookEvent
from tests.api_client import REPORT, Api, make_token
from tests.fake_webex import FakeWebex, bot_settings, running_fake_webex
from tests.fake_webhook_receiver import Delivery, WebhookReceiver
from tests.serving import Bot
from tests.test_api_e2e import thread_recorded
from tests.test_webex_engineers import Space, title

ClientFactory = Callable[[web.Application], Awaitable[Bot]]
PSA_NUMBER = "HALO-5521"


@dataclass
class PsaMirror:
    """What the PSA keeps per ticket number, from API reads and verified deliveries only.

    A delivery carries the ticket as it is after its event: state, owner and external reference
    come from there (de-duplicated by `webhook-id`: delivery is at least once). The SLA clocks
    are computed and move with time, so the PSA reads them with `GET /tickets/{number}` after
    each delivery, as a receiver that queues the work would."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def take(self, delivery: Delivery) -> bool:
        """Upsert from one delivery; False for one already taken."""
        if delivery.webhook_id in self.seen:
            return False
        self.seen.add(delivery.webhook_id)
        ticket = delivery.payload["data"]["ticket"]
        self.records.setdefault(ticket["number"], {}).update(
            state=ticket["status"], owner=ticket["owner_id"], external_ref=ticket["external_ref"]
        )
        return True

    async def sync(self, psa: Api, receiver: WebhookReceiver) -> None:
        """Take what arrived; read the SLA state of every ticket it was about."""
        touched = {delivery.number for delivery in receiver.received if self.take(delivery)}
        for number in touched:
            ticket = await psa.ok("GET", f"/tickets/{number}")
            self.records[number]["sla"] = ticket["sla"]


def as_mirrored(ticket: dict[str, Any]) -> dict[str, Any]:
    """The fields the PSA mirrors, from an API representation of the ticket."""
    owner = ticket["owner"]
    return {
        "state": ticket["state"],
        "owner": owner["id"] if owner else None,
        "external_ref": ticket["external_ref"],
        "sla": ticket["sla"],
    }


async def listed_since(psa: Api, since: datetime) -> list[dict[str, Any]]:
    """Every ticket changed since `since`, one per page, following the cursors."""
    found: list[dict[str, Any]] = []
    params = {"updated_since": since.isoformat(), "limit": "1"}
    while True:
        page = await psa.ok("GET", "/tickets", params=params)
        found += page["items"]
        if page["next_cursor"] is None:
            return found
        params["cursor"] = page["next_cursor"]


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    fake = WebhookReceiver()
    await fake.start()
    yield fake
    await fake.close()
    assert (fake.rejected, fake.invalid) == ([], [])


async def test_a_psa_mirrors_a_ticket_worked_in_chat_and_pushes_its_work_back(
    aiohttp_client: ClientFactory,
    settings: Settings,
    directory: Directory,
    store: Store,
    webex: FakeWebex,
    receiver: WebhookReceiver,
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    engineers = webex.add_room("group", "Engineers")
    channels = {
        **directory.channels,
        "engineers": ChannelTarget(webex=WebexSpace(room_id=engineers["id"])),
    }
    on_backend = bot_settings(
        settings,
        webex,
        database_url=store.database.url,
        webhooks_allow_insecure=True,  # the receiver listens on 127.0.0.1
    )
    bot = await aiohttp_client(
        create_app(on_backend, directory=directory.model_copy(update={"channels": channels}))
    )
    space = Space(webex, str(bot.make_url("/api/webex")))
    clara = webex.add_person(
        "Clara Contact", "clara@somewhere.example", org_id=directory.customers[0].webex_org_ids[0]
    )
    megan = webex.add_person("Megan Bowen", "meganb@example.com")
    direct = webex.add_room("direct")
    await space.say(clara, direct, "whoami")  # the contact has a chat with the bot
    await space.sent(lambda m: m["roomId"] == direct["id"])
    subscription = await store.webhooks.add(  # what `chatops webhook add … --events all` stores
        url=receiver.url, events=list(WebhookEvent), customer_key=None, now=started
    )
    receiver.secret = subscription.secret
    psa = Api(bot, await make_token(bot, "psa", ["tickets:read", "tickets:write"]))
    mirror = PsaMirror()

    # An earlier ticket of the PSA's, so that its listing below has more than one page.
    await psa.ok("POST", "/tickets", REPORT | {"description": "Voicemail greeting is silent"})
    created = await psa.ok(
        "POST", "/tickets", REPORT | {"contact_email": "clara@somewhere.example"}
    )
    number = created["ticket"]["number"]
    alert = await space.sent(
        lambda m: m["roomId"] == engineers["id"] and title(m).startswith(number)
    )
    root = webex.messages[alert["parentId"]]  # the card is in the thread under its summary

    await space.press(megan, alert, {"command": f"ack {number}"})
    await space.sent(lambda m: f"{number} acknowledged by Megan Bowen" in m.get("markdown", ""))
    await receiver.wait_for(3)
    assert types_about(receiver, number) == ["ticket.created", "ticket.acknowledged"]
    await mirror.sync(psa, receiver)
    assert mirror.records[number]["state"] == "open"
    assert mirror.records[number]["owner"] == "meganb@example.com"
    assert mirror.records[number]["sla"]["reaction"]["running"] is False  # answered in time
    assert actors_about(receiver, number) == ["api:psa", megan["id"]]  # her Webex id

    referenced = await psa.ok("PATCH", f"/tickets/{number}", {"external_ref": PSA_NUMBER})
    assert referenced["external_ref"] == PSA_NUMBER
    # Webex cannot edit a card: the reference shows in the thread's editable top, and one
    # line in the thread says what changed (Teams' card is updated in place, tests/test_api.py)
    await webex.wait_until(lambda: PSA_NUMBER in webex.messages[root["id"]].get("text", ""))
    await space.sent(
        lambda m: (
            m.get("parentId") == root["id"]
            and m.get("markdown", "").replace("\\", "") == f"External ref: {PSA_NUMBER}"
        )
    )
    earlier = {m["id"] for m in webex.sent}
    await space.say(megan, engineers, f"show {number}", mention_bot=True)
    shown = await space.sent(lambda m: m["id"] not in earlier and PSA_NUMBER in json.dumps(m))
    assert shown["roomId"] == engineers["id"] and number in json.dumps(shown)

    await psa.ok("POST", f"/tickets/{number}/events", {"type": "note", "text": "Trunk is fine"})
    await thread_recorded(bot, number)
    note = await space.sent(lambda m: "Trunk is fine" in m.get("markdown", ""))
    assert (note["roomId"], note.get("parentId")) == (engineers["id"], root["id"])
    await psa.ok(
        "POST", f"/tickets/{number}/events", {"type": "reply", "text": "Please restart the phone"}
    )
    await space.sent(
        lambda m: (
            m["roomId"] == direct["id"]
            and m.get("markdown") == f"**psa** wrote on {number}:\n\n> Please restart the phone"
        )
    )
    await psa.ok(
        "POST", f"/tickets/{number}/events", {"type": "resolve", "summary": "trunk restarted"}
    )
    await receiver.wait_for(6)
    # Deliveries about one ticket come in order; the external reference was no event of its
    # own, but every delivery after it carries it.
    assert types_about(receiver, number) == [
        "ticket.created",
        "ticket.acknowledged",
        "ticket.note",
        "ticket.engineer_reply",
        "ticket.resolved",
    ]
    after_patch = [d for d in receiver.received if d.number == number][2:]
    assert {d.payload["data"]["ticket"]["external_ref"] for d in after_patch} == {PSA_NUMBER}
    assert actors_about(receiver, number)[2:] == ["api:psa"] * 3
    await mirror.sync(psa, receiver)

    final = await psa.ok("GET", f"/tickets/{number}")
    assert final["state"] == "resolved"
    assert mirror.records[number] == as_mirrored(final)
    assert mirror.records[number]["sla"]["reaction"]["stopped_at"] is not None
    # A PSA that catches up by listing (after downtime, say) finds the same.
    listed = {item["number"]: item for item in await listed_since(psa, started)}
    assert len(listed) == 2 and number in listed
    assert as_mirrored(listed[number]) == mirror.records[number]
    # Delivery is at least once: a repeat changes nothing.
    assert not any(mirror.take(delivery) for delivery in receiver.received)


def types_about(receiver: WebhookReceiver, number: str) -> list[str]:
    return [delivery.type for delivery in receiver.received if delivery.number == number]


def actors_about(receiver: WebhookReceiver, number: str) -> list[str]:
    return [
        str(delivery.payload["data"]["actor"])
        for delivery in receiver.received
        if delivery.number == number
    ]
