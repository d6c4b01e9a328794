"""`chatops`: serve, migrate, check, manifest, webex, sla, understand, webhook, token."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from bot.sla_cli import add_sla_commands
from bot.token_cli import add_token_commands
from bot.understand_cli import add_understand_command
from bot.webhook_cli import add_webhook_commands
from storage.errors import ConfigurationError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3978  # the Bot Framework convention


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `chatops` console script."""
    args = _parser().parse_args(argv)
    try:
        code = args.run(args)
    except BrokenPipeError:
        # The reader went away (`… | head`): not worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    except ConfigurationError as exc:
        print("chatops: configuration problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        code = 1
    raise SystemExit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatops", description="Chat-ops SLA bot for Microsoft Teams and Cisco Webex."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot's HTTP service")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"bind address (default {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port (default CHATOPS_PORT, else {DEFAULT_PORT})",
    )
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply the database migrations")
    migrate.set_defaults(run=_migrate)

    check = commands.add_parser("check", help="validate the settings and the directory file")
    check.set_defaults(run=_check)

    manifest = commands.add_parser("manifest", help="write the Teams app package (zip)")
    manifest.add_argument("--app-id", required=True, help="the bot's Microsoft app id (GUID)")
    manifest.add_argument("--domain", required=True, help="public host name of the bot")
    manifest.add_argument(
        "-o", "--output", type=Path, default=None, help="zip path (default ./var/manifest.zip)"
    )
    manifest.set_defaults(run=_manifest)

    webex = commands.add_parser("webex", help="Cisco Webex tools")
    webex_commands = webex.add_subparsers(required=True, metavar="WEBEX_COMMAND")
    webhooks = webex_commands.add_parser(
        "webhooks", help="register or update the bot's webhooks (CHATOPS_PUBLIC_URL/api/webex)"
    )
    webhooks.set_defaults(run=_webex_webhooks)

    add_sla_commands(commands)
    add_understand_command(commands)
    add_webhook_commands(commands)
    add_token_commands(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from bot.access_log import RedactingAccessLogger
    from bot.app import create_app
    from bot.settings import check_bind_address, load_settings

    settings = load_settings()
    if args.port is not None:  # the links the bot hands out name the port it really serves on
        settings = settings.model_copy(update={"port": args.port})
    _configure_logging(settings.log_level)
    check_bind_address(settings, args.host)
    app = create_app(settings)
    logging.getLogger(__name__).info(
        "serving on http://%s:%d (Teams: POST /api/messages)", args.host, settings.port
    )
    web.run_app(
        app,
        host=args.host,
        port=settings.port,
        print=None,
        shutdown_timeout=15,
        access_log_class=RedactingAccessLogger,
    )
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from bot.settings import load_settings
    from storage.migrate import upgrade

    settings = load_settings()
    _configure_logging(settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    print("database is at the newest schema")
    return 0


def _check(_args: argparse.Namespace) -> int:
    from bot.settings import DEFAULT_DIRECTORY, Settings, load_settings
    from storage.directory import load_directory

    problems: list[str] = []
    try:
        directory_path = load_settings().directory_path
    except ConfigurationError as exc:
        problems += exc.problems
        # Still check the directory file, so one run shows every problem.
        directory_path = Settings.model_construct(
            directory=Path(os.environ.get("CHATOPS_DIRECTORY", DEFAULT_DIRECTORY))
        ).directory_path
    try:
        load_directory(directory_path)
    except ConfigurationError as exc:
        problems += exc.problems
    if problems:
        raise ConfigurationError(problems)
    print(f"settings: ok\ndirectory {directory_path}: ok")
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from manifest import ManifestError, build_app_package

    output = args.output or Path("var") / "manifest.zip"
    try:
        path = build_app_package(app_id=args.app_id, domain=args.domain, output=output)
    except ManifestError as exc:
        raise ConfigurationError([f"manifest: {exc}"]) from None
    print(f"wrote {path}")
    return 0


def _webex_webhooks(_args: argparse.Namespace) -> int:
    import asyncio

    from adapters.webex import register_webhooks
    from bot.settings import load_settings
    from storage.errors import ChannelError

    settings = load_settings()
    _configure_logging(settings.log_level)
    token = settings.webex_bot_token.get_secret_value()
    required = {"WEBEX_BOT_TOKEN": token, "CHATOPS_PUBLIC_URL": settings.public_url}
    if missing := [name for name, value in required.items() if not value]:
        raise ConfigurationError([f"environment: {name}: required here" for name in missing])
    secret = settings.webex_webhook_secret.get_secret_value()
    registering = register_webhooks(
        token=token, api_url=settings.webex_api_url, public_url=settings.public_url, secret=secret
    )
    try:
        changes = asyncio.run(registering)
    except ChannelError as exc:
        print(f"chatops: Webex did not accept the webhooks: {exc}", file=sys.stderr)
        return 1
    for change in changes:
        print(f"{change.name}: {change.outcome} ({change.webhook_id})")
    return 0


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )


if __name__ == "__main__":
    main()
