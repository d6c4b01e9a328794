"""The day-to-day views over real HTTP, rendered by each channel: the engineers' queue card and
the managers' status in Teams (fake Bot Connector) and Webex (fake Webex API), the Reopen button
on the resolution message, and report links that name the served port and download the CSV
under a readable name."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from yarl import URL

from bot.app import SETTINGS, TASKS, create_app
from bot.cli import main
from bot.settings import Settings
from storage.directory import Directory
from tests.activities import personal_message
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.fakes import ConnectorCall, FakeBotConnector
from tests.serving import Bot
from tests.transcript import GOOD_FORM

ClientFactory = Callable[[web.Application], Awaitable[Bot]]
STAFF_AAD = "00000000-0000-0000-0000-00000000000"  # + 21 Megan Bowen, 22 Adele Vance
MEGAN = {"id": "29:megan", "name": "Megan Bowen", "aadObjectId": f"{STAFF_AAD}21"}
ADELE = {"id": "29:adele", "name": "Adele Vance", "aadObjectId": f"{STAFF_AAD}22"}


class Teams:
    """People writing to the bot in Teams; the bot's answers arrive at the fake connector."""

    def __init__(self, bot: Bot, connector: FakeBotConnector, directory: Directory) -> None:
        self.bot, self.connector, self.directory = bot, connector, directory

    async def say(self, text: str, *, sender: dict[str, str] | None = None, **extra: Any) -> Json:
        """Send as the contact (or `sender`); the bot's next message in that chat."""
        user = sender["id"] if sender else "29:clara"
        activity = personal_message(
            self.directory, text, service_url=self.connector.url, user=user, **extra
        )
        if sender:
            activity["from"] = sender
        before = len(self.connector.messages)
        assert (await self.bot.post("/api/messages", json=activity)).status == 200
        await self.bot.app[TASKS].idle()
        chat = activity["conversation"]["id"]

        def answers() -> list[ConnectorCall]:
            return [c for c in self.connector.messages[before:] if c.conversation_id == chat]

        await self.connector.wait_until(lambda: bool(answers()))
        return _answer(answers()[0])

    async def report(self) -> str:
        await self.say("report a fault")
        await self.say("", value={**GOOD_FORM, "since": ""})
        await self.say("", value={"action": "skip_followups"})
        confirmation = await self.say("", value={"action": "confirm_report"})
        return str(confirmation["card"]["body"][0]["text"])


def _answer(call: ConnectorCall) -> Json:
    attachments = call.body.get("attachments") or []
    card = attachments[0]["content"] if attachments else None
    return {"text": call.body.get("text") or "", "card": card}


def card_words(card: Json) -> str:
    return json.dumps(card, ensure_ascii=False)


@pytest.fixture
async def teams(
    aiohttp_client: ClientFactory,
    settings: Settings,
    connector: FakeBotConnector,
    directory: Directory,
) -> Teams:
    bot = await aiohttp_client(
        create_app(settings.model_copy(update={"port": 4711}), directory=directory)
    )
    return Teams(bot, connector, directory)


async def test_teams_renders_the_queue_and_the_status_with_their_tickets(teams: Teams) -> None:
    number = await teams.report()

    queue = await teams.say("queue", sender=MEGAN)
    status = await teams.say("status", sender=ADELE)

    card = queue["card"]
    assert card["body"][0]["text"] == "Open tickets"
    [box] = [item for item in card["body"] if item.get("style") == "emphasis"]
    [line] = box["items"]
    runs = [run["text"] for run in line["inlines"]]
    assert runs[0] == f"{number}: "
    assert "Demo Customer GmbH · Webex Calling · P2 · new · – · " in runs[1]
    assert re.search(r"\d+ (h|min)[\w ]* left", runs[1])
    assert line["inlines"][-1]["italic"] is True  # the customer's words, literal
    assert "Calls drop after 30 seconds" in line["inlines"][-1]["text"]
    assert status["card"]["body"][0]["text"] == "Service status"
    assert f"**{number}** · Demo Customer GmbH · P2" in card_words(status["card"])
    assert '"Open"' in card_words(status["card"])


