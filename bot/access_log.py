"""The access log, without the secrets some URLs carry."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

# A report link's `sig=` lets anyone holding it fetch the report until it expires: the request
# line (and a Referer that repeats a link) must not hand it to whoever reads the logs.
_SECRET_PARAMETER = re.compile(r"(?<=[?&]sig=)[^&\s\"]+", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with the value of every `sig=` query parameter replaced."""
    return _SECRET_PARAMETER.sub(REDACTED, text)


class RedactingAccessLogger(AccessLogger):
    """aiohttp's access log with `sig=` values redacted in every field."""

    def _format_line(
        self, request: BaseRequest, response: StreamResponse, time: float
    ) -> Iterable[tuple[str | tuple[str, str], str]]:
        # Some fields are numbers (status, size) despite the annotation; only text is redacted.
        return [
            (key, redact(value) if isinstance(value, str) else value)
            for key, value in super()._format_line(request, response, time)
        ]
