"""Delivering outbound webhooks: signed per the Standard Webhooks specification.

A delivery is an outbox row (`storage/webhooks.py` queues it with the event), so it inherits
the outbox's promises: persisted before anyone is answered, retried with backoff (on its own
longer schedule, `bot/outbox.py`), dead after repeated failure and then reported once in the
managers' channel. This module does one attempt:

- the body is the event's versioned payload (`bot/webhook_payloads.py`), the same bytes on
  every attempt; `webhook-id` is the event's id (stable across retries, so a receiver
  de-duplicates by it); `webhook-timestamp` is the attempt's time; `webhook-signature` is
  `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the subscription's secret;
- any 2xx is success; redirects are not followed (a 3xx is a failure like a 5xx); `410 Gone`
  disables the subscription (the specification's advice) and drops its undelivered events;
  every other answer, a timeout or a refused connection is retried;
- the receiver's address must be public: the connection goes through the same resolver that
  guards file downloads (`adapters/file_fetch.py`), so a name that resolves to a private or
  loopback address is never connected to, and the URL's form (https, an address written in it
  public) is checked again at every attempt. `CHATOPS_WEBHOOKS_ALLOW_INSECURE` lifts this and
  allows plain http, for trying the bot against a receiver on one's own machine.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from standardwebhooks.webhooks import Webhook
from yarl import URL

from adapters.file_fetch import NonPublicAddress, PublicAddressResolver, is_public_address
from bot.webhook_payloads import build_payload
from storage.errors import PermanentChannelError, TransientChannelError
from storage.models import OutboxRow, WebhookSubscriptionRow
from storage.repositories import Store

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT_SECONDS = 10.0
USER_AGENT = "chatops-sla-bot-webhooks/1"


class WebhookUrlRejected(ValueError):
    """A subscription URL the bot will not deliver to; the message says why."""


def check_url_form(url: str, *, allow_insecure: bool) -> URL:
    """The URL, if its form is acceptable: absolute https (http only when insecure receivers
    are allowed), no credentials in it, and, for an address written as such, a public one."""
    try:
        parsed = URL(url.strip())
    except ValueError as exc:
        raise WebhookUrlRejected(f"not a URL: {exc}") from None
    schemes = ("https", "http") if allow_insecure else ("https",)
    if parsed.scheme not in schemes or not parsed.host:
        raise WebhookUrlRejected(
            "must be an absolute https:// URL "
            "(http only with CHATOPS_WEBHOOKS_ALLOW_INSECURE=true, for local testing)"
        )
    if parsed.user or parsed.password:
        raise WebhookUrlRejected("must not carry credentials (the signature authenticates us)")
    if parsed.fragment:
        raise WebhookUrlRejected("must not have a #fragment")
    if not allow_insecure and _is_address(parsed.host) and not is_public_address(parsed.host):
        raise WebhookUrlRejected(f"{parsed.host} is not a public address")
    return parsed


async def check_url(
    url: str, *, allow_insecure: bool, resolver: AbstractResolver | None = None
) -> URL:
    """`check_url_form`, and the host must resolve to a public address (unless insecure
    receivers are allowed); `WebhookUrlRejected` otherwise."""
    parsed = check_url_form(url, allow_insecure=allow_insecure)
    if allow_insecure or _is_address(parsed.host or ""):
        return parsed
    guard = PublicAddressResolver(inner=resolver or DefaultResolver())
    try:
        await guard.resolve(parsed.host or "", parsed.port or 443, socket.AF_UNSPEC)
    except NonPublicAddress:
        raise WebhookUrlRejected(f"{parsed.host} resolves only to non-public addresses") from None
    except OSError as exc:
        raise WebhookUrlRejected(f"cannot resolve {parsed.host}: {exc}") from None
    finally:
        await guard.close()
    return parsed


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def signed_headers(
    subscription: WebhookSubscriptionRow, message_id: str, body: str, now: datetime
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    signature = Webhook(subscription.secret).sign(message_id, now.astimezone(UTC), body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


class WebhookSender:
    """Makes one delivery attempt of an outbox row of kind `webhook`."""

    def __init__(
        self,
        *,
        store: Store,
        allow_insecure: bool = False,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._allow_insecure = allow_insecure
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        # The signature's timestamp is checked against the receiver's real clock (replay
        # protection), so it is the real time even when the bot runs on a test clock.
        self._wall_clock = wall_clock
        self._session: aiohttp.ClientSession | None = None
        self._resolver: AbstractResolver | None = None

    async def deliver(self, row: OutboxRow) -> None:
        """Send the row's event once; `TransientChannelError` to retry it later,
        `PermanentChannelError` to give it up. A subscription removed meanwhile: nothing to do."""
        subscription = await self._store.webhooks.get(int(row.target["subscription_id"]))
        if subscription is None or not subscription.active:
            log.info("webhook delivery %s dropped: its subscription is gone", row.id)
            return
        try:
            message_id = str(row.payload["webhook_id"])
            body = build_payload(row.payload).model_dump_json()
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentChannelError(f"a malformed webhook event: {exc!r}"[:300]) from exc
        try:
            # Again at every attempt: an address written in the URL is never resolved, so the
            # resolver that guards names would not see it (a URL stored while insecure receivers
            # were allowed, or written into the database by hand).
            check_url_form(subscription.url, allow_insecure=self._allow_insecure)
        except WebhookUrlRejected as exc:
            raise TransientChannelError(f"refused: {subscription.url}: {exc}") from None
        headers = signed_headers(subscription, message_id, body, self._wall_clock())
        status, retry_after = await self._post(subscription.url, body, headers)
        if 200 <= status < 300:
            return
        if status == 410:
            await self._gone(subscription, row)
        raise TransientChannelError(f"the receiver answered HTTP {status}", retry_after=retry_after)

    async def _post(self, url: str, body: str, headers: dict[str, str]) -> tuple[int, float | None]:
        try:
            async with self._http().post(
                URL(url, encoded=True),
                data=body.encode("utf-8"),
                headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
                allow_redirects=False,
                timeout=self._timeout,
            ) as response:
                return response.status, _retry_after(response.headers.get("Retry-After"))
        except TimeoutError:
            seconds = self._timeout.total
            raise TransientChannelError(f"the receiver did not answer within {seconds} s") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, NonPublicAddress):
                raise TransientChannelError(f"refused: {exc.os_error}") from None
            raise TransientChannelError(f"cannot connect: {exc.os_error}") from None
        except aiohttp.ClientError as exc:
            raise TransientChannelError(f"delivery failed: {type(exc).__name__}") from None

    async def _gone(self, subscription: WebhookSubscriptionRow, row: OutboxRow) -> None:
        assert subscription.id is not None
        reason = f"the receiver answered 410 Gone: subscription {subscription.id} disabled"
        await self._store.webhooks.disable(
            subscription.id, reason=reason, now=self._wall_clock(), keep=row.id
        )
        raise PermanentChannelError(reason)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._resolver = DefaultResolver() if self._allow_insecure else PublicAddressResolver()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=self._resolver, limit=64),
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session and its resolver (a connector does not own one it was
        given)."""
        if self._session is not None:
            await self._session.close()
        if self._resolver is not None:
            await self._resolver.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (seconds or an HTTP date), capped at an hour."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when: Any = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), 3600.0) or None
