"""SQL for the expert pool, its draws, the invitations they send, and the outbox of messages to people."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from bidding.db import Connection
from bidding.errors import Conflict
from bidding.experts.model import ConflictInput, PoolEntry, Profile, Relation, StatusChange
from bidding.i18n import N_

# --- The pool --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Expert:
    id: int
    user_id: int
    login: str
    name: str
    name_en: str | None
    identity_number_masked: str
    title: str
    years: int
    employer_name: str | None
    employer_credit_code: str | None
    region: str
    telephone: str
    email: str | None
    status: str
    suspended_until: dt.date | None
    suspension_reason: str | None
    version: int
    specialties: tuple[str, ...]
    created_at: dt.datetime
    updated_at: dt.datetime


_EXPERT_COLUMNS = """e.id, e.user_id, u.login, u.display_name AS name, u.display_name_en AS name_en,
    e.identity_number_masked, e.title, e.years, e.employer_name, e.employer_credit_code, e.region, e.telephone,
    e.email, e.status, e.suspended_until, e.suspension_reason, e.version, e.created_at, e.updated_at,
    array(SELECT code FROM expert_specialties s WHERE s.expert_id = e.id ORDER BY code) AS specialties"""


def _expert(row: asyncpg.Record | Mapping[str, Any]) -> Expert:
    values = dict(row)
    values["specialties"] = tuple(values["specialties"])
    return Expert(**values)


async def insert_expert(connection: Connection, user_id: int, profile: Profile) -> int:
    try:
        expert_id: int = await connection.fetchval(
            """INSERT INTO experts (user_id, identity_number_masked, title, years, employer_name,
                                    employer_credit_code, region, telephone, email)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
            user_id,
            profile.identity_number_masked,
            profile.title,
            profile.years,
            profile.employer_name,
            profile.employer_credit_code,
            profile.region,
            profile.telephone,
            profile.email,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(N_("This person is in the expert pool already.")) from None
    await _set_specialties(connection, expert_id, profile.specialties)
    return expert_id


async def _set_specialties(connection: Connection, expert_id: int, codes: Sequence[str]) -> None:
    await connection.execute("DELETE FROM expert_specialties WHERE expert_id = $1", expert_id)
    await connection.execute(
        "INSERT INTO expert_specialties (expert_id, code) SELECT $1, unnest($2::text[])", expert_id, list(codes)
    )


async def update_expert(connection: Connection, expert_id: int, profile: Profile) -> None:
    await connection.execute(
        """UPDATE experts SET identity_number_masked = coalesce($2, identity_number_masked), title = $3, years = $4,
                  employer_name = $5, employer_credit_code = $6, region = $7, telephone = $8, email = $9,
                  version = version + 1, updated_at = now()
           WHERE id = $1""",
        expert_id,
        profile.identity_number_masked,
        profile.title,
        profile.years,
        profile.employer_name,
        profile.employer_credit_code,
        profile.region,
        profile.telephone,
        profile.email,
    )
    await _set_specialties(connection, expert_id, profile.specialties)


async def update_status(connection: Connection, expert_id: int, change: StatusChange) -> None:
    await connection.execute(
        """UPDATE experts SET status = $2, suspension_reason = $3, suspended_until = $4, version = version + 1,
                  updated_at = now()
           WHERE id = $1""",
        expert_id,
        change.status,
        change.reason,
        change.until,
    )


async def select_expert(connection: Connection, expert_id: int, *, lock: bool = False) -> Expert | None:
    row = await connection.fetchrow(
        f"SELECT {_EXPERT_COLUMNS} FROM experts e JOIN users u ON u.id = e.user_id WHERE e.id = $1"
        + (" FOR UPDATE OF e" if lock else ""),
        expert_id,
    )
    return _expert(row) if row else None


async def select_expert_of_user(connection: Connection, user_id: int) -> Expert | None:
    row = await connection.fetchrow(
        f"SELECT {_EXPERT_COLUMNS} FROM experts e JOIN users u ON u.id = e.user_id WHERE e.user_id = $1", user_id
    )
    return _expert(row) if row else None


