"""What a customer types reaches the engineers' channel as literal, quoted text.

A fault report, a display name, a message relayed into the ticket's thread and the words of a
reopen notice could otherwise carry links, mentions (`<@all>` in Webex, `<at>` in Teams), HTML,
emphasis, or a line such as "- Status: Resolved" that looks like one of the bot's own facts.
Each case goes through the real dialogs and the outbox, then through both channels' renderers:
the Teams card JSON and text, and the Webex markdown, its plain fallback and its card.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from adapters.cards import render_adaptive_card
from adapters.markup import escape_markdown, render_markdown
from adapters.model import (
    MAX_QUOTED_CHARS,
    Card,
    Channel,
    Fact,
    Outgoing,
    SubmitAction,
    customer_text,
    outgoing_from_json,
    without_marks,
)
from adapters.teams.translate import to_activity
from adapters.webex.translate import to_messages
from storage.directory import Directory
from storage.models import OutboxRow
from storage.repositories import Store
from tests.transcript import (
    FIXED_NOW,
    Transcript,
    customer_contact,
    report_by_card,
    staff_member,
    webex_contact,
)

FAKE_FACT = "\n- Status: Resolved"
INJECTIONS = [
    "see [the fix](https://evil.example/login) now",
    "[x](https://evil)",
    "<@all> please look",
    "ping <@personEmail:boss@provider.example> asap",
    "<at>Engineers</at> wake up",
    "<b>bold</b> <img src=x onerror=alert(1)> <a href='https://evil'>link</a>",
    "**bold** _italic_ `code` # heading",
    f"Phones dead{FAKE_FACT}\n- Owner: nobody",
    "> quoted\n\n| a | b |\n|---|---|",
    "x" * 5000,
]
# What must never survive as markup in what the channel interprets.
ACTIVE = [
    re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\((?!\\)"),  # a markdown link
    re.compile(r"<@"),  # a Webex mention
    re.compile(r"<at>", re.IGNORECASE),  # a Teams mention
    re.compile(r"<(b|img|a)\b", re.IGNORECASE),  # HTML
    re.compile(r"(?<!\\)\*\*bold(?<!\\)\*\*"),  # emphasis
    re.compile(r"^\s*- Status: Resolved", re.MULTILINE),  # a fact line of its own
]


def assert_inert(markdown: str) -> None:
    for pattern in ACTIVE:
        assert not pattern.search(markdown), (pattern.pattern, markdown[:400])


def card_markdown_texts(card: dict[str, Any]) -> list[str]:
    """Every string of the card that its host reads as markdown (TextBlocks, FactSets)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(str(node["text"]))
            if node.get("type") == "FactSet":
                found.extend(f"{fact['title']} {fact['value']}" for fact in node["facts"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def literal_runs(card: dict[str, Any]) -> str:
    """The TextRuns' text: shown as it is, never read as markdown."""
    text = json.dumps(card, ensure_ascii=False)
    return "".join(re.findall(r'"type": "TextRun", "text": "((?:[^"\\]|\\.)*)"', text))


def rendered(answer: Outgoing) -> dict[str, Any]:
    """What each channel gets for one answer."""
    activity = to_activity(answer)
    payloads = to_messages(answer)
    card = answer.card
    return {
        "teams_text": activity.text or "",
        "teams_card": render_adaptive_card(card, version="1.5") if card else None,
        "webex_markdown": "\n".join(p["markdown"] for p in payloads),
        "webex_text": "\n".join(p["text"] for p in payloads),
        "webex_card": next(
            (a["content"] for p in payloads for a in p.get("attachments", [])), None
        ),
    }


def check_channels(answer: Outgoing, injection: str | None = None) -> None:
    """Nothing active on any channel; with `injection`, its words shown on the card as typed."""
    out = rendered(answer)
    assert_inert(out["teams_text"])
    assert_inert(out["webex_markdown"])
    assert "\ue000" not in json.dumps(out, ensure_ascii=False)
    assert "\ue001" not in json.dumps(out, ensure_ascii=False)
    for card in (out["teams_card"], out["webex_card"]):
        if card is None:
            continue
        for text in card_markdown_texts(card):
            assert_inert(text)
        if injection is None:
            continue
        # the customer's words are there, as typed (up to the length shown)
        words = " ".join(injection.split())[:200]
        assert words in " ".join(literal_runs(card).replace("\\n", " ").split()) or (
            injection[:200] in literal_runs(card)
        )


@pytest.fixture
async def bot(directory: Directory, store: Store) -> Transcript:
    await store.customers.sync(customers=directory.customers, now=FIXED_NOW)
    return Transcript(directory, store)


async def engineers_posts(store: Store) -> list[Outgoing]:
    async with store.database.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all()
    return [
        outgoing_from_json(answer)
        for row in rows
        if row.kind in ("channel", "thread", "update")
        for answer in row.payload["answers"]
    ]


@pytest.mark.parametrize("injection", INJECTIONS)
async def test_a_report_and_a_relayed_message_are_literal_on_both_channels(
    bot: Transcript, directory: Directory, store: Store, injection: str
) -> None:
    contact = replace(customer_contact(directory), name=f"Eve {injection[:60]}")
    await report_by_card(
        bot,
        contact,
        description=f"Phones do not ring {injection}"[:4000],
        affected=injection[:1000],
        tested=injection[:2000],
    )
    await bot.say(f"ticket 1: {injection}", sender=contact)

    posts = await engineers_posts(store)

    assert len(posts) >= 2  # the alert and the relayed message
    for post in posts:
        check_channels(post, injection)


async def test_the_alert_shows_the_customers_words_apart_under_a_heading(
    bot: Transcript, directory: Directory, store: Store
) -> None:
    contact = customer_contact(directory)
    await report_by_card(bot, contact, description=f"No dial tone{FAKE_FACT}")

    [alert, *_] = await engineers_posts(store)
    out = rendered(alert)

    assert out["teams_card"] is not None
    [box] = [item for item in out["teams_card"]["body"] if item["type"] == "Container"]
    assert box["style"] == "emphasis"
    assert box["items"][0]["text"] == "Customer wrote:"
    assert "No dial tone\n- Status: Resolved" in literal_runs(out["teams_card"]).replace(
        "\\n", "\n"
    )
    [facts] = [item for item in out["teams_card"]["body"] if item["type"] == "FactSet"]
    assert [fact["title"] for fact in facts["facts"]] == [
        "Customer",
        "Product",
        "Priority",
        "Status",
        "Owner",
        "Reaction",
        "Since",
        "Reaction time",
        "Next warning",
    ]
    assert "Customer wrote:\n\n> No dial tone\n> \\- Status: Resolved" in out["webex_markdown"]
    assert "> No dial tone\n> - Status: Resolved" in out["webex_text"]


async def test_a_reopen_notice_shows_the_contacts_name_literally(
    bot: Transcript, directory: Directory, store: Store
) -> None:
    contact = replace(customer_contact(directory), name="Eve <@all> [call me](https://evil)")
    engineer = staff_member(directory, "engineer")
    await report_by_card(bot, contact)
    await bot.say("resolve CCS-2026-000001 fixed", sender=engineer)
    bot.now += timedelta(days=2)
    [offer] = await bot.say("please reopen CCS-2026-000001, still broken", sender=contact)
    assert offer.card is not None
    [button] = [a for a in offer.card.actions if a.title == "Reopen CCS-2026-000001"]
    assert isinstance(button, SubmitAction)
    await bot.say("", sender=contact, value=dict(button.data))

    [notice] = [post for post in await engineers_posts(store) if "reopened" in post.text]

    check_channels(notice)
    assert (
        "**Eve &lt;@all&gt; \\[call me\\]\\(https://evil\\)** reopened"
        in (rendered(notice)["webex_markdown"])
    )


def test_customer_text_in_a_sentence_stays_on_its_line() -> None:
    text = f"📎 {customer_text('Eve' + FAKE_FACT)} sent {customer_text('[a](https://x).log')}."

    assert render_markdown(text) == ("📎 Eve \\- Status: Resolved sent \\[a\\]\\(https://x\\).log.")


def test_a_very_long_customer_text_is_cut_in_what_is_shown() -> None:
    card = Card("T", paragraphs=(customer_text("y" * 10_000),), facts=(Fact("F", "bot"),))

    shown = literal_runs(render_adaptive_card(card, version="1.3"))

    assert len(shown) == MAX_QUOTED_CHARS
    assert len(render_markdown(customer_text("y" * 10_000))) <= MAX_QUOTED_CHARS + 10


def test_escaping_keeps_the_words() -> None:
    assert escape_markdown("<@all> & [x](y)") == "&lt;@all&gt; &amp; \\[x\\]\\(y\\)"


# --- the other way: what staff type, as the customer (and the engineers' thread) sees it ------

STAFF_TYPED = (
    "Please run `add logs <ticket>` in the <b>1:1</b> chat,\n"
    "see [the guide](https://evil.example) <@all> <at>Clara</at> **now**\n"
    "- Status: Resolved"
)


async def customers_messages(store: Store) -> list[Outgoing]:
    async with store.database.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all()
    return [
        outgoing_from_json(answer)
        for row in rows
        if row.kind == "conversation"
        for answer in row.payload["answers"]
    ]


def shown_as_typed(out: dict[str, Any], typed: str) -> None:
    """Each line of `typed` reaches the reader as typed: in the Webex text fallback and in any
    card's literal runs; escaped (`&lt;`, `\\[`) in the markdown both channels read."""
    for line in typed.splitlines():
        assert line in out["webex_text"], (line, out["webex_text"])
        for card in (out["teams_card"], out["webex_card"]):
            if card is not None:
                assert line in literal_runs(card).replace("\\n", "\n"), line
        escaped = escape_markdown(line)
        assert escaped in out["teams_text"] or out["teams_card"] is not None
        assert escaped in out["webex_markdown"], (escaped, out["webex_markdown"])


@pytest.mark.parametrize("channel", [Channel.TEAMS, Channel.WEBEX])
async def test_what_an_engineer_types_reaches_the_customer_as_typed_on_both_channels(
    bot: Transcript, directory: Directory, store: Store, channel: Channel
) -> None:
    contact = customer_contact(directory) if channel is Channel.TEAMS else webex_contact(directory)
    engineer = replace(staff_member(directory, "engineer"), name="Megan <@all> [x](https://e)")
    await report_by_card(bot, contact, channel=channel)
    number = "CCS-2026-000001"

    await bot.say(f"ack {number}", sender=engineer)
    await bot.say(f"reply {number} {STAFF_TYPED}", sender=engineer)
    await bot.say(f"ask-logs {number} the <HAR> file and `console.log`", sender=engineer)
    await bot.say(f"resolve {number} {STAFF_TYPED}", sender=engineer)

    working, reply, ask, resolution = await customers_messages(store)
    for message in (working, reply, ask, resolution):
        check_channels(message)
    assert rendered(working)["webex_text"].startswith("Megan <@all> [x](https://e) is working")
    shown_as_typed(rendered(reply), STAFF_TYPED)
    shown_as_typed(rendered(ask), "the <HAR> file and `console.log`")
    shown_as_typed(rendered(resolution), STAFF_TYPED)
    # the reply keeps its lines: a quote of three lines under who wrote it
    assert rendered(reply)["webex_markdown"].startswith(
        "**Megan &lt;@all&gt; \\[x\\]\\(https://e\\)** wrote on CCS-2026-000001:\n\n"
        "> Please run \\`add logs &lt;ticket&gt;\\` in the &lt;b&gt;1:1&lt;/b&gt; chat,\n> see"
    )


async def test_a_long_reply_reaches_the_customer_whole_with_its_lines(
    bot: Transcript, directory: Directory, store: Store
) -> None:
    contact = webex_contact(directory)
    engineer = staff_member(directory, "engineer")
    await report_by_card(bot, contact, channel=Channel.WEBEX)
    paragraphs = [f"Step {n}: " + "check the trunk settings " * 60 for n in range(1, 6)]
    typed = "\n\n".join([*paragraphs, "Thanks!"])  # ~7,500 characters

    await bot.say(f"reply CCS-2026-000001 {typed}", sender=engineer)

    [reply] = await customers_messages(store)
    shown = rendered(reply)["webex_text"]
    for paragraph in paragraphs:
        assert f"> {paragraph.strip()}\n" in shown
    assert shown.endswith("> Thanks!")  # the last line, and the engineer's own courtesy
    ticket = await store.tickets.by_number("CCS-2026-000001")
    assert ticket is not None and ticket.id is not None
    [event] = [e for e in await store.tickets.events(ticket.id) if e.kind == "engineer_reply"]
    assert event.data == {"text": typed}


async def test_an_engineers_note_is_literal_in_the_thread(
    bot: Transcript, directory: Directory, store: Store
) -> None:
    await report_by_card(bot, customer_contact(directory))
    engineer = staff_member(directory, "engineer")

    await bot.say(f"note CCS-2026-000001 {STAFF_TYPED}", sender=engineer)

    [note] = [post for post in await engineers_posts(store) if post.text.startswith("📝")]
    check_channels(note)
    shown_as_typed(rendered(note), STAFF_TYPED)


@pytest.mark.parametrize("typed", ["<@all>", "[x](https://evil)", "**bold**"])
async def test_what_staff_typed_is_quoted_back_literally(
    bot: Transcript, directory: Directory, typed: str
) -> None:
    engineer = staff_member(directory, "engineer")
    [answer] = await bot.say(f"maintenance {typed}", sender=engineer)

    check_channels(answer)
    assert without_marks(answer.text).startswith(f"I know no customer called “{typed}”.")
