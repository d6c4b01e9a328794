"""What a dialog or command is given: who is speaking, what they said, and when."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args
from zoneinfo import ZoneInfo

from adapters.model import Card, Incoming, Outgoing
from storage.directory import Customer, Directory, Role, StaffMember

Language = Literal["de", "en"]


LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)


def as_language(value: str | None) -> Language | None:
    """`value` when it is a language the bot speaks, else None."""
    return value if value in LANGUAGES else None


def language_of_locale(locale: str | None) -> Language | None:
    """The language of a client's locale (`de-AT`, `en_US`) when the bot speaks it."""
    return as_language(re.split(r"[-_]", locale or "", maxsplit=1)[0].lower())


@dataclass(frozen=True, slots=True)
class Actor:
    """A person resolved through the directory: their role and, for contacts, their customer."""

    user_id: str
    name: str
    role: Role
    language: Language
    customer: Customer | None = None
    staff: StaffMember | None = None

    @property
    def is_staff(self) -> bool:
        """Engineers and managers work for the provider."""
        return self.role in (Role.ENGINEER, Role.MANAGER)

    def may(self, role: Role) -> bool:
        """True when this person holds `role` (staff may hold several)."""
        if self.staff is not None:
            return role in self.staff.roles
        return role is self.role


@dataclass(frozen=True, slots=True)
class Turn:
    """One incoming message from a known person, at a moment in time."""

    incoming: Incoming
    actor: Actor
    now: datetime

    def reply(self, text: str, *, card: Card | None = None) -> Outgoing:
        """An answer into the conversation (and thread) the message came from."""
        return Outgoing(
            conversation=self.incoming.conversation,
            text=text,
            card=card,
            reply_to=self.incoming.event_id,
        )


def service_zone(actor: Actor, directory: Directory) -> ZoneInfo:
    """The time zone a person means when they write "9 Uhr": their service time's (staff:
    Vienna, the provider's)."""
    customer = actor.customer
    if customer is None:
        return ZoneInfo("Europe/Vienna")
    contract = directory.contracts[customer.contract]
    key = customer.overrides.service_time or contract.service_time
    return directory.service_times[key].zone
