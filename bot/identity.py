"""Who is speaking: staff by e-mail or channel id, contacts by their organisation."""

from __future__ import annotations

from adapters.model import Incoming
from dialogs.context import Actor, Language, language_of_locale
from storage.directory import Customer, Directory, Role, StaffMember


def resolve_actor(directory: Directory, incoming: Incoming) -> Actor | None:
    """The directory's view of the sender, or None for someone the bot does not know.

    Staff are matched first: an engineer writing from a customer's tenant is still an engineer.
    """
    sender = incoming.sender
    staff = _find_staff(directory, incoming)
    if staff is not None:
        primary = Role.MANAGER if Role.MANAGER in staff.roles else Role.ENGINEER
        return Actor(
            user_id=sender.user_id,
            name=sender.name or staff.name,
            role=primary,
            language=staff.language,
            staff=staff,
        )
    customer = _find_customer(directory, incoming)
    if customer is None:
        return None
    return Actor(
        user_id=sender.user_id,
        name=sender.name,
        role=Role.CONTACT,
        language=_language(incoming.locale, customer.language),
        customer=customer,
    )


def _find_staff(directory: Directory, incoming: Incoming) -> StaffMember | None:
    sender = incoming.sender
    if sender.email:
        found = directory.staff_by_email(sender.email)
        if found is not None:
            return found
    if sender.aad_object_id:
        found = directory.staff_by_aad_object_id(sender.aad_object_id)
        if found is not None:
            return found
    if incoming.channel == "webex":
        return directory.staff_by_webex_person(sender.user_id)
    return None


def _find_customer(directory: Directory, incoming: Incoming) -> Customer | None:
    sender = incoming.sender
    if sender.tenant_id and (found := directory.customer_for_tenant(sender.tenant_id)):
        return found
    if sender.webex_org_id and (found := directory.customer_for_webex_org(sender.webex_org_id)):
        return found
    if sender.email:
        return directory.customer_for_email(sender.email)
    return None


def _language(locale: str | None, default: Language) -> Language:
    """The client's language when it is one we speak, else the customer's."""
    return language_of_locale(locale) or default
