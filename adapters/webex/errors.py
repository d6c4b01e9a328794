"""Webex failures as the project's channel errors, keeping the HTTP status for callers that care
(file downloads tell a malware-scan state from a missing file by it)."""

from __future__ import annotations

from storage.errors import PermanentChannelError, TransientChannelError

# Throttling, "still scanning" and gateway errors pass; everything else is final.
TRANSIENT_STATUS = frozenset({423, 429, 500, 502, 503, 504})


class WebexTransientError(TransientChannelError):
    """Webex throttled or failed; retry (after `retry_after` seconds when it said so)."""

    def __init__(self, message: str, *, status: int | None, retry_after: float | None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


class WebexPermanentError(PermanentChannelError):
    """Webex refused the call for good (bad request, no access, gone, infected file, ...)."""

    def __init__(self, message: str, *, status: int | None) -> None:
        super().__init__(message)
        self.status = status


def error_for_status(
    status: int, what: str, *, retry_after: float | None
) -> WebexTransientError | WebexPermanentError:
    """The channel error for an HTTP status Webex answered `what` with."""
    message = f"Webex {what}: HTTP {status}"
    if status in TRANSIENT_STATUS or status >= 500:
        return WebexTransientError(message, status=status, retry_after=retry_after)
    return WebexPermanentError(message, status=status)