async def select_experts(
    connection: Connection, *, text: str | None, specialty: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[Expert], int]:
    """A page of the pool, newest first, by name, login or employer (``text``), specialty and status; and the total."""
    where = """($1::text IS NULL OR u.display_name ILIKE '%' || $1 || '%' OR u.login ILIKE '%' || $1 || '%'
                OR e.employer_name ILIKE '%' || $1 || '%')
           AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM expert_specialties s WHERE s.expert_id = e.id
                                            AND s.code = $2))
           AND ($3::text IS NULL OR e.status = $3)"""
    rows = await connection.fetch(
        f"""SELECT {_EXPERT_COLUMNS}, count(*) OVER () AS total FROM experts e JOIN users u ON u.id = e.user_id
            WHERE {where} ORDER BY e.id DESC LIMIT $4 OFFSET $5""",
        text,
        specialty,
        status,
        limit,
        offset,
    )
    total = rows[0]["total"] if rows else 0
    return [_expert({k: v for k, v in row.items() if k != "total"}) for row in rows], total


@dataclasses.dataclass(frozen=True, slots=True)
class Declared:
    unavailable: tuple[dt.date, ...]
    conflicts: tuple[ConflictInput, ...]


async def select_declarations(connection: Connection, expert_id: int) -> Declared:
    days = await connection.fetch("SELECT day FROM expert_unavailable WHERE expert_id = $1 ORDER BY day", expert_id)
    conflicts = await connection.fetch(
        """SELECT credit_code, name, relation, until FROM expert_conflicts WHERE expert_id = $1
           ORDER BY name, relation""",
        expert_id,
    )
    return Declared(
        tuple(row["day"] for row in days),
        tuple(
            ConflictInput(row["credit_code"], row["name"], Relation(row["relation"]), row["until"]) for row in conflicts
        ),
    )


async def replace_declarations(
    connection: Connection, expert_id: int, days: Sequence[dt.date], conflicts: Sequence[ConflictInput]
) -> None:
    await connection.execute("DELETE FROM expert_unavailable WHERE expert_id = $1", expert_id)
    await connection.execute(
        "INSERT INTO expert_unavailable (expert_id, day) SELECT $1, unnest($2::date[])", expert_id, list(days)
    )
    await connection.execute("DELETE FROM expert_conflicts WHERE expert_id = $1", expert_id)
    await connection.executemany(
        "INSERT INTO expert_conflicts (expert_id, credit_code, name, relation, until) VALUES ($1, $2, $3, $4, $5)",
        [(expert_id, c.credit_code, c.name, c.relation, c.until) for c in conflicts],
    )
    await connection.execute("UPDATE experts SET version = version + 1, updated_at = now() WHERE id = $1", expert_id)


# --- The candidate list ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Party:
    id: int
    name: str
    name_en: str | None
    credit_code: str | None
    region: str


@dataclasses.dataclass(frozen=True, slots=True)
class TenderParties:
    """Whom a tender's committee must not be tied to: its purchaser, its agency, and every bidder."""

    purchaser: Party
    agency: Party
    bidders: tuple[Party, ...]


async def select_tender_parties(connection: Connection, tender_id: int) -> TenderParties:
    return (await select_tenders_parties(connection, [tender_id]))[tender_id]


async def select_tenders_parties(connection: Connection, tender_ids: Sequence[int]) -> dict[int, TenderParties]:
    """The parties of each of the tenders: its purchaser, its agency, and its bidders by id."""
    rows = await connection.fetch(
        """SELECT t.id AS tender_id, 'purchaser' AS part, o.id, o.name, o.name_en, o.credit_code, o.region
           FROM tenders t JOIN organisations o ON o.id = t.purchaser_id WHERE t.id = ANY($1::bigint[])
           UNION ALL
           SELECT t.id, 'agency', o.id, o.name, o.name_en, o.credit_code, o.region
           FROM tenders t JOIN organisations o ON o.id = t.agency_id WHERE t.id = ANY($1::bigint[])
           UNION ALL
           SELECT b.tender_id, 'bidder', o.id, o.name, o.name_en, o.credit_code, o.region
           FROM (SELECT DISTINCT tender_id, organisation_id FROM bids WHERE tender_id = ANY($1::bigint[])) b
           JOIN organisations o ON o.id = b.organisation_id""",
        list(tender_ids),
    )
    by_part: dict[tuple[int, str], list[Party]] = {}
    for row in rows:
        found = Party(row["id"], row["name"], row["name_en"], row["credit_code"], row["region"])
        by_part.setdefault((row["tender_id"], row["part"]), []).append(found)
    return {
        tender_id: TenderParties(
            by_part[tender_id, "purchaser"][0],
            by_part[tender_id, "agency"][0],
            tuple(sorted(by_part.get((tender_id, "bidder"), []), key=lambda found: found.id)),
        )
        for tender_id in {row["tender_id"] for row in rows}
    }


