"""SQL for organisations, users, roles, sessions, API tokens and sign-in attempts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from bidding.accounts.model import NewOrganisation, NewUser
from bidding.db import Connection
from bidding.errors import Conflict
from bidding.i18n import N_
from bidding.identity import OrganisationKind, Principal, Role


@dataclasses.dataclass(frozen=True, slots=True)
class Organisation:
    id: int
    kind: OrganisationKind
    name: str
    name_en: str | None
    region: str
    credit_code: str | None
    created_at: datetime
    member_count: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class User:
    id: int
    login: str
    display_name: str
    language: str
    roles: tuple[Role, ...]
    organisation_id: int | None
    organisation_name: str | None
    created_at: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


# --- Organisations ------------------------------------------------------------------------------------------

_ORGANISATION_COLUMNS = "o.id, o.kind, o.name, o.name_en, o.region, o.credit_code, o.created_at"


def _organisation(row: asyncpg.Record) -> Organisation:
    values = dict(row)
    values["kind"] = OrganisationKind(values["kind"])
    return Organisation(**values)


async def insert_organisation(connection: Connection, organisation: NewOrganisation) -> Organisation:
    """Raises :class:`Conflict` when another organisation has the same credit code."""
    try:
        row = await connection.fetchrow(
            """INSERT INTO organisations AS o (kind, name, name_en, region, credit_code)
               VALUES ($1, $2, $3, $4, $5)
               RETURNING """
            + _ORGANISATION_COLUMNS,
            organisation.kind,
            organisation.name,
            organisation.name_en,
            organisation.region,
            organisation.credit_code,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(
            N_(
                "An organisation with the credit code %(code)s is already registered.",
                code=organisation.credit_code,
            ),
            errors={"credit_code": N_("Already registered.")},
        ) from None
    assert row is not None, "INSERT … RETURNING returns the row"
    return _organisation(row)


async def select_organisation(connection: Connection, organisation_id: int) -> Organisation | None:
    row = await connection.fetchrow(
        "SELECT " + _ORGANISATION_COLUMNS + " FROM organisations o WHERE o.id = $1", organisation_id
    )
    return _organisation(row) if row else None


async def select_organisations(connection: Connection) -> list[Organisation]:
    rows = await connection.fetch(
        "SELECT "
        + _ORGANISATION_COLUMNS
        + """, (SELECT count(*) FROM users u WHERE u.organisation_id = o.id) AS member_count
           FROM organisations o
           ORDER BY o.kind, o.name"""
    )
    return [_organisation(row) for row in rows]


async def select_organisation_by_credit_code(connection: Connection, credit_code: str) -> Organisation | None:
    row = await connection.fetchrow(
        "SELECT " + _ORGANISATION_COLUMNS + " FROM organisations o WHERE o.credit_code = $1", credit_code
    )
    return _organisation(row) if row else None


# --- Users --------------------------------------------------------------------------------------------------

_USER_COLUMNS = """u.id, u.login, u.display_name, u.language,
    array(SELECT r.role FROM user_roles r WHERE r.user_id = u.id ORDER BY r.role) AS roles,
    u.organisation_id, o.name AS organisation_name, u.created_at"""


def _user(row: asyncpg.Record) -> User:
    values = dict(row)
    values["roles"] = tuple(Role(role) for role in values["roles"])
    return User(**values)


async def insert_user(connection: Connection, user: NewUser, password_hash: str) -> int:
    """Insert a user with its roles; raises :class:`Conflict` when the login is taken."""
    try:
        user_id: int = await connection.fetchval(
            """INSERT INTO users (login, display_name, language, organisation_id, password_hash)
               VALUES ($1, $2, $3, $4, $5)
               RETURNING id""",
            user.login,
            user.display_name,
            user.language,
            user.organisation_id,
            password_hash,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(
            N_("The login %(login)s is taken.", login=user.login), errors={"login": N_("Already taken.")}
        ) from None
    await connection.executemany(
        "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)", [(user_id, role) for role in user.roles]
    )
    return user_id


async def select_user(connection: Connection, user_id: int) -> User | None:
    row = await connection.fetchrow(
        "SELECT " + _USER_COLUMNS + " FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id"
        " WHERE u.id = $1",
        user_id,
    )
    return _user(row) if row else None


async def select_users(
    connection: Connection, *, organisation_id: int | None = None, role: Role | None = None
) -> list[User]:
    """Every user, or the members of one organisation, or the holders of one role."""
    rows = await connection.fetch(
        "SELECT " + _USER_COLUMNS + " FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id"
        " WHERE ($1::bigint IS NULL OR u.organisation_id = $1)"
        " AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $2))"
        " ORDER BY u.login",
        organisation_id,
        role,
    )
    return [_user(row) for row in rows]


async def select_password_hash(connection: Connection, login: str) -> tuple[int, str] | None:
    row = await connection.fetchrow("SELECT id, password_hash FROM users WHERE login = $1", login)
    return (row["id"], row["password_hash"]) if row else None


async def select_password_hash_by_id(connection: Connection, user_id: int) -> str | None:
    password_hash: str | None = await connection.fetchval("SELECT password_hash FROM users WHERE id = $1", user_id)
    return password_hash


async def update_password_hash(connection: Connection, user_id: int, password_hash: str) -> None:
    await connection.execute(
        "UPDATE users SET password_hash = $2, password_changed_at = now() WHERE id = $1",
        user_id,
        password_hash,
    )


async def update_language(connection: Connection, user_id: int, language: str) -> None:
    await connection.execute("UPDATE users SET language = $2 WHERE id = $1", user_id, language)


async def count_users_by_role(connection: Connection) -> dict[Role, int]:
    rows = await connection.fetch("SELECT role, count(*) AS n FROM user_roles GROUP BY role")
    return {Role(row["role"]): row["n"] for row in rows}


# --- Sessions and tokens ------------------------------------------------------------------------------------

_PRINCIPAL_COLUMNS = """u.id AS user_id, u.login, u.display_name, u.language,
    array(SELECT r.role FROM user_roles r WHERE r.user_id = u.id) AS roles,
    u.organisation_id, o.kind AS organisation_kind, o.name AS organisation_name"""


def _principal(row: asyncpg.Record, via: str, credential_hash: bytes) -> Principal:
    kind = row["organisation_kind"]
    return Principal(
        user_id=row["user_id"],
        login=row["login"],
        display_name=row["display_name"],
        language=row["language"],
        roles=frozenset(Role(role) for role in row["roles"]),
        organisation_id=row["organisation_id"],
        organisation_kind=OrganisationKind(kind) if kind else None,
        organisation_name=row["organisation_name"],
        via="session" if via == "session" else "token",
        credential_hash=credential_hash,
    )


async def select_principal(connection: Connection, login: str) -> Principal | None:
    """The principal of a user by login, for what the operator runs on someone's behalf (demo data)."""
    row = await connection.fetchrow(
        "SELECT " + _PRINCIPAL_COLUMNS + " FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id"
        " WHERE u.login = $1",
        login,
    )
    return _principal(row, "session", b"") if row else None


