"""Publishing OCDS releases with the changes they describe, and serving the feed and the records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlencode

from bidding.db import Connection, Database
from bidding.errors import InvalidInput, NotFound
from bidding.i18n import N_
from bidding.inputs import parse_id
from bidding.opendata import model, repo
from bidding.settings import Settings
from bidding.tenders import model as tenders_model
from bidding.tenders import repo as tenders_repo

#: The publisher's name when no trading centre is registered yet.
DEFAULT_PUBLISHER = "Public resource trading platform"


async def record_release(
    connection: Connection,
    settings: Settings,
    tender: tenders_model.Tender,
    tag: str,
    now: dt.datetime,
    bids: Sequence[model.OpenedBid] = (),
) -> str:
    """Write the release of a tender's new public state, inside the transaction that changed it; return its id."""
    documents = await tenders_repo.select_documents(connection, tender.id)
    amendments = await tenders_repo.select_amendments(connection, tender.id)
    context = model.ReleaseContext(settings.ocid_prefix, settings.base_url, now)
    release = model.release(tender, documents, amendments, tag, context, bids)
    await repo.insert_release(
        connection, release["ocid"], release["id"], tender.id, now, release["tag"], model.encode(release)
    )
    return str(release["id"])


async def _publisher(connection: Connection, settings: Settings) -> model.Publisher:
    name = await repo.select_publisher_name(connection)
    return model.Publisher(name or DEFAULT_PUBLISHER, settings.base_url + "/")


def parse_cursor(cursor: str | None, limit: int | None) -> tuple[int, int]:
    """The release id a page starts after and the page size; raises InvalidInput."""
    errors = {}
    after = 0
    if cursor:
        release_id = parse_id(cursor)
        if release_id is None:
            errors["cursor"] = N_("This is not a cursor this feed gave.")
        else:
            after = release_id
    size = model.PAGE_SIZE if limit is None else limit
    if not 1 <= size <= model.MAX_PAGE_SIZE:
        errors["limit"] = N_("A page has 1 to %(count)d releases.", count=model.MAX_PAGE_SIZE)
    if errors:
        raise InvalidInput(errors=errors)
    return after, size


def _feed_url(settings: Settings, after: int, size: int) -> str:
    query = {"cursor": str(after)} if after else {}
    if size != model.PAGE_SIZE:
        query["limit"] = str(size)
    return f"{settings.base_url}/ocds/releases" + (f"?{urlencode(query)}" if query else "")


async def releases_page(db: Database, settings: Settings, *, after: int, size: int) -> bytes:
    """One page of the release feed, oldest first: a release package with ``links.next`` unless it is the last.

    A page past the newest release has no releases (so that a reader polling with its last cursor sees nothing
    new rather than an error); every other page has at least one, as the package schema requires.
    """
    async with db.connection() as connection:
        found = await repo.select_releases(connection, after_id=after, limit=size + 1)
        publisher = await _publisher(connection, settings)
        now = await tenders_repo.select_now(connection)
    page = found[:size]
    next_url = _feed_url(settings, page[-1].id, size) if len(found) > size else None
    return model.release_package(
        [stored.json.encode() for stored in page],
        uri=_feed_url(settings, after, size),
        publisher=publisher,
        published=page[-1].date if page else now,
        next_url=next_url,
    )


async def record(db: Database, settings: Settings, ocid: str) -> bytes:
    """The record package of one contracting process; raises NotFound."""
    async with db.connection() as connection:
        found = await repo.select_releases_of(connection, ocid)
        publisher = await _publisher(connection, settings)
    if not found:
        raise NotFound(N_("No contracting process has this ocid."))
    return model.record_package(
        [stored.json.encode() for stored in found],
        uri=f"{settings.base_url}/ocds/records/{ocid}",
        publisher=publisher,
        published=found[-1].date,
    )