@dataclasses.dataclass(frozen=True, slots=True)
class Project:
    """What an expert who accepted reads of the tender: its reference and title, its state, and its committee's
    seats declared so far of its size."""

    tender_id: int
    reference: str
    title: str
    status: str
    committee_size: int
    declared: int


async def select_projects(connection: Connection, tender_ids: Sequence[int]) -> dict[int, Project]:
    rows = await connection.fetch(
        """SELECT t.id AS tender_id, t.reference, coalesce(nullif(t.title_zh, ''), t.title_en) AS title, t.status,
                  t.committee_size,
                  (SELECT count(*) FROM expert_invitations i
                   WHERE i.tender_id = t.id AND i.status = 'declared')::integer AS declared
           FROM tenders t WHERE t.id = ANY($1::bigint[])""",
        list(tender_ids),
    )
    return {row["tender_id"]: Project(**dict(row)) for row in rows}


async def select_evaluation_times(connection: Connection, draw_ids: Sequence[int]) -> dict[int, dt.datetime]:
    rows = await connection.fetch(
        "SELECT id, evaluation_at FROM expert_draws WHERE id = ANY($1::bigint[])", list(draw_ids)
    )
    return {row["id"]: row["evaluation_at"] for row in rows}


#: The candidate list with every exclusion and its reason. $1 the quotas' specialties, $2 the evaluation day,
#: $3 the purchaser's credit code, $4 the agency's, $5 the bidders', $6 the spellings of the purchaser's region
#: (empty: no region rule), $7 since when a draw for the same purchaser counts as recent (null: never), $8 the
#: purchaser's id, $9 the tender's id. Retired experts are not in the pool at all.
POOL_SQL = """
SELECT e.id, s.groups, array_remove(ARRAY[
    CASE WHEN e.status = 'suspended' AND (e.suspended_until IS NULL OR e.suspended_until >= $2)
         THEN 'suspended' END,
    CASE WHEN EXISTS (SELECT 1 FROM expert_unavailable u WHERE u.expert_id = e.id AND u.day = $2)
         THEN 'unavailable' END,
    CASE WHEN e.employer_credit_code = $3 THEN 'employer:purchaser' END,
    CASE WHEN e.employer_credit_code = $4 THEN 'employer:agency' END,
    CASE WHEN e.employer_credit_code = ANY($5::text[]) THEN 'employer:bidder' END,
    CASE WHEN c.codes && ARRAY[$3]::text[] THEN 'conflict:purchaser' END,
    CASE WHEN c.codes && ARRAY[$4]::text[] THEN 'conflict:agency' END,
    CASE WHEN c.codes && $5::text[] THEN 'conflict:bidder' END,
    CASE WHEN $7::timestamptz IS NOT NULL AND EXISTS (
        SELECT 1 FROM expert_invitations i JOIN tenders t ON t.id = i.tender_id
        WHERE i.expert_id = e.id AND t.purchaser_id = $8 AND i.tender_id <> $9 AND i.created_at >= $7)
         THEN 'recent:purchaser' END,
    CASE WHEN e.region = ANY($6::text[]) THEN 'region:purchaser' END,
    CASE WHEN EXISTS (SELECT 1 FROM expert_invitations i WHERE i.expert_id = e.id AND i.tender_id = $9)
         THEN 'called:tender' END
], NULL) AS reasons
FROM (SELECT expert_id, array_agg(code ORDER BY code) AS groups FROM expert_specialties
      WHERE code = ANY($1::text[]) GROUP BY expert_id) s
JOIN experts e ON e.id = s.expert_id
LEFT JOIN LATERAL (SELECT array_agg(credit_code) AS codes FROM expert_conflicts x
                   WHERE x.expert_id = e.id AND (x.until IS NULL OR x.until >= $2)) c ON true
WHERE e.status <> 'retired'
ORDER BY e.id
"""


