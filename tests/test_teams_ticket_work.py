"""Through the Bot Framework fakes over HTTP: an engineer's `show` in Teams lists the ticket's
files with a link the bot serves, offers only what applies, and the Resolve button's field
reaches the contact's chat as the resolution."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.app import SERVICES, STORE, TASKS, create_app
from bot.settings import Settings
from storage.directory import Directory
from tests.activities import personal_message
from tests.fakes import ConnectorCall, FakeBotConnector
from tests.samples import sample_ticket
from tests.serving import Bot

ClientFactory = Callable[[web.Application], Awaitable[Bot]]
CLARA = "29:clara"
CONTENT = b"2026-03-02 09:14 INVITE failed 503\n" * 30
LINK = re.compile(r"\]\((https?://[^)\s]+/files/logfiles/[^)\s]+)\)")


def engineer_message(directory: Directory, text: str, *, service_url: str, **extra: Any) -> Any:
    """A 1:1 message from Megan Bowen, known by her Entra object id."""
    megan = next(s for s in directory.staff if s.name == "Megan Bowen")
    activity = personal_message(directory, text, service_url=service_url, user="29:megan", **extra)
    activity["from"] = {
        "id": "29:megan",
        "name": megan.name,
        "aadObjectId": megan.teams_aad_object_ids[0],
    }
    return activity


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return list(card.get("actions", ()))


async def test_show_and_resolve_from_a_teams_chat(
    aiohttp_client: ClientFactory,
    settings: Settings,
    directory: Directory,
    connector: FakeBotConnector,
) -> None:
    bot = await aiohttp_client(
        create_app(
            settings.model_copy(update={"public_url": "https://bot.example"}),
            directory=directory,
        )
    )
    ticket, _ = await bot.app[STORE].tickets.create(
        sample_ticket(reporter_user_id=CLARA, conversation_id=f"a:personal-{CLARA}"),
        prefix="CCS",
        year=2026,
        now=datetime.now(UTC),
    )
    assert ticket.id is not None
    # Clara has written before: the bot may write into her chat.
    hello = personal_message(directory, "hello", service_url=connector.url, user=CLARA)
    assert (await bot.post("/api/messages", json=hello)).status == 200
    await connector.wait_for_messages(1)

    async def chunks() -> Any:
        yield CONTENT

    blob = await bot.app[SERVICES].blobs.store(chunks())
    await bot.app[STORE].logfiles.attach(
        ticket_id=ticket.id,
        sha256=blob.sha256,
        name="ablauf_trace.log",
        size=blob.size,
        content_type="text/plain",
        uploaded_by=CLARA,
        channel="teams",
        now=datetime.now(UTC),
        original_name="Ablauf trace.log",
    )

    show = engineer_message(directory, f"show {ticket.number}", service_url=connector.url)
    assert (await bot.post("/api/messages", json=show)).status == 200
    [*_, shown] = await connector.wait_for_messages(2)
    card = shown.body["attachments"][0]["content"]
    assert [a["title"] for a in actions(card)] == ["Acknowledge", "Take", "Ask for logs", "Resolve"]
    files = [b["text"] for b in card["body"] if b.get("text", "").startswith("- [")]
    [line] = files
    found = LINK.search(line)
    assert found is not None
    parts = urlsplit(found[1])
    download = await bot.get(f"{parts.path}?{parts.query}")
    assert download.status == 200 and await download.read() == CONTENT
    assert download.headers["Content-Disposition"] == 'attachment; filename="Ablauf trace.log"'

    [unfold] = [a for a in actions(card) if a["type"] == "Action.ShowCard"]
    [field] = unfold["card"]["body"]
    assert field["isRequired"] is True and field["errorMessage"]
    [confirm] = unfold["card"]["actions"]
    value = {**confirm["data"], field["id"]: "Assigned the missing licence."}
    press = engineer_message(directory, "", service_url=connector.url, value=value)
    assert (await bot.post("/api/messages", json=press)).status == 200

    told = f"Your ticket {ticket.number} is resolved:\n\nAssigned the missing licence."
    answered = f"{ticket.number} resolved."

    def lines(call: ConnectorCall) -> list[str]:
        """What a person reads: the message's text, or its card's lines."""
        cards = [a.get("content", {}) for a in call.body.get("attachments") or []]
        blocks = [
            str(b.get("text", "")) + "".join(run["text"] for run in b.get("inlines", ()))
            for card in cards
            for b in card.get("body", ())
        ]
        return [str(call.body.get("text") or ""), *blocks]

    def texts() -> list[str]:
        return [line for m in connector.messages for line in lines(m)]

    await connector.wait_until(lambda: told in texts() and answered in texts(), timeout=15)
    [to_clara] = [m for m in connector.messages if told in lines(m)]
    assert to_clara.conversation_id == f"a:personal-{CLARA}"
    await bot.app[TASKS].idle()
