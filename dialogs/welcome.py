"""The first words in a conversation the bot was just added to (Teams installation, a Webex
space): who the bot is for the person who added it, and the few things they will do most, in
their language. Someone the directory does not know hears that they are not registered.

A welcome goes out once per conversation, ever: it is queued in the outbox under a key named
after the conversation, so a repeated event, the second of Teams' two install events, or a
reinstall later queues nothing new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from adapters.model import Card, Fact, Incoming, Outgoing, SubmitAction
from dialogs.commands import role_label
from dialogs.context import Actor
from dialogs.i18n import N_, gettext_for
from dialogs.services import Services
from storage.directory import Directory, Role


@dataclass(frozen=True, slots=True)
class Offer:
    """One thing a role can do: the words to type, what it does, and whether a button can
    run it as it stands (commands that need a ticket number cannot)."""

    words: str
    does: str
    button: bool = False


_CONTACT = (
    Offer("report a fault", N_("tell me what is wrong; I open a ticket for the engineers"), True),
    Offer("my tickets", N_("your organisation's open tickets and where they stand"), True),
    Offer("status <ticket>", N_("who works on a ticket and what it waits for")),
    Offer(
        "add logs <ticket>",
        N_("send logfiles for a ticket (or simply send them while one ticket is open)"),
    ),
)
_ENGINEER = (
    Offer("queue", N_("the open tickets, most urgent first"), True),
    Offer("mine", N_("the tickets you own"), True),
    Offer("take <ticket>", N_("take a ticket; the first answer stops the reaction clock")),
    Offer("reply <ticket> <text>", N_("write to the customer")),
    Offer("resolve <ticket> <summary>", N_("close a ticket with what was done")),
)
_MANAGER = (
    Offer("status", N_("the open tickets, those most at risk first"), True),
    Offer("breaches", N_("the deadlines missed this month"), True),
    Offer("report", N_("SLA attainment of a month, with a chart and CSV"), True),
    Offer("digest on", N_("a summary in the managers' channel every service day")),
)


def welcome_key(incoming: Incoming) -> str:
    """The outbox event of this conversation's welcome (conversation ids can be long)."""
    conversation = incoming.conversation.conversation_id.encode()
    return f"welcome:{incoming.channel.value}:{hashlib.sha256(conversation).hexdigest()[:32]}"


async def welcome(services: Services, incoming: Incoming, answer: Outgoing) -> bool:
    """Queue `answer` as this conversation's welcome; False when it had one before."""
    return await services.notify.to_conversation(
        incoming.channel,
        incoming.conversation.conversation_id,
        answer,
        event=welcome_key(incoming),
    )


def welcome_message(actor: Actor, directory: Directory, incoming: Incoming) -> Outgoing:
    """Who the bot is for `actor`, and what they can do here: a card with a text fallback."""
    _ = gettext_for(actor.language)
    intro = _intro(actor, directory.provider.name)
    offers = _offers(actor)
    facts = tuple(Fact(offer.words, _(offer.does)) for offer in offers)
    more = _("Type **help** for everything I can do; plain words work too.")
    card = Card(
        title=_("Welcome, {name}").format(name=actor.name) if actor.name else _("Welcome"),
        paragraphs=(intro, more),
        facts=facts,
        actions=tuple(
            SubmitAction(offer.words, {"command": offer.words}) for offer in offers if offer.button
        ),
    )
    lines = [f"**{card.title}**", intro, ""]
    lines += [f"- `{fact.label}`: {fact.value}" for fact in facts]
    lines += ["", more]
    return Outgoing(incoming.conversation, "\n".join(lines), card=card)


def _intro(actor: Actor, provider: str) -> str:
    _ = gettext_for(actor.language)
    if actor.customer is not None:
        return _(
            "I am the support desk of {provider}. You are registered as **{role}** of "
            "**{customer}**: I take your fault reports and logfiles and keep you posted."
        ).format(provider=provider, role=role_label(actor), customer=actor.customer.name)
    return _(
        "I am the support desk of {provider}. You are registered as **{role}**: I bring you "
        "the tickets, deadlines and figures of our customers."
    ).format(provider=provider, role=role_label(actor))


def _offers(actor: Actor) -> Sequence[Offer]:
    """At most five things, for the person's main role."""
    if actor.may(Role.MANAGER):
        return _MANAGER
    if actor.may(Role.ENGINEER):
        return _ENGINEER
    return _CONTACT
