"""The tenders API under ``/api/v1/`` (JSON; amounts as decimal strings, times in RFC 3339) and document downloads.

The pages live in :mod:`bidding.tenders.pages`; both call the same use cases (:mod:`~bidding.tenders.reading`,
:mod:`~bidding.tenders.drafting`, :mod:`~bidding.tenders.documents`, :mod:`~bidding.tenders.questions`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from bidding.accounts.guards import requires, signed_in
from bidding.blobs import chunks_of
from bidding.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound, TooLarge
from bidding.i18n import N_
from bidding.identity import Role
from bidding.inputs import base64_bytes, parse_id
from bidding.openapi import Header, documented
from bidding.opendata.model import ocid
from bidding.settings import Settings
from bidding.tenders import documents, drafting, model, questions, reading, search, search_model
from bidding.tenders.model import Category, Criterion, LocalText, Method, Procedure, Status, TenderInput
from bidding.web import DB, PathId, actor_of, attachment, blobs_of, settings_of

logger = logging.getLogger(__name__)

agency_staff = requires(Role.AGENCY_STAFF)
_LOCATION = ResponseHeader(name="Location", description="The address of what was made.", documentation_only=True)
bidders = requires(Role.BIDDER)

# --- What the API returns -------------------------------------------------------------------------------------


class PartyOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    name_en: str | None
    credit_code: str | None


class LotOut(msgspec.Struct, frozen=True):
    number: int
    title: LocalText
    budget: str
    bid_security: str
    method: Method
    criteria: list[Criterion]


class DocumentOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    version: int
    #: Hex SHA-256 of the file.
    sha256: str
    size: int
    content_type: str
    uploaded_at: dt.datetime
    #: Whether this is the newest version of its name.
    current: bool
    url: str


class TenderOut(msgspec.Struct, frozen=True):
    id: int
    ocid: str
    reference: str
    #: As of now: a tender open for bids whose deadline has passed is ``closed``.
    status: Status
    category: Category
    procedure: Procedure
    region: str
    currency: str
    budget: str
    title: LocalText
    description: LocalText
    documents_from: dt.datetime
    questions_until: dt.datetime
    deadline: dt.datetime
    evaluation_at: dt.datetime
    committee_size: int
    specialties: list[model.Specialty]
    custody_threshold: int
    custodians: int
    #: The age recipient (``age1pq1…``) bids are sealed to; ``null`` until the custody ceremony is recorded.
    opening_recipient: str | None
    version: int
    agency: PartyOut
    purchaser: PartyOut
    #: The contact person of the organisation running the tender (all three values given once published).
    contact: model.Contact
    #: The purchaser's own contact person, ``null`` when the notice gives none.
    purchaser_contact: model.Contact | None
    published_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str | None
    lots: list[LotOut]
    documents: list[DocumentOut]
    #: Published questions with their answers, each answer's corrections beside it (the newest is in force).
    questions: list[reading.QuestionView]
    amendments: list[model.Amendment]
    #: Whether your organisation is registered for the tender (``null`` when you are not a bidder).
    registered: bool | None


class TenderSummaryOut(msgspec.Struct, frozen=True):
    id: int
    reference: str
    status: Status
    category: Category
    procedure: Procedure
    region: str
    budget: str
    title: LocalText
    deadline: dt.datetime
    published_at: dt.datetime | None
    agency_name: str
    purchaser_name: str
    lot_count: int
    #: When and why the tender was cancelled, if it was.
    cancelled_at: dt.datetime | None
    cancel_reason: str | None


class SearchOut(msgspec.Struct, frozen=True):
    items: list[TenderSummaryOut]
    #: Pass as ``cursor`` for the next page; ``null`` on the last page.
    next_cursor: str | None


class Created(msgspec.Struct, frozen=True):
    id: int


class RegistrationOut(msgspec.Struct, frozen=True):
    registered: bool
    #: False when the organisation was registered already.
    new: bool


# --- What the API takes ---------------------------------------------------------------------------------------


class AmendmentIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: The whole tender as it should read after the amendment.
    tender: TenderInput
    #: What changed and why, for bidders.
    summary: str
    #: Whether it affects how bids are prepared; changes to lots and documents always do.
    substantive: bool = False


class CancellationIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: str


class QuestionIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    question: str


class AnswerIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: At most 5,000 characters.
    answer: str


def document_url(tender_id: int, document_id: int) -> str:
    return f"/tenders/{tender_id}/documents/{document_id}"


def _document(document: model.DocumentVersion) -> DocumentOut:
    return DocumentOut(
        document.id,
        document.name,
        document.version,
        document.sha256.hex(),
        document.size,
        document.content_type,
        document.uploaded_at,
        document.current,
        document_url(document.tender_id, document.id),
    )


def _party(party: model.Party) -> PartyOut:
    return PartyOut(party.id, party.name, party.name_en, party.credit_code)


#: The fields of :class:`TenderOut` given as the record holds them; :func:`tender_out` gives the others.
_AS_STORED = tuple(
    field
    for field in TenderOut.__struct_fields__
    if field in model.Tender.__dataclass_fields__
    and field not in ("status", "budget", "specialties", "agency", "purchaser", "purchaser_contact", "lots")
)


def tender_out(view: reading.TenderView, settings: Settings) -> TenderOut:
    tender = view.tender
    return TenderOut(
        **{field: getattr(tender, field) for field in _AS_STORED},
        ocid=ocid(settings.ocid_prefix, tender.id),
        status=view.status,
        budget=str(tender.budget),
        specialties=msgspec.convert(tender.specialties, list[model.Specialty]),
        custodians=len(tender.custodian_ids),
        opening_recipient=view.opening_recipient,
        agency=_party(tender.agency),
        purchaser=_party(tender.purchaser),
        purchaser_contact=tender.purchaser_contact if tender.purchaser_contact.name else None,
        lots=[
            LotOut(
                lot.number,
                lot.title,
                str(lot.budget),
                str(lot.bid_security),
                lot.method,
                msgspec.convert(lot.criteria, list[Criterion]),
            )
            for lot in tender.lots
        ],
        documents=[_document(document) for document in view.documents],
        questions=view.questions,
        amendments=view.amendments,
        registered=view.access.registered if view.access.register or view.access.registered else None,
    )


def summary_out(summary: search_model.TenderSummary) -> TenderSummaryOut:
    values = {f: getattr(summary, f) for f in TenderSummaryOut.__struct_fields__}
    return TenderSummaryOut(**(values | {"budget": str(summary.budget)}))


# --- Reading --------------------------------------------------------------------------------------------------


@get("/api/v1/tenders", tags=["tenders"], opt=documented(InvalidInput))
async def search_tenders(
    request: Request[Any, Any, Any],
    db: DB,
    q: Annotated[str, QueryParameter(description="Words or Chinese text in titles and descriptions")] = "",
    category: FromQuery[Category | None] = None,
    region: FromQuery[str | None] = None,
    status: Annotated[str | None, QueryParameter(description="open, closed, or a lifecycle status")] = None,
    budget_min: Annotated[str | None, QueryParameter(description="Decimal amount in yuan")] = None,
    budget_max: Annotated[str | None, QueryParameter(description="Decimal amount in yuan")] = None,
    deadline_from: Annotated[dt.date | None, QueryParameter(description="First day (platform time zone)")] = None,
    deadline_to: Annotated[dt.date | None, QueryParameter(description="Last day (platform time zone)")] = None,
    cursor: Annotated[str | None, QueryParameter(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, QueryParameter(description="Results per page, 1 to 100")] = search.PAGE_SIZE,
) -> SearchOut:
    """Published tenders, newest first, filtered; full text in Chinese and English."""
    query = search.SearchQuery(
        q, category, region, status, budget_min, budget_max, deadline_from, deadline_to, cursor, limit
    )
    found = await search.search(db, settings_of(request), query)
    return SearchOut([summary_out(item) for item in found.items], found.next_cursor)


@get("/api/v1/tenders/{tender_id:int}", tags=["tenders"])
async def read_tender(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> TenderOut:
    """One tender with its lots, documents, published questions and answers, and amendments."""
    view = await reading.get_tender(db, actor_of(request), tender_id)
    return tender_out(view, settings_of(request))


@get("/api/v1/tenders/mine", tags=["tenders"], guards=[agency_staff], opt=documented(Forbidden))
async def my_tenders(request: Request[Any, Any, Any], db: DB) -> list[TenderSummaryOut]:
    """The tenders your organisation runs or buys for, drafts included."""
    return [summary_out(item) for item in await reading.list_own(db, actor_of(request))]


class CustodianChoiceOut(msgspec.Struct, frozen=True):
    #: The id a draft names in ``custodian_ids``.
    user_id: int
    login: str
    display_name: str
    organisation_id: int | None
    organisation_name: str | None


class DraftChoicesOut(msgspec.Struct, frozen=True):
    """Whom a draft may name, by the ids ``TenderInput`` takes."""

    #: For ``purchaser_id``: every purchaser, or only your own when your organisation is the purchaser.
    purchasers: list[PartyOut]
    #: For ``custodian_ids``: people holding the key custodian role.
    custodians: list[CustodianChoiceOut]
    #: For ``invited_ids`` of an invited tender: the registered bidder organisations.
    bidders: list[PartyOut]


@get("/api/v1/tenders/choices", tags=["tenders"], guards=[agency_staff], opt=documented(Forbidden))
async def draft_choices(request: Request[Any, Any, Any], db: DB) -> DraftChoicesOut:
    """The purchasers, custodians and bidders a new draft can name, with their ids."""
    choices = await drafting.draft_choices(db, actor_of(request))
    return DraftChoicesOut(
        purchasers=[PartyOut(o.id, o.name, o.name_en, o.credit_code) for o in choices.purchasers],
        custodians=[
            CustodianChoiceOut(u.id, u.login, u.display_name, u.organisation_id, u.organisation_name)
            for u in choices.custodians
        ],
        bidders=[PartyOut(o.id, o.name, o.name_en, o.credit_code) for o in choices.bidders],
    )


@get("/api/v1/tenders/registered", tags=["tenders"], guards=[bidders], opt=documented(Forbidden))
async def registered_tenders(request: Request[Any, Any, Any], db: DB) -> list[TenderSummaryOut]:
    """The tenders your organisation registered for."""
    return [summary_out(item) for item in await reading.list_registered(db, actor_of(request))]


@get("/api/v1/tenders/{tender_id:int}/registrations", tags=["tenders"], guards=[signed_in])
async def read_registrations(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> list[model.Registration]:
    """Who registered for a tender: for the tender's own staff and supervisors only."""
    view = await reading.get_tender(db, actor_of(request), tender_id)
    if not view.access.internals:
        raise NotFound(N_("There is no such list."))
    return view.registrations


