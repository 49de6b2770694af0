"""SQL for tenders, lots, custodians, invitations, documents, registrations, amendments (questions:
:mod:`bidding.tenders.questions_repo`; notifications: :mod:`bidding.notifications.repo`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import asyncpg
import msgspec

from bidding.db import Connection
from bidding.errors import Conflict
from bidding.i18n import N_
from bidding.tenders.model import (
    Amendment,
    Contact,
    DocumentVersion,
    LocalText,
    Lot,
    Party,
    Person,
    Registration,
    Status,
    Tender,
    TenderInput,
    tender_budget,
)

# --- Tenders --------------------------------------------------------------------------------------------------

# How a tender is stored. The record (:class:`bidding.tenders.model.Tender`) is the one list of what a tender holds:
# its columns, its row mapping and the columns a draft writes are derived from its fields here, so that a field is
# added in one place. A plain field is the column of its name; a LocalText or a Contact is stored as one column per
# part (``title_zh``, ``contact_telephone``); a Party is the organisation joined on ``<field>_id``; the custodians
# and invitations are their own tables, read as arrays. The SQL below is assembled once, at import, from these
# names alone: never from anything a request carries.

_PARTS: Mapping[object, tuple[str, ...]] = {LocalText: LocalText.__struct_fields__, Contact: Contact.__struct_fields__}
#: The parties a tender names, by the alias their organisation is joined under in :data:`TENDER_FROM`.
_PARTIES: Mapping[str, str] = {"agency": "a", "purchaser": "p"}
_LISTS: Mapping[str, str] = {
    "custodian_ids": "array(SELECT c.user_id FROM tender_custodians c WHERE c.tender_id = t.id ORDER BY c.position)",
    "invited_ids": "array(SELECT i.organisation_id FROM tender_invitations i WHERE i.tender_id = t.id"
    " ORDER BY i.organisation_id)",
}
_TENDER_HINTS = typing.get_type_hints(Tender)
_LOT_HINTS = typing.get_type_hints(Lot)
#: The record's fields stored in the tenders row itself.
_ROW_FIELDS = tuple(f.name for f in dataclasses.fields(Tender) if f.name not in (*_PARTIES, *_LISTS, "lots"))
_PARTY_FIELDS = tuple(f.name for f in dataclasses.fields(Party))
#: Of those, the ones a draft or an amendment sets from its input (the budget is its lots' sum, the purchaser the
#: one it names); the others are the lifecycle's (status, version, publication, cancellation).
_WRITTEN_FIELDS = tuple(name for name in _ROW_FIELDS if name in TenderInput.__struct_fields__)


def _columns(hints: Mapping[str, object], field: str) -> tuple[str, ...]:
    parts = _PARTS.get(hints[field])
    return tuple(f"{field}_{part}" for part in parts) if parts else (field,)


def _value(hints: Mapping[str, object], field: str, row: asyncpg.Record) -> object:
    kind = hints[field]
    parts = _PARTS.get(kind)
    if parts:
        return kind(*(row[f"{field}_{part}"] for part in parts))  # type: ignore[operator]  # LocalText or Contact
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(row[field])
    return row[field]


_TENDER_COLUMNS = ", ".join(
    [f"t.{column}" for field in _ROW_FIELDS for column in _columns(_TENDER_HINTS, field)]
    + [f"{alias}.{part} AS {party}_{part}" for party, alias in _PARTIES.items() for part in _PARTY_FIELDS]
    + [f"{select} AS {field}" for field, select in _LISTS.items()]
)
_WRITTEN_COLUMNS = ("purchaser_id", "budget", *(c for f in _WRITTEN_FIELDS for c in _columns(_TENDER_HINTS, f)))
_WRITTEN_LIST = ", ".join(_WRITTEN_COLUMNS)

TENDER_FROM = """FROM tenders t
    JOIN organisations a ON a.id = t.agency_id
    JOIN organisations p ON p.id = t.purchaser_id"""


def _lot(row: asyncpg.Record) -> Lot:
    # Each value is converted to its field's type by _value; mypy sees only the dict's union of them.
    return Lot(**{field: _value(_LOT_HINTS, field, row) for field in _LOT_HINTS})  # type: ignore[arg-type]  # see above


def _tender(row: asyncpg.Record, lots: Sequence[asyncpg.Record]) -> Tender:
    values: dict[str, Any] = {field: _value(_TENDER_HINTS, field, row) for field in _ROW_FIELDS}
    values |= {party: Party(*(row[f"{party}_{part}"] for part in _PARTY_FIELDS)) for party in _PARTIES}
    values |= {field: tuple(row[field]) for field in _LISTS}
    return Tender(**values, lots=tuple(_lot(lot) for lot in lots))


def _written_values(tender: TenderInput) -> list[object]:
    """The values of :data:`_WRITTEN_COLUMNS` for a validated input."""
    assert tender.reference is not None, "a reference is given or generated before saving"
    values: list[object] = [tender.purchaser_id, tender_budget(tender)]
    for field in _WRITTEN_FIELDS:
        value = getattr(tender, field)
        if parts := _PARTS.get(_TENDER_HINTS[field]):
            values += [getattr(value, part) for part in parts]
        else:
            # Lists of structs (the specialties) are stored as JSON.
            values.append(msgspec.to_builtins(value) if isinstance(value, list) else value)
    return values


def _placeholders(first: int, count: int) -> str:
    return ", ".join(f"${n}" for n in range(first, first + count))


_INSERT_TENDER = (
    f"INSERT INTO tenders (agency_id, created_by, status, {_WRITTEN_LIST})"
    f" VALUES ($1, $2, 'draft', {_placeholders(3, len(_WRITTEN_COLUMNS))}) RETURNING id"
)
_UPDATE_TENDER = (
    f"UPDATE tenders SET ({_WRITTEN_LIST}, updated_at) = ({_placeholders(2, len(_WRITTEN_COLUMNS))}, now())"
    " WHERE id = $1"
)


async def next_reference_serial(connection: Connection) -> int:
    serial: int = await connection.fetchval("SELECT nextval('tender_reference_serial')")
    return serial


def _reference_taken(tender: TenderInput) -> Conflict:
    return Conflict(
        N_("The reference %(reference)s is taken.", reference=tender.reference),
        errors={"reference": N_("Already taken.")},
    )


async def insert_tender(connection: Connection, tender: TenderInput, agency_id: int, created_by: int) -> int:
    """Insert a draft of validated terms; raises :class:`Conflict` when the reference is taken."""
    try:
        tender_id: int = await connection.fetchval(_INSERT_TENDER, agency_id, created_by, *_written_values(tender))
    except asyncpg.UniqueViolationError:
        raise _reference_taken(tender) from None
    return tender_id


async def update_tender(connection: Connection, tender_id: int, tender: TenderInput) -> None:
    """Replace a tender's terms (a draft's edits, or an amendment); raises :class:`Conflict` for a taken reference.

    Lots, custodians and invitations are replaced by their own functions."""
    try:
        await connection.execute(_UPDATE_TENDER, tender_id, *_written_values(tender))
    except asyncpg.UniqueViolationError:
        raise _reference_taken(tender) from None


async def replace_lots(connection: Connection, tender_id: int, lots: Sequence[Lot]) -> None:
    await connection.execute("DELETE FROM tender_lots WHERE tender_id = $1", tender_id)
    await connection.executemany(
        """INSERT INTO tender_lots (tender_id, number, title_zh, title_en, budget, bid_security, method, criteria)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        [
            (tender_id, lot.number, lot.title.zh, lot.title.en, lot.budget, lot.bid_security, lot.method, lot.criteria)
            for lot in lots
        ],
    )


