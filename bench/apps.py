"""The ASGI applications the benchmarks serve, as factories a server process can import.

- :func:`bare_app`: no framework at all, the ceiling a server can reach on this machine.
- :func:`project_app`: the platform itself, on the database named by ``DATABASE_URL``.
- :func:`sink_app`: ``PATCH /sink`` reads a request body as it streams in and throws it away (Litestar).
- :func:`stored_app`: ``PATCH /stored`` does what an upload must do, and nothing else (no framework).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import os
import tempfile
from typing import Any

from litestar import Litestar, Request, Response, get, patch

from bidding.app import create_app
from bidding.settings import Settings

_BODY = b'{"status":"ok"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode("ascii"))]
#: Where :func:`stored_app` writes: the blob store's folder of uploads in progress, on the same disk.
STORED_FOLDER = "BENCH_STORED_FOLDER"


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request with 200 and ``{"status":"ok"}``; complete the lifespan handshake."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await send({"type": "http.response.body", "body": _BODY})


def bare_app() -> Any:
    """The framework-free application."""
    return bare


def project_app() -> Any:
    """The platform, configured as in production apart from a fixed secret key."""
    return create_app(Settings(database_url=os.environ["DATABASE_URL"], secret_key="b" * 64))


# --- The upload baselines of bench/bids.py --------------------------------------------------------------------


@get("/", media_type="text/plain")
async def _ready() -> str:
    return "ok"


@patch("/sink", status_code=204, request_max_body_size=None)
async def _sink(request: Request[Any, Any, Any]) -> Response[None]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return Response(None, status_code=204, headers={"Upload-Offset": str(size)})


def sink_app() -> Litestar:
    """Receiving alone: ``PATCH /sink`` reads the request body as it streams in and throws it away (no limit)."""
    return Litestar([_ready, _sink], debug=False)


#: Bytes of the body :func:`stored` gathers before it hands them to its thread, which hashes and writes them.
STORED_BATCH = 1024 * 1024
#: The thread of :func:`stored` (it serves one upload at a time).
_STORING = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="stored")


def _store_batch(fd: int, digest: Any, batch: list[bytes], start: int) -> int:
    """Hash and write ``batch`` at the end of ``fd`` (at ``start``), and start writing it back to the disk."""
    end = start
    for piece in batch:
        digest.update(piece)
        view = memoryview(piece)
        while view:
            written = os.write(fd, view)
            view, end = view[written:], end + written
    # Linux starts the write-back at once when told the pages will not be read: the fsync waits for less.
    os.posix_fadvise(fd, start, end - start, os.POSIX_FADV_DONTNEED)
    return end


async def stored(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``PATCH /stored``: the body hashed with SHA-256 and written to a file of its own in the folder
    ``$BENCH_STORED_FOLDER`` as it arrives, the file fsynced at the end (and left there); the answer 204 with
    ``Upload-Offset`` (the size) and ``Upload-SHA256``. Any other request: 200 ``ok``.

    The work any upload must do before it may count its bytes, done as fast as we know how and nothing else: a
    thread hashes and writes each :data:`STORED_BATCH` (hashlib and ``os.write`` let go of the GIL) while the
    event loop receives the next, each batch's write-back to the disk is started as soon as it is written, so
    the final fsync has little left to wait for. So the upload can fall short of this baseline only by what it
    does besides (the framework, the database, the lock), and not beat it by technique alone.
    """
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    if scope["path"] != "/stored":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    loop = asyncio.get_running_loop()
    digest, size = hashlib.sha256(), 0
    # The file stays, as the platform's uploads do, for the run's end to remove with the folder: removing 100 MB
    # takes tens of milliseconds, which are no part of an upload.
    fd, _ = tempfile.mkstemp(dir=os.environ[STORED_FOLDER], prefix="bench-stored-")
    writing: asyncio.Future[int] | None = None
    try:
        batch: list[bytes] = []
        gathered = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            piece = message.get("body", b"")
            batch.append(piece)
            gathered += len(piece)
            more = message.get("more_body", False)
            if gathered >= STORED_BATCH or not more:
                # At most two batches in memory: the one being written, and the one being gathered.
                size = await writing if writing is not None else size
                writing = loop.run_in_executor(_STORING, _store_batch, fd, digest, batch, size)
                batch, gathered = [], 0
        size = await writing if writing is not None else size
        await loop.run_in_executor(_STORING, os.fsync, fd)
    finally:
        if writing is not None:  # never closed under its thread
            with contextlib.suppress(Exception):
                await writing
        os.close(fd)
    headers = [(b"upload-offset", str(size).encode()), (b"upload-sha256", digest.hexdigest().encode())]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def stored_app() -> Any:
    """The necessary work of an upload, without a framework: receive, SHA-256, write, fsync."""
    return stored
