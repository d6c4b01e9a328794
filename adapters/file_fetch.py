"""Fetching a file from a URL someone else wrote, without letting it reach inside our network.

A Teams file attachment carries a `downloadUrl` that arrives in the activity's JSON: whoever can
post an activity chooses it. Fetched blindly it could read the bot's own `/metrics`, a cloud
metadata service or anything else on a private address (server-side request forgery). So:

- the URL must be `https` on a host of the allow-list (Teams keeps files in SharePoint and
  OneDrive: `*.sharepoint.com`, …);
- the host's addresses are resolved by `PublicAddressResolver`, which drops every private,
  loopback, link-local or otherwise non-public address; aiohttp connects to what the resolver
  returned, so what was checked is what is connected to (no DNS rebinding in between);
- redirects are followed by hand, at most `max_redirects`, each target checked the same way.

Tests opt in to a fake file server with `test_hosts` (a name that resolves to a loopback
address and may use plain http); nothing in the environment can switch that on.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from storage.errors import FileRejected

# Where Teams keeps the files people attach in a 1:1 chat (commercial cloud; the setting
# `CHATOPS_TEAMS_FILE_HOSTS` replaces it for sovereign clouds).
TEAMS_FILE_HOSTS = ("*.sharepoint.com", "*.sharepoint-df.com")
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# The reason code of `FileRejected` when a file's address is not one the bot fetches from.
UNTRUSTED_SOURCE = "untrusted_source"


class NonPublicAddress(OSError):
    """A host name resolved only to addresses the bot must not connect to."""


def host_matches(host: str, pattern: str) -> bool:
    """`*.example.com` matches any name below example.com (not example.com itself); any other
    pattern matches exactly. Case and a trailing dot do not matter."""
    host, pattern = host.lower().rstrip("."), pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, shared, multicast, reserved and unspecified
    addresses (IPv4 inside IPv6 judged as IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Where files may come from. The defaults are the production rules."""

    hosts: tuple[str, ...] = TEAMS_FILE_HOSTS
    max_redirects: int = MAX_REDIRECTS
    # Tests only: host name → loopback address of a fake file server (http allowed).
    test_hosts: Mapping[str, str] = field(default_factory=dict)

    def check_url(self, url: URL) -> None:
        """Raise `FileRejected(UNTRUSTED_SOURCE)` unless the URL may be fetched at all."""
        host = (url.host or "").lower().rstrip(".")
        if host in self.test_hosts:
            if url.scheme in ("http", "https"):
                return
        elif url.scheme == "https" and any(host_matches(host, p) for p in self.hosts):
            return
        raise FileRejected(UNTRUSTED_SOURCE, f"{url.scheme}://{host or '?'} is not a file host")


class PublicAddressResolver(AbstractResolver):
    """Resolves like aiohttp's default, keeping only public addresses (test hosts resolve to
    their configured address)."""

    def __init__(
        self, test_hosts: Mapping[str, str] | None = None, *, inner: AbstractResolver | None = None
    ) -> None:
        self._inner = inner  # aiohttp's own is made on first use: it needs a running loop
        self._test_hosts = dict(test_hosts or {})

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Public addresses of `host`; `NonPublicAddress` when there are none."""
        name = host.lower().rstrip(".")
        if name in self._test_hosts:
            address = self._test_hosts[name]
            return [_result(name, address, port)]
        if self._inner is None:
            self._inner = DefaultResolver()
        found = await self._inner.resolve(host, port, family)
        public = [item for item in found if is_public_address(item["host"])]
        if not public:
            raise NonPublicAddress(f"{host} has no public address")
        return public

    async def close(self) -> None:
        """Release the inner resolver."""
        if self._inner is not None:
            await self._inner.close()


def _result(host: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return {
        "hostname": host,
        "host": address,
        "port": port,
        "family": family,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }


class FileFetcher:
    """Streams files from checked URLs through its own HTTP session (no cookies, no proxy
    from the environment, the filtering resolver)."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        resolver: AbstractResolver | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._resolver = resolver or PublicAddressResolver(self.policy.test_hosts)
        self._timeout = timeout or aiohttp.ClientTimeout(total=None, sock_connect=15, sock_read=60)
        self._session: aiohttp.ClientSession | None = None

    async def chunks(self, url: str, *, chunk_bytes: int = 64 * 1024) -> AsyncIterator[bytes]:
        """The body of `url` in chunks; `FileRejected` (`untrusted_source` or `download_failed`)
        when it may not or cannot be fetched."""
        try:
            async with self._final_response(URL(url)) as response:
                async for chunk in response.content.iter_chunked(chunk_bytes):
                    yield chunk
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, NonPublicAddress):
                raise FileRejected(UNTRUSTED_SOURCE, str(exc.os_error)) from exc
            raise FileRejected("download_failed", type(exc).__name__) from exc
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise FileRejected("download_failed", type(exc).__name__) from exc

    @asynccontextmanager
    async def _final_response(self, url: URL) -> AsyncIterator[aiohttp.ClientResponse]:
        """The first answer that is not a redirect, every hop checked before it is requested."""
        for _hop in range(self.policy.max_redirects + 1):
            self.policy.check_url(url)
            response = await self._http().get(url, allow_redirects=False, timeout=self._timeout)
            if response.status not in _REDIRECTS:
                try:
                    if response.status != 200:
                        raise FileRejected("download_failed", f"HTTP {response.status}")
                    yield response
                finally:
                    response.release()
                return
            location = response.headers.get("Location", "")
            response.release()
            url = url.join(URL(location))
        raise FileRejected("download_failed", "too many redirects")

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=self._resolver)
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session and the resolver (a connector does not own one it was given)."""
        if self._session is not None:
            await self._session.close()
        await self._resolver.close()
