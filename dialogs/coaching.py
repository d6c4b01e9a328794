"""Log coaching: what a contact delivers after reporting a fault, and how to collect it.

Under CCSB 3.0 the customer runs the needed tests and delivers the logfiles during fault
analysis. Right after a fault report the bot tells the contact, per product, which logfiles
and facts help and exactly how to collect them (see "Logfiles customers can deliver" in the
SLA notes). Every text ends with the items that always help and with how to send the files.

Pure data and string building: no I/O, no state. Texts stay short (one chat message each,
under `MAX_COACHING_CHARS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from dialogs.context import Language
from dialogs.i18n import N_, gettext_for
from storage.directory import Priority, Product

MAX_COACHING_CHARS: Final = 1200
"""Upper bound for one coaching text, so it fits a chat message comfortably."""

ADD_LOGS_COMMAND: Final = N_("add logs")
"""The command words for sending logs later (followed by the ticket), in English."""

PRODUCT_NAMES: Final[dict[Product, str]] = {
    Product.WEBEX_CALLING: N_("Webex Calling"),
    Product.WEBEX_CONTACT_CENTER: N_("Webex Contact Center"),
    Product.MICROSOFT_CALLING: N_("Microsoft Teams Calling"),
    Product.LUWARE_ATTENDANT_CONSOLE: N_("Luware Attendant Console"),
    Product.LUWARE_RECORDING: N_("Luware Recording"),
    Product.LUWARE_CONTACT_CENTER: N_("Luware Contact Center"),
    Product.OTHER: N_("Other / not sure"),
}

PRIORITY_NAMES: Final[dict[Priority, str]] = {
    Priority.P1: N_("P1 – total outage: nobody can make or take calls"),
    Priority.P2: N_("P2 – major: many users or an important function are affected"),
    Priority.P3: N_("P3 – minor: single users, or a workaround exists"),
    Priority.P4: N_("P4 – question or request for information"),
}


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A product-specific question for the fault form; `id` is a stable snake_case key."""

    id: str
    label: str
    placeholder: str


_CALL_ID = FollowUp(
    id="call_id",
    label=N_("Call ID of an affected call"),
    placeholder=N_("e.g. 4f1c2b7e-…"),
)
_LUWARE_SERVICE = FollowUp(
    id="luware_service",
    label=N_("Luware service or queue"),
    placeholder=N_("e.g. Reception Vienna"),
)

FOLLOW_UP_QUESTIONS: Final[dict[Product, list[FollowUp]]] = {
    Product.WEBEX_CALLING: [
        FollowUp(
            id="tracking_id",
            label=N_("Tracking ID (Webex App: Help → Send logs)"),
            placeholder=N_("as shown after sending the logs"),
        ),
        FollowUp(
            id="device_model",
            label=N_("Device or phone model"),
            placeholder=N_("e.g. Webex App on Windows, Cisco 8851"),
        ),
    ],
    Product.WEBEX_CONTACT_CENTER: [
        FollowUp(
            id="queue",
            label=N_("Entry point or queue"),
            placeholder=N_("e.g. EP_Sales / Q_Sales"),
        ),
        FollowUp(
            id="agent_id",
            label=N_("Affected agent (ID or e-mail)"),
            placeholder=N_("e.g. jane.doe@example.com"),
        ),
    ],
    Product.MICROSOFT_CALLING: [
        _CALL_ID,
        FollowUp(
            id="pstn_connectivity",
            label=N_("Direct Routing, Operator Connect or Calling Plan?"),
            placeholder=N_("e.g. Operator Connect, or “not sure”"),
        ),
    ],
    Product.LUWARE_ATTENDANT_CONSOLE: [_LUWARE_SERVICE],
    Product.LUWARE_RECORDING: [
        _LUWARE_SERVICE,
        FollowUp(
            id="call_id",
            label=N_("Call ID of an affected recording"),
            placeholder=_CALL_ID.placeholder,
        ),
    ],
    Product.LUWARE_CONTACT_CENTER: [_LUWARE_SERVICE],
    Product.OTHER: [],
}

_TITLE: Final = N_(
    "**What helps us analyse the fault{product}**\n"
    "Under your support contract you run the needed tests and deliver the logfiles. "
    "Please collect:"
)

_LUWARE_TRACES: Final = N_(
    "- **Trace files:** on the operations pages of the affected Luware service, "
    "download the trace files and note the timestamps of the affected calls."
)
_LUWARE_SERVICE_NAME: Final = N_("- The name of the Luware service or queue.")

_SPECIFIC: Final[dict[Product, tuple[str, ...]]] = {
    Product.WEBEX_CALLING: (
        N_(
            "- **Webex App logs:** in the Webex App choose **Help → Send logs** and note the "
            "**tracking ID** it shows.\n"
            "- For a desk phone: its model (e.g. Cisco 8851)."
        ),
    ),
    Product.WEBEX_CONTACT_CENTER: (
        N_(
            "- **Error report** from the agent desktop (profile menu → Download Error "
            "Report), or\n"
            "- a browser **HAR file + console log:** in Chrome/Edge press F12 (DevTools) → "
            "**Network**, tick Preserve log, reproduce the fault, then **Export HAR**; in the "
            "**Console** tab right-click → Save as.\n"
            "- Entry point or queue and the affected agent."
        ),
    ),
    Product.MICROSOFT_CALLING: (
        N_(
            "- **Teams client logs:** press **Ctrl+Alt+Shift+1** (macOS: "
            "**Option+Command+Shift+1**); the logs are saved to your Downloads folder.\n"
            "- **Call IDs:** from the call analytics in the Teams admin center "
            "(Users → user → Meetings & calls)."
        ),
    ),
    Product.LUWARE_ATTENDANT_CONSOLE: (_LUWARE_TRACES, _LUWARE_SERVICE_NAME),
    Product.LUWARE_RECORDING: (_LUWARE_TRACES, N_("- **Call IDs** of the affected recordings.")),
    Product.LUWARE_CONTACT_CENTER: (_LUWARE_TRACES, _LUWARE_SERVICE_NAME),
    Product.OTHER: (
        N_(
            "- Which product, app or device is affected, with its version if you know it.\n"
            "- Screenshots of any error messages.\n"
            "- The steps that lead to the fault."
        ),
    ),
}

_ALWAYS: Final = N_(
    "**Always helpful**\n"
    "- Time of the fault, with time zone (e.g. 14:05 CET)\n"
    "- Affected phone numbers or users\n"
    "- What you have already tested (e.g. another device, user or network)"
)

_SEND: Final = N_("Please send the files to me in this 1:1 chat, or later with `{command}`.")


def coaching(product: Product, language: Language, ticket: str | None = None) -> str:
    """Markdown telling a contact which logfiles and facts to deliver for `product`; the way to
    send files later names `ticket` when it is known."""
    _ = gettext_for(language)
    name = "" if product is Product.OTHER else f" ({_(PRODUCT_NAMES[product])})"
    specific = "\n".join(_(line) for line in _SPECIFIC[product])
    command = f"{_(ADD_LOGS_COMMAND)} {ticket or _('<ticket>')}"
    return "\n\n".join(
        (
            _(_TITLE).format(product=name) + "\n" + specific,
            _(_ALWAYS),
            _(_SEND).format(command=command),
        )
    )


def product_name(product: Product, language: Language) -> str:
    """The product as a person of `language` calls it."""
    return gettext_for(language)(PRODUCT_NAMES[product])


def priority_name(priority: Priority | str, language: Language) -> str:
    """`P2 – major: …` as a person of `language` reads it."""
    return gettext_for(language)(PRIORITY_NAMES[Priority(priority)])
