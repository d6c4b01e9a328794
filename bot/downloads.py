"""The download workers: files people send are fetched here, outside the turn slots.

A turn that receives a file only queues a download job and says "receiving" (see
`dialogs/logfiles.py`), so a slow or stalled upstream never holds a turn slot: everyone else's
messages are answered while files drip in. The workers have a pool of their own (at most
`concurrent` downloads at once; further jobs wait in the table, not in memory), a total time
limit per download and an idle limit per read. Jobs are leased rows: a restart hands its
unfinished jobs back at once and the next start fetches them again; a crashed replica's jobs
come back after their lease. The outcome is recorded once and told once (`dialogs/downloads.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta

from adapters.model import Channel, FileRef
from adapters.ports import FileSource
from dialogs.downloads import tell_outcome
from dialogs.services import Services
from storage.downloads import Outcome
from storage.errors import FileRejected
from storage.files import check_type, safe_name
from storage.models import DownloadJobRow, DownloadStatus

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0
# A file claimed this often without an outcome (restarts in the middle, a scan that never
# ends) is given up and the person asked to send it again.
MAX_ATTEMPTS = 5
# Webex's malware scan: ask again after its Retry-After, but at least this often.
LONGEST_SCAN_WAIT = 60.0
DEFAULT_SCAN_WAIT = 10.0
SHORTEST_SCAN_WAIT = 1.0
# The lease covers the longest download plus telling about it.
LEASE_MARGIN = timedelta(minutes=1)
RELEASE_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class DownloadLimits:
    """How long a download may take, and how many run at once (the settings)."""

    total_seconds: float = 120.0
    idle_seconds: float = 30.0
    concurrent: int = 4


class DownloadWorkers:
    """Runs queued download jobs, at most `limits.concurrent` at a time."""

    def __init__(self, services: Services, limits: DownloadLimits) -> None:
        self._services = services
        self._limits = limits
        self._lease = timedelta(seconds=limits.total_seconds) + LEASE_MARGIN
        self._wakeup = asyncio.Event()
        self._running: dict[int, asyncio.Task[None]] = {}

    def wake(self) -> None:
        """A job was queued (or a slot freed): look now instead of at the next poll."""
        self._wakeup.set()

    async def run(self, poll: float = POLL_SECONDS) -> None:
        """Start due jobs whenever there is room, until cancelled; cancelling stops the jobs
        in flight and hands them back for the next start."""
        try:
            while True:
                self._wakeup.clear()
                try:
                    await self.start_due()
                except Exception:  # the loop must outlive a database hiccup
                    log.exception("starting download jobs failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), poll)
        finally:
            await self._stop_jobs()

    async def start_due(self) -> list[asyncio.Task[None]]:
        """Lease as many due jobs as there are free slots and start them."""
        room = self._limits.concurrent - len(self._running)
        store, now = self._services.store, self._services.clock()
        jobs = await store.downloads.claim(now=now, limit=room, lease=self._lease)
        started = []
        for job in jobs:
            assert job.id is not None
            work = self._work(job)
            task = asyncio.get_running_loop().create_task(work, name=f"download-{job.id}")
            self._running[job.id] = task
            started.append(task)
        return started

    async def run_due(self) -> None:
        """One pass, waiting for the jobs it started (tests drive the workers this way)."""
        started = await self.start_due()
        if started:
            await asyncio.wait(started)

    async def _work(self, job: DownloadJobRow) -> None:
        assert job.id is not None
        try:
            await self._process(job)
        except asyncio.CancelledError:
            # Shutting down: hand the job back now rather than after its lease.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self._services.store.downloads.release(job.id), RELEASE_TIMEOUT
                )
            raise
        except Exception:
            log.exception("download job %s failed; it is retried after its lease", job.id)
        finally:
            self._running.pop(job.id, None)
            self._wakeup.set()

    async def _process(self, job: DownloadJobRow) -> None:
        assert job.id is not None
        job_id, downloads = job.id, self._services.store.downloads
        if job.status == DownloadStatus.PENDING:
            outcome = await self._fetch(job)
            if outcome is None:
                return  # asked to come back later (malware scan still running)
            finished = await downloads.finish(job_id, outcome, now=self._services.clock())
            # None: recorded before by a worker that did not get to tell it; tell that one.
            job = finished or await downloads.get(job_id) or job
        await tell_outcome(self._services, job)
        await downloads.reported(job_id)

    async def _fetch(self, job: DownloadJobRow) -> Outcome | None:
        """Download and store the file within the limits; None when it is to be retried."""
        assert job.id is not None
        source = self._services.file_sources.get(Channel(job.channel))
        if source is None or job.attempts > MAX_ATTEMPTS:
            return Outcome(DownloadStatus.REFUSED, reason="download_failed")
        file = FileRef(name=job.name, url=job.url, content_type=job.content_type)
        try:
            file = await self._judged(job, source, file)
            async with asyncio.timeout(self._limits.total_seconds):
                chunks = _each_within(source.download(file), self._limits.idle_seconds)
                blob = await self._services.blobs.store(chunks)
        except TimeoutError:
            log.info("download job %s abandoned: too slow", job.id)
            return Outcome(DownloadStatus.TIMED_OUT, reason="too_slow")
        except FileRejected as refused:
            if refused.reason == "not_ready" and job.attempts < MAX_ATTEMPTS:
                await self._retry_later(job.id, refused.retry_after)
                return None
            return Outcome(DownloadStatus.REFUSED, reason=refused.reason)
        return Outcome(DownloadStatus.STORED, sha256=blob.sha256, size=blob.size)

    async def _judged(self, job: DownloadJobRow, source: FileSource, file: FileRef) -> FileRef:
        """The file by the name and type its channel gives it now, which are checked here: a
        file sent while it was scanned for malware came with a placeholder name. The job
        keeps the real name for what it tells."""
        assert job.id is not None
        described = await source.describe(file)
        name = safe_name(described.name)
        if (name, described.content_type) != (job.name, job.content_type):
            await self._services.store.downloads.rename(
                job.id, name=name, content_type=described.content_type
            )
            job.name, job.content_type = name, described.content_type
        check_type(name)
        return replace(file, name=name, content_type=described.content_type)

    async def _retry_later(self, job_id: int, retry_after: float | None) -> None:
        # Retry-After: 0 means "now"; a second keeps a scan that never ends from spinning.
        asked = DEFAULT_SCAN_WAIT if retry_after is None else max(retry_after, SHORTEST_SCAN_WAIT)
        wait = min(asked, LONGEST_SCAN_WAIT)
        at = self._services.clock() + timedelta(seconds=wait)
        await self._services.store.downloads.retry_at(job_id, at)

    async def _stop_jobs(self) -> None:
        running = list(self._running.values())
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)


async def _each_within(chunks: AsyncIterator[bytes], seconds: float) -> AsyncIterator[bytes]:
    """The chunks, as long as each arrives within `seconds` of the one before (a stalled
    upstream is given up before the total limit); `TimeoutError` otherwise."""
    try:
        while (chunk := await asyncio.wait_for(anext(chunks, None), seconds)) is not None:
            yield chunk
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
