"""What dialogs and commands may use besides the message: storage, files, SLA terms, time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapters.model import Channel
from adapters.ports import FileSource, ProactiveSender
from storage.files import BlobStore
from storage.repositories import Store
from storage.sla import SlaCatalog


@dataclass(frozen=True, slots=True)
class IntakeSettings:
    """Tunables of fault intake."""

    ticket_prefix: str = "CCS"
    draft_remind_after: timedelta = timedelta(minutes=30)
    draft_expire_after: timedelta = timedelta(hours=24)


@dataclass(slots=True)
class Services:
    """Built once in the app factory; adapters register their file sources as they start."""

    store: Store
    blobs: BlobStore
    sla: SlaCatalog
    clock: Callable[[], datetime]
    intake: IntakeSettings = IntakeSettings()
    file_sources: dict[Channel, FileSource] = field(default_factory=dict)
    senders: dict[Channel, ProactiveSender] = field(default_factory=dict)
