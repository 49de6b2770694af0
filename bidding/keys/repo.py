"""SQL for registered keys."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import asyncpg

from bidding.db import Connection
from bidding.errors import Conflict
from bidding.i18n import N_
from bidding.keys.model import Purpose


@dataclasses.dataclass(frozen=True, slots=True)
class RegisteredKey:
    id: int
    purpose: Purpose
    organisation_id: int | None
    user_id: int | None
    name: str
    verifier_key: str
    recipient: str
    registered_by: int
    registered_at: dt.datetime
    retired_at: dt.datetime | None


_COLUMNS = """id, purpose, organisation_id, user_id, name, verifier_key, recipient, registered_by, registered_at,
    retired_at"""


def _key(row: asyncpg.Record) -> RegisteredKey:
    return RegisteredKey(**{**dict(row), "purpose": Purpose(row["purpose"])})


async def retire_current_key(
    connection: Connection, purpose: Purpose, *, organisation_id: int | None, user_id: int | None
) -> int | None:
    """Retire the owner's current key of ``purpose``, if any, and return its id."""
    retired: int | None = await connection.fetchval(
        """
        UPDATE party_keys SET retired_at = now()
        WHERE retired_at IS NULL AND purpose = $1
          AND organisation_id IS NOT DISTINCT FROM $2 AND user_id IS NOT DISTINCT FROM $3
        RETURNING id
        """,
        purpose,
        organisation_id,
        user_id,
    )
    return retired


async def insert_key(
    connection: Connection,
    purpose: Purpose,
    *,
    organisation_id: int | None,
    user_id: int | None,
    name: str,
    verifier_key: str,
    recipient: str,
    registered_by: int,
) -> RegisteredKey:
    """Raises :class:`Conflict` if either half is already registered (to anyone)."""
    try:
        row = await connection.fetchrow(
            f"""
            INSERT INTO party_keys (purpose, organisation_id, user_id, name, verifier_key, recipient, registered_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}
            """,
            purpose,
            organisation_id,
            user_id,
            name,
            verifier_key,
            recipient,
            registered_by,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(N_("This key is already registered. Make a new key file for a new key.")) from None
    assert row is not None
    return _key(row)


async def select_keys(
    connection: Connection, *, organisation_id: int | None = None, user_id: int | None = None
) -> list[RegisteredKey]:
    """Every key of an organisation (its bidder keys) or of a person (custodian and expert keys), newest first."""
    rows = await connection.fetch(
        f"""
        SELECT {_COLUMNS} FROM party_keys
        WHERE ($1::bigint IS NOT NULL AND organisation_id = $1) OR ($2::bigint IS NOT NULL AND user_id = $2)
        ORDER BY id DESC
        """,
        organisation_id,
        user_id,
    )
    return [_key(row) for row in rows]


async def select_key(connection: Connection, key_id: int) -> RegisteredKey | None:
    row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM party_keys WHERE id = $1", key_id)
    return _key(row) if row else None


async def select_current_keys(
    connection: Connection, purpose: Purpose, user_ids: Sequence[int]
) -> dict[int, RegisteredKey]:
    """The current key of ``purpose`` of each of ``user_ids`` that has one."""
    rows = await connection.fetch(
        f"SELECT {_COLUMNS} FROM party_keys WHERE retired_at IS NULL AND purpose = $1 AND user_id = ANY($2::bigint[])",
        purpose,
        list(user_ids),
    )
    return {row["user_id"]: _key(row) for row in rows}


async def select_current_organisation_key(connection: Connection, organisation_id: int) -> RegisteredKey | None:
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM party_keys WHERE retired_at IS NULL AND organisation_id = $1", organisation_id
    )
    return _key(row) if row else None
