"""What a live room is made of, without I/O: its stored events, what a client may send and be answered, the limits.

A room is named ``<kind>/<id>`` (``opening/42``: the opening hall of tender 42). Everything it shows is an event,
numbered 1, 2, … within the room and stored, so that a client that comes back with ``?after=`` = the last number it
saw gets every event it missed, and nothing twice. Events go out as one JSON object each: ``seq``, ``kind``,
``at`` and the event's own fields.

A client's request is a JSON object with a ``type`` (the room says which) and, optionally, an ``id`` of its own
choosing: the room answers every request, in turn, with ``{"type": "ok", "id": …}`` or ``{"type": "error", "id":
…, "title": …, "detail"?: …, "errors"?: {field: message}}``, the id echoed (left out when the request had none),
so that a client with several requests in flight knows which answer is whose. Answers and heartbeats
(``{"type": "heartbeat"}``, after :data:`HEARTBEAT_INTERVAL` seconds in which nothing was sent) carry no ``seq``.

Who is present (an open connection, its heartbeat recent) is known to the room's own code, across processes, and is
not broadcast: each room decides who may learn it (the opening hall tells nobody, so that bidders do not learn one
another before the record is read; a scoring room will show its experts to its chair).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Annotated, Any

import msgspec

#: The largest request a client may send, in bytes of UTF-8: a share is about 300 characters, an objection 2,000.
#: A larger one is answered with an error and changes nothing. The server in front (granian, through tungstenite)
#: has no setting of its own for this: it refuses a frame over 16 MiB, or a message over 64 MiB, before holding it,
#: and closes the connection (1009).
MAX_MESSAGE = 64 * 1024
#: Events read from the database at a time while catching a client up (it reads on until a page is short).
EVENTS_PAGE = 500
#: Seconds without anything sent after which the room sends a heartbeat: proxies keep the connection, and a
#: client that hears nothing for twice as long knows it is lost.
HEARTBEAT_INTERVAL = 30.0
#: Seconds after its last heartbeat that an attendee counts as gone (its process died without saying so).
PRESENCE_TIMEOUT = 2.5 * HEARTBEAT_INTERVAL
#: A request's own id: what the client chose, echoed in the answer.
REQUEST_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
#: ``after``, the number of the last event a client saw: 0 (none) or an event's number (a bigint).
_AFTER = re.compile(r"[0-9]{1,19}")
_BIGINT_MAX = 2**63 - 1
#: A room's name: what it is, and of which record (``opening/42``).
_ROOM = re.compile(r"[a-z_]+/[0-9]+")


@dataclasses.dataclass(frozen=True, slots=True)
class RoomEvent:
    """An event of a room, as stored: its number within the room, its kind, and what it says."""

    room: str
    seq: int
    kind: str
    payload: dict[str, Any]
    at: dt.datetime


def room_name(kind: str, record_id: int) -> str:
    """The name of the room of ``kind`` (``opening``) for the record ``record_id`` (a tender's id)."""
    name = f"{kind}/{record_id}"
    assert _ROOM.fullmatch(name), name
    return name


def event_json(event: RoomEvent) -> str:
    """An event as the room sends it: one JSON object with its number, kind, time and its own fields."""
    return json.dumps({"seq": event.seq, "kind": event.kind, "at": event.at.isoformat(), **event.payload})


def parse_after(raw: str) -> int | None:
    """The ``after`` of a joining client as a number, or ``None`` when it is not 0 or an event's number."""
    if not _AFTER.fullmatch(raw) or int(raw) > _BIGINT_MAX:
        return None
    return int(raw)


class Request(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"):
    """What every request to a room may carry: the client's ``id`` of it. Rooms' requests derive from this, each
    with its ``tag`` (the ``type`` a client writes)."""

    id: Annotated[str, msgspec.Meta(pattern=REQUEST_ID)] | None = None


class _Labelled(msgspec.Struct, frozen=True):
    """Only the id of a request, whatever else it holds (or however it fails): to echo it in the answer."""

    id: Annotated[str, msgspec.Meta(pattern=REQUEST_ID)] | None = None


def request_id(text: str) -> str | None:
    """The client's id of a request, if it can be read from it at all (a request refused is still answered so)."""
    if len(text) > MAX_MESSAGE:
        return None
    try:
        return msgspec.json.decode(text, type=_Labelled).id
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


def answer(request: str | None, error: dict[str, Any] | None = None) -> str:
    """The answer to a request: ``ok``, or ``error`` with its (translated) title, detail and field errors."""
    body: dict[str, Any] = {"type": "ok"} if error is None else {"type": "error", **error}
    if request is not None:
        body["id"] = request
    return json.dumps(body, ensure_ascii=False)


HEARTBEAT = json.dumps({"type": "heartbeat"})
