"""The bidder API: resumable envelope uploads (tus 1.0: core, creation, termination, checksum), bid submission,
replacement, withdrawal and receipts, under ``/api/v1/``.

A tus client (tus-js-client, tusd's clients, or any written from the protocol) creates an upload at
``/api/v1/tenders/{id}/uploads`` and sends it to the ``Location`` it is given; then the bid is submitted with
the signed statement naming the upload.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, head, patch, post, route
from litestar.datastructures import ResponseHeader
from litestar.enums import HttpMethod, MediaType
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.types import Message as ASGIMessage
from litestar.types import Scope

from bidding.accounts.guards import requires
from bidding.bids import model, service
from bidding.errors import BiddingError, Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound, TooLarge
from bidding.i18n import N_
from bidding.identity import Role
from bidding.inputs import RowId
from bidding.openapi import Header, documented
from bidding.web import DB, PathId, actor_of, blobs_of, bulletin_of, id_parameter, settings_of

bidders = requires(Role.BIDDER)

_TUS_PATH = re.compile(r"^/api/v1/(uploads/|tenders/\d+/uploads$)")
_TUS_HEADERS = [(b"tus-resumable", model.TUS_VERSION.encode())]
_NO_STORE = {"Cache-Control": "no-store"}


async def add_tus_headers(message: ASGIMessage, scope: Scope) -> None:
    """Every response of the tus endpoints, errors included, carries ``Tus-Resumable`` (tus 1.0, core).

    A HEAD answer there has no body and describes none, so it names no ``Content-Type`` (the framework sets one
    on every response).
    """
    if message["type"] == "http.response.start" and _TUS_PATH.match(scope["path"]):
        headers = message.get("headers", ())
        if scope.get("method") == "HEAD":
            headers = [(name, value) for name, value in headers if name.lower() != b"content-type"]
        message["headers"] = [*headers, *_TUS_HEADERS]


class UnsupportedTusVersion(BiddingError):
    status_code = 412
    code = "tus-version"
    title = N_("This tus version is not supported")

    def __init__(self) -> None:
        super().__init__(
            N_("This server speaks tus %(version)s.", version=model.TUS_VERSION),
            headers={"Tus-Version": model.TUS_VERSION},
        )


class NotOffsetOctetStream(BiddingError):
    status_code = 415
    code = "unsupported-media-type"
    title = N_("Upload bytes are sent as application/offset+octet-stream")


def _check_version(request: Request[Any, Any, Any]) -> None:
    if request.headers.get("tus-resumable") != model.TUS_VERSION:
        raise UnsupportedTusVersion()


def _upload_id(raw: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", raw):
        raise NotFound(N_("There is no such upload."))
    return raw


#: The tus request headers, as the operations' descriptions name them.
_TUS_RESUMABLE = Header(
    "Tus-Resumable",
    "The tus version the client speaks: 1.0.0.",
    required=True,
    schema={"type": "string", "const": "1.0.0"},
)
_TUS_ANSWER = [
    ResponseHeader(name="Tus-Resumable", description="1.0.0, on every answer.", documentation_only=True),
]
_TUS_DISCOVERY = [
    *_TUS_ANSWER,
    ResponseHeader(name="Tus-Version", description="1.0.0", documentation_only=True),
    ResponseHeader(name="Tus-Extension", description=model.TUS_EXTENSIONS, documentation_only=True),
    ResponseHeader(name="Tus-Checksum-Algorithm", description="sha1,sha256", documentation_only=True),
]


def _discovery(max_size: int | None) -> Response[None]:
    headers = {
        "Tus-Version": model.TUS_VERSION,
        "Tus-Extension": model.TUS_EXTENSIONS,
        "Tus-Checksum-Algorithm": ",".join(model.TUS_CHECKSUMS),
    }
    if max_size is not None:
        headers["Tus-Max-Size"] = str(max_size)
    return Response(None, status_code=204, headers=headers)


@route(
    "/api/v1/tenders/{tender_id:int}/uploads",
    http_method=[HttpMethod.OPTIONS],
    tags=["bids"],
    status_code=204,
    response_headers=[
        *_TUS_DISCOVERY,
        ResponseHeader(
            name="Tus-Max-Size",
            description="The largest envelope this tender takes, in bytes (absent for a tender not open to bids).",
            documentation_only=True,
        ),
    ],
)
async def tus_options(db: DB, tender_id: PathId) -> Response[None]:
    """What this tus server supports for envelopes of this tender (tus 1.0, core: OPTIONS)."""
    return _discovery(await service.envelope_limit(db, tender_id))


@route(
    "/api/v1/uploads/{upload_id:str}",
    http_method=[HttpMethod.OPTIONS],
    tags=["bids"],
    status_code=204,
    response_headers=_TUS_DISCOVERY,
)
async def tus_upload_options(upload_id: FromPath[str]) -> Response[None]:
    """What this tus server supports (tus 1.0, core: OPTIONS); an upload's length is fixed when it is made."""
    return _discovery(None)


