"""`chatops webhook add|list|remove`: integrators' endpoints for signed ticket and SLA events.

`add` prints the subscription's signing secret (`whsec_…`) alone on its last line, once: a
script takes it with `tail -n 1`. Bad input (a URL the bot will not deliver to, an unknown
event or customer): a message on standard error, nothing on standard output, exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.settings import Settings, load_settings
from bot.webhooks import WebhookUrlRejected, check_url
from storage.db import Database
from storage.directory import load_directory
from storage.migrate import upgrade_database
from storage.repositories import Store
from storage.webhooks import WebhookEvent

BAD_INPUT = 2
T = TypeVar("T")


def add_webhook_commands(commands: Any) -> None:
    """Register `webhook add|list|remove` on the CLI's subparsers."""
    webhook = commands.add_parser("webhook", help="outbound webhooks for integrators")
    webhook_commands = webhook.add_subparsers(required=True, metavar="WEBHOOK_COMMAND")

    add = webhook_commands.add_parser("add", help="subscribe a URL; prints its signing secret")
    add.add_argument("url", help="the receiver, https://…")
    add.add_argument(
        "--events",
        required=True,
        help="comma-separated event types (or `all`): " + ", ".join(e.value for e in WebhookEvent),
    )
    add.add_argument("--customer", default=None, help="only this customer's events (its key)")
    add.set_defaults(run=run_add)

    listing = webhook_commands.add_parser("list", help="list the subscriptions")
    listing.set_defaults(run=run_list)

    remove = webhook_commands.add_parser("remove", help="delete a subscription")
    remove.add_argument("id", type=int, help="the subscription's id (see `webhook list`)")
    remove.set_defaults(run=run_remove)


def run_add(args: argparse.Namespace) -> int:
    """`chatops webhook add URL --events … [--customer KEY]`."""
    settings = load_settings()
    try:
        events = parse_events(args.events)
        customer = _customer(settings, args.customer)
        url = asyncio.run(check_url(args.url, allow_insecure=settings.webhooks_allow_insecure))
    except (BadInput, WebhookUrlRejected) as problem:
        print(f"chatops webhook add: {problem}", file=sys.stderr)
        return BAD_INPUT
    now = datetime.now(UTC)
    row = _with_store(
        settings,
        lambda store: store.webhooks.add(
            url=str(url), events=events, customer_key=customer, now=now
        ),
    )
    print(f"subscription {row.id}: {row.url}")
    print(f"events: {', '.join(row.events)}")
    print(f"customer: {row.customer_key or 'every customer'}")
    print("signing secret (shown only now; give it to the receiver to verify signatures):")
    print(row.secret)
    return 0


def run_list(_args: argparse.Namespace) -> int:
    """`chatops webhook list`: one subscription per line (never its secret)."""
    rows = _with_store(load_settings(), lambda store: store.webhooks.all())
    if not rows:
        print("no webhook subscriptions")
    for row in rows:
        state = "active" if row.active else f"disabled ({row.disabled_reason or 'no reason'})"
        customer = row.customer_key or "*"
        print(f"{row.id}\t{state}\t{customer}\t{row.url}\t{','.join(row.events)}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    """`chatops webhook remove ID`: its undelivered events are dropped."""
    removed = _with_store(load_settings(), lambda store: store.webhooks.remove(args.id))
    if not removed:
        print(f"chatops webhook remove: no subscription {args.id}", file=sys.stderr)
        return BAD_INPUT
    print(f"subscription {args.id} removed")
    return 0


class BadInput(Exception):
    """An option the command cannot use; the message says which and why."""


def parse_events(text: str) -> list[str]:
    """Event types from `a,b,c` (or `all`), each known."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    known = {event.value for event in WebhookEvent}
    if names == ["all"]:
        return sorted(known)
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise BadInput(
            f"unknown event type(s) {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(sorted(known))} (or all)"
        )
    return sorted(set(names))


def _customer(settings: Settings, key: str | None) -> str | None:
    if key is None:
        return None
    directory = load_directory(settings.directory_path)
    if directory.customer(key) is None:
        known = ", ".join(sorted(c.key for c in directory.customers))
        raise BadInput(f"no customer {key!r} in the directory (known: {known})")
    return key


def _with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        database = Database(settings.effective_database_url)
        try:
            if database.dialect == "sqlite":  # the embedded default migrates itself
                await upgrade_database(database)
            return await work(Store(database))
        finally:
            await database.dispose()

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(run())
