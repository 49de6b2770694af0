"""Where files live: tender documents and sealed bids, named by content: a folder, or an S3-compatible bucket.

A blob is written to a temporary file in the store's folder while it is hashed and counted, then kept under its
SHA-256 (renamed in the folder, or put in the bucket): a crash leaves either no blob or a whole one, and two
uploads of the same bytes are stored once. Memory stays at one read buffer whatever the size.

Resumable uploads (tus) grow a file of their own in the folder's ``uploads/``, one request at a time; only bytes
made durable count. A whole upload is then adopted as a blob (a hard link, or a put to the bucket). With a
bucket, the folder holds only uploads in progress.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import fcntl
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import urlsplit

from bidding import workers

if TYPE_CHECKING:
    from bidding.bids.model import Checksum
    from bidding.settings import Settings

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
            await self._keep(Path(draft), blob, move=True)
            return blob
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(draft)

    async def _keep(self, source: Path, blob: Blob, *, move: bool) -> None:
        """Make the whole file ``source`` the blob ``blob``, durably; with ``move`` the source may be used up."""
        target = self.path(blob.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            os.replace(source, target)
        else:
            with contextlib.suppress(FileExistsError):  # the same bytes stored before: one copy serves
                os.link(source, target)
        await asyncio.to_thread(_fsync_directory, target.parent)

    def reader(self, key: str) -> BinaryIO:
        """The blob's bytes, to read in order and close; raises ``KeyError`` if there is no such blob.

        Blocking: call it, and read what it returns, on a worker thread.
        """
        try:
            return self.path(key).open("rb")
        except FileNotFoundError:
            raise KeyError(key) from None

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """:meth:`reader` for a ``with`` block."""
        source = self.reader(key)
        try:
            yield source
        finally:
            source.close()

    def exists(self, key: str) -> bool:
        """Whether blob ``key`` is stored (blocking, like :meth:`reader`)."""
        return self.path(key).exists()

    # --- Resumable uploads ------------------------------------------------------------------------------------

    def upload_path(self, upload_id: str) -> Path:
        """The file of an upload in progress; ``upload_id`` is 32 hex digits (checked by the caller's database)."""
        if len(upload_id) != 32 or not all(c in "0123456789abcdef" for c in upload_id):
            raise KeyError(upload_id)
        return self.folder / "uploads" / upload_id

    @contextlib.asynccontextmanager
    async def writing(self, upload_id: str) -> AsyncIterator[UploadFile]:
        """Hold an upload's file to write to it: one request at a time, across processes too (a second is refused
        with :class:`UploadBusy`), so that what the caller records of it while holding it is what the file holds."""
        path = self.upload_path(upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as file:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadBusy(upload_id) from None
            yield UploadFile(path, file)

    async def append_upload(
        self, upload_id: str, offset: int, chunks: AsyncIterable[bytes], *, limit: int, checksum: Checksum | None
    ) -> int:
        """:meth:`UploadFile.append` on the upload's file, held for the time of it."""
        async with self.writing(upload_id) as upload:
            return await upload.append(offset, chunks, limit=limit, checksum=checksum)

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

        The upload's file stays: if what the blob was for is then refused, the upload can still be used; the caller
        deletes it once the blob's use is committed.
        """
        source = self.upload_path(upload_id)
        blob = Blob(sha256, source.stat().st_size)
        await self._keep(source, blob, move=False)
        return blob

    def delete_upload(self, upload_id: str) -> None:
        _RUNNING.pop(self.upload_path(upload_id), None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.upload_path(upload_id))


class UploadFile:
    """An upload's file, held by one request (see :meth:`BlobStore.writing`)."""

    def __init__(self, path: Path, file: BinaryIO) -> None:
        self._path = path
        self._file = file

    async def append(self, offset: int, chunks: AsyncIterable[bytes], *, limit: int, checksum: Checksum | None) -> int:
        """Write ``chunks`` at ``offset``, make them durable, and return the new length.

        Anything past ``offset`` (bytes written by a request whose end was never recorded) is cut first. Stops
        with :class:`BlobTooLarge` past ``limit``. With ``checksum`` (tus checksum extension) the bytes of this
        request must match it, else :class:`BlobMismatch`; either way the file is cut back to ``offset`` and
        nothing of this request counts. A request cut short keeps what arrived: the client resumes from there.
        """
        file, path = self._file, self._path
        size = offset
        # The SHA-256 of the whole upload, carried from request to request in this process, so that a finished
        # upload need not be read again to be hashed (another process, or a gap, and it is read again).
        cached = _RUNNING.pop(path, None)
        running = hashlib.sha256() if offset == 0 else cached[1] if cached and cached[0] == offset else None
        # From the first byte, a sha256 checksum of the request is the running SHA-256 itself: hashed once.
        same = offset == 0 and checksum is not None and checksum.algorithm == "sha256"
        digest = running if same else hashlib.new(checksum.algorithm) if checksum else None
        file.truncate(offset)
        hashes = [h for h in (digest, running) if h is not None]
        writer = _Writer(file, hashes[:1] if same else hashes)
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise BlobTooLarge(f"more than {limit} bytes")
                await writer.add(chunk)
            await writer.finish()
            if digest is not None and checksum is not None and digest.digest() != checksum.digest:
                raise BlobMismatch("the checksum of the request's bytes differs")
        except (BlobTooLarge, BlobMismatch):
            writer.stop()
            file.truncate(offset)
            raise
        except Exception:
            # The connection broke: what arrived is kept (tus core), once made durable below.
            await writer.finish()
            if checksum is not None:
                file.truncate(offset)
                running = None
        finally:
            writer.stop()
        size = file.tell()
        if running is not None:
            while len(_RUNNING) >= MAX_RUNNING_HASHES:
                del _RUNNING[next(iter(_RUNNING))]
            _RUNNING[path] = (size, running)
        await asyncio.to_thread(os.fsync, file.fileno())
        return size


#: The S3 error code of an object that is not there.
NO_SUCH_KEY = "NoSuchKey"


class S3BlobStore(BlobStore):
    """Blobs in an S3-compatible bucket, as objects named like the folder store's files (``ab/abcd…``).

    ``folder`` holds drafts and uploads in progress only. A put is durable once the bucket has answered it (S3
    acknowledges a write only when it is stored); multipart for large files, by the client library.
    """

    def __init__(self, folder: Path, url: str, access_key: str, secret_key: str, region: str) -> None:
        # Imported here: the client library takes longer to import (0.16 s) than most commands take to run.
        from minio import Minio

        super().__init__(folder)
        self._made_with = (folder, url, access_key, secret_key, region)
        parts = urlsplit(url)
        self.bucket = parts.path.strip("/")
        self.client = Minio(
            parts.netloc, access_key=access_key, secret_key=secret_key, secure=parts.scheme == "https", region=region
        )

    def __reduce__(self) -> tuple[type[S3BlobStore], tuple[Path, str, str, str, str]]:
        """Made again from its settings in another process (one opening bids): a client is not carried across."""
        return S3BlobStore, self._made_with

    def _name(self, key: str) -> str:
        return self.path(key).relative_to(self.folder).as_posix()

    async def _keep(self, source: Path, blob: Blob, *, move: bool) -> None:
        await asyncio.to_thread(
            self.client.fput_object, bucket_name=self.bucket, object_name=self._name(blob.key), file_path=str(source)
        )

    def reader(self, key: str) -> BinaryIO:
        from minio.error import S3Error

        try:
            response = self.client.get_object(bucket_name=self.bucket, object_name=self._name(key))
        except S3Error as error:
            if error.code == NO_SUCH_KEY:
                raise KeyError(key) from None
            raise
        return cast(BinaryIO, _Response(response))

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        try:
            self.client.stat_object(bucket_name=self.bucket, object_name=self._name(key))
        except S3Error as error:
            if error.code == NO_SUCH_KEY:
                return False
            raise
        return True


class _Response:
    """An object's body being received: read in order, then closed (which gives the connection back)."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._response.read(None if size < 0 else size)
        return data

    def close(self) -> None:
        self._response.close()
        self._response.release_conn()


def blob_store(settings: Settings) -> BlobStore:
    """The store the settings name: their S3-compatible bucket if one is set, else their folder."""
    if settings.s3_url is None:
        return BlobStore(settings.blobs)
    return S3BlobStore(
        settings.blobs, settings.s3_url, settings.s3_access_key or "", settings.s3_secret_key or "", settings.s3_region
    )


async def chunks_of(source: BinaryIO) -> AsyncIterator[bytes]:
    """What ``source`` holds, read on a worker thread a buffer at a time, for a streamed response; closes it."""
    try:
        while chunk := await asyncio.to_thread(source.read, BUFFER_SIZE):
            yield chunk
    finally:
        await asyncio.to_thread(source.close)


#: Bytes of an upload gathered before they are handed to a writer thread: one batch is hashed and written while
#: the next arrives, so an upload holds at most two batches in memory.
HAND_OFF_SIZE = 1024 * 1024


class _Writer:
    """Hashes and writes an upload's bytes on a worker thread, a batch at a time, while the next batch arrives.

    Receiving a body, hashing it and writing it each take about as long; one after the other they would take
    three times as long as receiving alone. Each written batch is also sent on its way to the disk at once
    (``posix_fadvise``), so that the fsync at the end has only the last batch to wait for.
    """

    def __init__(self, file: BinaryIO, hashes: list[Any]) -> None:
        self._file = file
        self._hashes = hashes
        self._batch: list[bytes] = []
        self._batched = 0
        self._pending: concurrent.futures.Future[None] | None = None

    async def add(self, chunk: bytes) -> None:
        self._batch.append(chunk)
        self._batched += len(chunk)
        if self._batched >= HAND_OFF_SIZE:
            await self._hand_off()

    async def finish(self) -> None:
        """Write what is gathered and wait until everything is written."""
        await self._hand_off()
        await self._wait()

    def stop(self) -> None:
        """Wait, blocking, for a batch being written (at most one, a millisecond or so) and drop what is gathered.

        For when the request ends early, cancelled or refused: the file must not be written to after.
        """
        self._batch, self._batched = [], 0
        pending, self._pending = self._pending, None
        if pending is not None:
            with contextlib.suppress(Exception):
                pending.result()

    async def _hand_off(self) -> None:
        batch, self._batch, self._batched = self._batch, [], 0
        await self._wait()
        if batch:
            self._pending = workers.current().writers.submit(self._write, batch)

    async def _wait(self) -> None:
        if self._pending is not None:
            await asyncio.wrap_future(self._pending)
            self._pending = None

    def _write(self, batch: list[bytes]) -> None:
        start = self._file.tell()
        for chunk in batch:
            for hashed in self._hashes:
                hashed.update(chunk)
            self._file.write(chunk)
        self._file.flush()
        # Linux starts writing the batch back at once (without waiting for it) when told it will not be read.
        os.posix_fadvise(self._file.fileno(), start, self._file.tell() - start, os.POSIX_FADV_DONTNEED)


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
    except Exception:  # the client went away: nothing left to drain
        return


def _fsync_directory(folder: Path) -> None:
    """Make a rename in ``folder`` durable: the file's name is in the directory, which has its own data."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