async def replace_custodians(connection: Connection, tender_id: int, user_ids: Sequence[int]) -> None:
    await connection.execute("DELETE FROM tender_custodians WHERE tender_id = $1", tender_id)
    await connection.executemany(
        "INSERT INTO tender_custodians (tender_id, user_id, position) VALUES ($1, $2, $3)",
        [(tender_id, user_id, position) for position, user_id in enumerate(user_ids)],
    )


async def replace_invitations(connection: Connection, tender_id: int, organisation_ids: Sequence[int]) -> None:
    await connection.execute("DELETE FROM tender_invitations WHERE tender_id = $1", tender_id)
    await connection.executemany(
        "INSERT INTO tender_invitations (tender_id, organisation_id) VALUES ($1, $2)",
        [(tender_id, organisation_id) for organisation_id in organisation_ids],
    )


async def select_tender(connection: Connection, tender_id: int) -> Tender | None:
    """A tender with its lots."""
    row = await connection.fetchrow("SELECT " + _TENDER_COLUMNS + " " + TENDER_FROM + " WHERE t.id = $1", tender_id)
    if row is None:
        return None
    lots = await connection.fetch("SELECT * FROM tender_lots WHERE tender_id = $1 ORDER BY number", tender_id)
    return _tender(row, lots)


async def lock_tender(connection: Connection, tender_id: int) -> Tender | None:
    """A tender with its lots, its row locked until the transaction ends: every change of a tender (and of what
    hangs on it: documents, questions, bids, the opening) takes this lock first, so that changes are serialised."""
    await connection.execute("SELECT 1 FROM tenders WHERE id = $1 FOR UPDATE", tender_id)
    return await select_tender(connection, tender_id)


