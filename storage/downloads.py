"""Download jobs: files people sent, queued by the turn that received them and fetched by the
download workers (`bot/downloads.py`), leased like the outbox so replicas never fetch the same
file at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select

from storage.db import Database
from storage.models import DownloadJobRow, DownloadStatus


@dataclass(frozen=True, slots=True)
class NewDownload:
    """What the turn knows about a file when it queues it."""

    dedupe_key: str
    channel: str
    conversation_id: str
    user_id: str
    user_name: str
    language: str
    name: str
    url: str
    content_type: str
    ticket_number: str | None = None
    draft_key: str | None = None
    original_name: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a download ended: stored (with its hash and size), refused or timed out (with a
    reason code)."""

    status: DownloadStatus
    reason: str | None = None
    sha256: str | None = None
    size: int | None = None


class Downloads:
    """The download queue."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def enqueue(self, job: NewDownload, *, now: datetime) -> int | None:
        """Queue a file; None when this message's file was queued before (a re-driven turn)."""
        values = {
            "dedupe_key": job.dedupe_key[:700],
            "channel": job.channel,
            "conversation_id": job.conversation_id,
            "user_id": job.user_id,
            "user_name": job.user_name[:200],
            "language": job.language,
            "ticket_number": job.ticket_number,
            "draft_key": job.draft_key,
            "name": job.name[:200],
            "original_name": job.original_name[:255],
            "url": job.url[:4000],
            "content_type": job.content_type[:100],
            "status": DownloadStatus.PENDING.value,
            "attempts": 0,
            "reported": False,
            "next_attempt_at": now,
            "created_at": now,
        }
        statement = (
            self._db.insert(DownloadJobRow)
            .values(values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(DownloadJobRow.id)
        )
        async with self._db.session() as session:
            inserted: int | None = (await session.execute(statement)).scalar_one_or_none()
        return inserted

    async def claim(
        self, *, now: datetime, limit: int, lease: timedelta
    ) -> Sequence[DownloadJobRow]:
        """Jobs due (to fetch, or fetched but not yet told) that nobody holds, oldest first,
        leased to the caller until `now + lease`; each claim counts an attempt."""
        if limit <= 0:
            return []
        unclaimed = (
            select(DownloadJobRow.id)
            .where(
                col(DownloadJobRow.reported).is_(False),
                col(DownloadJobRow.next_attempt_at) <= now,
                or_(
                    col(DownloadJobRow.claimed_until).is_(None),
                    col(DownloadJobRow.claimed_until) < now,
                ),
            )
            .order_by(col(DownloadJobRow.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(DownloadJobRow)
            .where(col(DownloadJobRow.id).in_(unclaimed))
            .values(claimed_until=now + lease, attempts=col(DownloadJobRow.attempts) + 1)
            .returning(DownloadJobRow)
        )
        async with self._db.session() as session:
            rows = (await session.scalars(statement)).all()
        return sorted(rows, key=lambda row: row.id or 0)

    async def finish(
        self, job_id: int, outcome: Outcome, *, now: datetime
    ) -> DownloadJobRow | None:
        """Record how the download ended, once: None when it had ended before."""
        statement = (
            update(DownloadJobRow)
            .where(
                col(DownloadJobRow.id) == job_id,
                col(DownloadJobRow.status) == DownloadStatus.PENDING.value,
            )
            .values(
                status=outcome.status.value,
                reason=outcome.reason and outcome.reason[:500],
                sha256=outcome.sha256,
                size=outcome.size,
                finished_at=now,
            )
            .returning(DownloadJobRow)
        )
        async with self._db.session() as session:
            return (await session.scalars(statement)).one_or_none()

    async def retry_at(self, job_id: int, at: datetime) -> None:
        """Try again at `at` (a file still being scanned for malware), lease given up."""
        await self._set(job_id, next_attempt_at=at, claimed_until=None)

    async def rename(self, job_id: int, *, name: str, content_type: str) -> None:
        """The file's real name and type, learnt when it was fetched (a file sent while it was
        still scanned for malware came with a placeholder)."""
        await self._set(job_id, name=name[:200], content_type=content_type[:100])

    async def reported(self, job_id: int) -> None:
        """The person and the thread have been told: the job is over."""
        await self._set(job_id, reported=True, claimed_until=None)

    async def release(self, job_id: int) -> None:
        """Give up the lease (shutting down), so the next start takes the job at once."""
        await self._set(job_id, claimed_until=None)

    async def for_draft(self, draft_key: str) -> Sequence[DownloadJobRow]:
        """The files sent while a fault report was being written, oldest first."""
        async with self._db.session() as session:
            query = (
                select(DownloadJobRow)
                .where(col(DownloadJobRow.draft_key) == draft_key)
                .order_by(col(DownloadJobRow.id))
            )
            return (await session.scalars(query)).all()

    async def get(self, job_id: int) -> DownloadJobRow | None:
        """One job by id."""
        async with self._db.session() as session:
            return await session.get(DownloadJobRow, job_id)

    async def all(self) -> Sequence[DownloadJobRow]:
        """Every job, oldest first (for tests and inspection)."""
        async with self._db.session() as session:
            query = select(DownloadJobRow).order_by(col(DownloadJobRow.id))
            return (await session.scalars(query)).all()

    async def _set(self, job_id: int, **values: object) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(DownloadJobRow).where(col(DownloadJobRow.id) == job_id).values(**values)
            )
