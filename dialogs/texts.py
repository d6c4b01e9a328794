"""The bot's words in the languages it speaks. Keys are stable; every key exists in both."""

from __future__ import annotations

from typing import Final

from dialogs.context import Language

TEXTS: Final[dict[str, dict[Language, str]]] = {
    "not_registered": {
        "en": (
            "Hello! I am the support bot of {provider}. I don't know you yet, so I can't help "
            "you here. Please ask your account manager at {provider} to register you."
        ),
        "de": (
            "Hallo! Ich bin der Support-Bot von {provider}. Ich kenne Sie noch nicht und kann "
            "Ihnen hier daher nicht helfen. Bitte lassen Sie sich von Ihrer Ansprechperson bei "
            "{provider} registrieren."
        ),
    },
    "unknown_command": {
        "en": "Sorry, I didn't understand “{text}”. Type **help** to see what I can do.",
        "de": "Das habe ich leider nicht verstanden: „{text}“. Mit **hilfe** sehen Sie, was ich kann.",
    },
    "cancelled": {
        "en": "Cancelled. Nothing was saved. Type **help** to see what I can do.",
        "de": "Abgebrochen, nichts wurde gespeichert. Mit **hilfe** sehen Sie, was ich kann.",
    },
    "help_title": {
        "en": "What I can do for you",
        "de": "Was ich für Sie tun kann",
    },
    "help_intro": {
        "en": "Hello {name}, you are signed in as **{role}**{customer}. Type a command or press a button.",
        "de": "Hallo {name}, Sie sind als **{role}**{customer} angemeldet. Tippen Sie einen Befehl oder wählen Sie eine Schaltfläche.",
    },
    "help_customer_suffix": {"en": " for {customer}", "de": " für {customer}"},
    "role_contact": {"en": "customer contact", "de": "Kundenkontakt"},
    "role_engineer": {"en": "engineer", "de": "Techniker:in"},
    "role_manager": {"en": "manager", "de": "Manager:in"},
    "cmd_help": {"en": "show this overview", "de": "diese Übersicht anzeigen"},
    "cmd_whoami": {
        "en": "show who I think you are, your role and your contract",
        "de": "anzeigen, wer Sie für mich sind, Ihre Rolle und Ihren Vertrag",
    },
    "whoami_title": {"en": "Who you are to me", "de": "Wer Sie für mich sind"},
    "fact_name": {"en": "Name", "de": "Name"},
    "fact_role": {"en": "Role", "de": "Rolle"},
    "fact_customer": {"en": "Customer", "de": "Kunde"},
    "fact_contract": {"en": "Contract", "de": "Vertrag"},
    "fact_reaction": {"en": "Reaction time", "de": "Reaktionszeit"},
    "fact_service_time": {"en": "Service time", "de": "Servicezeit"},
    "fact_channel": {"en": "Channel", "de": "Kanal"},
    "something_went_wrong": {
        "en": "Sorry, something went wrong on my side. Nothing you sent is lost; please try again in a minute.",
        "de": "Entschuldigung, bei mir ist etwas schiefgegangen. Ihre Nachricht ist nicht verloren; bitte versuchen Sie es in einer Minute erneut.",
    },
}


def t(key: str, language: Language, **values: object) -> str:
    """The text for `key` in `language`, with `{placeholders}` filled in."""
    return TEXTS[key][language].format(**values)
