"""The app factory: everything the service holds is built here and kept on typed app keys."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from adapters.api import BASE as API_BASE
from adapters.api import ApiService, RateLimiter
from adapters.file_fetch import FetchPolicy
from adapters.http import json_error
from adapters.model import Channel
from adapters.teams import TeamsAdapter, TeamsCredentials
from adapters.webex import WebexAdapter, WebexApi
from bot.digest import DigestPoster
from bot.downloads import DownloadLimits, DownloadWorkers
from bot.drafts import DraftSweeper
from bot.duty_watch import DutyWatcher
from bot.integration import Integration
from bot.maintenance_watch import MaintenanceReminder
from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.outbox import Dispatcher
from bot.pages import page_handler
from bot.pipeline import Core
from bot.priority import AckPriority
from bot.router import Clock, Router
from bot.settings import Settings
from bot.tasks import TaskTracker
from bot.understanding import Understanding
from bot.watcher import SlaWatcher
from bot.webhook_payloads import openapi_webhooks
from bot.webhooks import WebhookSender
from dialogs.catalog import build_understander, default_commands
from dialogs.managers import weekly_card
from dialogs.notify import Notifier
from dialogs.services import Services, Tunables
from storage.db import Database
from storage.directory import Directory, load_directory, parse_duration
from storage.errors import DatabaseUnavailable, EventNotStored
from storage.files import BlobStore
from storage.leases import Lease
from storage.links import (
    CONTENT_TYPES,
    SignedFiles,
    attachment_disposition,
    load_or_create_secret,
)
from storage.migrate import upgrade_database
from storage.repositories import Store
from storage.sla import SlaCatalog

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0
CONNECTOR_THREADS = 32


@dataclass(frozen=True, slots=True)
class Overrides:
    """Seams for tests and embedding: a fixed clock, stub outbound Teams credentials, fake
    Teams file servers (host name → loopback address; never set in production)."""

    clock: Clock | None = None
    teams_credentials_factory: object | None = None
    teams_file_test_hosts: Mapping[str, str] = field(default_factory=dict)


SETTINGS = web.AppKey("settings", Settings)
DIRECTORY = web.AppKey("directory", Directory)
METRICS = web.AppKey("metrics", Metrics)
TASKS = web.AppKey("tasks", TaskTracker)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
OVERRIDES = web.AppKey("overrides", Overrides)
DATABASE = web.AppKey("database", Database)
STORE = web.AppKey("store", Store)
CORE = web.AppKey("core", Core)
SERVICES = web.AppKey("services", Services)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
WATCHER = web.AppKey("watcher", SlaWatcher)
TEAMS = web.AppKey("teams", TeamsAdapter)
WEBEX_API = web.AppKey("webex_api", WebexApi)
WEBEX = web.AppKey("webex", WebexAdapter)
DOWNLOADS = web.AppKey("downloads", DownloadWorkers)
API = web.AppKey("api", ApiService)
WEBHOOKS = web.AppKey("webhooks", WebhookSender)


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    directory: Directory | None = None,
    overrides: Overrides | None = None,
) -> web.Application:
    """Build the service. Resources open in `cleanup_ctx` when the app starts."""
    app = web.Application(
        middlewares=[_metrics_middleware, _error_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[DIRECTORY] = directory or load_directory(settings.directory_path)
    app[METRICS] = Metrics()
    app[TASKS] = TaskTracker()
    app[OVERRIDES] = overrides or Overrides()
    app[CLOCK] = app[OVERRIDES].clock or utc_now
    # The Webex API client closes after the core has drained the tasks that use it; downloads
    # stop first of all, before the adapters close the HTTP clients they fetch with.
    app.cleanup_ctx.extend([_database, _webex_api, _core, _teams, _webex, _downloads])
    app.router.add_post("/api/messages", _teams_messages, name="teams")
    app.router.add_post("/api/webex", _webex_events, name="webex")
    app.router.add_get("/healthz", _healthz, name="healthz")
    app.router.add_get("/metrics", _metrics, name="metrics")
    app.router.add_get("/files/reports/{name}", _signed_file, name="signed-file")
    app.router.add_get("/files/logfiles/{logfile}", _logfile, name="logfile")
    # The integration API: its port to the core is bound once the core is built (`_core`).
    app[API] = ApiService(
        limiter=RateLimiter(rate=settings.api_rate, burst=settings.api_burst),
        max_body_bytes=settings.max_body_bytes,
        webhooks=openapi_webhooks(),  # the outbound events, documented beside the API
    )
    app.add_subapp(API_BASE, app[API].app())
    # The Teams app manifest links to these (website, privacy, terms of use).
    for path, page in (("/", "about"), ("/privacy", "privacy"), ("/terms", "terms")):
        app.router.add_get(path, page_handler(app[DIRECTORY], page), name=page)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    database = Database(settings.effective_database_url)
    if database.dialect == "sqlite":
        # The embedded default migrates itself; PostgreSQL is migrated by `chatops migrate`.
        await upgrade_database(database)
    app[DATABASE] = database
    app[STORE] = Store(database, Lease.for_this_process(settings.lease))
    await app[STORE].customers.sync(customers=app[DIRECTORY].customers, now=app[CLOCK]())
    yield
    await database.dispose()


async def _core(app: web.Application) -> AsyncIterator[None]:
    settings, directory = app[SETTINGS], app[DIRECTORY]
    services = Services(
        store=app[STORE],
        directory=directory,
        blobs=BlobStore(settings.files_dir, max_bytes=settings.max_logfile_bytes),
        sla=SlaCatalog(directory),
        clock=app[CLOCK],
        tunables=Tunables(
            ticket_prefix=directory.provider.ticket_prefix,
            draft_remind_after=parse_duration(settings.draft_remind_after),
            draft_expire_after=parse_duration(settings.draft_expire_after),
            logs_reminder_after=parse_duration(directory.provider.logs_reminder_after),
            vendor_chase_after=parse_duration(directory.provider.vendor_chase_after),
            notify_outside_service_time=directory.provider.notify_outside_service_time,
            reopen_within=timedelta(days=directory.provider.reopen_within_days),
            download_timeout=timedelta(seconds=settings.download_timeout),
        ),
    )
    services.links = SignedFiles(
        root=settings.data_dir / "reports",
        secret=settings.link_secret.get_secret_value().encode()
        or load_or_create_secret(settings.data_dir / "link-secret"),
        base_url=settings.base_url,
    )
    app[SERVICES] = services
    wakeup = asyncio.Event()
    services.notifier = Notifier(
        store=app[STORE], directory=directory, clock=app[CLOCK], wake=wakeup.set
    )
    app[WEBHOOKS] = _webhook_sender(app)
    # A ticket event that queued webhook deliveries wakes the dispatcher, like a chat message.
    app[STORE].webhooks.on_queued = wakeup.set
    # Background work yields to the webhooks being acknowledged (`bot/priority.py`).
    priority = AckPriority()
    app[DISPATCHER] = Dispatcher(
        store=app[STORE],
        senders=services.senders,
        posters=services.posters,
        notifier=services.notifier,
        clock=app[CLOCK],
        wakeup=wakeup,
        webhooks=app[WEBHOOKS],
        priority=priority,
    )
    app[WATCHER] = SlaWatcher(services, priority=priority)
    app[TASKS].start_loop(DraftSweeper(services).run(), name="draft-sweeper")
    app[TASKS].start_loop(app[DISPATCHER].run(), name="outbox")
    app[TASKS].start_loop(app[DISPATCHER].heartbeat.run(), name="outbox-heartbeat")
    app[TASKS].start_loop(app[WATCHER].run(), name="sla-watcher")
    digest = DigestPoster(services, weekly=lambda start, end: weekly_card(services, start, end))
    app[TASKS].start_loop(digest.run(), name="digest")
    app[TASKS].start_loop(DutyWatcher(services).run(), name="duty-watcher")
    app[TASKS].start_loop(MaintenanceReminder(services).run(), name="maintenance-reminder")
    commands = default_commands()
    router = Router(
        directory=directory,
        services=services,
        commands=commands,
        metrics=app[METRICS],
        understander=Understanding.in_background(
            lambda: build_understander(commands, directory, settings.understanding_cache_dir)
        ),
    )
    app[CORE] = Core(
        store=app[STORE],
        router=router,
        directory=app[DIRECTORY],
        tasks=app[TASKS],
        metrics=app[METRICS],
        clock=app[CLOCK],
        priority=priority,
    )
    app[CORE].batcher.start()
    app[API].bind(Integration(services))
    app[TASKS].start_loop(app[CORE].heartbeat.run(), name="inbound-heartbeat")
    app[TASKS].start_loop(app[CORE].redrive_forever(), name="inbound-redrive")
    yield
    # Events still queued are stored and answered (or refused) before the work is drained;
    # those that wait for a turn are handed back at once for the next start or another replica.
    await app[CORE].batcher.close()
    await app[CORE].stop_starting_turns()
    await app[TASKS].drain(SHUTDOWN_GRACE_SECONDS)
    await app[WEBHOOKS].close()


def _webhook_sender(app: web.Application) -> WebhookSender:
    settings = app[SETTINGS]
    if settings.webhooks_allow_insecure:
        log.warning(
            "CHATOPS_WEBHOOKS_ALLOW_INSECURE is on: webhooks may go to plain http and to "
            "private or loopback addresses (for local testing only)"
        )
    return WebhookSender(
        store=app[STORE],
        allow_insecure=settings.webhooks_allow_insecure,
        timeout_seconds=settings.webhook_timeout,
    )


async def _teams(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    # botbuilder's connector client sends every request with `requests` in the loop's default
    # executor, which has only cpu_count + 4 threads (6 on two cores): under load, answers
    # queued for a thread while their turns held the bot's turn slots.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=CONNECTOR_THREADS, thread_name_prefix="connector")
    )
    adapter = TeamsAdapter(
        credentials=TeamsCredentials(
            app_id=settings.microsoft_app_id,
            app_password=settings.microsoft_app_password.get_secret_value(),
            app_type=settings.microsoft_app_type,
            tenant_id=settings.microsoft_app_tenant_id,
        ),
        core=app[CORE],
        max_body_bytes=settings.max_body_bytes,
        credentials_factory=app[OVERRIDES].teams_credentials_factory,
        file_policy=FetchPolicy(
            hosts=settings.teams_file_host_patterns,
            test_hosts=app[OVERRIDES].teams_file_test_hosts,
        ),
        trust_env=settings.http_trust_env,
    )
    app[TEAMS] = adapter
    app[SERVICES].file_sources[Channel.TEAMS] = adapter
    app[SERVICES].senders[Channel.TEAMS] = adapter
    app[SERVICES].posters[Channel.TEAMS] = adapter
    resumed = await adapter.resume_pending()
    if resumed:
        log.info("resuming %d Teams event(s) left unfinished by the previous run", resumed)
    yield
    await adapter.close()


async def _teams_messages(request: web.Request) -> web.StreamResponse:
    return await request.app[TEAMS].handle_request(request)


async def _webex_api(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    token = settings.webex_bot_token.get_secret_value()
    if not token:
        yield  # Webex is optional: without a token /api/webex answers 404
        return
    api = WebexApi(
        token=token,
        base_url=settings.webex_api_url,
        # Room for every running download, and as many abandoned ones still in a read.
        download_workers=2 * settings.max_concurrent_downloads,
        trust_env=settings.http_trust_env,
    )
    app[WEBEX_API] = api
    yield
    await api.close()


async def _webex(app: web.Application) -> AsyncIterator[None]:
    if WEBEX_API not in app:
        yield
        return
    settings = app[SETTINGS]
    adapter = WebexAdapter(
        api=app[WEBEX_API],
        core=app[CORE],
        webhook_secret=settings.webex_webhook_secret.get_secret_value(),
        max_body_bytes=settings.max_body_bytes,
    )
    app[WEBEX] = adapter
    app[SERVICES].file_sources[Channel.WEBEX] = adapter
    app[SERVICES].senders[Channel.WEBEX] = adapter
    app[SERVICES].posters[Channel.WEBEX] = adapter
    resumed = await adapter.resume_pending()
    if resumed:
        log.info("resuming %d Webex event(s) left unfinished by the previous run", resumed)
    # Registration runs in the background: a slow or failing Webex must not delay start-up.
    keeper = (
        app[TASKS].start_loop(
            adapter.keep_webhooks(public_url=settings.public_url), name="webex-hooks"
        )
        if settings.public_url
        else None
    )
    yield
    if keeper is not None:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


async def _downloads(app: web.Application) -> AsyncIterator[None]:
    """The download workers: their own pool, outside the turn slots (`bot/downloads.py`)."""
    settings = app[SETTINGS]
    workers = DownloadWorkers(
        app[SERVICES],
        DownloadLimits(
            total_seconds=settings.download_timeout,
            idle_seconds=settings.download_idle_timeout,
            concurrent=settings.max_concurrent_downloads,
        ),
    )
    app[DOWNLOADS] = workers
    app[SERVICES].wake_downloads = workers.wake
    running = asyncio.get_running_loop().create_task(workers.run(), name="downloads")
    yield
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running


async def _webex_events(request: web.Request) -> web.StreamResponse:
    adapter = request.app.get(WEBEX)
    if adapter is None:
        return json_error(404, "the Webex channel is not configured (WEBEX_BOT_TOKEN is not set)")
    return await adapter.handle_request(request)


async def _signed_file(request: web.Request) -> web.StreamResponse:
    """A report chart or CSV behind a signed link; 403 when the link is forged or expired."""
    links = request.app[SERVICES].links
    assert links is not None
    name = request.match_info["name"]
    query, download_as = request.query, request.query.get("name", "")
    path = links.path_if_valid(
        name, query.get("expires", ""), query.get("sig", ""), request.app[CLOCK](), download_as
    )
    if path is None:
        return json_error(403, "this link is not valid or has expired")
    if not await asyncio.to_thread(path.is_file):
        return json_error(404, "no such file")
    headers = {"Content-Type": CONTENT_TYPES[name.rpartition(".")[2]]}
    if download_as:  # a plain name (checked with the signature): no quoting needed
        headers["Content-Disposition"] = f'attachment; filename="{download_as}"'
    return web.FileResponse(path, headers=headers)


# A declared content type as the channel reported it; anything else is served as bytes.
_MEDIA_WORD = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}"
_MEDIA_TYPE = re.compile(f"{_MEDIA_WORD}/{_MEDIA_WORD}")
# What a customer's file may do in a browser that opens it anyway: nothing.
_INERT = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, no-store",
}


async def _logfile(request: web.Request) -> web.StreamResponse:
    """A logfile a customer delivered, behind a signed link made for its ticket: 403 when the
    link is forged or expired, 404 when it names no logfile of that ticket (or its bytes are
    gone). Always a download (`attachment`) under the name it was sent with."""
    services = request.app[SERVICES]
    assert services.links is not None
    grant = services.links.logfile_if_valid(
        request.match_info["logfile"],
        request.query.get("ticket", ""),
        request.query.get("expires", ""),
        request.query.get("sig", ""),
        request.app[CLOCK](),
    )
    if grant is None:
        return json_error(403, "this link is not valid or has expired")
    row = await request.app[STORE].logfiles.get(grant.logfile_id)
    if row is None or row.ticket_id != grant.ticket_id:
        return json_error(404, "no such file")
    path = services.blobs.path_of(row.sha256)
    if not await asyncio.to_thread(path.is_file):
        return json_error(404, "no such file")
    declared = row.content_type.split(";", 1)[0].strip()
    headers = {
        "Content-Type": declared if _MEDIA_TYPE.fullmatch(declared) else "application/octet-stream",
        "Content-Disposition": attachment_disposition(row.original_name or row.name),
        **_INERT,
    }
    return web.FileResponse(path, headers=headers)


async def _healthz(request: web.Request) -> web.Response:
    if await request.app[DATABASE].ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unavailable"}, status=503)


async def _metrics(request: web.Request) -> web.Response:
    if not _may_read_metrics(request):
        return web.json_response(
            {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _may_read_metrics(request: web.Request) -> bool:
    """Open unless `CHATOPS_METRICS_TOKEN` is set; then only with `Bearer <that token>`."""
    token = request.app[SETTINGS].metrics_token.get_secret_value()
    if not token:
        return True
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    # Compared as bytes: `compare_digest` refuses non-ASCII text, and a header may carry any.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8")
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    metrics = request.app[METRICS]
    route = request.match_info.route.name or "unmatched"
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics.requests.labels(route=route, method=request.method, status=str(status)).inc()
        metrics.request_seconds.labels(route=route).observe(time.perf_counter() - started)


@web.middleware
async def _error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The HTTP error boundary: clients get a reason, never a stack trace or a secret."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except (DatabaseUnavailable, EventNotStored):
        request.app[METRICS].errors.labels(where="database").inc()
        log.warning("database unavailable while handling %s %s", request.method, request.path)
        return web.json_response(
            {"error": "temporarily unavailable, retry later"},
            status=503,
            headers={"Retry-After": "5"},
        )
    except Exception:
        request.app[METRICS].errors.labels(where="http").inc()
        log.exception("unhandled error in %s %s", request.method, request.path)
        return web.json_response({"error": "internal error"}, status=500)
