"""Teams file attachments are fetched only from Teams' file hosts (SharePoint / OneDrive).

A `downloadUrl` is whatever the activity says: pointed at loopback, a private address, the
bot's own `/metrics` or a name that resolves to one of those, nothing is fetched and the person
is told why and what to do. The fake file server of these tests runs on 127.0.0.1, so the tests
that need it to answer opt in with `test_hosts`; the rest use the production rules.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from pydantic import ValidationError

from adapters.file_fetch import (
    TEAMS_FILE_HOSTS,
    FetchPolicy,
    FileFetcher,
    PublicAddressResolver,
    host_matches,
    is_public_address,
)
from bot.app import STORE, TASKS, create_app
from bot.settings import Settings
from storage.directory import Directory
from storage.errors import FileRejected
from tests.activities import personal_message
from tests.fakes import FakeBotConnector
from tests.samples import sample_ticket
from tests.serving import Bot

ClientFactory = Callable[[web.Application], Awaitable[Bot]]
CONTENT = b"2026-03-02 09:14 INVITE failed 503\n" * 100
FAKE_SHAREPOINT = "contoso-my.sharepoint.com"


@dataclass
class FileServer:
    """A fake file host on 127.0.0.1 that records every path asked for."""

    server: TestServer | None = None
    hits: list[str] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)

    def app(self) -> web.Application:
        async def serve(request: web.Request) -> web.StreamResponse:
            self.hits.append(request.path)
            target = self.redirects.get(request.path)
            if target is not None:
                raise web.HTTPFound(target.format(port=self.port))
            return web.Response(body=CONTENT, content_type="text/plain")

        app = web.Application()
        app.router.add_get("/{tail:.*}", serve)
        return app

    @property
    def port(self) -> int:
        assert self.server is not None and self.server.port is not None
        return self.server.port


@pytest.fixture
async def files() -> AsyncIterator[FileServer]:
    fake = FileServer()
    fake.server = TestServer(fake.app(), host="127.0.0.1")
    await fake.server.start_server()
    yield fake
    await fake.server.close()


class FakeDns(AbstractResolver):
    """Name → address, as a DNS server an attacker controls would answer."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answer: ResolveResult = {
            "hostname": host,
            "host": self.answers[host],
            "port": port,
            "family": family,
            "proto": 0,
            "flags": socket.AI_NUMERICHOST,
        }
        return [answer]

    async def close(self) -> None:
        pass


async def fetch(fetcher: FileFetcher, url: str) -> bytes | str:
    """The file's bytes, or the reason it was refused."""
    try:
        return b"".join([chunk async for chunk in fetcher.chunks(url)])
    except FileRejected as refused:
        return refused.reason
    finally:
        await fetcher.close()


def with_fake_sharepoint(dns: dict[str, str] | None = None) -> FileFetcher:
    """Production rules, plus the one fake SharePoint host the test opted in to."""
    test_hosts = {FAKE_SHAREPOINT: "127.0.0.1"}
    resolver = PublicAddressResolver(test_hosts, inner=FakeDns(dns or {}))
    return FileFetcher(FetchPolicy(test_hosts=test_hosts), resolver=resolver)


async def test_a_file_on_the_opted_in_test_host_is_fetched(files: FileServer) -> None:
    url = f"http://{FAKE_SHAREPOINT}:{files.port}/personal/clara/trace.log"

    assert await fetch(with_fake_sharepoint(), url) == CONTENT
    assert files.hits == ["/personal/clara/trace.log"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/metrics",  # the bot's own metrics, loopback
        "https://127.0.0.1:{port}/metrics",
        "http://localhost:{port}/trace.log",
        "https://[::1]:{port}/trace.log",
        "https://10.0.0.8/trace.log",
        "https://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://contoso.sharepoint.com/trace.log",  # a file host, but not over https
        "file:///etc/passwd",
        "https://sharepoint.com.evil.example/trace.log",
    ],
)
async def test_addresses_outside_teams_file_hosts_are_never_fetched(
    files: FileServer, url: str
) -> None:
    assert await fetch(FileFetcher(), url.format(port=files.port)) == "untrusted_source"
    assert files.hits == []


@pytest.mark.parametrize("address", ["127.0.0.1", "10.20.30.40", "192.168.1.5", "::1"])
async def test_a_file_host_name_that_resolves_to_a_private_address_is_not_fetched(
    files: FileServer, address: str
) -> None:
    fetcher = with_fake_sharepoint({"evil.sharepoint.com": address})

    assert await fetch(fetcher, f"https://evil.sharepoint.com:{files.port}/x") == "untrusted_source"
    assert files.hits == []


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/secret",
        "http://localhost:{port}/secret",
        "https://evil.sharepoint.com:{port}/secret",  # resolves to 127.0.0.1
    ],
)
async def test_a_redirect_to_a_private_address_is_not_followed(
    files: FileServer, target: str
) -> None:
    files.redirects["/trace.log"] = target
    fetcher = with_fake_sharepoint({"evil.sharepoint.com": "127.0.0.1"})
    url = f"http://{FAKE_SHAREPOINT}:{files.port}/trace.log"

    assert await fetch(fetcher, url) == "untrusted_source"
    assert files.hits == ["/trace.log"]


