"""Where files live: tender documents and sealed bids. A folder on one machine, named by content.

A blob is written to a temporary file in the store's folder while it is hashed and counted, then renamed to its
SHA-256: a crash leaves either no blob or a whole one, and two uploads of the same bytes are stored once.
Memory stays at one read buffer whatever the size.

Resumable uploads (tus) grow a file of their own in ``uploads/``, one request at a time; only bytes made durable
count. A whole upload is then adopted as a blob, by rename.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

#: Bytes read or written at a time.
BUFFER_SIZE = 256 * 1024


class BlobTooLarge(ValueError):
    """The data exceeded the size allowed; nothing was stored."""


class BlobMismatch(ValueError):
    """The data's SHA-256 is not the one announced; nothing was stored."""


class UploadBusy(RuntimeError):
    """Another request is writing to this upload."""


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

    # --- Resumable uploads ------------------------------------------------------------------------------------

    def upload_path(self, upload_id: str) -> Path:
        """The file of an upload in progress; ``upload_id`` is 32 hex digits (checked by the caller's database)."""
        if len(upload_id) != 32 or not all(c in "0123456789abcdef" for c in upload_id):
            raise KeyError(upload_id)
        return self.folder / "uploads" / upload_id

    async def append_upload(
        self, upload_id: str, offset: int, chunks: AsyncIterable[bytes], *, limit: int, checksum: Checksum | None
    ) -> int:
        """Write ``chunks`` at ``offset`` of an upload's file, make them durable, and return the new length.

        Anything past ``offset`` (bytes written by a request whose end was never recorded) is cut first. Stops
        with :class:`BlobTooLarge` past ``limit``. With ``checksum`` (tus checksum extension) the bytes of this
        request must match it, else :class:`BlobMismatch`; either way the file is cut back to ``offset`` and
        nothing of this request counts. A request cut short keeps what arrived: the client resumes from there.
        """
        path = self.upload_path(upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.new(checksum.algorithm) if checksum else None
        size = offset
        # The SHA-256 of the whole upload, carried from request to request in this process, so that a finished
        # upload need not be read again to be hashed (another process, or a gap, and it is read again).
        cached = _RUNNING.pop(path, None)
        running = hashlib.sha256() if offset == 0 else cached[1] if cached and cached[0] == offset else None
        with path.open("ab") as file:
            try:
                # One writer at a time, across processes too: a second request for the same upload is refused.
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadBusy(upload_id) from None
            file.truncate(offset)
            try:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise BlobTooLarge(f"more than {limit} bytes")
                    if digest is not None:
                        digest.update(chunk)
                    if running is not None:
                        running.update(chunk)
                    file.write(chunk)
                if digest is not None and checksum is not None and digest.digest() != checksum.digest:
                    raise BlobMismatch("the checksum of the request's bytes differs")
            except (BlobTooLarge, BlobMismatch):
                file.truncate(offset)
                raise
            except Exception:
                # The connection broke: what arrived is kept (tus core), once made durable below.
                if checksum is not None:
                    file.truncate(offset)
                    running = None
            file.flush()
            size = file.tell()
            if running is not None:
                while len(_RUNNING) >= MAX_RUNNING_HASHES:
                    del _RUNNING[next(iter(_RUNNING))]
                _RUNNING[path] = (size, running)
            await asyncio.to_thread(os.fsync, file.fileno())
        return size

    async def upload_sha256(self, upload_id: str) -> bytes:
        """The SHA-256 of an upload's file: as hashed on its way in, or else read again on a worker thread."""
        path = self.upload_path(upload_id)
        cached = _RUNNING.pop(path, None)
        if cached is not None and cached[0] == path.stat().st_size:
            hashed: bytes = cached[1].digest()
            return hashed

        def digest() -> bytes:
            with self.upload_path(upload_id).open("rb") as file:
                return hashlib.file_digest(file, "sha256").digest()

        return await asyncio.to_thread(digest)

    async def adopt_upload(self, upload_id: str, sha256: bytes) -> Blob:
        """Make a whole upload also the blob named by its SHA-256 (already computed), durably.

        The upload's file stays (a hard link): if what the blob was for is then refused, the upload can still be
        used; the caller deletes it once the blob's use is committed.
        """
        source = self.upload_path(upload_id)
        blob = Blob(sha256, source.stat().st_size)
        target = self.path(blob.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # the same bytes stored before: one copy serves
            os.link(source, target)
        await asyncio.to_thread(_fsync_directory, target.parent)
        return blob

    def delete_upload(self, upload_id: str) -> None:
        _RUNNING.pop(self.upload_path(upload_id), None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.upload_path(upload_id))


#: Uploads whose running SHA-256 this process keeps (about 200 bytes each); the oldest is dropped past it.
MAX_RUNNING_HASHES = 10_000
_RUNNING: dict[Path, tuple[int, Any]] = {}


#: Bytes of a refused body still read, and thrown away, before answering: a client that sends a body without
#: waiting for the answer (most do) gets the refusal rather than a connection closed under it.
DRAIN_LIMIT = 16 * 1024 * 1024


async def drain(chunks: AsyncIterable[bytes], limit: int = DRAIN_LIMIT) -> None:
    """Read and discard the rest of a refused body, up to ``limit`` bytes; past that the connection may close."""
    read = 0
    try:
        async for chunk in chunks:
            read += len(chunk)
            if read > limit:
                return
    except Exception:  # noqa: BLE001  # the client went away: nothing left to drain
        return


@dataclasses.dataclass(frozen=True, slots=True)
class Checksum:
    """A tus ``Upload-Checksum``: a hashlib algorithm name and the digest the request's bytes must have."""

    algorithm: str
    digest: bytes


def _fsync_directory(folder: Path) -> None:
    """Make a rename in ``folder`` durable: the file's name is in the directory, which has its own data."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
