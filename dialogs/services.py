"""What dialogs and commands may use besides the message: storage, files, SLA terms, time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapters.model import Channel
from adapters.ports import ChannelPoster, FileSource, ProactiveSender
from dialogs.notify import Notifier
from storage.directory import Directory
from storage.files import BlobStore
from storage.links import SignedFiles
from storage.repositories import Store
from storage.sla import SlaCatalog


@dataclass(frozen=True, slots=True)
class Tunables:
    """Numbers the bot's behaviour depends on (from the settings and the directory)."""

    ticket_prefix: str = "CCS"
    draft_remind_after: timedelta = timedelta(minutes=30)
    draft_expire_after: timedelta = timedelta(hours=24)
    # Business time after which a customer asked for logs is reminded once.
    logs_reminder_after: timedelta = timedelta(hours=4)
    # Business time after which the owner is reminded to chase a vendor case.
    vendor_chase_after: timedelta = timedelta(hours=8)
    # Several customers reporting one product within this window make a possible outage.
    incident_window: timedelta = timedelta(minutes=10)
    incident_threshold: int = 3
    # Ping engineers about business-hours tickets outside the service time?
    notify_outside_service_time: bool = False
    # A customer may reopen their own resolved ticket for this long.
    reopen_within: timedelta = timedelta(days=7)
    # A file download taking longer is abandoned (the person is asked to send it again).
    download_timeout: timedelta = timedelta(seconds=120)


@dataclass(slots=True)
class Services:
    """Built once in the app factory; adapters register their file sources as they start."""

    store: Store
    directory: Directory
    blobs: BlobStore
    sla: SlaCatalog
    clock: Callable[[], datetime]
    tunables: Tunables = Tunables()
    notifier: Notifier | None = None
    links: SignedFiles | None = None
    file_sources: dict[Channel, FileSource] = field(default_factory=dict)
    senders: dict[Channel, ProactiveSender] = field(default_factory=dict)
    posters: dict[Channel, ChannelPoster] = field(default_factory=dict)
    # Tells the download workers a file was queued (they also look every few seconds).
    wake_downloads: Callable[[], None] = lambda: None

    @property
    def notify(self) -> Notifier:
        """The notifier (always set in the running app; tests may leave it out)."""
        if self.notifier is None:
            self.notifier = Notifier(store=self.store, directory=self.directory, clock=self.clock)
        return self.notifier
