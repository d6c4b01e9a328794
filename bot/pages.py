"""The small public pages the Teams app manifest links to: about, privacy, terms of use."""

from __future__ import annotations

import html

from aiohttp import web
from aiohttp.typedefs import Handler

from storage.directory import Directory

_PAGES = {
    "about": (
        "SLA Desk",
        "{provider} runs its cloud-telephony support contracts with this bot in Microsoft Teams "
        "and Cisco Webex: customer contacts report faults, engineers work tickets, managers "
        "follow SLA attainment.",
    ),
    "privacy": (
        "Privacy",
        "The bot stores what is needed to run the support contract with {provider}: your name, "
        "your chat user id and e-mail address, the messages and files you send it about a "
        "fault, and the tickets they belong to. Nothing is shared beyond {provider}'s support "
        "staff and, where a fault needs it, the manufacturer's support (Cisco, Microsoft, "
        "Luware). Ask {provider} to see or delete your data.",
    ),
    "terms": (
        "Terms of use",
        "The bot is part of your support contract with {provider}; the contract's terms apply. "
        "Use it to report faults and follow your tickets.",
    ),
}


def page_handler(directory: Directory, page: str) -> Handler:
    """A handler answering one static page, worded for the provider in the directory."""
    title, text = _PAGES[page]
    provider = html.escape(directory.provider.name)
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{title}</title><h1>{title}</h1><p>{text.format(provider=provider)}</p></html>"
    )

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html")

    return handler
