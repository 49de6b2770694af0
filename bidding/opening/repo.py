"""SQL for the custody of opening keys, openings and their record lines (the hall's events are the rooms')."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from bidding.db import Connection
from bidding.tenders.model import LocalText, Status


@dataclasses.dataclass(frozen=True, slots=True)
class Custody:
    tender_id: int
    recipient: str
    threshold: int
    ceremony_sha256: bytes
    made_by: int
    made_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Share:
    tender_id: int
    user_id: int
    login: str
    display_name: str
    member: int
    key_id: int
    sealed: bytes
    sealed_sha256: bytes
    share_sha256: bytes
    share: str | None
    handed_in_at: dt.datetime | None
    checked_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class HeldShare:
    """A custodian's share of a published tender's opening key, with what the custodian's dashboard shows of it."""

    tender_id: int
    reference: str
    title: LocalText
    #: As stored: a published tender past its deadline is still ``published`` here.
    status: Status
    deadline: dt.datetime
    member: int
    checked_at: dt.datetime | None
    handed_in_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class Opening:
    tender_id: int
    started_at: dt.datetime
    started_by: int
    key_rebuilt_at: dt.datetime | None
    finished_at: dt.datetime | None
    record: bytes | None
    record_signature: bytes | None
    record_sha256: bytes | None


@dataclasses.dataclass(frozen=True, slots=True)
class Line:
    bid_id: int
    tender_id: int
    position: int
    line: dict[str, Any]
    read_at: dt.datetime
    confirmed_at: dt.datetime | None
    objection: str | None
    objected_at: dt.datetime | None
    answer: str | None
    answered_at: dt.datetime | None


async def delete_custody(connection: Connection, tender_id: int) -> None:
    await connection.execute("DELETE FROM custody_shares WHERE tender_id = $1", tender_id)
    await connection.execute("DELETE FROM tender_custody WHERE tender_id = $1", tender_id)


async def insert_custody(
    connection: Connection, tender_id: int, recipient: str, threshold: int, ceremony_sha256: bytes, made_by: int
) -> None:
    await connection.execute(
        """INSERT INTO tender_custody (tender_id, recipient, threshold, ceremony_sha256, made_by)
           VALUES ($1, $2, $3, $4, $5)""",
        tender_id,
        recipient,
        threshold,
        ceremony_sha256,
        made_by,
    )


