"""The one websocket shell of every live room: :func:`serve_room`.

A room (see :mod:`bidding.rooms.model` for its events, requests and answers) supplies only who may attend and
what a request does; the shell does the rest, the same for every room: it refuses a socket opened from another
site's page, catches a client up from ``?after=`` (reading page after page until a short one), follows new events
as the bulletin announces them (:mod:`bidding.bulletin`), refuses a request over ``MAX_MESSAGE`` before decoding
it, answers each request with its client's id, keeps the connection open whatever a client sends, sends
heartbeats on a quiet connection, keeps the attendee's presence (``room_presence``, refreshed every heartbeat
interval, read with :func:`bidding.rooms.repo.select_present`), and closes with 1011 (logged with the request id)
on a failure of ours.

The server hands over whole messages: granian holds up to a 16 MiB frame and a 64 MiB message before the shell
sees one (and closes the connection past that), and has no setting to hold less.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from bidding.bulletin import Wakeups
from bidding.db import Database
from bidding.errors import BiddingError, InvalidInput
from bidding.i18n import N_
from bidding.rooms import model, repo
from bidding.web import actor_of, request_id, settings_of, translator_of

logger = logging.getLogger(__name__)

#: Close codes: not allowed to attend (4403), a handshake that cannot be read (4400).
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_REQUEST = 4400

Socket = WebSocket[Any, Any, Any]
#: Whether the person behind a socket may attend the room (asked before the socket is accepted).
MayAttend = Callable[[Socket], Awaitable[bool]]
#: Does what one request asks (its text, at most MAX_MESSAGE bytes), or raises BiddingError saying why not.
Handle = Callable[[Socket, str], Awaitable[None]]


def same_origin(socket: Socket) -> bool:
    """Whether a browser opened this socket from one of the platform's own pages.

    Browsers send cookies with a websocket handshake to any site and do not apply CORS to it, so a page elsewhere
    could otherwise act in a room as the person signed in (cross-site websocket hijacking). Browsers always
    send ``Origin``; programs (with a token) may not, and are not at risk.
    """
    origin = socket.headers.get("origin")
    if origin is None:
        return True
    settings = settings_of(socket)
    netloc = urlsplit(origin).netloc
    return netloc == socket.headers.get("host") or origin.rstrip("/") == settings.base_url.rstrip("/")


async def serve_room(socket: Socket, room: str, may_attend: MayAttend, handle: Handle, *, label: str) -> None:
    """Serve one attendee of ``room`` until it leaves; ``label`` names the room in the server's log."""
    try:
        await _serve(socket, room, may_attend, handle)
    except WebSocketDisconnect:
        pass
    except Exception:
        # A bug, not the client's doing: logged with the request id a report can quote, and the connection
        # closed as the protocol says for a server error (1011), instead of the framework's bare 4500.
        logger.exception("websocket %s failed: %s", request_id(socket.scope), label)
        with contextlib.suppress(Exception):
            await socket.close(code=1011, reason=f"internal error, request {request_id(socket.scope)}")


class _Sender:
    """Sends on the socket and remembers when it last did, for the heartbeat."""

    def __init__(self, socket: Socket) -> None:
        self._socket = socket
        self.last = time.monotonic()

    async def send(self, text: str) -> None:
        await self._socket.send_text(text)
        self.last = time.monotonic()


async def send_new(sender: _Sender, db: Database, room: str, after: int) -> int:
    """Send every event after ``after``, page by page until a short page; returns the last number sent."""
    while True:
        async with db.connection() as connection:
            events = await repo.select_events(connection, room, after)
        for event in events:
            await sender.send(model.event_json(event))
            after = event.seq
        if len(events) < model.EVENTS_PAGE:
            return after


async def _serve(socket: Socket, room: str, may_attend: MayAttend, handle: Handle) -> None:
    db: Database = socket.app.state.database
    bulletin: Wakeups = socket.app.state.bulletin
    if not same_origin(socket) or not await may_attend(socket):
        await socket.close(code=CLOSE_FORBIDDEN, reason="not allowed to attend")
        return
    await socket.accept()
    after = model.parse_after(socket.query_params.get("after", "0"))
    if after is None:
        await socket.close(code=CLOSE_BAD_REQUEST, reason="after is the number of the last message seen, or 0")
        return
    translator = translator_of(socket)
    sender = _Sender(socket)
    attendance = uuid.uuid4()
    principal = actor_of(socket).principal
    async with db.connection() as connection:
        await repo.insert_presence(connection, room, attendance, principal.user_id if principal else None)

    async def follow(after: int) -> None:
        """Send what is new each time the room is notified (taking the wake-up before reading: none is missed);
        on a quiet connection, a heartbeat; at every heartbeat interval, the attendee's presence refreshed."""
        seen = time.monotonic()
        while True:
            woken = bulletin.event(repo.ROOMS_CHANNEL, room)
            after = await send_new(sender, db, room, after)
            now = time.monotonic()
            if now - sender.last >= model.HEARTBEAT_INTERVAL:
                await sender.send(model.HEARTBEAT)
            if now - seen >= model.HEARTBEAT_INTERVAL:
                async with db.connection() as connection:
                    await repo.set_presence_seen(connection, attendance)
                seen = now
            due = min(sender.last, seen) + model.HEARTBEAT_INTERVAL - time.monotonic()
            await bulletin.wait(woken, max(due, 0.0))

    follower = asyncio.create_task(follow(after))
    try:
        while True:
            text = await socket.receive_text()
            request = model.request_id(text)
            error: dict[str, Any] | None = None
            try:
                if len(text.encode()) > model.MAX_MESSAGE:
                    raise InvalidInput(N_("A message can have at most %(size)d bytes.", size=model.MAX_MESSAGE))
                await handle(socket, text)
            except BiddingError as refused:
                # The attendee's mistake (or a refusal of the use case): said, and the connection stays open.
                error = {"title": translator.render(refused.title)}
                if refused.detail is not None:
                    error["detail"] = translator.render(refused.detail)
                if refused.errors:
                    error["errors"] = {field: translator.render(m) for field, m in refused.errors.items()}
            await sender.send(model.answer(request, error))
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await follower
        # Best effort: a row left behind (the database unreachable just now) counts as gone after PRESENCE_TIMEOUT.
        with contextlib.suppress(Exception):
            async with db.connection() as connection:
                await asyncio.shield(repo.delete_presence(connection, attendance))
