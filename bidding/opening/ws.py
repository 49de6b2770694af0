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
import contextlib
import json
import logging
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from bidding.bulletin import Bulletin
from bidding.db import Database
from bidding.errors import BiddingError, InvalidInput
from bidding.i18n import N_
from bidding.inputs import BIGINT_MAX, MalformedRequest, RowId, decode_base64, decode_json, parse_id
from bidding.opening import model as opening_model
from bidding.opening import repo, service
from bidding.web import PathId, actor_of, blobs_of, request_id, settings_of, translator_of

logger = logging.getLogger(__name__)

#: The largest message a client may send: a share is about 300 characters, an objection 2,000.
MAX_MESSAGE = 64 * 1024
#: How often a connection looks for new messages when the process has no bulletin to wake it (a test's app).
POLL_INTERVAL = 0.25
#: Close codes: not allowed to attend (4403), a handshake that cannot be read (4400).
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_REQUEST = 4400
#: ``after``, the number of the last message a client saw: 0 (none) or a message number.
_AFTER = re.compile(r"[0-9]{1,19}")


# --- What a client may send -----------------------------------------------------------------------------------
# Each message is one of these, told apart by ``type``; msgspec checks every field (ids within bigint, lengths),
# so a message that reaches a use case is well formed, and one that is not gets an error naming the field.


#: A bid's id as the hall's own messages write it: decimal text (JSON numbers past 2^53 lose digits in browsers,
#: see ``bidding.bids.model``), or a number from a program.
BidId = RowId | Annotated[str, msgspec.Meta(pattern=r"^[1-9][0-9]{0,18}$")]


def _bid_id(bid: int | str) -> int:
    found = parse_id(bid) if isinstance(bid, str) else bid
    if found is None:
        raise InvalidInput(errors={"bid": N_("Say which bid, by its id.")})
    return found


class ShareMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type", tag="share"):
    share: Annotated[str, msgspec.Meta(max_length=1000)]


class ConfirmMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type", tag="confirm"):
    bid: BidId


class ObjectMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type", tag="object"):
    bid: BidId
    text: Annotated[str, msgspec.Meta(max_length=opening_model.MAX_OBJECTION)]


class AnswerMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type", tag="answer"):
    bid: BidId
    text: Annotated[str, msgspec.Meta(max_length=opening_model.MAX_OBJECTION)]


class FileKeyMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type", tag="file_key"):
    bid: BidId
    #: The envelope's 16-byte file key, base64.
    file_key: Annotated[str, msgspec.Meta(max_length=64)]


HallMessage = ShareMessage | ConfirmMessage | ObjectMessage | AnswerMessage | FileKeyMessage


def parse_message(text: str) -> HallMessage:
    """A client's message, checked; raises :class:`BiddingError` saying what is wrong with it."""
    if len(text.encode()) > MAX_MESSAGE:
        raise InvalidInput(N_("A message can have at most %(size)d bytes.", size=MAX_MESSAGE))
    try:
        message: HallMessage = decode_json(text, HallMessage)
    except MalformedRequest:
        raise InvalidInput(N_("Messages are JSON objects.")) from None
    except InvalidInput as error:
        if "type" in error.errors:
            raise InvalidInput(
                errors={"type": N_("Unknown message: send share, confirm, object, answer or file_key.")}
            ) from None
        raise
    return message


async def _act(socket: WebSocket[Any, Any, Any], db: Database, tender_id: int, message: HallMessage) -> None:
    settings = settings_of(socket)
    blobs = blobs_of(socket)
    actor = actor_of(socket)
    match message:
        case ShareMessage(share=share):
            # The k-th share starts the opening of every bid: that runs on, reported through the hall's messages.
            await service.hand_in_share(db, settings, blobs, actor, tender_id, share, background=True)
        case ConfirmMessage(bid=bid):
            await service.confirm_line(db, actor, _bid_id(bid))
        case ObjectMessage(bid=bid, text=text):
            await service.object_to_line(db, actor, _bid_id(bid), text)
        case AnswerMessage(bid=bid, text=text):
            await service.answer_objection(db, actor, _bid_id(bid), text)
        case FileKeyMessage(bid=bid, file_key=file_key):
            file_key_bytes = decode_base64(file_key, "file_key")
            await service.hand_in_file_key(db, settings, blobs, actor, _bid_id(bid), file_key_bytes)


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
async def opening_hall(socket: WebSocket[Any, Any, Any], tender_id: PathId) -> None:
    try:
        await _serve_hall(socket, tender_id)
    except WebSocketDisconnect:
        pass
    except Exception:
        # A bug, not the client's doing: logged with the request id a report can quote, and the connection
        # closed as the protocol says for a server error (1011), instead of the framework's bare 4500.
        logger.exception("websocket %s failed: opening hall of tender %d", request_id(socket.scope), tender_id)
        with contextlib.suppress(Exception):
            await socket.close(code=1011, reason=f"internal error, request {request_id(socket.scope)}")


async def _serve_hall(socket: WebSocket[Any, Any, Any], tender_id: int) -> None:
    db: Database = socket.app.state.database
    actor = actor_of(socket)
    if not _same_origin(socket) or not await service.may_attend(db, actor, tender_id):
        await socket.close(code=CLOSE_FORBIDDEN, reason="not allowed to attend this opening")
        return
    await socket.accept()
    raw_after = socket.query_params.get("after", "0")
    if not _AFTER.fullmatch(raw_after) or int(raw_after) > BIGINT_MAX:
        await socket.close(code=CLOSE_BAD_REQUEST, reason="after is the number of the last message seen, or 0")
        return
    after = int(raw_after)
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
                await _act(socket, db, tender_id, parse_message(text))
            except BiddingError as error:
                # The attendee's mistake (or a refusal of the use case): said, and the connection stays open.
                answer = {"type": "error", "title": translator.render(error.title)}
                if error.detail is not None:
                    answer["detail"] = translator.render(error.detail)
                if error.errors:
                    answer["errors"] = {field: translator.render(m) for field, m in error.errors.items()}
            await socket.send_text(json.dumps(answer, ensure_ascii=False))
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await follower


routes = [opening_hall]