# --- Changing -------------------------------------------------------------------------------------------------


@post(
    "/api/v1/tenders",
    tags=["tenders"],
    guards=[agency_staff],
    status_code=201,
    response_headers=[_LOCATION],
    opt=documented(Forbidden, Conflict, InvalidInput),
)
async def create_tender(request: Request[Any, Any, Any], db: DB, data: JSONBody[TenderInput]) -> Response[Created]:
    """Save a draft tender. Every rule is checked; the response lists every field that breaks one."""
    tender_id = await drafting.create_draft(db, settings_of(request), actor_of(request), data)
    return Response(Created(tender_id), status_code=201, headers={"location": f"/api/v1/tenders/{tender_id}"})


@put(
    "/api/v1/tenders/{tender_id:int}",
    tags=["tenders"],
    guards=[agency_staff],
    opt=documented(Forbidden, Conflict, InvalidTransition, InvalidInput),
)
async def update_tender(
    request: Request[Any, Any, Any], db: DB, tender_id: PathId, data: JSONBody[TenderInput]
) -> TenderOut:
    """Replace a draft's terms (a published tender is amended instead)."""
    actor = actor_of(request)
    await drafting.update_draft(db, settings_of(request), actor, tender_id, data)
    return tender_out(await reading.get_tender(db, actor, tender_id), settings_of(request))


