"""The opening hall: the room ``opening/<tender id>``, one websocket per person per tender, at
``/ws/tenders/{id}/opening?after=N``, served by the rooms' shell (:func:`bidding.rooms.ws.serve_room`).

Everyone who may attend (the tender's registered bidders, its agency's staff, its custodians, supervisors) sees the
same numbered events (``{"seq", "kind", "at", …}``): the sealed bids frozen at the deadline (``bids_frozen``,
bidder names only), each share handed in (``share``), the key rebuilt (``key_rebuilt``), each line of the record
as it is read (``line``), confirmations, objections and answers (``confirmed``, ``objection``, ``answer``), and
the record's digest (``record``). A client that reconnects with ``after`` = the last number it saw gets every one
it missed, from whichever process it reaches.

Clients act by sending JSON: ``{"type": "share", "share": …}`` (a custodian),
``{"type": "confirm"|"object", "bid": N, "text": …}`` (a bidder), ``{"type": "answer", "bid": N, "text": …}`` (the
agency), ``{"type": "file_key", "bid": N, "file_key": base64}`` (a bidder, the fallback), where N is the bid's id as
the hall's messages give it (decimal text) or as a number. Each may carry ``"id"``, the client's own name for the
request (1 to 64 letters, digits, ``_.:-``). Each gets ``{"type": "ok", "id": …}`` or ``{"type": "error", "id": …,
"title": …, "detail"?: …, "errors"?: …}``, the id echoed when there was one; the hall's own events say what
happened.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import WebSocket, websocket

from bidding.errors import InvalidInput
from bidding.i18n import N_
from bidding.inputs import MalformedRequest, RowId, decode_base64, decode_json, parse_id
from bidding.opening import hall, reading
from bidding.opening import model as opening_model
from bidding.rooms.model import Request
from bidding.rooms.ws import serve_room
from bidding.web import PathId, actor_of, blobs_of, settings_of

logger = logging.getLogger(__name__)


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


class ShareMessage(Request, frozen=True, tag="share"):
    share: Annotated[str, msgspec.Meta(max_length=1000)]


class ConfirmMessage(Request, frozen=True, tag="confirm"):
    bid: BidId


class ObjectMessage(Request, frozen=True, tag="object"):
    bid: BidId
    text: Annotated[str, msgspec.Meta(max_length=opening_model.MAX_OBJECTION)]


class AnswerMessage(Request, frozen=True, tag="answer"):
    bid: BidId
    text: Annotated[str, msgspec.Meta(max_length=opening_model.MAX_OBJECTION)]


class FileKeyMessage(Request, frozen=True, tag="file_key"):
    bid: BidId
    #: The envelope's 16-byte file key, base64.
    file_key: Annotated[str, msgspec.Meta(max_length=64)]


HallMessage = ShareMessage | ConfirmMessage | ObjectMessage | AnswerMessage | FileKeyMessage


def parse_message(text: str) -> HallMessage:
    """A client's message, checked; raises :class:`BiddingError` saying what is wrong with it."""
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


async def act(socket: WebSocket[Any, Any, Any], text: str) -> None:
    """What a request in the hall does (the rooms' ``handle``): the use case it names, as the person behind it."""
    tender_id: int = socket.path_params["tender_id"]
    db = socket.app.state.database
    settings = settings_of(socket)
    blobs = blobs_of(socket)
    actor = actor_of(socket)
    match parse_message(text):
        case ShareMessage(share=share):
            # The k-th share starts the opening of every bid: that runs on, reported through the hall's messages.
            await hall.hand_in_share(db, settings, blobs, actor, tender_id, share, background=True)
        case ConfirmMessage(bid=bid):
            await hall.confirm_line(db, actor, _bid_id(bid))
        case ObjectMessage(bid=bid, text=objection):
            await hall.object_to_line(db, actor, _bid_id(bid), objection)
        case AnswerMessage(bid=bid, text=answer):
            await hall.answer_objection(db, actor, _bid_id(bid), answer)
        case FileKeyMessage(bid=bid, file_key=file_key):
            file_key_bytes = decode_base64(file_key, "file_key")
            await reading.hand_in_file_key(db, settings, blobs, actor, _bid_id(bid), file_key_bytes)


async def may_attend(socket: WebSocket[Any, Any, Any]) -> bool:
    """Whether the person behind the socket may attend this tender's hall (see :func:`hall.may_attend`)."""
    return await hall.may_attend(socket.app.state.database, actor_of(socket), socket.path_params["tender_id"])


@websocket("/ws/tenders/{tender_id:int}/opening")
async def opening_hall(socket: WebSocket[Any, Any, Any], tender_id: PathId) -> None:
    await serve_room(
        socket, opening_model.hall_room(tender_id), may_attend, act, label=f"opening hall of tender {tender_id}"
    )


routes = [opening_hall]
