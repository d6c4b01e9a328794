"""`chatops understand`: what the bot makes of a text, as one JSON object per text.

Operators use it to see why the bot misread someone: `chatops understand --as engineer "I'll
take the Luware one"` prints the command, its entities, the confidence and the close
alternatives. `-` reads one text per line from standard input and prints one JSON line each.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from storage.directory import Directory, Role


def add_understand_command(commands: Any) -> None:
    """Register `understand` on the CLI's subparsers."""
    understand = commands.add_parser("understand", help="show what the bot makes of a text (JSON)")
    understand.add_argument(
        "--as",
        dest="role",
        choices=[role.value for role in Role],
        default=Role.CONTACT.value,
        help="read it as a customer contact (default), an engineer or a manager",
    )
    understand.add_argument(
        "--lang",
        choices=["de", "en"],
        default="en",
        help="the person's language setting (words are understood in both either way)",
    )
    understand.add_argument("text", help="the text, or - for one text per line of stdin")
    understand.set_defaults(run=_understand)


def _understand(args: argparse.Namespace) -> int:
    from dialogs.catalog import build_understander, default_commands
    from dialogs.context import Actor

    directory = _directory()
    commands = default_commands()
    understander = build_understander(commands, directory, _cache())
    actor = Actor("cli", "cli", Role(args.role), args.lang)
    may = [c.name for c in commands if c.allowed(actor)]
    zone = _zone(directory)

    def show(text: str, out: TextIO) -> None:
        reading = understander.read(
            text, now=datetime.now(UTC), zone=zone, may=may, role=actor.role.value
        )
        out.write(json.dumps(reading.as_json(zone), ensure_ascii=False) + "\n")

    if args.text == "-":
        for line in sys.stdin:
            if line.strip():
                show(line.strip(), sys.stdout)
    else:
        show(args.text, sys.stdout)
    return 0


def _cache() -> Path | None:
    from bot.settings import Settings

    kept = os.environ.get("CHATOPS_UNDERSTANDING_CACHE", "")
    return Settings.model_construct(understanding_cache=kept).understanding_cache_dir


def _directory() -> Directory:
    from bot.settings import DEFAULT_DIRECTORY, Settings
    from storage.directory import load_directory

    path = Settings.model_construct(
        directory=Path(os.environ.get("CHATOPS_DIRECTORY", DEFAULT_DIRECTORY))
    ).directory_path
    return load_directory(path)


def _zone(directory: Directory) -> ZoneInfo:
    """Times are read in the first service time's zone (the provider's home)."""
    first = next(iter(directory.service_times.values()))
    return first.zone