@post(
    "/api/v1/tenders/{tender_id:int}/publish",
    tags=["tenders"],
    guards=[agency_staff],
    status_code=200,
    opt=documented(Forbidden, InvalidTransition),
)
async def publish_tender(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> TenderOut:
    """Publish a draft: it needs its documents, and at least the legal bidding period before the deadline."""
    actor = actor_of(request)
    await drafting.publish(db, settings_of(request), actor, tender_id)
    return tender_out(await reading.get_tender(db, actor, tender_id), settings_of(request))


@post(
    "/api/v1/tenders/{tender_id:int}/amendments",
    tags=["tenders"],
    guards=[agency_staff],
    status_code=201,
    opt=documented(Forbidden, InvalidTransition, InvalidInput),
)
async def amend_tender(
    request: Request[Any, Any, Any], db: DB, tender_id: PathId, data: JSONBody[AmendmentIn]
) -> model.Amendment:
    """Amend a published tender before its deadline; registered bidders are notified.

    A substantive amendment less than the notice period (15 days by default) before the deadline moves the
    deadline out; the response says where it went.
    """
    amendment = await drafting.amend(
        db,
        settings_of(request),
        actor_of(request),
        tender_id,
        data.tender,
        summary=data.summary,
        substantive=data.substantive,
    )
    return amendment


@post(
    "/api/v1/tenders/{tender_id:int}/cancellation",
    tags=["tenders"],
    guards=[agency_staff],
    status_code=200,
    opt=documented(Forbidden, InvalidTransition, InvalidInput),
)
async def cancel_tender(
    request: Request[Any, Any, Any], db: DB, tender_id: PathId, data: JSONBody[CancellationIn]
) -> TenderOut:
    """Cancel a tender, giving the reason published with it."""
    actor = actor_of(request)
    await drafting.cancel(db, settings_of(request), actor, tender_id, data.reason)
    return tender_out(await reading.get_tender(db, actor, tender_id), settings_of(request))


_DIGEST = re.compile(r"(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]+):")


def declared_sha256(header: str | None) -> bytes | None:
    """The SHA-256 in a ``Repr-Digest`` header (RFC 9530), if there is one; raises InvalidInput if malformed."""
    if not header:
        return None
    found = _DIGEST.search(header)
    digest = base64_bytes(found.group(1)) if found else None
    if digest is None or len(digest) != 32:
        raise InvalidInput(errors={"Repr-Digest": N_("Give the file's SHA-256 as sha-256=:base64:.")})
    return digest


def check_content_length(request: Request[Any, Any, Any], settings: Settings, overhead: int = 0) -> None:
    """Refuse at once a body announced larger than a document may be, before reading any of it."""
    announced = parse_id(request.headers.get("content-length", ""))
    if announced is not None and announced > settings.max_document_size + overhead:
        raise documents.document_too_large(settings)


@post(
    "/api/v1/tenders/{tender_id:int}/documents",
    tags=["tenders"],
    guards=[agency_staff],
    status_code=201,
    # The use case enforces the document size limit as the body streams in.
    request_max_body_size=None,
    opt=documented(
        Forbidden,
        InvalidTransition,
        InvalidInput,
        TooLarge,
        headers=[
            Header(
                "Repr-Digest",
                "The file's SHA-256 (RFC 9530), `sha-256=:base64:`, to have it checked on arrival.",
            )
        ],
        body=("application/octet-stream", {"type": "string", "format": "binary", "description": "The file."}),
    ),
)
async def upload_document(
    request: Request[Any, Any, Any],
    db: DB,
    tender_id: PathId,
    name: Annotated[str, QueryParameter(description="File name, whose extension decides the kind")],
    summary: Annotated[str | None, QueryParameter(description="Published tender: the amendment summary")] = None,
    substantive: Annotated[bool, QueryParameter(description="For a published tender: affects bid preparation")] = True,
) -> DocumentOut:
    """Upload a document (the request body is the file), or a new version of one with the same name.

    Send ``Repr-Digest: sha-256=:…:`` (RFC 9530) to have the file checked on arrival. On a published tender the
    upload is an amendment: give its ``summary``.
    """
    settings = settings_of(request)
    check_content_length(request, settings)
    document = await documents.upload_document(
        db,
        settings,
        blobs_of(request),
        actor_of(request),
        tender_id,
        filename=name,
        chunks=request.stream(),
        declared_sha256=declared_sha256(request.headers.get("repr-digest")),
        summary=summary,
        substantive=substantive,
    )
    return _document(document)


@get(
    "/api/v1/tenders/{tender_id:int}/documents/{document_id:int}",
    tags=["tenders"],
    guards=[signed_in],
    media_type="application/octet-stream",
    response_headers=[
        ResponseHeader(name="X-Content-SHA256", description="The file's SHA-256, hex.", documentation_only=True),
        ResponseHeader(name="Content-Disposition", description="The file's name.", documentation_only=True),
    ],
    opt=documented(Forbidden, content={"*/*": {"type": "string", "format": "binary"}}),
)
async def download_document(request: Request[Any, Any, Any], db: DB, tender_id: PathId, document_id: PathId) -> Stream:
    """Download one version of a document: for registered bidders and the tender's staff. Each download is recorded.

    The answer's type is the document's own (`application/pdf`, …); it is always sent as an attachment.
    """
    return await _document_download(request, db, tender_id, document_id)


@post(
    "/api/v1/tenders/{tender_id:int}/registration",
    tags=["tenders"],
    guards=[bidders],
    status_code=200,
    opt=documented(Forbidden, InvalidTransition),
)
async def register_for_tender(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> RegistrationOut:
    """Register your organisation for a tender: it unlocks the documents and questions."""
    added = await questions.register(db, actor_of(request), tender_id)
    return RegistrationOut(registered=True, new=added)


@post(
    "/api/v1/tenders/{tender_id:int}/questions",
    tags=["tenders"],
    guards=[bidders],
    status_code=201,
    opt=documented(Forbidden, InvalidTransition, InvalidInput),
)
async def ask_question(
    request: Request[Any, Any, Any], db: DB, tender_id: PathId, data: JSONBody[QuestionIn]
) -> reading.QuestionView:
    """Ask a question before the cutoff. It is published with its answer under your pseudonym, never your name."""
    return await questions.ask(db, actor_of(request), tender_id, data.question)


@post(
    "/api/v1/tenders/{tender_id:int}/questions/{question_id:int}/answer",
    tags=["tenders"],
    guards=[agency_staff],
    status_code=204,
    opt=documented(Forbidden, InvalidTransition, InvalidInput),
)
async def answer_question(
    request: Request[Any, Any, Any],
    db: DB,
    tender_id: PathId,
    question_id: PathId,
    data: JSONBody[AnswerIn],
) -> None:
    """Answer a question; the answer is published to everyone and registered bidders are notified.

    An answer cannot be taken back: correct it with ``…/answer/corrections``.
    """
    await questions.answer(db, actor_of(request), tender_id, question_id, data.answer)


@post(
    "/api/v1/tenders/{tender_id:int}/questions/{question_id:int}/answer/corrections",
    tags=["tenders"],
    guards=[agency_staff],
    status_code=201,
    opt=documented(Forbidden, InvalidTransition, InvalidInput),
)
async def correct_answer(
    request: Request[Any, Any, Any],
    db: DB,
    tender_id: PathId,
    question_id: PathId,
    data: JSONBody[AnswerIn],
) -> reading.CorrectionView:
    """Publish a correction of a question's answer (the corrected answer, before the deadline): shown as a
    correction, with its time, beside the answer, which stays as published; registered bidders are notified."""
    return await questions.correct_answer(db, actor_of(request), tender_id, question_id, data.answer)


@get("/tenders/{tender_id:int}/documents/{document_id:int}", include_in_schema=False, guards=[signed_in])
async def download_document_page(
    request: Request[Any, Any, Any], db: DB, tender_id: PathId, document_id: PathId
) -> Stream:
    """The same download, at the address the notice links to."""
    return await _document_download(request, db, tender_id, document_id)


async def _document_download(request: Request[Any, Any, Any], db: DB, tender_id: int, document_id: int) -> Stream:
    document = await documents.open_document(db, actor_of(request), tender_id, document_id)
    try:
        source = await asyncio.to_thread(blobs_of(request).reader, document.sha256.hex())
    except KeyError:
        logger.error("document %d: its file %s is missing from storage", document_id, document.sha256.hex())
        raise NotFound(N_("The file of this document is missing; the operator has been told.")) from None
    return Stream(
        chunks_of(source),
        media_type=document.content_type,
        headers={
            "cache-control": "private, no-store",
            "content-disposition": attachment(document.name),
            "content-length": str(document.size),
            "x-content-sha256": document.sha256.hex(),
        },
    )


routes = [
    search_tenders,
    read_tender,
    my_tenders,
    draft_choices,
    registered_tenders,
    read_registrations,
    create_tender,
    update_tender,
    publish_tender,
    amend_tender,
    cancel_tender,
    upload_document,
    download_document,
    download_document_page,
    register_for_tender,
    ask_question,
    answer_question,
    correct_answer,
]
