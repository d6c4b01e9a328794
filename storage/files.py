"""Logfiles on disk, content-addressed by SHA-256: `files/ab/cd/abcd…`.

Files arrive as a stream of chunks and are written to a temporary file as they come, hashed
on the way, and only then moved under their hash: never the whole file in memory, never a
half-written file under a real name. The same bytes are stored once however often they come.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from storage.errors import FileRejected

DEFAULT_MAX_BYTES = 100 * 1024 * 1024

# What the contract's logfiles look like: archives, logs and text, HAR, JSON, CSV, captures,
# screenshots. Anything else (executables, office documents, …) is refused with the reason.
ALLOWED_EXTENSIONS = frozenset(
    {
        "zip", "7z", "gz", "tgz", "tar", "bz2", "xz",
        "log", "txt", "trc", "out", "xml",
        "har", "json", "csv",
        "pcap", "pcapng", "cap",
        "png", "jpg", "jpeg", "gif", "bmp", "webp",
    }
)  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
MAX_NAME_LENGTH = 120
MAX_ORIGINAL_NAME = 255


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """Where the bytes are, and what identifies them."""

    sha256: str
    size: int
    path: Path


def safe_name(name: str) -> str:
    """A file name safe to show and store: no path, no control or odd characters."""
    base = PureWindowsPath(PurePosixPath(name).name).name  # strip both kinds of directories
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._") or "file"
    stem, dot, extension = cleaned.rpartition(".")
    if dot and len(cleaned) > MAX_NAME_LENGTH:
        return f"{stem[: MAX_NAME_LENGTH - len(extension) - 1]}.{extension}"
    return cleaned[:MAX_NAME_LENGTH]


def original_name(name: str) -> str:
    """The name as it was sent, for the `Content-Disposition` of a download: umlauts and
    spaces kept, but no directories and no control or formatting characters."""
    base = PureWindowsPath(PurePosixPath(name).name).name
    kept = "".join(c for c in unicodedata.normalize("NFC", base) if _printable(c))
    return kept.strip()[:MAX_ORIGINAL_NAME] or safe_name(name)


def _printable(character: str) -> bool:
    # Cc control, Cf format (bidi overrides that disguise an extension), Cs/Co/Cn odd ones.
    return not unicodedata.category(character).startswith("C")


def extension_of(name: str) -> str:
    """The lower-case extension (`tar.gz` counts as `gz`)."""
    return name.rpartition(".")[2].lower() if "." in name else ""


def check_type(name: str) -> None:
    """Raise `FileRejected("type")` unless the name's extension is on the allow-list."""
    if extension_of(name) not in ALLOWED_EXTENSIONS:
        raise FileRejected("type", extension_of(name) or "no extension")


class BlobStore:
    """Streams files to disk under their SHA-256."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_of(self, sha256: str) -> Path:
        """Where the bytes with this hash live."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def store(self, chunks: AsyncIterator[bytes]) -> StoredBlob:
        """Write the stream to disk; `FileRejected("too_large")` past the size limit."""
        incoming = self.root / "incoming"
        await asyncio.to_thread(incoming.mkdir, parents=True, exist_ok=True)
        temporary = incoming / f"{uuid.uuid4().hex}.part"
        digest, size = hashlib.sha256(), 0
        handle = await asyncio.to_thread(temporary.open, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > self.max_bytes:
                    raise FileRejected("too_large", str(self.max_bytes))
                digest.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
        except BaseException:
            await asyncio.to_thread(_close_and_remove, handle, temporary)
            raise
        finally:
            # Stopping early (too large) must release the download's connection now, not when
            # the garbage collector finds the abandoned generator.
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
        await asyncio.to_thread(handle.close)
        sha256 = digest.hexdigest()
        final = self.path_of(sha256)
        await asyncio.to_thread(_move_into_place, temporary, final)
        return StoredBlob(sha256=sha256, size=size, path=final)


def _close_and_remove(handle: object, path: Path) -> None:
    close = getattr(handle, "close", None)
    if close is not None:
        close()
    path.unlink(missing_ok=True)


def _move_into_place(temporary: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    # os.replace is atomic on one filesystem; the same bytes twice simply land on themselves.
    os.replace(temporary, final)
