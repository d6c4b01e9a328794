"""A PSA works a ticket with nothing but the integration API, and the people in chat (the fake
Webex) see it: the ticket opened by API alerts the engineers' space; the contact gets the
confirmation; a note by API lands in the alert's thread; a reply by API reaches the contact;
the contact's answer reaches the thread; the resolution by API reaches the contact."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from bot.app import STORE, create_app
from bot.settings import Settings
from storage.directory import ChannelTarget, Directory, WebexSpace
from tests.api_client import REPORT, Api, make_token
from tests.fake_webex import FakeWebex, bot_settings, running_fake_webex
from tests.serving import Bot
from tests.test_webex_engineers import Space, title

ClientFactory = Callable[[web.Application], Awaitable[Bot]]


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


async def test_a_psa_works_a_ticket_through_the_api_and_chat_follows(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    engineers = webex.add_room("group", "Engineers")
    channels = {
        **directory.channels,
        "engineers": ChannelTarget(webex=WebexSpace(room_id=engineers["id"])),
    }
    bot = await aiohttp_client(
        create_app(
            bot_settings(settings, webex),
            directory=directory.model_copy(update={"channels": channels}),
        )
    )
    space = Space(webex, str(bot.make_url("/api/webex")))
    clara = webex.add_person(
        "Clara Contact", "clara@somewhere.example", org_id=directory.customers[0].webex_org_ids[0]
    )
    direct = webex.add_room("direct")
    await space.say(clara, direct, "whoami")  # the contact has a chat with the bot
    await space.sent(lambda m: m["roomId"] == direct["id"])
    psa = Api(bot, await make_token(bot, "psa", ["tickets:read", "tickets:write"]))

    created = await psa.ok(
        "POST", "/tickets", REPORT | {"contact_email": "CLARA@somewhere.example"}
    )
    ticket = created["ticket"]
    number = ticket["number"]
    assert ticket["customer_chat"] is True
    assert ticket["reporter"]["name"] == "Clara Contact"
    alert = await space.sent(
        lambda m: m["roomId"] == engineers["id"] and title(m).startswith(number)
    )
    root = webex.messages[alert["parentId"]]  # the card is in the thread under its summary
    assert "parentId" not in root
    await space.sent(lambda m: m["roomId"] == direct["id"] and number in m.get("markdown", ""))

    await psa.ok("POST", f"/tickets/{number}/events", {"type": "note", "text": "Trunk looks fine"})
    # The alert is out; once its thread is recorded, thread posts go straight there (before
    # that they wait for it, retried with backoff).
    await thread_recorded(bot, number)
    note = await space.sent(lambda m: "Trunk looks fine" in m.get("markdown", ""))
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

    await space.say(clara, direct, "Restarted it, calls still drop")
    relayed = await space.sent(
        lambda m: "calls still drop" in m.get("markdown", "") and m["roomId"] == engineers["id"]
    )
    assert relayed.get("parentId") == root["id"]

    done = await psa.ok(
        "POST", f"/tickets/{number}/events", {"type": "resolve", "summary": "trunk restarted"}
    )
    assert done["ticket"]["state"] == "resolved"
    await space.sent(
        lambda m: (
            m["roomId"] == direct["id"]
            and m.get("markdown", "").startswith(
                f"Your ticket {number} is resolved:\n\n> trunk restarted\n\n"
            )
        )
    )
    kinds = [(e["kind"], e["actor"]) for e in done["ticket"]["events"]]
    assert ("created", "api:psa") in kinds and ("resolved", "api:psa") in kinds
    assert ("customer_message", clara_id(done)) in kinds


async def thread_recorded(bot: Bot, number: str) -> None:
    store = bot.app[STORE]
    ticket = await store.tickets.by_number(number)
    assert ticket is not None and ticket.id is not None
    async with asyncio.timeout(15):
        while not await store.threads.of_ticket(ticket.id):  # noqa: ASYNC110 - rows tell nobody
            await asyncio.sleep(0.05)


def clara_id(done: dict[str, object]) -> str:
    ticket = done["ticket"]
    assert isinstance(ticket, dict)
    return str(ticket["reporter"]["id"])
