"""Where files live: tender documents now, sealed bids later. A folder on one machine, named by content.

A blob is written to a temporary file in the store's folder while it is hashed and counted, then renamed to its
SHA-256: a crash leaves either no blob or a whole one, and two uploads of the same bytes are stored once.
Memory stays at one read buffer whatever the size.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable, Iterator
from pathlib import Path
from typing import BinaryIO

#: Bytes read or written at a time.
BUFFER_SIZE = 256 * 1024


class BlobTooLarge(ValueError):
    """The data exceeded the size allowed; nothing was stored."""


class BlobMismatch(ValueError):
    """The data's SHA-256 is not the one announced; nothing was stored."""


@dataclasses.dataclass(frozen=True, slots=True)
class Blob:
    sha256: bytes
    size: int

    @property
    def key(self) -> str:
        return self.sha256.hex()


class BlobStore:
    """Blobs in ``folder``, in subfolders by the first two hex digits of their SHA-256."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        """Where blob ``key`` is (or would be); raises ``KeyError`` for a key that is not a SHA-256 in hex."""
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise KeyError(key)
        return self.folder / key[:2] / key

    async def put_stream(
        self, chunks: AsyncIterable[bytes], *, max_size: int, expected_sha256: bytes | None = None
    ) -> Blob:
        """Store what ``chunks`` yield, durably, and return its hash and size.

        Raises :class:`BlobTooLarge` past ``max_size`` bytes and :class:`BlobMismatch` when ``expected_sha256``
        is given and differs; either way nothing is stored. File writes go to the page cache and are quick; the
        one slow call, the final fsync, runs on a worker thread so that other requests carry on meanwhile.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, draft = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as file:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_size:
                        raise BlobTooLarge(f"more than {max_size} bytes")
                    digest.update(chunk)
                    file.write(chunk)
                file.flush()
                await asyncio.to_thread(os.fsync, file.fileno())
            blob = Blob(digest.digest(), size)
            if expected_sha256 is not None and blob.sha256 != expected_sha256:
                raise BlobMismatch(f"SHA-256 {blob.key}, not {expected_sha256.hex()}")
            target = self.path(blob.key)
            target.parent.mkdir(exist_ok=True)
            os.replace(draft, target)
            await asyncio.to_thread(_fsync_directory, target.parent)
            return blob
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(draft)
            raise

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """The blob's bytes; raises ``KeyError`` if there is no such blob."""
        try:
            file = self.path(key).open("rb")  # noqa: SIM115  # closed by the with below
        except FileNotFoundError:
            raise KeyError(key) from None
        with file:
            yield file

    def exists(self, key: str) -> bool:
        return self.path(key).exists()


def _fsync_directory(folder: Path) -> None:
    """Make a rename in ``folder`` durable: the file's name is in the directory, which has its own data."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