async def select_tender_id_by_reference(connection: Connection, reference: str) -> int | None:
    tender_id: int | None = await connection.fetchval("SELECT id FROM tenders WHERE reference = $1", reference)
    return tender_id


async def set_published(connection: Connection, tender_id: int, documents_from: dt.datetime) -> None:
    await connection.execute(
        """UPDATE tenders SET status = 'published', version = 1, published_at = now(), documents_from = $2,
               updated_at = now()
           WHERE id = $1""",
        tender_id,
        documents_from,
    )


async def set_amended(connection: Connection, tender_id: int) -> int:
    version: int = await connection.fetchval(
        "UPDATE tenders SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING version", tender_id
    )
    return version


async def set_deadline(
    connection: Connection, tender_id: int, deadline: dt.datetime, evaluation_at: dt.datetime
) -> None:
    await connection.execute(
        "UPDATE tenders SET deadline = $2, evaluation_at = $3, updated_at = now() WHERE id = $1",
        tender_id,
        deadline,
        evaluation_at,
    )


async def set_status(connection: Connection, tender_id: int, status: Status) -> None:
    """Move a tender along its lifecycle (the caller has checked the transition with ``model.transition``)."""
    await connection.execute("UPDATE tenders SET status = $2, updated_at = now() WHERE id = $1", tender_id, status)


async def set_cancelled(connection: Connection, tender_id: int, reason: str) -> None:
    await connection.execute(
        """UPDATE tenders SET status = 'cancelled', cancelled_at = now(), cancel_reason = $2, updated_at = now()
           WHERE id = $1""",
        tender_id,
        reason,
    )


async def set_search_terms(connection: Connection, tender_id: int, terms: Sequence[str]) -> None:
    await connection.execute("UPDATE tenders SET search = array_to_tsvector($2) WHERE id = $1", tender_id, list(terms))


async def select_now(connection: Connection) -> dt.datetime:
    """The database clock: the only clock that decides "before the deadline"."""
    now: dt.datetime = await connection.fetchval("SELECT now()")
    return now


# --- Documents ------------------------------------------------------------------------------------------------

_DOCUMENT_FIELDS = "d.id, d.tender_id, d.name, d.version, d.sha256, d.size, d.content_type, d.uploaded_at"
_DOCUMENT_COLUMNS = (
    _DOCUMENT_FIELDS
    + """, d.version = (SELECT max(n.version) FROM tender_documents n
                       WHERE n.tender_id = d.tender_id AND n.name = d.name) AS current"""
)


def _document(row: asyncpg.Record) -> DocumentVersion:
    values = dict(row)
    values["sha256"] = bytes(values["sha256"])
    return DocumentVersion(**values)


