"""Files the bot offers through links that are signed and expire: report charts and CSV
(`/files/reports/…`) and the logfiles customers delivered (`/files/logfiles/…`).

A report link names the file by its SHA-256; a logfile link names the logfile and the ticket it
was made for. Each carries an expiry and an HMAC-SHA256 over all of it, so it cannot be
guessed, altered, pointed at another ticket's file or used after it expires. The two kinds sign
different messages (a logfile's starts with `logfile`, which no report name does), so one kind
of link never passes for the other.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

NAME = re.compile(r"^[0-9a-f]{64}\.(png|csv)$")
# The name a file is downloaded under (`sla-2026-11.csv`): plain enough for any header.
DOWNLOAD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
DEFAULT_TTL = timedelta(days=7)
# ASCII digits only (`isdigit` also takes "²", which `int` refuses), and few enough that
# converting them is cheap: an epoch second has 10 digits until the year 2286.
_EXPIRY = re.compile(r"[0-9]{1,12}")
_ROW_ID = re.compile(r"[1-9][0-9]{0,17}")  # a positive id, as a database column holds it
CONTENT_TYPES = {"png": "image/png", "csv": "text/csv; charset=utf-8"}


def load_or_create_secret(path: Path) -> bytes:
    """The signing key kept beside the data (created once, readable by the owner only)."""
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    path.write_text(key.hex(), encoding="ascii")
    path.chmod(0o600)
    return key


@dataclass(frozen=True, slots=True)
class LogfileGrant:
    """A genuine logfile link: this logfile, if it belongs to this ticket."""

    logfile_id: int
    ticket_id: int


def attachment_disposition(name: str) -> str:
    """`Content-Disposition: attachment` naming the file: an ASCII `filename` for old clients
    and, when the name is not plain ASCII, the exact name as `filename*` (RFC 6266, 5987)."""
    fallback = "".join(c if c.isascii() and c.isprintable() else "_" for c in name) or "file"
    fallback = fallback.replace("\\", "_").replace('"', "_")
    header = f'attachment; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


class SignedFiles:
    """Publishes bytes under a signed, expiring URL and checks such URLs."""

    def __init__(self, *, root: Path, secret: bytes, base_url: str) -> None:
        self.root = root
        self._secret = secret
        self._base_url = base_url.rstrip("/")

    async def publish(
        self,
        content: bytes,
        *,
        suffix: str,
        now: datetime,
        ttl: timedelta = DEFAULT_TTL,
        download_as: str = "",
    ) -> str:
        """Store `content` and return a link to it valid until `now + ttl`; with `download_as`
        the link downloads it as an attachment of that name (signed with the rest)."""
        if download_as and not DOWNLOAD_NAME.fullmatch(download_as):
            raise ValueError(f"not a plain file name: {download_as!r}")
        name = f"{hashlib.sha256(content).hexdigest()}.{suffix}"
        await asyncio.to_thread(self._write, name, content)
        expires = int((now + ttl).timestamp())
        signature = self._sign(name, expires, download_as)
        url = f"{self._base_url}/files/reports/{name}?expires={expires}&sig={signature}"
        return f"{url}&name={download_as}" if download_as else url

    def path_if_valid(
        self, name: str, expires: str, signature: str, now: datetime, download_as: str = ""
    ) -> Path | None:
        """The file a link names, if the link (with its download name) is genuine and not
        expired."""
        if not NAME.match(name) or not _EXPIRY.fullmatch(expires):
            return None
        if download_as and not DOWNLOAD_NAME.fullmatch(download_as):
            return None
        if int(expires) < now.timestamp():
            return None
        # `compare_digest` raises on non-ASCII text; such a signature is simply wrong.
        if not signature.isascii() or not hmac.compare_digest(
            self._sign(name, int(expires), download_as), signature
        ):
            return None
        return self.root / name

    def logfile_link(
        self, *, logfile_id: int, ticket_id: int, now: datetime, ttl: timedelta = DEFAULT_TTL
    ) -> str:
        """A link to download one logfile of one ticket, valid until `now + ttl`."""
        expires = int((now + ttl).timestamp())
        signature = self._sign_logfile(logfile_id, ticket_id, expires)
        return (
            f"{self._base_url}/files/logfiles/{logfile_id}"
            f"?ticket={ticket_id}&expires={expires}&sig={signature}"
        )

    def logfile_if_valid(
        self, logfile_id: str, ticket_id: str, expires: str, signature: str, now: datetime
    ) -> LogfileGrant | None:
        """What a logfile link grants, if the link is genuine and not expired."""
        if not (_ROW_ID.fullmatch(logfile_id) and _ROW_ID.fullmatch(ticket_id)):
            return None
        if not _EXPIRY.fullmatch(expires) or int(expires) < now.timestamp():
            return None
        expected = self._sign_logfile(int(logfile_id), int(ticket_id), int(expires))
        if not signature.isascii() or not hmac.compare_digest(expected, signature):
            return None
        return LogfileGrant(logfile_id=int(logfile_id), ticket_id=int(ticket_id))

    def _sign_logfile(self, logfile_id: int, ticket_id: int, expires: int) -> str:
        message = f"logfile\n{logfile_id}\n{ticket_id}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def _sign(self, name: str, expires: int, download_as: str = "") -> str:
        # Links without a download name keep the signature they always had.
        message = f"{name}\n{expires}" + (f"\n{download_as}" if download_as else "")
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def _write(self, name: str, content: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / name).write_bytes(content)