async def insert_session(
    connection: Connection,
    token_hash: bytes,
    user_id: int,
    lifetime: timedelta,
    client_ip: str | None,
    user_agent: str | None,
) -> None:
    await connection.execute(
        """INSERT INTO sessions (token_hash, user_id, expires_at, client_ip, user_agent)
           VALUES ($1, $2, now() + $3, $4, left($5, 500))""",
        token_hash,
        user_id,
        lifetime,
        client_ip,
        user_agent,
    )


async def select_session_principal(
    connection: Connection, token_hash: bytes, idle_timeout: timedelta
) -> tuple[Principal, bool] | None:
    """The principal of an open session, and whether its last-seen time is over a minute old."""
    row = await connection.fetchrow(
        "SELECT "
        + _PRINCIPAL_COLUMNS
        + """, s.last_seen_at < now() - interval '1 minute' AS stale
           FROM sessions s
           JOIN users u ON u.id = s.user_id
           LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now()
             AND s.last_seen_at > now() - $2::interval""",
        token_hash,
        idle_timeout,
    )
    return (_principal(row, "session", token_hash), row["stale"]) if row else None


async def touch_session(connection: Connection, token_hash: bytes) -> None:
    await connection.execute("UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1", token_hash)


async def end_session(connection: Connection, token_hash: bytes) -> None:
    await connection.execute(
        "UPDATE sessions SET ended_at = now() WHERE token_hash = $1 AND ended_at IS NULL", token_hash
    )


