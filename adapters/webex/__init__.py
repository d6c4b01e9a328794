"""Cisco Webex through webexteamssdk: the only package that imports it (in `sdk.py`)."""

from adapters.webex.channel import WebexAdapter
from adapters.webex.files import DownloadedFile, FileNotReady, FileRefused
from adapters.webex.sdk import WebexApi
from adapters.webex.webhooks import WebhookChange, register_webhooks

__all__ = [
    "DownloadedFile",
    "FileNotReady",
    "FileRefused",
    "WebexAdapter",
    "WebexApi",
    "WebhookChange",
    "register_webhooks",
]
