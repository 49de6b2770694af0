"""The custody ceremony and the opening, under ``/api/v1/``, and the opening hall at ``/ws/tenders/{id}/opening``."""

from __future__ import annotations

import base64
import datetime as dt
import os
import tempfile
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, get, post, put
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, JSONBody
from litestar.response import File

from bidding.accounts.guards import requires, signed_in
from bidding.errors import Forbidden, InvalidInput, InvalidTransition
from bidding.identity import Role
from bidding.inputs import decode_base64
from bidding.openapi import documented
from bidding.opening import ceremony, hall, reading
from bidding.opening import documents as opened
from bidding.web import DB, PathId, actor_of, blobs_of, settings_of

agency_staff = requires(Role.AGENCY_STAFF)
custodians = requires(Role.CUSTODIAN)
bidders = requires(Role.BIDDER)
supervisors = requires(Role.SUPERVISOR)
#: The signed opening record, as ``opening/model.py`` writes it (canonical JSON, RFC 8785).
OPENING_RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "tender", "opened_at", "lines"],
    "properties": {
        "format": {"const": "bidding/opening-record/v1"},
        "tender": {"type": "string", "description": "The tender's reference."},
        "opened_at": {"type": "string", "description": "When the key was rebuilt (RFC 3339)."},
        "lines": {
            "type": "array",
            "description": "Each bid as read out, in order: the bidder, lot and slot, and its outcome: `opened` with "
            "its price sheet (`currency`, `total`, `duration_days`, `bid_security`, `remarks`), or `revoked` / "
            "`withdrawn` with a `reason`.",
            "items": {
                "type": "object",
                "required": ["outcome"],
                "properties": {"outcome": {"enum": ["opened", "revoked", "withdrawn"]}},
            },
        },
    },
}


#: The largest ceremony file: sixteen sealed shares of about 1.5 KiB each, in base64, and their digests.
MAX_CEREMONY = 256 * 1024


class CustodianOut(msgspec.Struct, frozen=True):
    user_id: int
    login: str
    display_name: str
    #: The custodian's registered recipient, or ``null`` until the custodian registers a key.
    recipient: str | None


class ShareOut(msgspec.Struct, frozen=True):
    custodian: str
    member: int
    sealed_sha256: str
    share_sha256: str
    handed_in_at: dt.datetime | None
    #: When the custodian last said its share opened with its key file and matched its digest.
    checked_at: dt.datetime | None


class CustodyOut(msgspec.Struct, frozen=True):
    """What ``bidding custody ceremony`` reads (the tender, k, the custodians' recipients) and what was recorded."""

    format: str
    tender: str
    threshold: int
    custodians: list[CustodianOut]
    #: The opening recipient, once the ceremony is recorded.
    recipient: str | None
    shares: list[ShareOut]


async def _custody(request: Request[Any, Any, Any], db: DB, tender_id: int) -> CustodyOut:
    view = await ceremony.custody_view(db, actor_of(request), tender_id)
    return CustodyOut(
        "bidding/custody-request/v1",
        view.reference,
        view.threshold,
        [CustodianOut(c.user_id, c.login, c.display_name, c.recipient) for c in view.custodians],
        view.custody.recipient if view.custody else None,
        [
            ShareOut(s.login, s.member, s.sealed_sha256.hex(), s.share_sha256.hex(), s.handed_in_at, s.checked_at)
            for s in view.shares
        ],
    )


