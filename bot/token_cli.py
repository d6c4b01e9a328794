"""`chatops token create|list|revoke`: bearer tokens of the integration API.

`create` prints the token once, alone on the last line of its output (scripts take
`tail -n 1`); the database keeps only its SHA-256.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from adapters.api import SCOPES, new_token, token_hash
from storage.db import Database
from storage.errors import ConfigurationError
from storage.integrations import TokenNameTaken
from storage.migrate import upgrade_database
from storage.repositories import Store

T = TypeVar("T")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def add_token_commands(commands: Any) -> None:
    """Register `token create|list|revoke` on the CLI's subparsers."""
    token = commands.add_parser("token", help="bearer tokens of the integration API")
    token_commands = token.add_subparsers(required=True, metavar="TOKEN_COMMAND")

    create = token_commands.add_parser("create", help="create a token (printed once)")
    create.add_argument("--name", required=True, help="who uses it, e.g. psa (in event logs)")
    create.add_argument("--scopes", required=True, help=f"comma-separated: {', '.join(SCOPES)}")
    create.add_argument("--customer", help="bind the token to this customer's tickets")
    create.set_defaults(run=_create)

    listing = token_commands.add_parser("list", help="list the tokens (never the secrets)")
    listing.set_defaults(run=_list)

    revoke = token_commands.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name")
    revoke.set_defaults(run=_revoke)


def _create(args: argparse.Namespace) -> int:
    from bot.settings import load_settings
    from storage.directory import load_directory

    scopes = [scope.strip() for scope in args.scopes.split(",") if scope.strip()]
    problems = [f"--scopes: unknown scope {scope!r}" for scope in scopes if scope not in SCOPES]
    if not scopes:
        problems.append("--scopes: name at least one scope")
    if not NAME.match(args.name):
        problems.append("--name: lower-case letters, digits, '.', '_' or '-' (at most 64)")
    settings = load_settings()
    if args.customer and load_directory(settings.directory_path).customer(args.customer) is None:
        problems.append(f"--customer: no customer {args.customer!r} in the directory")
    if problems:
        raise ConfigurationError(problems)
    token = new_token()

    async def add(store: Store) -> None:
        await store.api_tokens.add(
            name=args.name,
            token_hash=token_hash(token),
            scopes=scopes,
            customer_key=args.customer,
            now=datetime.now(UTC),
        )

    try:
        _with_store(add)
    except TokenNameTaken:
        raise ConfigurationError([f"--name: a token named {args.name!r} exists"]) from None
    bound = f", customer {args.customer}" if args.customer else ""
    print(f"token {args.name} created: scopes {', '.join(scopes)}{bound}")
    print("It is shown only now and stored as a hash; use it as `Authorization: Bearer …`:")
    print(token)
    return 0


def _list(_args: argparse.Namespace) -> int:
    async def rows(store: Store) -> list[str]:
        lines = []
        for row in await store.api_tokens.all():
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
            lines.append(
                f"{row.name}\t{','.join(row.scopes)}\t{row.customer_key or '*'}\t"
                f"created {row.created_at:%Y-%m-%d %H:%M}\t{state}"
            )
        return lines

    lines = _with_store(rows)
    print("\n".join(lines) if lines else "no tokens")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    async def revoke(store: Store) -> bool:
        return await store.api_tokens.revoke(name=args.name, now=datetime.now(UTC))

    if not _with_store(revoke):
        raise ConfigurationError([f"no active token named {args.name!r}"])
    print(f"token {args.name} revoked")
    return 0


def _with_store(work: Callable[[Store], Awaitable[T]]) -> T:
    from bot.settings import load_settings

    settings = load_settings()

    async def run() -> T:
        database = Database(settings.effective_database_url)
        try:
            if database.dialect == "sqlite":  # the embedded default migrates itself
                settings.data_dir.mkdir(parents=True, exist_ok=True)
                await upgrade_database(database)
            return await work(Store(database))
        finally:
            await database.dispose()

    return asyncio.run(run())