async def select_pool(
    connection: Connection,
    *,
    specialties: Sequence[str],
    day: dt.date,
    parties: TenderParties,
    region_spellings: Sequence[str],
    recent_since: dt.datetime | None,
    tender_id: int,
) -> list[PoolEntry]:
    rows = await connection.fetch(
        POOL_SQL,
        list(specialties),
        day,
        parties.purchaser.credit_code,
        parties.agency.credit_code,
        [bidder.credit_code for bidder in parties.bidders if bidder.credit_code],
        list(region_spellings),
        recent_since,
        parties.purchaser.id,
        tender_id,
    )
    return [PoolEntry(row["id"], tuple(row["groups"]), tuple(row["reasons"])) for row in rows]


# --- Draws -----------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Draw:
    id: int
    tender_id: int
    kind: str
    round: int
    request_id: int
    status: str
    evaluation_at: dt.datetime
    region_rule: str
    quotas: list[dict[str, Any]]
    inputs: bytes
    inputs_sha256: str
    label_key: bytes
    candidate_ids: list[int]
    secret: bytes
    commitment: dict[str, Any]
    one_time_code: str | None
    due_at: dt.datetime
    groups: list[dict[str, Any]] | None
    void_reason: str | None
    requested_by: int
    created_at: dt.datetime
    drawn_at: dt.datetime | None


_DRAW_COLUMNS = """id, tender_id, kind, round, coalesce(request_id, id) AS request_id, status, evaluation_at,
    region_rule, quotas, inputs, inputs_sha256, label_key, candidate_ids, secret, commitment, one_time_code, due_at,
    groups, void_reason, requested_by, created_at, drawn_at"""


def _draw(row: asyncpg.Record) -> Draw:
    return Draw(**dict(row))


@dataclasses.dataclass(frozen=True, slots=True)
class NewDraw:
    tender_id: int
    kind: str
    round: int
    request_id: int | None
    evaluation_at: dt.datetime
    region_rule: str
    quotas: list[dict[str, Any]]
    inputs: bytes
    inputs_sha256: str
    label_key: bytes
    #: The candidates' experts in the order of the inputs document's candidates (by label).
    #: The candidates' experts in the order of the inputs document's candidates (by label).
    candidate_ids: list[int]
    secret: bytes
    commitment: dict[str, Any]
    due_at: dt.datetime
    requested_by: int


async def insert_draw(connection: Connection, draw: NewDraw) -> int | None:
    """A new round, committing; None if the tender has a round in progress or (for a main draw) a main draw."""
    values = dataclasses.asdict(draw)
    try:
        draw_id: int = await connection.fetchval(
            f"""INSERT INTO expert_draws ({", ".join(values)}, status)
                VALUES ({", ".join(f"${n}" for n in range(1, len(values) + 1))}, 'committing') RETURNING id""",
            *values.values(),
        )
    except asyncpg.UniqueViolationError:
        return None
    return draw_id


async def select_draw(connection: Connection, draw_id: int, *, lock: bool = False) -> Draw | None:
    row = await connection.fetchrow(
        f"SELECT {_DRAW_COLUMNS} FROM expert_draws WHERE id = $1" + (" FOR UPDATE" if lock else ""), draw_id
    )
    return _draw(row) if row else None


async def select_draws(connection: Connection, tender_id: int) -> list[Draw]:
    rows = await connection.fetch(
        f"SELECT {_DRAW_COLUMNS} FROM expert_draws WHERE tender_id = $1 ORDER BY id", tender_id
    )
    return [_draw(row) for row in rows]


async def select_live_draw(connection: Connection, tender_id: int, *, lock: bool = False) -> Draw | None:
    row = await connection.fetchrow(
        f"""SELECT {_DRAW_COLUMNS} FROM expert_draws WHERE tender_id = $1 AND status IN ('committing', 'revealing')"""
        + (" FOR UPDATE" if lock else ""),
        tender_id,
    )
    return _draw(row) if row else None


