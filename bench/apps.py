"""The ASGI applications the benchmarks serve, as factories a server process can import.

- :func:`bare_app`: no framework at all, the ceiling a server can reach on this machine.
- :func:`project_app`: the platform itself, on the database named by ``DATABASE_URL``.
- :func:`sink_app`: ``PATCH /sink`` reads a request body as it streams in and throws it away (Litestar).
- :func:`stored_app`: ``PATCH /stored`` does what an upload must do, and nothing else (no framework).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
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


async def stored(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``PATCH /stored``: each piece of the body, as it arrives, added to a SHA-256 and written to a file of its
    own in the folder ``$BENCH_STORED_FOLDER``; at the end the file fsynced, then removed; the answer 204 with
    ``Upload-Offset`` (the size) and ``Upload-SHA256``. Any other request: 200 ``ok``.

    The work any upload must do before it may count its bytes, done in the plainest way: one piece after the
    other, in the event loop (it serves one upload at a time), with the server receiving the next meanwhile.
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
    digest, size = hashlib.sha256(), 0
    fd, path = tempfile.mkstemp(dir=os.environ[STORED_FOLDER], prefix="bench-stored-")
    try:
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            piece = memoryview(message.get("body", b""))
            digest.update(piece)
            size += len(piece)
            while piece:
                piece = piece[os.write(fd, piece) :]
            more = message.get("more_body", False)
        os.fsync(fd)
    finally:
        os.close(fd)
        Path(path).unlink()
    headers = [(b"upload-offset", str(size).encode()), (b"upload-sha256", digest.hexdigest().encode())]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def stored_app() -> Any:
    """The necessary work of an upload, without a framework: receive, SHA-256, write, fsync."""
    return stored
