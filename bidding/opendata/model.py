"""Open Contracting Data Standard 1.1.5: releases of tenders, the merging of releases into a compiled release,
and release and record packages.

Amounts are ``Decimal`` here and JSON numbers with their exact digits on the wire (never floats); times are
RFC 3339 with their offset. Each release is a full snapshot of what is public about the contracting process at
its date, so a consumer needs no other release to read it; the record's compiled release merges them all by the
standard's merge rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from bidding.tenders.model import Amendment, Contact, DocumentVersion, Party, Tender

#: The OCDS version packages declare (major.minor).
OCDS_VERSION = "1.1"
#: The lots extension (tender.lots, documents' relatedLots), at the version matching OCDS 1.1.5.
LOTS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json"
)
#: The bid extension: bid statistics and each bid's line of the opening record (``bids``).
BIDS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json"
)
#: The identifier scheme of organisations' unified social credit codes (GB 32100-2015).
CREDIT_CODE_SCHEME = "CN-USCC"
#: Releases per page of the feed, by default and at most.
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_encoder = msgspec.json.Encoder(decimal_format="number")
_decoder = msgspec.json.Decoder(float_hook=Decimal)

_TENDER_STATUS = {"draft": "planning", "cancelled": "cancelled", "failed": "unsuccessful", "awarded": "complete"}
_METHODS = {"open": ("open", "公开招标"), "invited": ("selective", "邀请招标")}
_CATEGORIES = {"works": "works", "goods": "goods", "services": "services"}
_AWARD_CRITERIA = {"lowest_price": "priceOnly", "comprehensive": "ratedCriteria"}
_METHOD_DETAILS = {"lowest_price": "经评审的最低投标价法", "comprehensive": "综合评估法"}


def ocid(prefix: str, tender_id: int) -> str:
    """The open contracting id of a tender: the publisher's registered prefix and the tender's number."""
    return f"{prefix}-{tender_id}"


def release_id(ocid_: str, tag: str, version: int) -> str:
    """Release ids name the version of the notice: ``…-v1`` at publication, ``…-v2`` after the first amendment.

    Amendments point at the releases before and after them by these ids, with no lookup. The cancellation and
    the opening (``tenderUpdate`` with the bids read out) happen once each and are named for what they are.
    """
    suffix = {"tenderCancellation": "cancelled", "tenderUpdate": "opened"}.get(tag)
    return f"{ocid_}-{suffix}" if suffix else f"{ocid_}-v{version}"


def _time(value: dt.datetime) -> str:
    return value.isoformat()


def _party_id(party: Party) -> str:
    return f"{CREDIT_CODE_SCHEME}-{party.credit_code}" if party.credit_code else f"org-{party.id}"


def _party(party: Party, roles: list[str], contact: Contact | None = None) -> dict[str, Any]:
    organisation: dict[str, Any] = {"id": _party_id(party), "name": party.name, "roles": roles}
    if party.name_en:
        organisation["name_en"] = party.name_en
    if party.credit_code:
        organisation["identifier"] = {"scheme": CREDIT_CODE_SCHEME, "id": party.credit_code, "legalName": party.name}
    point = {key: value for key, value in msgspec.structs.asdict(contact).items() if value} if contact else {}
    if point:
        # OCDS names the same three values alike (Organization.contactPoint: name, telephone, email).
        organisation["contactPoint"] = point
    return organisation


def _texts(field: str, zh: str, en: str, language: str) -> dict[str, str]:
    """A text in the release's language under ``field``, the other language under ``field_xx`` (OCDS 1.1)."""
    main, other, other_language = (zh, en, "en") if language == "zh" else (en, zh, "zh")
    texts = {field: main} if main else {}
    if other:
        texts[f"{field}_{other_language}"] = other
    return texts


@dataclasses.dataclass(frozen=True, slots=True)
class ReleaseContext:
    """What a release needs besides the tender: where things are, and when the release is made."""

    ocid_prefix: str
    base_url: str
    date: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class OpenedBid:
    """A bid as the opening record reads it out, for open data."""

    id: int
    submitted_at: dt.datetime
    tenderer: Party
    lot: int
    #: ``opened``, or ``revoked`` / ``withdrawn`` when it could not be opened (art. 31).
    outcome: str
    amount: Decimal | None
    currency: str | None


