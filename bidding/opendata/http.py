"""The open data endpoints: the OCDS release feed and records (DESIGN §10). Public, and cheap to serve."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import FromPath, QueryParameter

from bidding.errors import InvalidInput
from bidding.openapi import documented
from bidding.opendata import service
from bidding.web import DB

_JSON = "application/json"
#: The official schemas (release-package-schema.json, record-package-schema.json of OCDS 1.1.5) say everything about
#: these packages; what is written here is what a client can rely on at the top level, with those schemas' URIs.
_PUBLISHER = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "uri": {"type": "string"}},
}


def _package_schema(kind: str, items: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"An OCDS 1.1.5 {kind} package: https://standard.open-contracting.org/1.1/en/schema/"
        f"{kind}_package/ (with the lots and bid extensions).",
        "required": ["uri", "version", "publishedDate", "publisher", items],
        "properties": {
            "uri": {"type": "string"},
            "version": {"const": "1.1"},
            "extensions": {"type": "array", "items": {"type": "string"}},
            "publishedDate": {"type": "string"},
            "publisher": _PUBLISHER,
            items: item,
            "links": {"type": "object", "properties": {"next": {"type": "string"}}},
        },
    }


RELEASE_PACKAGE_SCHEMA = _package_schema(
    "release",
    "releases",
    {"type": "array", "items": {"type": "object", "required": ["ocid", "id", "date", "tag", "initiationType"]}},
)
#: One record: every release of the contracting process and the compiled release.
RECORD_PACKAGE_SCHEMA = _package_schema(
    "record",
    "records",
    {
        "type": "array",
        "minItems": 1,
        "maxItems": 1,
        "items": {"type": "object", "required": ["ocid", "releases", "compiledRelease"]},
    },
)


@get(
    "/ocds/releases",
    tags=["open data"],
    media_type=_JSON,
    opt=documented(InvalidInput, content={_JSON: RELEASE_PACKAGE_SCHEMA}),
)
async def releases(
    request: Request[Any, Any, Any],
    db: DB,
    cursor: Annotated[str | None, QueryParameter(description="From the previous page's links.next")] = None,
    limit: Annotated[int | None, QueryParameter(description="Releases per page, 1 to 1000 (default 100)")] = None,
) -> Response[bytes]:
    """Every OCDS release published, oldest first, as an OCDS 1.1.5 release package paged by ``links.next``."""
    settings = request.app.state.settings
    after, size = service.parse_cursor(cursor, limit)
    body = await service.releases_page(db, settings, after=after, size=size)
    return Response(body, media_type=_JSON, headers={"access-control-allow-origin": "*"})


@get(
    "/ocds/records/{ocid:str}",
    tags=["open data"],
    media_type=_JSON,
    opt=documented(content={_JSON: RECORD_PACKAGE_SCHEMA}),
)
async def record(request: Request[Any, Any, Any], db: DB, ocid: FromPath[str]) -> Response[bytes]:
    """The OCDS 1.1.5 record package of one contracting process: every release, and the compiled release."""
    body = await service.record(db, request.app.state.settings, ocid)
    return Response(body, media_type=_JSON, headers={"access-control-allow-origin": "*"})


routes = [releases, record]