async def test_teams_resolution_message_has_a_reopen_button_that_works(
    teams: Teams,
) -> None:
    number = await teams.report()
    before = len(teams.connector.messages)
    await teams.say(f"resolve {number} trunk re-registered", sender=MEGAN)
    await teams.connector.wait_until(
        lambda: any("is resolved" in json.dumps(c.body) for c in teams.connector.messages[before:])
    )
    resolution = next(
        _answer(c) for c in teams.connector.messages[before:] if "is resolved" in json.dumps(c.body)
    )

    card_call = next(
        c for c in teams.connector.messages[before:] if "is resolved" in json.dumps(c.body)
    )
    [button] = resolution["card"]["actions"]
    assert button["type"] == "Action.Submit" and button["title"] == "Reopen"
    reopened = await teams.say("", value=button["data"], replyToId=card_call.activity_id)

    assert f"I reopened {number}" in reopened["text"]
    # The resolution card no longer offers Reopen: it is edited in place and says so.
    [edited] = [u for u in teams.connector.updated if u.reply_to_id == card_call.activity_id]
    card = _answer(edited)["card"]
    assert "actions" not in card
    assert f"Your ticket {number} was reopened." in card_words(card)


async def test_teams_acknowledge_on_a_show_card_takes_it_off_that_card(teams: Teams) -> None:
    number = await teams.report()
    before = len(teams.connector.messages)
    shown = await teams.say(f"show {number}", sender=MEGAN)
    shown_call = next(c for c in teams.connector.messages[before:] if c.body.get("attachments"))
    [ack] = [a for a in shown["card"]["actions"] if a["title"] == "Acknowledge"]

    await teams.say("", sender=MEGAN, value=ack["data"], replyToId=shown_call.activity_id)

    [edited] = [u for u in teams.connector.updated if u.reply_to_id == shown_call.activity_id]
    card = _answer(edited)["card"]
    assert edited.conversation_id == shown_call.conversation_id
    assert [a["title"] for a in card["actions"]] == ["Ask for logs", "Resolve"]
    assert "In progress (Megan Bowen)" in card_words(card)


async def test_a_report_links_to_the_served_port_and_a_named_csv(teams: Teams) -> None:
    report = await teams.say("report", sender=ADELE)

    image = URL(next(i["url"] for i in report["card"]["body"] if i["type"] == "Image"))
    [download] = report["card"]["actions"]
    csv = URL(download["url"])
    assert (image.host, image.port) == ("localhost", 4711)  # the port it serves on
    assert (csv.host, csv.port) == ("localhost", 4711)
    assert re.fullmatch(r"sla-\d{4}-\d{2}\.csv", csv.query["name"])

    got = await teams.bot.get(csv.path_qs)
    chart = await teams.bot.get(image.path_qs)
    renamed = await teams.bot.get(csv.with_query({**csv.query, "name": "other.csv"}).path_qs)

    assert got.status == 200 and (await got.text()).startswith("number,")
    assert got.headers["Content-Disposition"] == f'attachment; filename="{csv.query["name"]}"'
    assert chart.status == 200 and chart.headers["Content-Type"] == "image/png"
    assert "Content-Disposition" not in chart.headers  # shown on the card, not downloaded
    assert renamed.status == 403


