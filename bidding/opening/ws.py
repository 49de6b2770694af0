"""The opening hall: one websocket per person per tender, at ``/ws/tenders/{id}/opening?after=N``.

Everyone who may attend (the tender's registered bidders, its agency's staff, its custodians, supervisors) sees the
same numbered messages: the sealed bids frozen at the deadline (bidder names only), each share handed in, the key
rebuilt, each line of the record as it is read, confirmations, objections and answers, and the record's digest.
Messages are stored, so a client that reconnects with ``after`` = the last number it saw gets every one it missed,
from whichever process it reaches; a process learns of new ones through PostgreSQL NOTIFY (:mod:`bidding.bulletin`).
Clients act by sending JSON: ``{"type": "share", "share": …}`` (a custodian),
``{"type": "confirm"|"object", "bid": N, "text": …}`` (a bidder), ``{"type": "answer", "bid": N, "text": …}`` (the
agency), ``{"type": "file_key", "bid": N, "file_key": base64}`` (a bidder, the fallback), where N is the bid's id as
the hall's messages give it (decimal text) or as a number. Each gets ``{"type": "ok"}``
or ``{"type": "error", "detail": …}``; the hall's own messages say what happened.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import re
from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from bidding.bulletin import Bulletin
from bidding.db import Database
from bidding.errors import BiddingError, InvalidInput
from bidding.i18n import N_
from bidding.opening import repo, service
from bidding.web import actor_of, blobs_of, settings_of, translator_of

#: The largest message a client may send: a share is about 300 characters, an objection 2,000.
MAX_MESSAGE = 64 * 1024
#: How often a connection looks for new messages when the process has no bulletin to wake it (a test's app).
POLL_INTERVAL = 0.25
#: Close codes: not allowed to attend (4403), no such tender (4404).
CLOSE_FORBIDDEN = 4403


async def _act(socket: WebSocket[Any, Any, Any], db: Database, tender_id: int, unverified: dict[str, Any]) -> None:
    settings = settings_of(socket)
    blobs = blobs_of(socket)
    actor = actor_of(socket)
    kind = unverified.get("type")
    raw_bid = unverified.get("bid")
    # A bid's id as the hall's messages give it (text: see bidding.bids.model.bid_id_text), or as a JSON number.
    if isinstance(raw_bid, str) and re.fullmatch(r"[1-9][0-9]{0,18}", raw_bid):
        raw_bid = int(raw_bid)
    bid = raw_bid if isinstance(raw_bid, int) and not isinstance(raw_bid, bool) and 0 < raw_bid < 2**63 else None
    text = unverified.get("text")
    if kind == "share" and isinstance(unverified.get("share"), str):
        # The k-th share starts the opening of every bid: that runs on, reported through the hall's messages.
        await service.hand_in_share(db, settings, blobs, actor, tender_id, unverified["share"], background=True)
    elif bid is None:
        raise InvalidInput(errors={"bid": N_("Say which bid, by its id.")})
    elif kind == "confirm":
        await service.confirm_line(db, actor, bid)
    elif kind == "object" and isinstance(text, str):
        await service.object_to_line(db, actor, bid, text)
    elif kind == "answer" and isinstance(text, str):
        await service.answer_objection(db, actor, bid, text)
    elif kind == "file_key" and isinstance(unverified.get("file_key"), str):
        try:
            file_key = base64.b64decode(unverified["file_key"], validate=True)
        except binascii.Error:
            raise InvalidInput(errors={"file_key": N_("The file key must be base64.")}) from None
        await service.hand_in_file_key(db, settings, blobs, actor, bid, file_key)
    else:
        raise InvalidInput(errors={"type": N_("Unknown message: send share, confirm, object, answer or file_key.")})


async def _send_new(socket: WebSocket[Any, Any, Any], db: Database, tender_id: int, after: int) -> int:
    async with db.connection() as connection:
        messages = await repo.select_messages(connection, tender_id, after=after)
    for message in messages:
        await socket.send_text(repo.message_json(message))
        after = message.seq
    return after


def _same_origin(socket: WebSocket[Any, Any, Any]) -> bool:
    """Whether a browser opened this socket from one of the platform's own pages.

    Browsers send cookies with a websocket handshake to any site and do not apply CORS to it, so a page elsewhere
    could otherwise act in the hall as the person signed in (cross-site websocket hijacking). Browsers always
    send ``Origin``; programs (with a token) may not, and are not at risk.
    """
    origin = socket.headers.get("origin")
    if origin is None:
        return True
    settings = settings_of(socket)
    netloc = urlsplit(origin).netloc
    return netloc == socket.headers.get("host") or origin.rstrip("/") == settings.base_url.rstrip("/")


@websocket("/ws/tenders/{tender_id:int}/opening")
async def opening_hall(socket: WebSocket[Any, Any, Any], tender_id: FromPath[int]) -> None:
    db: Database = socket.app.state.database
    actor = actor_of(socket)
    if not _same_origin(socket) or not await service.may_attend(db, actor, tender_id):
        await socket.close(code=CLOSE_FORBIDDEN, reason="not allowed to attend this opening")
        return
    await socket.accept()
    raw_after = socket.query_params.get("after", "0")
    after = int(raw_after) if raw_after.isdigit() else 0
    translator = translator_of(socket)

    bulletin = db.bulletin

    async def follow() -> None:
        """Send what is new each time the hall is notified (taking the wake-up before reading: none is missed)."""
        nonlocal after
        while True:
            woken = bulletin.event(repo.HALL_CHANNEL, str(tender_id)) if bulletin is not None else None
            after = await _send_new(socket, db, tender_id, after)
            if woken is None:
                await asyncio.sleep(POLL_INTERVAL)
            else:
                await Bulletin.wait(woken)

    follower = asyncio.create_task(follow())
    try:
        while True:
            text = await socket.receive_text()
            answer: dict[str, Any] = {"type": "ok"}
            try:
                if len(text.encode()) > MAX_MESSAGE:
                    raise InvalidInput(N_("A message can have at most %(size)d bytes.", size=MAX_MESSAGE))
                try:
                    unverified = json.loads(text)
                except ValueError:
                    raise InvalidInput(N_("Messages are JSON objects.")) from None
                if not isinstance(unverified, dict):
                    raise InvalidInput(N_("Messages are JSON objects."))
                await _act(socket, db, tender_id, unverified)
            except BiddingError as error:
                answer = {"type": "error", "title": translator.render(error.title)}
                if error.detail is not None:
                    answer["detail"] = translator.render(error.detail)
                if error.errors:
                    answer["errors"] = {field: translator.render(m) for field, m in error.errors.items()}
            await socket.send_text(json.dumps(answer, ensure_ascii=False))
    except WebSocketDisconnect:
        pass
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await follower


routes = [opening_hall]
