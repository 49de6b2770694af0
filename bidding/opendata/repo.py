"""SQL for OCDS releases: written once, read in commit order."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bidding.db import Connection

#: Key of the transaction lock taken before a release is inserted (see :func:`insert_release`).
RELEASES_LOCK = 0x6F636473  # "ocds"


@dataclasses.dataclass(frozen=True, slots=True)
class StoredRelease:
    id: int
    date: dt.datetime
    #: The release as stored, JSON text.
    json: str


async def insert_release(
    connection: Connection, ocid: str, release_id: str, tender_id: int, date: dt.datetime, tags: list[str], json: bytes
) -> None:
    """Store a release, encoded already, so that its amounts keep their exact digits.

    The transaction lock makes releases take their ids in commit order: it is held from here to the end of the
    transaction, so no release with a smaller id can commit after one with a larger id. A reader of the feed
    paging by id therefore never misses a release. Releases are written last in their transactions, and rarely.
    """
    await connection.execute("SELECT pg_advisory_xact_lock($1)", RELEASES_LOCK)
    await connection.execute(
        """INSERT INTO ocds_releases (ocid, release_id, tender_id, date, tags, release)
           VALUES ($1, $2, $3, $4, $5, $6::text::json)""",
        ocid,
        release_id,
        tender_id,
        date,
        tags,
        json.decode(),
    )


async def select_releases(connection: Connection, *, after_id: int, limit: int) -> list[StoredRelease]:
    rows = await connection.fetch(
        "SELECT id, date, release::text AS json FROM ocds_releases WHERE id > $1 ORDER BY id LIMIT $2",
        after_id,
        limit,
    )
    return [StoredRelease(**dict(row)) for row in rows]


async def select_releases_of(connection: Connection, ocid: str) -> list[StoredRelease]:
    rows = await connection.fetch(
        "SELECT id, date, release::text AS json FROM ocds_releases WHERE ocid = $1 ORDER BY id", ocid
    )
    return [StoredRelease(**dict(row)) for row in rows]


async def select_publisher_name(connection: Connection) -> str | None:
    """The trading centre's name: the first platform organisation."""
    name: str | None = await connection.fetchval(
        "SELECT name FROM organisations WHERE kind = 'platform' ORDER BY id LIMIT 1"
    )
    return name
