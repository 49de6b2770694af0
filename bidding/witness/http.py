"""The witness's HTTP interface, ``POST /add-checkpoint`` (C2SP tlog-witness), as a bare ASGI application.

One route whose every byte on the wire the specification fixes (statuses, the ``text/x.tlog.size`` conflict body)
needs no framework: a framework's error pages and added charset parameters would only have to be undone. The
body is read up to :data:`~bidding.witness.model.MAX_BODY_SIZE`; a longer one is refused with 413 unread.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bidding.witness.model import MAX_BODY_SIZE, StaleOldSize, WitnessError
from bidding.witness.service import Witness
from bidding.witness.state import StateError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: A response: status, headers, body.
_Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

#: The media type of a 409's body, the size of the latest checkpoint cosigned (tlog-witness).
SIZE_MEDIA_TYPE = "text/x.tlog.size"
_TEXT = "text/plain; charset=utf-8"
PATH = "/add-checkpoint"

logger = logging.getLogger(__name__)


class _TooLarge(Exception):
    pass


async def _read_body(scope: Scope, receive: Receive) -> bytes | None:
    """The request body, or None if the client went away; raises _TooLarge beyond MAX_BODY_SIZE."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY_SIZE):
            raise _TooLarge
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > MAX_BODY_SIZE:
            raise _TooLarge
        if not message.get("more_body", False):
            return bytes(body)


class WitnessApplication:
    """The ASGI application of a :class:`~bidding.witness.service.Witness`."""

    def __init__(self, witness: Witness) -> None:
        self.witness = witness

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "http":
            answer = await self._answer(scope, receive)
            if answer is not None:
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _answer(self, scope: Scope, receive: Receive) -> _Answer | None:
        """The response to a request, or None when the client left before sending its whole body."""
        if scope["path"] != PATH:
            return _text(404, f"this witness answers POST {PATH} only\n")
        if scope["method"] != "POST":
            return _text(405, f"{PATH} takes POST\n", (b"allow", b"POST"))
        try:
            body = await _read_body(scope, receive)
        except _TooLarge:
            return _text(413, f"a request body has at most {MAX_BODY_SIZE} bytes\n")
        if body is None:
            return None
        try:
            cosignature = await self.witness.add_checkpoint(body)
        except StaleOldSize as error:
            # Exactly this media type, without a charset parameter: clients compare it as a whole.
            return 409, [(b"content-type", SIZE_MEDIA_TYPE.encode())], f"{error.size}\n".encode()
        except WitnessError as error:
            return _text(error.status, f"{error}\n")
        except StateError:
            logger.exception("the witness cannot keep its state: it cosigns nothing until this is fixed")
            return _text(500, "the witness cannot keep its state\n")
        return 200, [(b"content-type", _TEXT.encode())], cosignature


def _text(status: int, text: str, *headers: tuple[bytes, bytes]) -> _Answer:
    return status, [(b"content-type", _TEXT.encode()), *headers], text.encode()


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop: the state is read under its lock at each request."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