async def insert_share(
    connection: Connection,
    tender_id: int,
    user_id: int,
    member: int,
    key_id: int,
    sealed: bytes,
    sealed_sha256: bytes,
    share_sha256: bytes,
) -> None:
    await connection.execute(
        """INSERT INTO custody_shares (tender_id, user_id, member, key_id, sealed, sealed_sha256, share_sha256)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        tender_id,
        user_id,
        member,
        key_id,
        sealed,
        sealed_sha256,
        share_sha256,
    )


async def select_custody(connection: Connection, tender_id: int) -> Custody | None:
    row = await connection.fetchrow(
        "SELECT tender_id, recipient, threshold, ceremony_sha256, made_by, made_at FROM tender_custody"
        " WHERE tender_id = $1",
        tender_id,
    )
    return Custody(**dict(row)) if row else None


async def select_shares(connection: Connection, tender_id: int) -> list[Share]:
    rows = await connection.fetch(
        """SELECT s.tender_id, s.user_id, u.login, u.display_name, s.member, s.key_id, s.sealed, s.sealed_sha256,
                  s.share_sha256, s.share, s.handed_in_at, s.checked_at
           FROM custody_shares s JOIN users u ON u.id = s.user_id WHERE s.tender_id = $1 ORDER BY s.member""",
        tender_id,
    )
    return [Share(**dict(row)) for row in rows]


async def set_share_handed_in(connection: Connection, tender_id: int, user_id: int, share: str) -> bool:
    """Record a custodian's share; False if it was handed in before (the first one stands)."""
    status = await connection.execute(
        """UPDATE custody_shares SET share = $3, handed_in_at = clock_timestamp()
           WHERE tender_id = $1 AND user_id = $2 AND share IS NULL""",
        tender_id,
        user_id,
        share,
    )
    return status == "UPDATE 1"


async def set_share_checked(connection: Connection, tender_id: int, user_id: int) -> dt.datetime | None:
    """Record that a custodian's share passed its check now; ``None`` if the custodian holds no share of it."""
    checked_at: dt.datetime | None = await connection.fetchval(
        """UPDATE custody_shares SET checked_at = clock_timestamp() WHERE tender_id = $1 AND user_id = $2
           RETURNING checked_at""",
        tender_id,
        user_id,
    )
    return checked_at


async def select_held_shares(connection: Connection, user_id: int, *, limit: int = 500) -> list[HeldShare]:
    """The shares a custodian holds of published tenders, the latest deadline first."""
    rows = await connection.fetch(
        """SELECT t.id AS tender_id, t.reference, t.title_zh, t.title_en, t.status, t.deadline, s.member,
                  s.checked_at, s.handed_in_at
           FROM custody_shares s JOIN tenders t ON t.id = s.tender_id
           WHERE s.user_id = $1 AND t.published_at IS NOT NULL
           ORDER BY t.deadline DESC, t.id DESC LIMIT $2""",
        user_id,
        limit,
    )
    return [
        HeldShare(
            tender_id=row["tender_id"],
            reference=row["reference"],
            title=LocalText(row["title_zh"], row["title_en"]),
            status=Status(row["status"]),
            deadline=row["deadline"],
            member=row["member"],
            checked_at=row["checked_at"],
            handed_in_at=row["handed_in_at"],
        )
        for row in rows
    ]


_OPENING_COLUMNS = (
    "tender_id, started_at, started_by, key_rebuilt_at, finished_at, record, record_signature, record_sha256"
)


async def insert_opening(connection: Connection, tender_id: int, started_by: int, started_at: dt.datetime) -> None:
    await connection.execute(
        "INSERT INTO openings (tender_id, started_at, started_by) VALUES ($1, $2, $3)",
        tender_id,
        started_at,
        started_by,
    )


async def select_opening(connection: Connection, tender_id: int) -> Opening | None:
    row = await connection.fetchrow(f"SELECT {_OPENING_COLUMNS} FROM openings WHERE tender_id = $1", tender_id)
    return Opening(**dict(row)) if row else None


async def select_unfinished_openings(connection: Connection) -> list[int]:
    """Tenders whose opening key was rebuilt but whose record is not signed yet."""
    rows = await connection.fetch(
        "SELECT tender_id FROM openings WHERE key_rebuilt_at IS NOT NULL AND finished_at IS NULL ORDER BY tender_id"
    )
    return [row["tender_id"] for row in rows]


async def set_key_rebuilt(connection: Connection, tender_id: int) -> None:
    await connection.execute(
        "UPDATE openings SET key_rebuilt_at = clock_timestamp() WHERE tender_id = $1 AND key_rebuilt_at IS NULL",
        tender_id,
    )


async def set_opening_finished(
    connection: Connection, tender_id: int, record: bytes, signature: bytes, record_sha256: bytes
) -> None:
    await connection.execute(
        """UPDATE openings SET finished_at = clock_timestamp(), record = $2, record_signature = $3, record_sha256 = $4
           WHERE tender_id = $1""",
        tender_id,
        record,
        signature,
        record_sha256,
    )


_LINE_COLUMNS = """bid_id, tender_id, position, line, read_at, confirmed_at, objection, objected_at, answer,
    answered_at"""


async def insert_line(connection: Connection, tender_id: int, bid_id: int, line: Mapping[str, Any]) -> int:
    """Add the next line of the record; returns its position (1, 2, …)."""
    position: int = await connection.fetchval(
        """INSERT INTO opening_lines (bid_id, tender_id, position, line)
           VALUES ($1, $2, (SELECT coalesce(max(position), 0) + 1 FROM opening_lines WHERE tender_id = $2), $3)
           RETURNING position""",
        bid_id,
        tender_id,
        dict(line),
    )
    return position


async def select_lines(connection: Connection, tender_id: int) -> list[Line]:
    rows = await connection.fetch(
        f"SELECT {_LINE_COLUMNS} FROM opening_lines WHERE tender_id = $1 ORDER BY position", tender_id
    )
    return [Line(**dict(row)) for row in rows]


async def select_line(connection: Connection, bid_id: int) -> Line | None:
    row = await connection.fetchrow(f"SELECT {_LINE_COLUMNS} FROM opening_lines WHERE bid_id = $1", bid_id)
    return Line(**dict(row)) if row else None


async def lock_line(connection: Connection, bid_id: int) -> Line | None:
    """A bid's line, locked until the transaction ends (an answer or objection is recorded on it)."""
    row = await connection.fetchrow(f"SELECT {_LINE_COLUMNS} FROM opening_lines WHERE bid_id = $1 FOR UPDATE", bid_id)
    return Line(**dict(row)) if row else None


async def set_line_confirmed(connection: Connection, bid_id: int) -> None:
    await connection.execute("UPDATE opening_lines SET confirmed_at = clock_timestamp() WHERE bid_id = $1", bid_id)


async def set_line_objection(connection: Connection, bid_id: int, text: str) -> None:
    await connection.execute(
        "UPDATE opening_lines SET objection = $2, objected_at = clock_timestamp() WHERE bid_id = $1", bid_id, text
    )


async def set_line_answer(connection: Connection, bid_id: int, text: str, user_id: int) -> None:
    await connection.execute(
        "UPDATE opening_lines SET answer = $2, answered_at = clock_timestamp(), answered_by = $3 WHERE bid_id = $1",
        bid_id,
        text,
        user_id,
    )


async def backdate_custody(connection: Connection, tender_id: int, by: dt.timedelta) -> None:
    """Move the moment a tender's custody ceremony was recorded ``by`` into the past (the demo's, with
    :func:`bidding.tenders.repo.backdate_tender`)."""
    await connection.execute(
        "UPDATE tender_custody SET made_at = made_at - $2::interval WHERE tender_id = $1", tender_id, by
    )
