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
from storage.directory import Product

MAX_COACHING_CHARS: Final = 1200
"""Upper bound for one coaching text, so it fits a chat message comfortably."""

ADD_LOGS_COMMAND: Final[dict[Language, str]] = {"en": "add logs", "de": "logs hinzufügen"}
"""The command words for sending logs later (followed by the ticket)."""

PRODUCT_NAMES: Final[dict[Product, dict[Language, str]]] = {
    Product.WEBEX_CALLING: {"en": "Webex Calling", "de": "Webex Calling"},
    Product.WEBEX_CONTACT_CENTER: {"en": "Webex Contact Center", "de": "Webex Contact Center"},
    Product.MICROSOFT_CALLING: {
        "en": "Microsoft Teams Calling",
        "de": "Microsoft Teams Calling",
    },
    Product.LUWARE_ATTENDANT_CONSOLE: {
        "en": "Luware Attendant Console",
        "de": "Luware Attendant Console",
    },
    Product.LUWARE_RECORDING: {"en": "Luware Recording", "de": "Luware Recording"},
    Product.LUWARE_CONTACT_CENTER: {
        "en": "Luware Contact Center",
        "de": "Luware Contact Center",
    },
    Product.OTHER: {"en": "Other / not sure", "de": "Anderes / unklar"},
}


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A product-specific question for the fault form; `id` is a stable snake_case key."""

    id: str
    label: dict[Language, str]
    placeholder: dict[Language, str]


_CALL_ID = FollowUp(
    id="call_id",
    label={"en": "Call ID of an affected call", "de": "Call-ID eines betroffenen Anrufs"},
    placeholder={"en": "e.g. 4f1c2b7e-…", "de": "z. B. 4f1c2b7e-…"},
)
_LUWARE_SERVICE = FollowUp(
    id="luware_service",
    label={"en": "Luware service or queue", "de": "Luware-Service oder Warteschlange"},
    placeholder={"en": "e.g. Reception Vienna", "de": "z. B. Empfang Wien"},
)

FOLLOW_UP_QUESTIONS: Final[dict[Product, list[FollowUp]]] = {
    Product.WEBEX_CALLING: [
        FollowUp(
            id="tracking_id",
            label={
                "en": "Tracking ID (Webex App: Help → Send logs)",
                "de": "Tracking-ID (Webex App: Hilfe → Protokolle senden)",
            },
            placeholder={
                "en": "as shown after sending the logs",
                "de": "wie nach dem Senden angezeigt",
            },
        ),
        FollowUp(
            id="device_model",
            label={"en": "Device or phone model", "de": "Gerät oder Telefonmodell"},
            placeholder={
                "en": "e.g. Webex App on Windows, Cisco 8851",
                "de": "z. B. Webex App unter Windows, Cisco 8851",
            },
        ),
    ],
    Product.WEBEX_CONTACT_CENTER: [
        FollowUp(
            id="queue",
            label={"en": "Entry point or queue", "de": "Einstiegspunkt oder Warteschlange"},
            placeholder={"en": "e.g. EP_Sales / Q_Sales", "de": "z. B. EP_Vertrieb / Q_Vertrieb"},
        ),
        FollowUp(
            id="agent_id",
            label={
                "en": "Affected agent (ID or e-mail)",
                "de": "Betroffene:r Agent:in (ID oder E-Mail)",
            },
            placeholder={"en": "e.g. jane.doe@example.com", "de": "z. B. max.muster@example.com"},
        ),
    ],
    Product.MICROSOFT_CALLING: [
        _CALL_ID,
        FollowUp(
            id="pstn_connectivity",
            label={
                "en": "Direct Routing, Operator Connect or Calling Plan?",
                "de": "Direct Routing, Operator Connect oder Calling Plan?",
            },
            placeholder={
                "en": "e.g. Operator Connect, or “not sure”",
                "de": "z. B. Operator Connect oder „weiß nicht“",
            },
        ),
    ],
    Product.LUWARE_ATTENDANT_CONSOLE: [_LUWARE_SERVICE],
    Product.LUWARE_RECORDING: [
        _LUWARE_SERVICE,
        FollowUp(
            id="call_id",
            label={
                "en": "Call ID of an affected recording",
                "de": "Call-ID einer betroffenen Aufzeichnung",
            },
            placeholder=_CALL_ID.placeholder,
        ),
    ],
    Product.LUWARE_CONTACT_CENTER: [_LUWARE_SERVICE],
    Product.OTHER: [],
}

_TITLE: Final[dict[Language, str]] = {
    "en": "**What helps us analyse the fault{product}**\n"
    "Under your support contract you run the needed tests and deliver the logfiles. "
    "Please collect:",
    "de": "**Was uns bei der Analyse hilft{product}**\n"
    "Laut Ihrem Supportvertrag führen Sie die nötigen Tests durch und liefern die Logfiles. "
    "Bitte sammeln Sie:",
}

_LUWARE_TRACES: Final[dict[Language, str]] = {
    "en": "- **Trace files:** on the operations pages of the affected Luware service, "
    "download the trace files and note the timestamps of the affected calls.",
    "de": "- **Trace-Dateien:** Laden Sie auf den Betriebsseiten des betroffenen "
    "Luware-Service die Trace-Dateien herunter und notieren Sie die Zeitstempel der "
    "betroffenen Anrufe.",
}
_LUWARE_SERVICE_NAME: Final[dict[Language, str]] = {
    "en": "- The name of the Luware service or queue.",
    "de": "- Den Namen des Luware-Service bzw. der Warteschlange.",
}

_SPECIFIC: Final[dict[Product, dict[Language, str]]] = {
    Product.WEBEX_CALLING: {
        "en": "- **Webex App logs:** in the Webex App choose **Help → Send logs** and note the "
        "**tracking ID** it shows.\n"
        "- For a desk phone: its model (e.g. Cisco 8851).",
        "de": "- **Webex-App-Logs:** Wählen Sie in der Webex App **Hilfe → Protokolle senden** "
        "und notieren Sie die angezeigte **Tracking-ID**.\n"
        "- Bei einem Tischtelefon: das Modell (z. B. Cisco 8851).",
    },
    Product.WEBEX_CONTACT_CENTER: {
        "en": "- **Error report** from the agent desktop (profile menu → Download Error "
        "Report), or\n"
        "- a browser **HAR file + console log:** in Chrome/Edge press F12 (DevTools) → "
        "**Network**, tick Preserve log, reproduce the fault, then **Export HAR**; in the "
        "**Console** tab right-click → Save as.\n"
        "- Entry point or queue and the affected agent.",
        "de": "- **Fehlerbericht** aus dem Agent Desktop (Profilmenü → Fehlerbericht "
        "herunterladen), oder\n"
        "- eine **HAR-Datei + Konsolen-Log** des Browsers: In Chrome/Edge F12 (DevTools) → "
        "**Network** (Netzwerk) öffnen, den Fehler nachstellen, dann **Export HAR**; im Tab "
        "**Console** Rechtsklick → Speichern unter.\n"
        "- Einstiegspunkt bzw. Warteschlange und betroffene:r Agent:in.",
    },
    Product.MICROSOFT_CALLING: {
        "en": "- **Teams client logs:** press **Ctrl+Alt+Shift+1** (macOS: "
        "**Option+Command+Shift+1**); the logs are saved to your Downloads folder.\n"
        "- **Call IDs:** from the call analytics in the Teams admin center "
        "(Users → user → Meetings & calls).",
        "de": "- **Teams-Client-Logs:** Drücken Sie **Strg+Alt+Umschalt+1** "
        "(Ctrl+Alt+Shift+1; macOS: **Option+Command+Shift+1**); die Logs landen in Ihrem "
        "Download-Ordner.\n"
        "- **Call-IDs:** aus der Anrufanalyse im Teams Admin Center "
        "(Benutzer → Benutzer:in → Besprechungen und Anrufe).",
    },
    Product.LUWARE_ATTENDANT_CONSOLE: {
        "en": f"{_LUWARE_TRACES['en']}\n{_LUWARE_SERVICE_NAME['en']}",
        "de": f"{_LUWARE_TRACES['de']}\n{_LUWARE_SERVICE_NAME['de']}",
    },
    Product.LUWARE_RECORDING: {
        "en": f"{_LUWARE_TRACES['en']}\n- **Call IDs** of the affected recordings.",
        "de": f"{_LUWARE_TRACES['de']}\n- Die **Call-IDs** der betroffenen Aufzeichnungen.",
    },
    Product.LUWARE_CONTACT_CENTER: {
        "en": f"{_LUWARE_TRACES['en']}\n{_LUWARE_SERVICE_NAME['en']}",
        "de": f"{_LUWARE_TRACES['de']}\n{_LUWARE_SERVICE_NAME['de']}",
    },
    Product.OTHER: {
        "en": "- Which product, app or device is affected, with its version if you know it.\n"
        "- Screenshots of any error messages.\n"
        "- The steps that lead to the fault.",
        "de": "- Welches Produkt, welche App oder welches Gerät betroffen ist, wenn bekannt "
        "mit Version.\n"
        "- Screenshots von Fehlermeldungen.\n"
        "- Die Schritte, die zum Fehler führen.",
    },
}

_ALWAYS: Final[dict[Language, str]] = {
    "en": "**Always helpful**\n"
    "- Time of the fault, with time zone (e.g. 14:05 CET)\n"
    "- Affected phone numbers or users\n"
    "- What you have already tested (e.g. another device, user or network)",
    "de": "**Immer hilfreich**\n"
    "- Zeitpunkt der Störung mit Zeitzone (z. B. 14:05 MEZ)\n"
    "- Betroffene Rufnummern oder Benutzer:innen\n"
    "- Was Sie bereits getestet haben (z. B. anderes Gerät, andere:r Benutzer:in, "
    "anderes Netzwerk)",
}

_SEND: Final[dict[Language, str]] = {
    "en": "Please send the files to me in this 1:1 chat, or later with "
    f"`{ADD_LOGS_COMMAND['en']} <ticket>`.",
    "de": "Bitte senden Sie mir die Dateien hier im 1:1-Chat oder später mit "
    f"`{ADD_LOGS_COMMAND['de']} <Ticket>`.",
}


def coaching(product: Product, language: Language) -> str:
    """Markdown telling a contact which logfiles and facts to deliver for `product`."""
    name = "" if product is Product.OTHER else f" ({PRODUCT_NAMES[product][language]})"
    return "\n\n".join(
        (
            _TITLE[language].format(product=name) + "\n" + _SPECIFIC[product][language],
            _ALWAYS[language],
            _SEND[language],
        )
    )