async def insert_document(
    connection: Connection, tender_id: int, name: str, sha256: bytes, size: int, content_type: str, uploaded_by: int
) -> DocumentVersion:
    """Add a version of document ``name`` (the next number for that name)."""
    row = await connection.fetchrow(
        """INSERT INTO tender_documents AS d (tender_id, name, version, sha256, size, content_type, uploaded_by)
           VALUES ($1, $2, coalesce((SELECT max(version) FROM tender_documents
                                     WHERE tender_id = $1 AND name = $2), 0) + 1, $3, $4, $5, $6)
           RETURNING """
        # The version just added is the newest by construction; a subquery here would see the table as it was
        # before the insert (no version yet: NULL; an older one: false).
        + _DOCUMENT_FIELDS
        + ", true AS current",
        tender_id,
        name,
        sha256,
        size,
        content_type,
        uploaded_by,
    )
    assert row is not None, "INSERT … RETURNING returns the row"
    return _document(row)


async def select_documents(connection: Connection, tender_id: int) -> list[DocumentVersion]:
    """Every version of every document of a tender, by name then newest version first."""
    rows = await connection.fetch(
        "SELECT " + _DOCUMENT_COLUMNS + " FROM tender_documents d WHERE d.tender_id = $1"
        " ORDER BY d.name, d.version DESC",
        tender_id,
    )
    return [_document(row) for row in rows]


async def select_document(connection: Connection, document_id: int) -> DocumentVersion | None:
    row = await connection.fetchrow(
        "SELECT " + _DOCUMENT_COLUMNS + " FROM tender_documents d WHERE d.id = $1", document_id
    )
    return _document(row) if row else None


async def insert_download(connection: Connection, document_id: int, organisation_id: int | None, user_id: int) -> None:
    await connection.execute(
        "INSERT INTO document_downloads (document_id, organisation_id, user_id) VALUES ($1, $2, $3)",
        document_id,
        organisation_id,
        user_id,
    )


async def count_downloads(connection: Connection, tender_id: int) -> dict[int, int]:
    rows = await connection.fetch(
        """SELECT d.id, count(x.id) AS n FROM tender_documents d
           LEFT JOIN document_downloads x ON x.document_id = d.id
           WHERE d.tender_id = $1 GROUP BY d.id""",
        tender_id,
    )
    return {row["id"]: row["n"] for row in rows}


# --- Registrations --------------------------------------------------------------------------------------------


async def insert_registration(connection: Connection, tender_id: int, organisation_id: int, user_id: int) -> bool:
    """Register an organisation for a tender; ``False`` if it already was."""
    status: str = await connection.execute(
        """INSERT INTO tender_registrations (tender_id, organisation_id, registered_by) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING""",
        tender_id,
        organisation_id,
        user_id,
    )
    return status == "INSERT 0 1"


async def is_registered(connection: Connection, tender_id: int, organisation_id: int) -> bool:
    found: bool | None = await connection.fetchval(
        "SELECT true FROM tender_registrations WHERE tender_id = $1 AND organisation_id = $2",
        tender_id,
        organisation_id,
    )
    return bool(found)


async def select_registrations(connection: Connection, tender_id: int) -> list[Registration]:
    rows = await connection.fetch(
        """SELECT r.organisation_id, o.name AS organisation_name, o.credit_code, r.registered_at,
                  o.name_en AS organisation_name_en
           FROM tender_registrations r JOIN organisations o ON o.id = r.organisation_id
           WHERE r.tender_id = $1 ORDER BY r.registered_at""",
        tender_id,
    )
    return [Registration(**dict(row)) for row in rows]


# --- Amendments ------------------------------------------------------------------------------------------