@get("/api/v1/tenders/{tender_id:int}/custody", tags=["opening"], guards=[signed_in])
async def read_custody(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> CustodyOut:
    """The ceremony's inputs and outcome: for the tender's staff, its custodians and supervisors."""
    return await _custody(request, db, tender_id)


@put(
    "/api/v1/tenders/{tender_id:int}/custody",
    tags=["opening"],
    guards=[agency_staff],
    status_code=200,
    request_max_body_size=MAX_CEREMONY,
    opt=documented(
        Forbidden,
        InvalidTransition,
        InvalidInput,
        body=(
            "application/json",
            {
                "type": "object",
                "description": "The ceremony file `bidding custody ceremony` (or the custody page) writes: format "
                "`bidding/ceremony/v1`, the tender, k, the opening recipient, and each custodian's sealed share "
                "with its digests.",
            },
        ),
    ),
)
async def record_ceremony(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> CustodyOut:
    """Record the ceremony file (from the browser or ``bidding custody ceremony``); the body is the file."""
    await ceremony.record_ceremony(db, actor_of(request), tender_id, await request.body())
    return await _custody(request, db, tender_id)


@get(
    "/api/v1/tenders/{tender_id:int}/custody/share",
    tags=["opening"],
    guards=[custodians],
    media_type="application/octet-stream",
    response_headers=[
        ResponseHeader(
            name="X-Share-SHA256",
            description="The share's published digest (hex), to check it.",
            documentation_only=True,
        )
    ],
    opt=documented(content={"application/octet-stream": {"type": "string", "format": "binary"}}),
)
async def read_own_share(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Response[bytes]:
    """Your sealed share (an age file): open it with your key file to check it, or at the opening to hand it in."""
    share = await ceremony.own_sealed_share(db, actor_of(request), tender_id)
    return Response(
        share.sealed,
        media_type="application/octet-stream",
        headers={"X-Share-SHA256": share.share_sha256.hex(), "Cache-Control": "no-store"},
    )


class ShareCheckOut(msgspec.Struct, frozen=True):
    checked_at: dt.datetime


@post(
    "/api/v1/tenders/{tender_id:int}/custody/share/check",
    tags=["opening"],
    guards=[custodians],
    status_code=200,
    opt=documented(Forbidden, InvalidTransition),
)
async def record_share_check(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> ShareCheckOut:
    """Say that your sealed share opened with your key file and matched its published digest (checked on your own
    machine: the share itself is sent only at the opening). The agency sees when each custodian last checked."""
    return ShareCheckOut(await ceremony.record_share_check(db, actor_of(request), tender_id))


@post(
    "/api/v1/tenders/{tender_id:int}/opening",
    tags=["opening"],
    guards=[agency_staff],
    status_code=204,
    opt=documented(Forbidden, InvalidTransition),
)
async def start_opening(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> None:
    """Start the opening after the deadline: the sealed bids are frozen and listed in the hall
    (``/ws/tenders/{id}/opening``), where custodians then hand in their shares."""
    await hall.start_opening(db, settings_of(request), actor_of(request), tender_id)


class ShareIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: The share's words, as the opened sealed share holds them.
    share: Annotated[str, msgspec.Meta(max_length=1000)]


class HandedInOut(msgspec.Struct, frozen=True):
    #: Shares handed in so far.
    count: int


@post(
    "/api/v1/tenders/{tender_id:int}/opening/shares",
    tags=["opening"],
    guards=[custodians],
    status_code=200,
    opt=documented(Forbidden, InvalidTransition, InvalidInput),
)
async def hand_in_share(
    request: Request[Any, Any, Any], db: DB, tender_id: PathId, data: JSONBody[ShareIn]
) -> HandedInOut:
    """Hand in your opened share; with the k-th, every bid is opened and read out (after this answers: follow the
    hall, or ask for the record until it is there)."""
    count = await hall.hand_in_share(
        db, settings_of(request), blobs_of(request), actor_of(request), tender_id, data.share, background=True
    )
    return HandedInOut(count)


@post(
    "/api/v1/tenders/{tender_id:int}/opening/finish",
    tags=["opening"],
    guards=[agency_staff],
    status_code=204,
    opt=documented(Forbidden, InvalidTransition),
)
async def finish_opening(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> None:
    """Close the opening when the custodians cannot reach k: bids not read are withdrawn (not the bidders' fault)."""
    await reading.finish_opening(db, settings_of(request), actor_of(request), tender_id)


class FileKeyIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: The envelope's 16-byte file key, base64.
    file_key: Annotated[str, msgspec.Meta(max_length=64)]


@post(
    "/api/v1/bids/{bid_id:int}/file-key",
    tags=["opening"],
    guards=[bidders],
    status_code=200,
    opt=documented(InvalidTransition, InvalidInput),
)
async def hand_in_file_key(
    request: Request[Any, Any, Any], db: DB, bid_id: PathId, data: JSONBody[FileKeyIn]
) -> dict[str, Any]:
    """The fallback when the custodians cannot reach k: your envelope's file key opens only your bid."""
    file_key = decode_base64(data.file_key, "file_key")
    return await reading.hand_in_file_key(
        db, settings_of(request), blobs_of(request), actor_of(request), bid_id, file_key
    )


@get(
    "/api/v1/bids/{bid_id:int}/header",
    tags=["opening"],
    guards=[bidders],
    media_type="application/octet-stream",
    opt=documented(content={"application/octet-stream": {"type": "string", "format": "binary"}}),
)
async def read_own_header(request: Request[Any, Any, Any], db: DB, bid_id: PathId) -> Response[bytes]:
    """Your envelope's age header (up to its ``---`` MAC line): unwrap your file key from it with your key file
    (``bidding file-key``, or the opening hall) to hand it in when the custodians cannot reach k."""
    header = await reading.own_envelope_header(db, blobs_of(request), actor_of(request), bid_id)
    return Response(header, media_type="application/octet-stream", headers={"Cache-Control": "private, no-store"})


class TextIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=4000)]


@post(
    "/api/v1/bids/{bid_id:int}/confirmation",
    tags=["opening"],
    guards=[bidders],
    status_code=204,
    opt=documented(InvalidTransition),
)
async def confirm_line(request: Request[Any, Any, Any], db: DB, bid_id: PathId) -> None:
    """Confirm your line of the opening record."""
    await hall.confirm_line(db, actor_of(request), bid_id)


@post(
    "/api/v1/bids/{bid_id:int}/objection",
    tags=["opening"],
    guards=[bidders],
    status_code=204,
    opt=documented(InvalidTransition, InvalidInput),
)
async def object_to_line(request: Request[Any, Any, Any], db: DB, bid_id: PathId, data: JSONBody[TextIn]) -> None:
    """Object to your line of the opening record (异议); the agency must answer."""
    await hall.object_to_line(db, actor_of(request), bid_id, data.text)


@post(
    "/api/v1/bids/{bid_id:int}/objection/answer",
    tags=["opening"],
    guards=[agency_staff],
    status_code=204,
    opt=documented(Forbidden, InvalidTransition, InvalidInput),
)
async def answer_objection(request: Request[Any, Any, Any], db: DB, bid_id: PathId, data: JSONBody[TextIn]) -> None:
    """Answer an objection to a line of the opening record."""
    await hall.answer_objection(db, actor_of(request), bid_id, data.text)


@get(
    "/api/v1/tenders/{tender_id:int}/opening/record",
    tags=["opening"],
    media_type="application/json",
    response_headers=[
        ResponseHeader(
            name="X-Record-Signature",
            description="The platform's signature of the record (a signed note by the log key), base64.",
            documentation_only=True,
        )
    ],
    opt=documented(content={"application/json": OPENING_RECORD_SCHEMA}),
)
async def opening_record(db: DB, tender_id: PathId) -> Response[bytes]:
    """The signed opening record (canonical JSON); its signature, a signed note by the log key, is in
    ``X-Record-Signature`` (base64)."""
    record, signature = await reading.opening_record(db, tender_id)
    return Response(
        record, media_type="application/json", headers={"X-Record-Signature": base64.b64encode(signature).decode()}
    )


class OpenedDocumentOut(msgspec.Struct, frozen=True):
    name: str
    size: int
    sha256: str
    url: str


@get("/api/v1/bids/{bid_id:int}/documents", tags=["opening"], guards=[supervisors], opt=documented(InvalidTransition))
async def opened_documents(request: Request[Any, Any, Any], db: DB, bid_id: PathId) -> list[OpenedDocumentOut]:
    """The documents of an opened bid, as its signed manifest lists them (supervisors)."""
    documents = await opened.opened_documents(db, blobs_of(request), actor_of(request), bid_id)
    return [
        OpenedDocumentOut(d.name, d.size, d.sha256.hex(), f"/api/v1/bids/{bid_id}/documents/{quote(d.name)}")
        for d in documents
    ]


@get(
    "/api/v1/bids/{bid_id:int}/documents/{name:str}",
    tags=["opening"],
    guards=[supervisors],
    media_type="application/octet-stream",
    opt=documented(InvalidTransition, content={"application/octet-stream": {"type": "string", "format": "binary"}}),
)
async def opened_document(request: Request[Any, Any, Any], db: DB, bid_id: PathId, name: FromPath[str]) -> File:
    """One document of an opened bid, decrypted on the fly from the sealed envelope (supervisors).

    The plaintext exists only in a temporary file for the time of the download.
    """
    plaintext = tempfile.NamedTemporaryFile(prefix="opened-", delete=False)  # noqa: SIM115  # removed after sending
    try:
        with plaintext:
            await opened.extract_document(db, blobs_of(request), actor_of(request), bid_id, name, plaintext)
    except BaseException:
        os.unlink(plaintext.name)
        raise
    return File(
        path=plaintext.name,
        filename=name,
        content_disposition_type="attachment",
        headers={"Cache-Control": "private, no-store"},
        background=BackgroundTask(os.unlink, plaintext.name),
    )


routes = [
    opened_documents,
    opened_document,
    read_custody,
    record_ceremony,
    read_own_share,
    record_share_check,
    start_opening,
    hand_in_share,
    finish_opening,
    read_own_header,
    hand_in_file_key,
    confirm_line,
    object_to_line,
    answer_objection,
    opening_record,
]
