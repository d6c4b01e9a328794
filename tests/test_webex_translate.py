"""Webex ⇄ neutral translation without HTTP: splitting, mentions, threads, card payloads."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.model import Card, Channel, ConversationRef, Fact, Outgoing, SubmitAction
from adapters.webex.split import MAX_MESSAGE_BYTES, split_message
from adapters.webex.translate import (
    BotIdentity,
    conversation_of,
    message_text,
    plain_fallback,
    to_messages,
    uuid_of,
)

BOT_UUID = "7f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
BOT_ID = base64.b64encode(f"ciscospark://us/PEOPLE/{BOT_UUID}".encode()).decode().rstrip("=")
BOT = BotIdentity(person_id=BOT_ID, name="SLA Desk")


@given(st.text(alphabet=st.sampled_from("ab ä€\n😀"), max_size=400), st.integers(4, 60))
def test_every_part_fits_and_nothing_is_lost(text: str, limit: int) -> None:
    parts = split_message(text, limit)

    assert all(len(part.encode("utf-8")) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_parts_end_at_paragraphs_before_lines_before_words() -> None:
    paragraph = "word " * 10
    text = f"{paragraph.strip()}\n\n{paragraph.strip()}\nline two"

    assert split_message(text, 60) == [paragraph.strip(), f"{paragraph.strip()}\nline two"]
    assert split_message("alpha beta gamma", 11) == ["alpha beta", "gamma"]


def test_a_multibyte_character_is_never_cut() -> None:
    text = "€" * 5000  # 3 bytes each, no spaces: cut mid-word but on character boundaries

    parts = split_message(text)

    assert "".join(parts) == text
    assert all(len(p.encode()) <= MAX_MESSAGE_BYTES for p in parts)
    assert len(parts[0].encode()) == MAX_MESSAGE_BYTES - MAX_MESSAGE_BYTES % 3


def test_short_text_is_one_part() -> None:
    assert split_message("help") == ["help"]
    assert split_message("") == [""]


@pytest.mark.parametrize("object_id", [BOT_ID, BOT_UUID])
def test_the_bots_mention_is_removed_from_a_group_message(object_id: str) -> None:
    message = {
        "text": "SLA Desk whoami",
        "html": f'<p><spark-mention data-object-type="person" data-object-id="{object_id}">'
        "SLA Desk</spark-mention> whoami &amp; more</p>",
    }

    assert message_text(message, bot=BOT, group=True) == "whoami & more"


def test_other_mentions_keep_their_names() -> None:
    message = {
        "html": f'<spark-mention data-object-id="{BOT_ID}">SLA</spark-mention> ask '
        '<spark-mention data-object-id="someone">Megan</spark-mention> please',
    }

    assert message_text(message, bot=BOT, group=True) == "ask Megan please"


@pytest.mark.parametrize(("text", "expected"), [("SLA Desk help", "help"), ("SLA help", "help")])
def test_without_markup_the_leading_name_is_removed(text: str, expected: str) -> None:
    assert message_text({"text": text}, bot=BOT, group=True) == expected


def test_a_direct_message_is_taken_as_it_is() -> None:
    assert message_text({"text": "  SLA Desk   help "}, bot=BOT, group=False) == "SLA Desk help"


def test_ids_and_uuids() -> None:
    assert uuid_of(BOT_ID) == BOT_UUID
    assert uuid_of("not-base64!") == "not-base64!"
    assert BOT.is_me(BOT_UUID) and not BOT.is_me("someone")


def test_threads_point_at_the_root_in_group_spaces_only() -> None:
    assert conversation_of("r", "group", message_id="m2", parent_id="m1").thread_id == "m1"
    assert conversation_of("r", "group", message_id="m1", parent_id=None).thread_id == "m1"
    direct = conversation_of("r", "direct", message_id="m1", parent_id=None)
    assert (direct.kind, direct.thread_id) == ("personal", None)


def test_a_card_answer_is_one_message_with_card_and_fallback_in_the_thread() -> None:
    card = Card("Title", facts=(Fact("a", "b"),), actions=(SubmitAction("go", {"command": "x"}),))
    group = ConversationRef(Channel.WEBEX, "room", kind="group", thread_id="root")

    [payload] = to_messages(Outgoing(group, "**Title**\n- a: b", card=card))

    assert payload["roomId"] == "room"
    assert payload["parentId"] == "root"
    assert payload["markdown"] == "**Title**\n- a: b"
    assert payload["text"] == "Title\n- a: b"
    [attachment] = payload["attachments"]
    assert attachment["content"]["version"] == "1.3"
    assert attachment["content"]["actions"][0]["data"] == {"command": "x"}


def test_a_long_card_answer_puts_the_card_on_the_last_part_only() -> None:
    card = Card("Title")
    text = "\n".join(["line " * 50] * 200)

    payloads = to_messages(Outgoing(ConversationRef(Channel.WEBEX, "room"), text, card=card))

    assert len(payloads) > 1
    assert ["attachments" in p for p in payloads] == [False] * (len(payloads) - 1) + [True]


def test_plain_fallback_drops_emphasis_and_code_marks() -> None:
    assert plain_fallback("**bold** and `code` and __u__") == "bold and code and u"