def bids_section(bids: Sequence[OpenedBid], opened_at: dt.datetime) -> dict[str, Any]:
    """The bid extension's ``bids``: statistics at the opening, and each bid with its tenderer and price.

    At the opening no bid is evaluated yet, so an opened bid is ``pending``; one that could not be opened is
    ``withdrawn`` (revoked or withdrawn under art. 31 both end the bid at the tenderer's side).
    """
    opened = [bid for bid in bids if bid.outcome == "opened"]
    statistics = [
        ("bids", len(bids)),
        ("electronicBids", len(bids)),
        ("bidders", len({bid.tenderer.id for bid in bids})),
    ]
    return {
        "statistics": [
            {"id": str(number), "measure": measure, "value": value, "date": _time(opened_at)}
            for number, (measure, value) in enumerate(statistics, start=1)
        ],
        "details": [
            {
                "id": str(bid.id),
                "date": _time(bid.submitted_at),
                "status": "pending" if bid in opened else "withdrawn",
                "tenderers": [{"id": _party_id(bid.tenderer), "name": bid.tenderer.name}],
                # The lot's id in tender.lots, which is its number.
                "relatedLots": [str(bid.lot)],
                "description": f"标段 {bid.lot}",
                **(
                    {"value": {"amount": bid.amount, "currency": bid.currency}}
                    if bid.amount is not None and bid.currency
                    else {}
                ),
            }
            for bid in bids
        ],
    }


def release(
    tender: Tender,
    documents: Sequence[DocumentVersion],
    amendments: Sequence[Amendment],
    tag: str,
    context: ReleaseContext,
    bids: Sequence[OpenedBid] = (),
) -> dict[str, Any]:
    """The OCDS release describing a tender as it is published now, tagged ``tender``, ``tenderAmendment``,
    ``tenderCancellation``, or ``tenderUpdate`` with the bids read out at the opening."""
    ocid_ = ocid(context.ocid_prefix, tender.id)
    language = "zh" if tender.title.zh else "en"
    notice_url = f"{context.base_url}/tenders/{tender.id}"
    if tender.agency.id == tender.purchaser.id:
        # A purchaser running its own tender: the one party, whose contact is the notice's.
        buyer = _party(tender.purchaser, ["buyer", "procuringEntity"], tender.contact)
        parties = [buyer]
    else:
        buyer = _party(tender.purchaser, ["buyer"], tender.purchaser_contact)
        parties = [buyer, _party(tender.agency, ["procuringEntity"], tender.contact)]
    methods = {lot.method for lot in tender.lots}
    procurement_method, method_details = _METHODS[tender.procedure]
    section: dict[str, Any] = {
        "id": tender.reference,
        **_texts("title", tender.title.zh, tender.title.en, language),
        **_texts("description", tender.description.zh, tender.description.en, language),
        "status": _TENDER_STATUS.get(tender.status, "active"),
        "procuringEntity": {"id": _party_id(tender.agency), "name": tender.agency.name},
        "value": {"amount": tender.budget, "currency": tender.currency},
        "procurementMethod": procurement_method,
        "procurementMethodDetails": method_details,
        "awardCriteriaDetails": "；".join(f"标段{lot.number}：{_METHOD_DETAILS[lot.method]}" for lot in tender.lots),
        "submissionMethod": ["electronicSubmission"],
        "submissionMethodDetails": "投标文件在投标人本地加密后在线递交（age 格式，开标前任何人不可解密）",
        "tenderPeriod": {"startDate": _time(tender.documents_from), "endDate": _time(tender.deadline)},
        "enquiryPeriod": {"startDate": _time(tender.documents_from), "endDate": _time(tender.questions_until)},
        "awardPeriod": {"startDate": _time(tender.evaluation_at)},
        "documents": [
            {
                "id": "notice",
                "documentType": "tenderNotice",
                **_texts("title", tender.title.zh, tender.title.en, language),
                "url": notice_url,
                "format": "text/html",
                "datePublished": _time(tender.published_at or context.date),
            },
            *(
                {
                    "id": str(document.id),
                    "documentType": "biddingDocuments",
                    "title": document.name,
                    "description": f"第 {document.version} 版；SHA-256 {document.sha256.hex()}；{document.size} 字节",
                    "url": f"{context.base_url}/tenders/{tender.id}/documents/{document.id}",
                    "datePublished": _time(max(document.uploaded_at, tender.published_at or document.uploaded_at)),
                    "format": document.content_type,
                }
                for document in documents
            ),
        ],
        "lots": [
            {
                "id": str(lot.number),
                **_texts("title", lot.title.zh, lot.title.en, language),
                "status": _TENDER_STATUS.get(tender.status, "active"),
                "value": {"amount": lot.budget, "currency": tender.currency},
            }
            for lot in tender.lots
        ],
    }
    if tender.category in _CATEGORIES:
        section["mainProcurementCategory"] = _CATEGORIES[tender.category]
    if len(methods) == 1:
        section["awardCriteria"] = _AWARD_CRITERIA[methods.pop()]
    if amendments:
        section["amendments"] = [
            {
                "id": str(amendment.version),
                "date": _time(amendment.created_at),
                "rationale": amendment.summary,
                "description": "；".join(sorted(amendment.changes)),
                "amendsReleaseID": release_id(ocid_, "tenderAmendment", amendment.version - 1),
                "releaseID": release_id(ocid_, "tenderAmendment", amendment.version),
            }
            for amendment in amendments
        ]
    if tender.cancel_reason:
        section["documents"].append(
            {
                "id": "cancellation",
                "documentType": "cancellationDetails",
                "description": tender.cancel_reason,
                "url": notice_url,
                "datePublished": _time(tender.cancelled_at or context.date),
            }
        )
    released: dict[str, Any] = {
        "ocid": ocid_,
        "id": release_id(ocid_, tag, tender.version),
        "date": _time(context.date),
        "tag": [tag],
        "initiationType": "tender",
        "language": language,
        "parties": parties,
        "buyer": {"id": buyer["id"], "name": buyer["name"]},
        "tender": section,
    }
    if bids:
        released["bids"] = bids_section(bids, context.date)
        known = {party["id"] for party in parties}
        for bid in bids:
            if _party_id(bid.tenderer) not in known:
                known.add(_party_id(bid.tenderer))
                parties.append(_party(bid.tenderer, ["tenderer"]))
    return released


