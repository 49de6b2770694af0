"""SQL for tenders, lots, custodians, invitations, documents, registrations, amendments (questions:
:mod:`bidding.tenders.questions_repo`; notifications: :mod:`bidding.notifications.repo`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import asyncpg

from bidding.db import Connection
from bidding.errors import Conflict
from bidding.i18n import N_
from bidding.tenders.model import (
    Amendment,
    Category,
    Contact,
    DocumentVersion,
    LocalText,
    Lot,
    Method,
    Party,
    Person,
    Procedure,
    Registration,
    Status,
    Tender,
)

# --- Tenders --------------------------------------------------------------------------------------------------

_TENDER_COLUMNS = """t.id, t.reference, t.status, t.category, t.procedure, t.region, t.currency, t.budget,
    t.title_zh, t.title_en, t.description_zh, t.description_en, t.documents_from, t.questions_until, t.deadline,
    t.evaluation_at, t.committee_size, t.specialties, t.custody_threshold, t.version, t.created_by, t.created_at,
    t.updated_at, t.published_at, t.cancelled_at, t.cancel_reason, t.contact_name, t.contact_telephone,
    t.contact_email, t.purchaser_contact_name, t.purchaser_contact_telephone, t.purchaser_contact_email,
    a.id AS agency_id, a.name AS agency_name, a.name_en AS agency_name_en, a.credit_code AS agency_credit_code,
    p.id AS purchaser_id, p.name AS purchaser_name, p.name_en AS purchaser_name_en,
    p.credit_code AS purchaser_credit_code,
    array(SELECT c.user_id FROM tender_custodians c WHERE c.tender_id = t.id ORDER BY c.position) AS custodian_ids,
    array(SELECT i.organisation_id FROM tender_invitations i WHERE i.tender_id = t.id ORDER BY i.organisation_id)
        AS invited_ids"""

TENDER_FROM = """FROM tenders t
    JOIN organisations a ON a.id = t.agency_id
    JOIN organisations p ON p.id = t.purchaser_id"""


def _tender(row: asyncpg.Record, lots: Sequence[asyncpg.Record]) -> Tender:
    return Tender(
        id=row["id"],
        reference=row["reference"],
        status=Status(row["status"]),
        category=Category(row["category"]),
        procedure=Procedure(row["procedure"]),
        region=row["region"],
        currency=row["currency"],
        budget=row["budget"],
        title=LocalText(row["title_zh"], row["title_en"]),
        description=LocalText(row["description_zh"], row["description_en"]),
        documents_from=row["documents_from"],
        questions_until=row["questions_until"],
        deadline=row["deadline"],
        evaluation_at=row["evaluation_at"],
        committee_size=row["committee_size"],
        specialties=row["specialties"],
        custody_threshold=row["custody_threshold"],
        custodian_ids=tuple(row["custodian_ids"]),
        invited_ids=tuple(row["invited_ids"]),
        version=row["version"],
        agency=Party(row["agency_id"], row["agency_name"], row["agency_name_en"], row["agency_credit_code"]),
        purchaser=Party(
            row["purchaser_id"], row["purchaser_name"], row["purchaser_name_en"], row["purchaser_credit_code"]
        ),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        published_at=row["published_at"],
        cancelled_at=row["cancelled_at"],
        cancel_reason=row["cancel_reason"],
        lots=tuple(
            Lot(
                lot["number"],
                LocalText(lot["title_zh"], lot["title_en"]),
                lot["budget"],
                lot["bid_security"],
                Method(lot["method"]),
                lot["criteria"],
            )
            for lot in lots
        ),
        contact=Contact(row["contact_name"], row["contact_telephone"], row["contact_email"]),
        purchaser_contact=Contact(
            row["purchaser_contact_name"], row["purchaser_contact_telephone"], row["purchaser_contact_email"]
        ),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class TenderFields:
    """The columns a draft sets, already validated."""

    reference: str
    agency_id: int
    purchaser_id: int
    category: Category
    procedure: Procedure
    region: str
    budget: Decimal
    title: LocalText
    description: LocalText
    documents_from: dt.datetime
    questions_until: dt.datetime
    deadline: dt.datetime
    evaluation_at: dt.datetime
    committee_size: int
    specialties: list[dict[str, Any]]
    custody_threshold: int
    contact: Contact
    purchaser_contact: Contact


async def next_reference_serial(connection: Connection) -> int:
    serial: int = await connection.fetchval("SELECT nextval('tender_reference_serial')")
    return serial


#: The columns a draft sets, in the order of :func:`_field_values`.
_FIELD_COLUMNS = """reference, purchaser_id, category, procedure, region, budget, title_zh, title_en, description_zh,
    description_en, documents_from, questions_until, deadline, evaluation_at, committee_size, specialties,
    custody_threshold, contact_name, contact_telephone, contact_email, purchaser_contact_name,
    purchaser_contact_telephone, purchaser_contact_email"""


def _field_values(fields: TenderFields) -> tuple[object, ...]:
    return (
        fields.reference,
        fields.purchaser_id,
        fields.category,
        fields.procedure,
        fields.region,
        fields.budget,
        fields.title.zh,
        fields.title.en,
        fields.description.zh,
        fields.description.en,
        fields.documents_from,
        fields.questions_until,
        fields.deadline,
        fields.evaluation_at,
        fields.committee_size,
        fields.specialties,
        fields.custody_threshold,
        fields.contact.name,
        fields.contact.telephone,
        fields.contact.email,
        fields.purchaser_contact.name,
        fields.purchaser_contact.telephone,
        fields.purchaser_contact.email,
    )


def _reference_taken(fields: TenderFields) -> Conflict:
    return Conflict(
        N_("The reference %(reference)s is taken.", reference=fields.reference),
        errors={"reference": N_("Already taken.")},
    )


async def insert_tender(connection: Connection, fields: TenderFields, created_by: int) -> int:
    """Insert a draft; raises :class:`Conflict` when the reference is taken."""
    try:
        tender_id: int = await connection.fetchval(
            f"""INSERT INTO tenders (agency_id, created_by, status, {_FIELD_COLUMNS})
                VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                        $20, $21, $22, $23, $24, $25)
                RETURNING id""",
            fields.agency_id,
            created_by,
            *_field_values(fields),
        )
    except asyncpg.UniqueViolationError:
        raise _reference_taken(fields) from None
    return tender_id


async def update_tender(connection: Connection, tender_id: int, fields: TenderFields) -> None:
    """Replace a tender's fields (a draft's edits, or an amendment); raises :class:`Conflict` for a taken reference."""
    try:
        await connection.execute(
            f"""UPDATE tenders SET ({_FIELD_COLUMNS}, updated_at)
                = ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
                   $23, $24, now())
                WHERE id = $1""",
            tender_id,
            *_field_values(fields),
        )
    except asyncpg.UniqueViolationError:
        raise _reference_taken(fields) from None


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
