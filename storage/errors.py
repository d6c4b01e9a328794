"""The project's error tree. It lives in the lowest layer so every layer can raise and catch it."""

from __future__ import annotations

from collections.abc import Iterable


class ChatOpsError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigurationError(ChatOpsError):
    """Settings or the directory file are invalid; `problems` lists each with its field path."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class StorageError(ChatOpsError):
    """The database could not do what was asked."""


class DatabaseUnavailable(StorageError):
    """The database does not answer; callers answer 503 so the channel retries later.

    `stale_connection`: it failed on a pooled connection found dead (now discarded), so a
    second try on a fresh connection may well succeed."""

    def __init__(self, message: str, *, stale_connection: bool = False) -> None:
        super().__init__(message)
        self.stale_connection = stale_connection


class EventNotStored(StorageError):
    """The database refused to store one inbound event (callers answer 503: its sender
    delivers it again later), while the others stored with it were kept."""


class ConcurrencyConflict(StorageError):
    """Someone else changed the row since it was read (optimistic concurrency)."""


class ChannelError(ChatOpsError):
    """A channel (Teams, Webex) refused or failed a call."""


class PermanentChannelError(ChannelError):
    """Retrying will not help: the bot was removed, blocked, or the request is invalid."""


class TransientChannelError(ChannelError):
    """Throttled or the upstream failed; retry later (after `retry_after` seconds if given)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FileRejected(ChatOpsError):
    """A file the bot will not keep. `reason` is a stable code (`too_large`, `type`,
    `infected`, `unscannable`, `not_ready`, `download_failed`, `wrong_place`,
    `untrusted_source`); `detail` adds what people need (the limit, the extension);
    `retry_after` says when to try again."""

    def __init__(self, reason: str, detail: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after