async def select_overdue_draws(connection: Connection) -> list[int]:
    rows = await connection.fetch(
        "SELECT id FROM expert_draws WHERE status IN ('committing', 'revealing') AND due_at < now() ORDER BY id"
    )
    return [row["id"] for row in rows]


async def update_draw(connection: Connection, draw_id: int, **changes: Any) -> None:
    columns = ", ".join(f"{name} = ${number}" for number, name in enumerate(changes, start=2))
    await connection.execute(f"UPDATE expert_draws SET {columns} WHERE id = $1", draw_id, *changes.values())


@dataclasses.dataclass(frozen=True, slots=True)
class Contribution:
    party: str
    user_id: int | None
    commitment: bytes
    secret: bytes | None
    committed_at: dt.datetime
    revealed_at: dt.datetime | None


async def insert_contribution(
    connection: Connection, draw_id: int, party: str, user_id: int | None, commitment: bytes, secret: bytes | None
) -> bool:
    status: str = await connection.execute(
        """INSERT INTO draw_contributions (draw_id, party, user_id, commitment, secret, revealed_at)
           VALUES ($1, $2, $3, $4, $5, CASE WHEN $5::bytea IS NULL THEN NULL ELSE now() END)
           ON CONFLICT DO NOTHING""",
        draw_id,
        party,
        user_id,
        commitment,
        secret,
    )
    return status == "INSERT 0 1"


async def select_contributions(connection: Connection, draw_ids: Sequence[int]) -> dict[int, list[Contribution]]:
    rows = await connection.fetch(
        """SELECT draw_id, party, user_id, commitment, secret, committed_at, revealed_at FROM draw_contributions
           WHERE draw_id = ANY($1::bigint[]) ORDER BY draw_id, party""",
        list(draw_ids),
    )
    found: dict[int, list[Contribution]] = {}
    for row in rows:
        values = dict(row)
        found.setdefault(values.pop("draw_id"), []).append(Contribution(**values))
    return found