def encode(value: Any) -> bytes:
    """JSON with decimals as exact numbers."""
    return _encoder.encode(value)


def decode(data: bytes | str) -> Any:
    """JSON with numbers with a fraction as ``Decimal``, so that amounts survive a round trip exactly."""
    return _decoder.decode(data)


# --- Merging (OCDS 1.1 "Merging": compiled releases) ----------------------------------------------------------

#: Fields every release has and a compiled release does not inherit (``omitWhenMerged``).
_OMIT_WHEN_MERGED = frozenset({"id", "date", "tag"})


def _is_identified_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "id" in i for i in value)


def _merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    """Merge one release's values into the compiled values, by the standard's rules.

    Objects merge field by field; a ``null`` removes a field; arrays of objects that all have an ``id`` merge
    object by object on that id (new ids are appended in order); any other array replaces the one before.
    """
    for key, value in source.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            existing = target.get(key)
            merged: dict[str, Any] = existing if isinstance(existing, dict) else {}
            _merge_into(merged, value)
            target[key] = merged
        elif _is_identified_list(value) and _is_identified_list(target.get(key)):
            by_id = {str(item["id"]): item for item in target[key]}
            for item in value:
                if (found := by_id.get(str(item["id"]))) is not None:
                    _merge_into(found, item)
                else:
                    copied: dict[str, Any] = {}
                    _merge_into(copied, item)
                    target[key].append(copied)
                    by_id[str(item["id"])] = copied
        elif isinstance(value, list):
            target[key] = [_copy(item) for item in value]
        else:
            target[key] = value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        copied: dict[str, Any] = {}
        _merge_into(copied, value)
        return copied
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def compile_releases(releases: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The compiled release of a contracting process: its releases, given oldest first, merged."""
    assert releases, "a record has at least one release"
    compiled: dict[str, Any] = {}
    for one in releases:
        _merge_into(compiled, {k: v for k, v in one.items() if k not in _OMIT_WHEN_MERGED})
    latest = releases[-1]["date"]
    head = {"ocid": compiled.pop("ocid"), "id": f"{releases[0]['ocid']}-compiled", "date": latest}
    return head | {"tag": ["compiled"]} | compiled


# --- Packages -------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Publisher:
    name: str
    uri: str


def _package_head(uri: str, publisher: Publisher, published: dt.datetime) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": [LOTS_EXTENSION, BIDS_EXTENSION],
        "publishedDate": _time(published),
        "publisher": {"name": publisher.name, "uri": publisher.uri},
    }


def release_package(
    releases: Sequence[bytes], *, uri: str, publisher: Publisher, published: dt.datetime, next_url: str | None
) -> bytes:
    """A release package around releases already encoded as JSON, which are spliced in as they are stored."""
    head = _package_head(uri, publisher, published)
    if next_url is not None:
        head["links"] = {"next": next_url}
    encoded = encode(head)
    return encoded[:-1] + b',"releases":[' + b",".join(releases) + b"]}"


def record_package(releases: Sequence[bytes], *, uri: str, publisher: Publisher, published: dt.datetime) -> bytes:
    """A record package with the one record of a contracting process: its releases and its compiled release."""
    decoded = [decode(one) for one in releases]
    record = {"ocid": decoded[0]["ocid"], "releases": decoded, "compiledRelease": compile_releases(decoded)}
    return encode(_package_head(uri, publisher, published) | {"records": [record]})