async def test_redirects_are_followed_a_few_times_only(files: FileServer) -> None:
    base = f"http://{FAKE_SHAREPOINT}:{{port}}"
    files.redirects |= {f"/{n}": f"{base}/{n + 1}" for n in range(5)}

    assert await fetch(with_fake_sharepoint(), base.format(port=files.port) + "/2") == CONTENT
    assert await fetch(with_fake_sharepoint(), base.format(port=files.port) + "/0") == (
        "download_failed"
    )
    assert files.hits == ["/2", "/3", "/4", "/5", "/0", "/1", "/2", "/3"]


def test_the_production_rules_are_teams_file_hosts_over_https_only() -> None:
    settings = Settings()

    assert settings.teams_file_host_patterns == TEAMS_FILE_HOSTS
    assert FetchPolicy().test_hosts == {}
    assert host_matches("contoso-my.sharepoint.com", "*.sharepoint.com")
    assert host_matches("Contoso.SharePoint-DF.com.", "*.sharepoint-df.com")
    assert not host_matches("sharepoint.com", "*.sharepoint.com")
    assert not host_matches("evilsharepoint.com", "*.sharepoint.com")
    assert not is_public_address("::ffff:127.0.0.1")
    assert not is_public_address("100.64.0.1")
    assert is_public_address("13.107.136.9")


def test_sovereign_clouds_set_their_own_file_hosts() -> None:
    settings = Settings(teams_file_hosts=" *.SharePoint.us, *.sharepoint.de ")

    assert settings.teams_file_host_patterns == ("*.sharepoint.us", "*.sharepoint.de")
    for bad in ("*", "*.com", "", "https://x.sharepoint.us"):
        with pytest.raises(ValidationError, match="teams_file_hosts"):
            Settings(teams_file_hosts=bad)


async def test_the_contact_is_told_why_and_what_to_do(
    aiohttp_client: ClientFactory,
    settings: Settings,
    directory: Directory,
    connector: FakeBotConnector,
    files: FileServer,
) -> None:
    bot = await aiohttp_client(create_app(settings, directory=directory))
    user = "29:clara"
    ticket, _ = await bot.app[STORE].tickets.create(
        sample_ticket(reporter_user_id=user, conversation_id=f"a:personal-{user}"),
        prefix="CCS",
        year=2026,
        now=datetime.now(UTC),
    )
    activity = personal_message(directory, "", service_url=connector.url, user=user)
    activity["attachments"] = [
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "name": "trace.log",
            "content": {
                "downloadUrl": f"http://127.0.0.1:{files.port}/metrics",
                "uniqueId": "1",
                "fileType": "log",
            },
        }
    ]

    assert (await bot.post("/api/messages", json=activity)).status == 200
    [reply] = await connector.wait_for_messages(1)
    await bot.app[TASKS].idle()

    assert files.hits == []
    assert "I did not download **trace.log**" in reply.body["text"]
    assert "attach the file again" in reply.body["text"]
    assert await bot.app[STORE].logfiles.of_ticket(ticket.id or 0) == []


async def test_words_sent_with_a_file_are_added_to_the_ticket(
    aiohttp_client: ClientFactory,
    settings: Settings,
    directory: Directory,
    connector: FakeBotConnector,
    files: FileServer,
) -> None:
    bot = await aiohttp_client(create_app(settings, directory=directory))
    user = "29:clara"
    ticket, _ = await bot.app[STORE].tickets.create(
        sample_ticket(reporter_user_id=user, conversation_id=f"a:personal-{user}"),
        prefix="CCS",
        year=2026,
        now=datetime.now(UTC),
    )
    activity = personal_message(
        directory, "It happened again at 10:40", service_url=connector.url, user=user
    )
    activity["attachments"] = [
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "name": "trace.log",
            "content": {
                "downloadUrl": f"http://127.0.0.1:{files.port}/trace.log",
                "uniqueId": "1",
                "fileType": "log",
            },
        }
    ]

    assert (await bot.post("/api/messages", json=activity)).status == 200
    replies = await connector.wait_for_messages(2)
    await bot.app[TASKS].idle()

    said = "\n".join(str(reply.body.get("text")) for reply in replies)
    assert f"Added to {ticket.number}" in said
    assert "trace.log" in said
    events = await bot.app[STORE].tickets.events(ticket.id or 0)
    assert [e.data["text"] for e in events if e.kind == "customer_message"] == [
        "It happened again at 10:40"
    ]
