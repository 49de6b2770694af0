"""The ASGI applications the HTTP baseline serves, as factories a server process can import.

- :func:`bare_app`: no framework at all, the ceiling a server can reach on this machine.
- :func:`project_app`: the platform itself, on the database named by ``DATABASE_URL``.
"""

from __future__ import annotations

import os
from typing import Any

from bidding.app import create_app
from bidding.settings import Settings

_BODY = b'{"status":"ok"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode("ascii"))]


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request with 200 and ``{"status":"ok"}``; complete the lifespan handshake."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await send({"type": "http.response.body", "body": _BODY})


def bare_app() -> Any:
    """The framework-free application."""
    return bare


def project_app() -> Any:
    """The platform, configured as in production apart from a fixed secret key."""
    return create_app(Settings(database_url=os.environ["DATABASE_URL"], secret_key="b" * 64))