async def end_user_sessions(connection: Connection, user_id: int) -> int:
    """End every open session of a user; return how many there were."""
    status: str = await connection.execute(
        "UPDATE sessions SET ended_at = now() WHERE user_id = $1 AND ended_at IS NULL", user_id
    )
    return int(status.rsplit(" ", 1)[-1])


async def insert_api_token(connection: Connection, user_id: int, name: str, token_hash: bytes) -> ApiToken:
    row = await connection.fetchrow(
        """INSERT INTO api_tokens (user_id, name, token_hash) VALUES ($1, $2, $3)
           RETURNING id, name, created_at, last_used_at, revoked_at""",
        user_id,
        name,
        token_hash,
    )
    assert row is not None, "INSERT … RETURNING returns the row"
    return ApiToken(**dict(row))


async def select_api_tokens(connection: Connection, user_id: int) -> list[ApiToken]:
    rows = await connection.fetch(
        """SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens
           WHERE user_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC""",
        user_id,
    )
    return [ApiToken(**dict(row)) for row in rows]


async def revoke_api_token(connection: Connection, user_id: int, token_id: int) -> bool:
    """Revoke one of a user's tokens; ``False`` if the user has no such open token."""
    status: str = await connection.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        token_id,
        user_id,
    )
    return status == "UPDATE 1"


async def select_token_principal(connection: Connection, token_hash: bytes) -> tuple[Principal, bool] | None:
    """The principal of an unrevoked API token, and whether its last use was recorded over a minute ago."""
    row = await connection.fetchrow(
        "SELECT "
        + _PRINCIPAL_COLUMNS
        + """, coalesce(t.last_used_at < now() - interval '1 minute', true) AS stale
           FROM api_tokens t
           JOIN users u ON u.id = t.user_id
           LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL""",
        token_hash,
    )
    return (_principal(row, "token", token_hash), row["stale"]) if row else None


async def touch_api_token(connection: Connection, token_hash: bytes) -> None:
    await connection.execute("UPDATE api_tokens SET last_used_at = now() WHERE token_hash = $1", token_hash)


# --- Sign-in attempts ---------------------------------------------------------------------------------------


async def insert_sign_in_attempt(connection: Connection, login: str, client_ip: str | None, *, succeeded: bool) -> None:
    await connection.execute(
        "INSERT INTO sign_in_attempts (login, client_ip, succeeded) VALUES (left($1, 200), $2, $3)",
        login,
        client_ip,
        succeeded,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class RecentFailures:
    now: datetime
    #: Failed sign-ins to the login since its last success, newest first.
    for_login: Sequence[datetime]
    #: Failed sign-ins from the address, newest first.
    from_address: Sequence[datetime]


async def select_recent_failures(
    connection: Connection, login: str, client_ip: str | None, window: timedelta, limit: int
) -> RecentFailures:
    """Up to ``limit`` newest failures for the login and for the address within ``window``."""
    row = await connection.fetchrow(
        """SELECT clock_timestamp() AS now,
               array(SELECT a.at FROM sign_in_attempts a
                     WHERE a.login = $1 AND NOT a.succeeded AND a.at > clock_timestamp() - $3::interval
                       AND a.at > coalesce((SELECT max(s.at) FROM sign_in_attempts s
                                            WHERE s.login = $1 AND s.succeeded), '-infinity')
                     ORDER BY a.at DESC LIMIT $4) AS for_login,
               array(SELECT a.at FROM sign_in_attempts a
                     WHERE a.client_ip = $2 AND NOT a.succeeded AND a.at > clock_timestamp() - $3::interval
                     ORDER BY a.at DESC LIMIT $4) AS from_address""",
        login,
        client_ip,
        window,
        limit,
    )
    assert row is not None, "a SELECT without FROM returns one row"
    return RecentFailures(row["now"], row["for_login"], row["from_address"])