async def insert_amendment(
    connection: Connection,
    tender_id: int,
    version: int,
    summary: str,
    substantive: bool,
    changes: dict[str, Any],
    deadline_before: dt.datetime,
    deadline_after: dt.datetime,
    deadline_pushed: bool,
    user_id: int,
) -> None:
    await connection.execute(
        """INSERT INTO tender_amendments (tender_id, version, summary, substantive, changes, deadline_before,
               deadline_after, deadline_pushed, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        tender_id,
        version,
        summary,
        substantive,
        changes,
        deadline_before,
        deadline_after,
        deadline_pushed,
        user_id,
    )


async def select_amendments(connection: Connection, tender_id: int) -> list[Amendment]:
    rows = await connection.fetch(
        """SELECT version, summary, substantive, changes, deadline_before, deadline_after, deadline_pushed, created_at
           FROM tender_amendments WHERE tender_id = $1 ORDER BY version""",
        tender_id,
    )
    return [Amendment(**dict(row)) for row in rows]


# --- The people and organisations a tender names ----------------------------------------------------------------


async def select_organisation_kinds(connection: Connection, organisation_ids: Sequence[int]) -> dict[int, str]:
    rows = await connection.fetch("SELECT id, kind FROM organisations WHERE id = any($1::bigint[])", organisation_ids)
    return {row["id"]: row["kind"] for row in rows}


async def select_role_holders(connection: Connection, user_ids: Sequence[int], role: str) -> set[int]:
    """Which of ``user_ids`` hold ``role``."""
    rows = await connection.fetch(
        "SELECT user_id FROM user_roles WHERE user_id = any($1::bigint[]) AND role = $2", user_ids, role
    )
    return {row["user_id"] for row in rows}


async def select_custodians(connection: Connection, tender_id: int) -> list[Person]:
    rows = await connection.fetch(
        """SELECT u.id, u.display_name, o.name AS organisation_name, u.login, u.display_name_en,
                  o.name_en AS organisation_name_en
           FROM tender_custodians c JOIN users u ON u.id = c.user_id
           LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE c.tender_id = $1 ORDER BY c.position""",
        tender_id,
    )
    return [Person(**dict(row)) for row in rows]


async def select_invited(connection: Connection, tender_id: int) -> list[Party]:
    rows = await connection.fetch(
        """SELECT o.id, o.name, o.name_en, o.credit_code
           FROM tender_invitations i JOIN organisations o ON o.id = i.organisation_id
           WHERE i.tender_id = $1 ORDER BY o.name""",
        tender_id,
    )
    return [Party(**dict(row)) for row in rows]


async def is_invited(connection: Connection, tender_id: int, organisation_id: int) -> bool:
    found: bool | None = await connection.fetchval(
        "SELECT true FROM tender_invitations WHERE tender_id = $1 AND organisation_id = $2",
        tender_id,
        organisation_id,
    )
    return bool(found)


async def backdate_tender(connection: Connection, tender_id: int, by: dt.timedelta) -> None:
    """Move a tender's recorded moments (its timeline, documents, registrations, questions and amendments) ``by``
    into the past, keeping their order. Only the demo does this, to show a tender whose deadline has passed; the
    log and the open data releases keep the moments things really happened."""
    await connection.execute(
        """UPDATE tenders SET documents_from = documents_from - $2::interval,
               questions_until = questions_until - $2::interval, deadline = deadline - $2::interval,
               evaluation_at = evaluation_at - $2::interval, published_at = published_at - $2::interval,
               created_at = created_at - $2::interval, updated_at = updated_at - $2::interval
           WHERE id = $1""",
        tender_id,
        by,
    )
    await connection.execute(
        "UPDATE tender_documents SET uploaded_at = uploaded_at - $2::interval WHERE tender_id = $1", tender_id, by
    )
    await connection.execute(
        "UPDATE tender_registrations SET registered_at = registered_at - $2::interval WHERE tender_id = $1",
        tender_id,
        by,
    )
    await connection.execute(
        """UPDATE tender_questions SET asked_at = asked_at - $2::interval, answered_at = answered_at - $2::interval
           WHERE tender_id = $1""",
        tender_id,
        by,
    )
    await connection.execute(
        """UPDATE tender_amendments SET created_at = created_at - $2::interval,
               deadline_before = deadline_before - $2::interval, deadline_after = deadline_after - $2::interval
           WHERE tender_id = $1""",
        tender_id,
        by,
    )
