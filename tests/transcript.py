"""Dialog transcripts without HTTP: say something as someone, read what the bot answers."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from adapters.model import Channel, ConversationRef, FileRef, Incoming, Outgoing, Sender
from bot.downloads import DownloadLimits, DownloadWorkers
from bot.metrics import Metrics
from bot.router import Router
from dialogs.catalog import default_commands
from dialogs.commands import Command
from dialogs.services import Services
from storage.directory import Directory
from storage.errors import FileRejected
from storage.files import BlobStore
from storage.models import OutboxRow
from storage.repositories import Store
from storage.sla import SlaCatalog

FIXED_NOW = datetime(2026, 1, 7, 14, 30, tzinfo=UTC)


def customer_contact(directory: Directory, name: str = "Clara Contact") -> Sender:
    """A person from the demo customer's Microsoft 365 tenant."""
    tenant = directory.customers[0].teams_tenant_ids[0]
    return Sender(user_id=f"29:{name}", name=name, aad_object_id=f"aad-{name}", tenant_id=tenant)


def staff_member(directory: Directory, role: str) -> Sender:
    """The example directory's first engineer-only or manager person, as Teams shows them."""
    person = next(s for s in directory.staff if (role == "manager") == ("manager" in s.roles))
    return Sender(
        user_id=f"29:{person.name}",
        name=person.name,
        aad_object_id=person.teams_aad_object_ids[0],
        tenant_id="provider-tenant",
    )


def webex_contact(directory: Directory, name: str = "Clara Contact") -> Sender:
    """The same kind of person in Webex: known by their organisation's Webex org id."""
    customer = directory.customers[0]
    return Sender(
        user_id=f"webex-{name}",
        name=name,
        email=f"{name.split(maxsplit=1)[0].lower()}@{customer.email_domains[0]}",
        webex_org_id=customer.webex_org_ids[0],
    )


def webex_staff(directory: Directory, role: str) -> Sender:
    """An engineer or manager in Webex, known by e-mail."""
    person = next(s for s in directory.staff if (role == "manager") == ("manager" in s.roles))
    return Sender(user_id=f"webex-{person.name}", name=person.name, email=person.email)


def stranger() -> Sender:
    """Somebody from a tenant the directory does not know."""
    return Sender(user_id="29:stranger", name="Sam Stranger", tenant_id="unknown-tenant")


class Transcript:
    """Drives the router the way an adapter would, one message at a time."""

    def __init__(
        self,
        directory: Directory,
        store: Store,
        *,
        extra: Sequence[Command] = (),
        blob_root: Path | None = None,
        max_file_bytes: int = 100 * 1024 * 1024,
    ) -> None:
        self.services = Services(
            store=store,
            directory=directory,
            blobs=BlobStore(blob_root or Path("var/test-files"), max_bytes=max_file_bytes),
            sla=SlaCatalog(directory),
            clock=lambda: self.now,
        )
        self.now = FIXED_NOW
        self.router = Router(
            directory=directory,
            services=self.services,
            commands=[*default_commands(), *extra],
            metrics=Metrics(),
        )
        self._ids = itertools.count(1)
        self.downloads = DownloadWorkers(self.services, DownloadLimits())
        self._told: set[int] = set()

    async def say(
        self,
        text: str,
        *,
        sender: Sender,
        kind: str = "personal",
        value: Mapping[str, object] | None = None,
        locale: str | None = "en-US",
        conversation_id: str | None = None,
        files: tuple[FileRef, ...] = (),
        unreadable_files: bool = False,
        thread_id: str | None = None,
        channel: Channel = Channel.TEAMS,
    ) -> list[Outgoing]:
        """Send `text` (or a card submit `value`) and return the bot's answers."""
        conversation = ConversationRef(
            channel=channel,
            conversation_id=conversation_id or f"{kind}:{sender.user_id}",
            kind=kind,  # type: ignore[arg-type]
            thread_id=thread_id,
        )
        incoming = Incoming(
            channel=channel,
            event_id=str(next(self._ids)),
            conversation=conversation,
            sender=sender,
            text=text,
            value=value,
            locale=locale,
            files=files,
            unreadable_files=unreadable_files,
            received_at=self.now,
        )
        return await self.router.handle(incoming)

    async def downloaded(self) -> list[str]:
        """Run the queued downloads to their end; what the people who sent them were told."""
        await self.downloads.run_due()
        async with self.services.store.database.session() as session:
            query = select(OutboxRow).order_by(col(OutboxRow.id))
            rows = (await session.scalars(query)).all()
        told: list[str] = []
        for row in rows:
            if row.id in self._told or not row.dedupe_key.startswith("download:"):
                continue
            if row.kind == "conversation":
                self._told.add(row.id or 0)
                told.extend(answer["text"] for answer in row.payload["answers"])
        return told


class FakeFiles:
    """A channel's file source serving bytes (or refusals) by URL, in small chunks."""

    def __init__(self) -> None:
        self.files: dict[str, bytes | FileRejected] = {}

    def add(self, name: str, content: bytes | FileRejected) -> FileRef:
        url = f"https://files.example/{len(self.files)}/{name}"
        self.files[url] = content
        return FileRef(name=name, url=url)

    def check(self, file: FileRef) -> None:
        pass

    async def describe(self, file: FileRef) -> FileRef:
        return file

    async def download(self, file: FileRef) -> AsyncIterator[bytes]:
        content = self.files[file.url]
        if isinstance(content, FileRejected):
            raise content
        for start in range(0, len(content), 1000):
            yield content[start : start + 1000]


GOOD_FORM = {
    "action": "submit_fault_report",
    "product": "webex-calling",
    "priority": "P2",
    "description": "Calls drop after 30 seconds on all phones",
    "since": "today 09:30",
    "affected": "All users at the Vienna office, +43 1 234 5678",
    "tested": "Restarted the phones and the router",
    "phone": "+43 664 1234567",
}


async def report_by_card(
    bot: Transcript, sender: Sender, *, channel: Channel = Channel.TEAMS, **changes: str
) -> list[Outgoing]:
    """Report a fault through the form (skipping follow-ups); the bot's last answers."""
    await bot.say("report a fault", sender=sender, channel=channel)
    answers = await bot.say("", sender=sender, value={**GOOD_FORM, **changes}, channel=channel)
    if answers and answers[0].card and answers[0].card.inputs:  # follow-ups
        await bot.say("", sender=sender, value={"action": "skip_followups"}, channel=channel)
    return await bot.say("", sender=sender, value={"action": "confirm_report"}, channel=channel)