def test_serve_port_is_the_port_of_the_links(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    served: dict[str, Any] = {}

    def run_app(app: web.Application, **options: Any) -> None:
        served.update(options, settings=app[SETTINGS])

    monkeypatch.setattr(web, "run_app", run_app)
    monkeypatch.setenv("CHATOPS_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CHATOPS_DIRECTORY", "chatops.example.toml")
    monkeypatch.delenv("CHATOPS_PUBLIC_URL", raising=False)
    with pytest.raises(SystemExit):
        main(["serve", "--port", "8123"])

    assert served["port"] == 8123
    assert served["settings"].base_url == "http://localhost:8123"


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


async def test_webex_renders_the_queue_status_and_reopen_button(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    url = str(bot.make_url("/api/webex"))
    org = directory.customers[0].webex_org_ids[0]
    clara = webex.add_person("Clara Contact", "clara@somewhere.example", org_id=org)
    megan = webex.add_person("Megan Bowen", "meganb@example.com")
    adele = webex.add_person("Adele Vance", "adelev@example.com")
    rooms = {name: webex.add_room("direct") for name in ("clara", "megan", "adele")}

    async def answer_in(room_id: str, count: int) -> Json:
        """The bot's first message into the room after the first `count` it sent."""
        await webex.wait_until(lambda: any(m["roomId"] == room_id for m in webex.sent[count:]))
        return next(m for m in webex.sent[count:] if m["roomId"] == room_id)

    async def say(person: Json, room: Json, text: str) -> Json:
        count = len(webex.sent)
        message = webex.say(person, room, text)
        assert await webex.deliver(url, "messages", webex.message_data(message)) == 200
        return await answer_in(room["id"], count)

    async def press(person: Json, card: Json, inputs: Json) -> Json:
        count = len(webex.sent)
        action = webex.submit(person, card, inputs)
        assert await webex.deliver(url, "attachmentActions", webex.action_data(action)) == 200
        return await answer_in(card["roomId"], count)

    form = await say(clara, rooms["clara"], "report a fault")
    follow_ups = await press(clara, form, {**GOOD_FORM, "since": ""})
    summary = await press(clara, follow_ups, {"action": "skip_followups"})
    confirmation = await press(clara, summary, {"action": "confirm_report"})
    number = confirmation["attachments"][0]["content"]["body"][0]["text"]

    queue = await say(megan, rooms["megan"], "queue")
    status = await say(adele, rooms["adele"], "status")

    assert queue["attachments"][0]["content"]["version"] == "1.3"
    assert "Demo Customer GmbH · Webex Calling · P2 · new" in card_words(queue["attachments"])
    assert f"**{number}** · Demo Customer GmbH · Webex Calling · P2" in queue["markdown"]
    assert "Calls drop after 30 seconds" in queue["markdown"]
    assert f"**{number}** · Demo Customer GmbH · P2 · new" in status["markdown"]

    # Acknowledge pressed on a `show` card: that card is replaced by one without it.
    shown = await say(megan, rooms["megan"], f"show {number}")
    [ack] = [
        a for a in shown["attachments"][0]["content"]["actions"] if a["title"] == "Acknowledge"
    ]
    await press(megan, shown, ack["data"])
    await webex.wait_until(lambda: shown["id"] not in webex.messages)
    *_, renewed = [m for m in webex.sent if m["roomId"] == rooms["megan"]["id"]]
    assert renewed["attachments"][0]["content"]["body"][0]["text"].startswith(number)
    titles = [a["title"] for a in renewed["attachments"][0]["content"]["actions"]]
    assert titles == ["Ask for logs", "Resolve"]

    count = len(webex.sent)
    await say(megan, rooms["megan"], f"resolve {number} trunk re-registered")
    await webex.wait_until(
        lambda: any("is resolved" in m.get("markdown", "") for m in webex.sent[count:])
    )
    resolution = next(m for m in webex.sent[count:] if "is resolved" in m.get("markdown", ""))
    assert "`reopen " in resolution["markdown"]
    [button] = resolution["attachments"][0]["content"]["actions"]
    assert button["title"] == "Reopen"
    reopened = await press(clara, resolution, button["data"])

    assert f"I reopened {number}" in reopened["markdown"]
    # The pressed resolution card is replaced by one that offers no Reopen any more.
    await webex.wait_until(lambda: resolution["id"] not in webex.messages)
    [current] = [m for m in webex.sent if "was reopened." in m.get("markdown", "")]
    assert "actions" not in current["attachments"][0]["content"]
    assert "is resolved" in current["markdown"]