async def reveal_contribution(connection: Connection, draw_id: int, party: str, secret: bytes) -> None:
    await connection.execute(
        "UPDATE draw_contributions SET secret = $3, revealed_at = now() WHERE draw_id = $1 AND party = $2",
        draw_id,
        party,
        secret,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Pick:
    draw_id: int
    label: str
    expert_id: int
    specialty: str
    role: str
    rank: int


async def insert_picks(connection: Connection, picks: Sequence[Pick]) -> None:
    await connection.executemany(
        """INSERT INTO draw_picks (draw_id, label, expert_id, specialty, role, rank)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(p.draw_id, p.label, p.expert_id, p.specialty, p.role, p.rank) for p in picks],
    )


async def select_picks(connection: Connection, draw_ids: Sequence[int]) -> list[Pick]:
    rows = await connection.fetch(
        """SELECT draw_id, label, expert_id, specialty, role, rank FROM draw_picks
           WHERE draw_id = ANY($1::bigint[]) ORDER BY draw_id, specialty, rank""",
        list(draw_ids),
    )
    return [Pick(**dict(row)) for row in rows]


async def select_next_reserve(connection: Connection, tender_id: int, specialty: str) -> Pick | None:
    """The best-ranked reserve of ``specialty`` of the tender's drawn rounds not called yet (oldest round first)."""
    row = await connection.fetchrow(
        """SELECT p.draw_id, p.label, p.expert_id, p.specialty, p.role, p.rank
           FROM draw_picks p JOIN expert_draws d ON d.id = p.draw_id
           WHERE d.tender_id = $1 AND d.status = 'drawn' AND p.specialty = $2 AND p.role = 'reserve'
             AND NOT EXISTS (SELECT 1 FROM expert_invitations i WHERE i.tender_id = $1 AND i.expert_id = p.expert_id)
           ORDER BY p.draw_id, p.rank LIMIT 1""",
        tender_id,
        specialty,
    )
    return Pick(**dict(row)) if row else None


# --- Invitations -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    tender_id: int
    draw_id: int
    seat: int
    specialty: str
    expert_id: int
    label: str
    status: str
    created_at: dt.datetime
    expires_at: dt.datetime
    answered_at: dt.datetime | None
    declared_at: dt.datetime | None
    reason: str | None
    #: Seconds until it expires, by the database's clock (0 once past).
    seconds_left: int


_INVITATION_COLUMNS = """id, tender_id, draw_id, seat, specialty, expert_id, label, status, created_at, expires_at,
    answered_at, declared_at, reason,
    greatest(0, ceil(extract(epoch FROM expires_at - now())))::integer AS seconds_left"""


async def insert_invitation(connection: Connection, tender_id: int, pick: Pick, seat: int, minutes: int) -> int:
    invitation_id: int = await connection.fetchval(
        """INSERT INTO expert_invitations (tender_id, draw_id, seat, specialty, expert_id, label, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(mins => $7)) RETURNING id""",
        tender_id,
        pick.draw_id,
        seat,
        pick.specialty,
        pick.expert_id,
        pick.label,
        minutes,
    )
    return invitation_id


async def select_invitations(connection: Connection, tender_id: int) -> list[Invitation]:
    rows = await connection.fetch(
        f"SELECT {_INVITATION_COLUMNS} FROM expert_invitations WHERE tender_id = $1 ORDER BY seat, id", tender_id
    )
    return [Invitation(**dict(row)) for row in rows]


async def select_expert_invitations(connection: Connection, expert_id: int, *, limit: int) -> list[Invitation]:
    rows = await connection.fetch(
        f"SELECT {_INVITATION_COLUMNS} FROM expert_invitations WHERE expert_id = $1 ORDER BY id DESC LIMIT $2",
        expert_id,
        limit,
    )
    return [Invitation(**dict(row)) for row in rows]


async def select_invitation(connection: Connection, invitation_id: int, *, lock: bool = False) -> Invitation | None:
    row = await connection.fetchrow(
        f"SELECT {_INVITATION_COLUMNS} FROM expert_invitations WHERE id = $1" + (" FOR UPDATE" if lock else ""),
        invitation_id,
    )
    return Invitation(**dict(row)) if row else None


async def update_invitation(connection: Connection, invitation_id: int, status: str, reason: str | None = None) -> None:
    await connection.execute(
        """UPDATE expert_invitations SET status = $2, reason = coalesce($3, reason),
                  answered_at = CASE WHEN $2 IN ('accepted', 'declined', 'expired') THEN now() ELSE answered_at END,
                  declared_at = CASE WHEN $2 IN ('declared', 'recused') THEN now() ELSE declared_at END
           WHERE id = $1""",
        invitation_id,
        status,
        reason,
    )


async def select_expired_invitations(connection: Connection) -> list[int]:
    rows = await connection.fetch(
        "SELECT id FROM expert_invitations WHERE status = 'pending' AND expires_at <= now() ORDER BY id"
    )
    return [row["id"] for row in rows]


async def lock_tender_draws(connection: Connection, tender_id: int) -> None:
    """Serialise the changes to one tender's committee (draws, invitations, reserves) on its row."""
    await connection.execute("SELECT 1 FROM tenders WHERE id = $1 FOR UPDATE", tender_id)


# --- Outbox ----------------------------------------------------------------------------------------------------


async def insert_outbox(
    connection: Connection, user_id: int, channel: str, address: str, kind: str, payload: dict[str, Any]
) -> None:
    await connection.execute(
        "INSERT INTO outbox (user_id, channel, address, kind, payload) VALUES ($1, $2, $3, $4, $5)",
        user_id,
        channel,
        address,
        kind,
        payload,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    user_id: int
    channel: str
    address: str
    kind: str
    payload: dict[str, Any]


async def claim_outbox(connection: Connection, *, limit: int) -> list[OutboxMessage]:
    """Unsent messages, locked (others skip them) until the transaction ends."""
    rows = await connection.fetch(
        """SELECT id, user_id, channel, address, kind, payload FROM outbox WHERE sent_at IS NULL AND attempts < 10
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [OutboxMessage(**dict(row)) for row in rows]


async def mark_outbox(connection: Connection, message_id: int, *, sent: bool) -> None:
    await connection.execute(
        """UPDATE outbox SET attempts = attempts + 1, sent_at = CASE WHEN $2 THEN now() END WHERE id = $1""",
        message_id,
        sent,
    )
