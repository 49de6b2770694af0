"""The open data endpoints: the OCDS release feed and records (DESIGN §10). Public, and cheap to serve."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import FromPath, QueryParameter

from bidding.opendata import service
from bidding.web import DB

_JSON = "application/json"


@get("/ocds/releases", tags=["open data"], media_type=_JSON)
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


@get("/ocds/records/{ocid:str}", tags=["open data"], media_type=_JSON)
async def record(request: Request[Any, Any, Any], db: DB, ocid: FromPath[str]) -> Response[bytes]:
    """The OCDS 1.1.5 record package of one contracting process: every release, and the compiled release."""
    body = await service.record(db, request.app.state.settings, ocid)
    return Response(body, media_type=_JSON, headers={"access-control-allow-origin": "*"})


routes = [releases, record]