@post(
    "/api/v1/tenders/{tender_id:int}/uploads",
    tags=["bids"],
    guards=[bidders],
    status_code=201,
    response_headers=[
        *_TUS_ANSWER,
        ResponseHeader(
            name="Location", description="The upload's address: send its bytes there.", documentation_only=True
        ),
    ],
    opt=documented(
        model.TusError,
        UnsupportedTusVersion,
        Forbidden,
        InvalidTransition,
        TooLarge,
        headers=[
            _TUS_RESUMABLE,
            Header(
                "Upload-Length",
                "The envelope's size in bytes, 1 to the tender's limit.",
                required=True,
                schema={"type": "string", "pattern": "^[1-9][0-9]{0,15}$"},
            ),
            Header("Upload-Metadata", "tus metadata (`key base64,…`); accepted and ignored."),
        ],
    ),
)
async def create_upload(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Response[None]:
    """Create a tus upload for an envelope (``Upload-Length`` in bytes; at most the tender's size limit).

    ``Upload-Metadata`` is accepted and ignored: the statement says everything about the envelope.
    """
    _check_version(request)
    length = model.parse_upload_length(request.headers.get("upload-length"))
    model.parse_metadata(request.headers.get("upload-metadata"))
    upload_id = await service.create_upload(db, blobs_of(request), actor_of(request), tender_id, length)
    return Response(None, status_code=201, headers={"Location": f"/api/v1/uploads/{upload_id}", **_NO_STORE})


@head(
    "/api/v1/uploads/{upload_id:str}",
    tags=["bids"],
    guards=[bidders],
    response_headers=[
        *_TUS_ANSWER,
        ResponseHeader(name="Upload-Offset", description="The bytes made durable so far.", documentation_only=True),
        ResponseHeader(name="Upload-Length", description="The envelope's size.", documentation_only=True),
    ],
    opt=documented(UnsupportedTusVersion, headers=[_TUS_RESUMABLE]),
)
async def upload_offset(request: Request[Any, Any, Any], db: DB, upload_id: FromPath[str]) -> Response[None]:
    """Where to resume: ``Upload-Offset`` (the bytes made durable) and ``Upload-Length``."""
    _check_version(request)
    upload = await service.upload_status(db, actor_of(request), _upload_id(upload_id))
    return Response(
        None,
        status_code=200,
        media_type=MediaType.TEXT,
        headers={"Upload-Offset": str(upload.received), "Upload-Length": str(upload.length), **_NO_STORE},
    )


@patch(
    "/api/v1/uploads/{upload_id:str}",
    tags=["bids"],
    guards=[bidders],
    status_code=204,
    # The upload's announced length bounds what is written, as the body streams in.
    request_max_body_size=None,
    response_headers=[
        *_TUS_ANSWER,
        ResponseHeader(name="Upload-Offset", description="The offset after these bytes.", documentation_only=True),
    ],
    opt=documented(
        model.TusError,
        UnsupportedTusVersion,
        NotOffsetOctetStream,
        Conflict,
        InvalidTransition,
        TooLarge,
        service.ChecksumMismatch,
        headers=[
            _TUS_RESUMABLE,
            Header(
                "Upload-Offset",
                "Where these bytes go: the upload's current offset.",
                required=True,
                schema={"type": "string", "pattern": "^(0|[1-9][0-9]{0,15})$"},
            ),
            Header("Upload-Checksum", "`sha1 base64` or `sha256 base64` of these bytes, checked on arrival."),
        ],
        body=("application/offset+octet-stream", {"type": "string", "format": "binary"}),
    ),
)
async def upload_bytes(request: Request[Any, Any, Any], db: DB, upload_id: FromPath[str]) -> Response[None]:
    """Append bytes at ``Upload-Offset``; optionally checked against ``Upload-Checksum`` (sha1 or sha256)."""
    _check_version(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/offset+octet-stream":
        raise NotOffsetOctetStream()
    offset = model.parse_length(request.headers.get("upload-offset"), "Upload-Offset")
    checksum = model.parse_checksum(request.headers.get("upload-checksum"))
    received = await service.append_upload(
        db, blobs_of(request), actor_of(request), _upload_id(upload_id), offset, request.stream(), checksum
    )
    return Response(None, status_code=204, headers={"Upload-Offset": str(received)})


@delete(
    "/api/v1/uploads/{upload_id:str}",
    tags=["bids"],
    guards=[bidders],
    status_code=204,
    response_headers=_TUS_ANSWER,
    opt=documented(UnsupportedTusVersion, headers=[_TUS_RESUMABLE]),
)
async def terminate_upload(request: Request[Any, Any, Any], db: DB, upload_id: FromPath[str]) -> None:
    """Drop an upload and its bytes (tus termination)."""
    _check_version(request)
    await service.terminate_upload(db, blobs_of(request), actor_of(request), _upload_id(upload_id))


# --- Bids -----------------------------------------------------------------------------------------------------


class SubmissionIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: The id of a whole upload (the last part of its URL).
    upload: str
    #: The signed statement (a C2SP signed note), as text.
    statement: Annotated[str, msgspec.Meta(max_length=4096)]
    #: The id of the bid this one replaces, if any.
    replaces: RowId | None = None


class BidOut(msgspec.Struct, frozen=True):
    #: A random positive 63-bit number, which says nothing of how many bids there are (beyond 2^53: clients whose
    #: JSON numbers are doubles, such as JavaScript's, should read it as text).
    id: int
    #: How people see the bid: 12 characters in groups of four, derived from the id, the same on every page.
    reference: str
    tender_id: int
    lot: int
    slot: str
    status: model.BidStatus
    envelope_sha256: str
    envelope_size: int
    statement_sha256: str
    submitted_at: dt.datetime
    ended_at: dt.datetime | None
    replaced_by: int | None
    outcome_reason: str | None
    receipt_url: str


class SubmittedOut(msgspec.Struct, frozen=True):
    bid: BidOut
    #: The tlog-proof receipt (text), or ``null`` if the log had not published it yet: fetch ``receipt_url``.
    receipt: str | None
    #: The private record the log entry commits to (bids are sealed entries until the opening).
    record: dict[str, Any]


def _bid(bid: model.Bid) -> BidOut:
    return BidOut(
        id=bid.id,
        reference=bid.reference,
        tender_id=bid.tender_id,
        lot=bid.lot,
        slot=bid.slot,
        status=bid.status,
        envelope_sha256=bid.envelope_sha256.hex(),
        envelope_size=bid.envelope_size,
        statement_sha256=bid.statement_sha256.hex(),
        submitted_at=bid.submitted_at,
        ended_at=bid.ended_at,
        replaced_by=bid.replaced_by,
        outcome_reason=bid.outcome_reason,
        receipt_url=f"/api/v1/bids/{bid.id}/receipt",
    )


def _submitted(submitted: service.Submitted) -> SubmittedOut:
    return SubmittedOut(
        _bid(submitted.bid), submitted.receipt.decode() if submitted.receipt else None, submitted.record
    )


@post(
    "/api/v1/tenders/{tender_id:int}/bids",
    tags=["bids"],
    guards=[bidders],
    status_code=201,
    opt=documented(Forbidden, Conflict, InvalidTransition, InvalidInput),
)
async def submit_bid(
    request: Request[Any, Any, Any], db: DB, tender_id: PathId, data: JSONBody[SubmissionIn]
) -> SubmittedOut:
    """Submit a whole upload as a sealed bid, with its signed statement; returns the bid and its receipt.

    With ``replaces``, the new bid takes the place of that sealed bid (same lot and slot), in one step.
    """
    submitted = await service.submit_bid(
        db,
        settings_of(request),
        blobs_of(request),
        actor_of(request),
        tender_id,
        upload_id=_upload_id(data.upload),
        signed_statement=data.statement.encode(),
        replaces=data.replaces,
        bulletin=bulletin_of(request),
    )
    return _submitted(submitted)


@post(
    "/api/v1/bids/{bid_id:int}/withdrawal",
    tags=["bids"],
    guards=[bidders],
    status_code=200,
    opt=documented(Forbidden, InvalidTransition),
)
async def withdraw_bid(request: Request[Any, Any, Any], db: DB, bid_id: PathId) -> SubmittedOut:
    """Withdraw a sealed bid before the deadline; returns the withdrawal's receipt."""
    return _submitted(
        await service.withdraw_bid(db, settings_of(request), actor_of(request), bid_id, bulletin=bulletin_of(request))
    )


@get("/api/v1/bids", tags=["bids"], guards=[bidders], opt=documented(Forbidden))
async def list_bids(
    request: Request[Any, Any, Any],
    db: DB,
    tender: Annotated[int | None, id_parameter("Only the bids in this tender")] = None,
) -> list[BidOut]:
    """Your organisation's bids, newest first (or, in one tender, oldest first)."""
    return [_bid(bid) for bid in await service.own_bids(db, actor_of(request), tender)]


@get("/api/v1/bids/{bid_id:int}", tags=["bids"], guards=[bidders], opt=documented(Forbidden))
async def read_bid(request: Request[Any, Any, Any], db: DB, bid_id: PathId) -> BidOut:
    return _bid(await service.own_bid(db, actor_of(request), bid_id))


@get(
    "/api/v1/bids/{bid_id:int}/receipt",
    tags=["bids"],
    guards=[bidders],
    media_type="text/plain; charset=utf-8",
    opt=documented(Forbidden, InvalidTransition),
)
async def bid_receipt(
    request: Request[Any, Any, Any],
    db: DB,
    bid_id: PathId,
    ended: Annotated[bool, QueryParameter(description="The receipt of the replacement or withdrawal")] = False,
) -> Response[bytes]:
    """The bid's receipt (C2SP tlog-proof): ``bidding log proof`` checks it offline."""
    receipt = await service.bid_receipt(
        db, settings_of(request), actor_of(request), bid_id, ended=ended, bulletin=bulletin_of(request)
    )
    return Response(receipt, media_type="text/plain; charset=utf-8", headers=_NO_STORE)


routes = [
    tus_options,
    tus_upload_options,
    create_upload,
    upload_offset,
    upload_bytes,
    terminate_upload,
    submit_bid,
    withdraw_bid,
    list_bids,
    read_bid,
    bid_receipt,
]
