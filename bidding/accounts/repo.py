"""SQL for organisations, users, roles, sessions, API tokens and sign-in attempts."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import asyncpg

from bidding.accounts import model
from bidding.accounts.model import NewOrganisation, NewUser, Profile, RecentFailures
from bidding.db import Connection
from bidding.errors import Conflict
from bidding.i18n import N_
from bidding.identity import OrganisationKind, Principal, Role
from bidding.settings import Language


@dataclasses.dataclass(frozen=True, slots=True)
class Organisation:
    id: int
    kind: OrganisationKind
    name: str
    name_en: str | None
    region: str
    credit_code: str | None
    created_at: datetime
    #: When an administrator disabled it: its people can then neither sign in nor use their tokens.
    disabled_at: datetime | None
    member_count: int = 0

    def as_new(self) -> NewOrganisation:
        """Its details as they are registered, to be changed and checked again."""
        return NewOrganisation(self.kind, self.name, self.region, self.credit_code, self.name_en)


@dataclasses.dataclass(frozen=True, slots=True)
class User:
    id: int
    login: str
    display_name: str
    display_name_en: str | None
    language: Language
    roles: tuple[Role, ...]
    organisation_id: int | None
    organisation_name: str | None
    organisation_name_en: str | None
    created_at: datetime
    #: When an administrator disabled the person (their organisation may be disabled as well, or instead).
    disabled_at: datetime | None
    organisation_disabled_at: datetime | None
    #: Whether the password is a temporary one an administrator set, to be replaced at the next sign-in.
    must_change_password: bool

    @property
    def profile(self) -> Profile:
        return Profile(self.display_name, self.display_name_en, self.language, list(self.roles))

    @property
    def active(self) -> bool:
        """Whether the person may sign in: neither they nor their organisation are disabled."""
        return self.disabled_at is None and self.organisation_disabled_at is None


@dataclasses.dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


# --- Organisations ------------------------------------------------------------------------------------------

_ORGANISATION_COLUMNS = "o.id, o.kind, o.name, o.name_en, o.region, o.credit_code, o.created_at, o.disabled_at"


def _organisation(row: asyncpg.Record) -> Organisation:
    values = dict(row)
    values["kind"] = OrganisationKind(values["kind"])
    return Organisation(**values)


def _credit_code_taken(organisation: NewOrganisation) -> Conflict:
    return Conflict(
        N_("An organisation with the credit code %(code)s is already registered.", code=organisation.credit_code),
        errors={"credit_code": N_("Already registered.")},
    )


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
        raise _credit_code_taken(organisation) from None
    assert row is not None, "INSERT … RETURNING returns the row"
    return _organisation(row)


async def update_organisation(connection: Connection, organisation_id: int, organisation: NewOrganisation) -> None:
    """Raises :class:`Conflict` when another organisation has the same credit code."""
    try:
        await connection.execute(
            """UPDATE organisations SET kind = $2, name = $3, name_en = $4, region = $5, credit_code = $6
               WHERE id = $1""",
            organisation_id,
            organisation.kind,
            organisation.name,
            organisation.name_en,
            organisation.region,
            organisation.credit_code,
        )
    except asyncpg.UniqueViolationError:
        raise _credit_code_taken(organisation) from None


async def set_organisation_disabled(connection: Connection, organisation_id: int, *, disabled: bool) -> None:
    await connection.execute(
        "UPDATE organisations SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END WHERE id = $1",
        organisation_id,
        disabled,
    )


async def lock_organisation(connection: Connection, organisation_id: int) -> Organisation | None:
    """The organisation, locked until the transaction ends (its changes are made one at a time)."""
    row = await connection.fetchrow(
        "SELECT " + _ORGANISATION_COLUMNS + " FROM organisations o WHERE o.id = $1 FOR UPDATE", organisation_id
    )
    return _organisation(row) if row else None


async def organisation_takes_part_in_tenders(connection: Connection, organisation_id: int) -> bool:
    """Whether the organisation runs or buys a tender, was invited to one, registered for one, holds a bidder's
    key or bid: its kind and credit code are then in notices, keys and sealed bids, and may not change."""
    taking_part: bool = await connection.fetchval(
        """SELECT EXISTS (SELECT 1 FROM tenders WHERE agency_id = $1 OR purchaser_id = $1)
               OR EXISTS (SELECT 1 FROM tender_invitations WHERE organisation_id = $1)
               OR EXISTS (SELECT 1 FROM tender_registrations WHERE organisation_id = $1)
               OR EXISTS (SELECT 1 FROM party_keys WHERE organisation_id = $1)
               OR EXISTS (SELECT 1 FROM bids WHERE organisation_id = $1)""",
        organisation_id,
    )
    return taking_part


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

_USER_COLUMNS = """u.id, u.login, u.display_name, u.display_name_en, u.language,
    array(SELECT r.role FROM user_roles r WHERE r.user_id = u.id ORDER BY r.role) AS roles,
    u.organisation_id, o.name AS organisation_name, o.name_en AS organisation_name_en, u.created_at,
    u.disabled_at, o.disabled_at AS organisation_disabled_at, u.must_change_password"""


def _user(row: asyncpg.Record) -> User:
    values = dict(row)
    values["roles"] = tuple(Role(role) for role in values["roles"])
    return User(**values)


async def insert_user(connection: Connection, user: NewUser, password_hash: str) -> int:
    """Insert a user with its roles; raises :class:`Conflict` when the login is taken."""
    try:
        user_id: int = await connection.fetchval(
            """INSERT INTO users (login, display_name, display_name_en, language, organisation_id, password_hash)
               VALUES ($1, $2, $3, $4, $5, $6)
               RETURNING id""",
            user.login,
            user.display_name,
            user.display_name_en,
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


@dataclasses.dataclass(frozen=True, slots=True)
class Credentials:
    user_id: int
    password_hash: str
    #: Whether the person, or their organisation, is disabled.
    disabled: bool


async def select_credentials(connection: Connection, login: str) -> Credentials | None:
    row = await connection.fetchrow(
        """SELECT u.id, u.password_hash, u.disabled_at IS NOT NULL OR o.disabled_at IS NOT NULL AS disabled
           FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE u.login = $1""",
        login,
    )
    return Credentials(row["id"], row["password_hash"], row["disabled"]) if row else None


async def select_password_hash_by_id(connection: Connection, user_id: int) -> str | None:
    password_hash: str | None = await connection.fetchval("SELECT password_hash FROM users WHERE id = $1", user_id)
    return password_hash


async def update_password_hash(
    connection: Connection, user_id: int, password_hash: str, *, temporary: bool = False
) -> None:
    """Set a password: the person's own, or with ``temporary`` one an administrator set, to be replaced."""
    await connection.execute(
        """UPDATE users SET password_hash = $2, password_changed_at = now(), must_change_password = $3
           WHERE id = $1""",
        user_id,
        password_hash,
        temporary,
    )


async def rehash_password(connection: Connection, user_id: int, password_hash: str) -> None:
    """The same password hashed again with today's parameters: nothing else about it changes."""
    await connection.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def update_language(connection: Connection, user_id: int, language: str) -> None:
    await connection.execute("UPDATE users SET language = $2 WHERE id = $1", user_id, language)


async def lock_user(connection: Connection, user_id: int) -> User | None:
    """The person, locked until the transaction ends (their changes are made one at a time)."""
    row = await connection.fetchrow(
        "SELECT " + _USER_COLUMNS + " FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id"
        " WHERE u.id = $1 FOR UPDATE OF u",
        user_id,
    )
    return _user(row) if row else None


async def update_profile(connection: Connection, user_id: int, profile: Profile) -> None:
    """Set a person's names, language and roles (all of them, replacing those held)."""
    await connection.execute(
        "UPDATE users SET display_name = $2, display_name_en = $3, language = $4 WHERE id = $1",
        user_id,
        profile.display_name,
        profile.display_name_en,
        profile.language,
    )
    await connection.execute(
        "DELETE FROM user_roles WHERE user_id = $1 AND NOT role = ANY($2::text[])", user_id, profile.roles
    )
    await connection.executemany(
        "INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(user_id, role) for role in profile.roles],
    )


async def set_user_disabled(connection: Connection, user_id: int, *, disabled: bool) -> None:
    await connection.execute(
        "UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END WHERE id = $1",
        user_id,
        disabled,
    )


#: The advisory lock every change of who administers the platform holds until its transaction ends, so that two
#: administrators disabling each other at the same moment cannot both see the other still active.
ADMINISTRATION_LOCK = 0x61646D69  # "admi"


async def lock_administration(connection: Connection) -> None:
    await connection.execute("SELECT pg_advisory_xact_lock($1)", ADMINISTRATION_LOCK)


async def count_active_administrators(connection: Connection) -> int:
    """Administrators who can sign in: neither they nor their organisation disabled."""
    count: int = await connection.fetchval(
        """SELECT count(*) FROM users u
           JOIN user_roles r ON r.user_id = u.id AND r.role = 'admin'
           LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE u.disabled_at IS NULL AND o.disabled_at IS NULL"""
    )
    return count


async def count_users_by_role(connection: Connection) -> dict[Role, int]:
    rows = await connection.fetch("SELECT role, count(*) AS n FROM user_roles GROUP BY role")
    return {Role(row["role"]): row["n"] for row in rows}


# --- Sessions and tokens ------------------------------------------------------------------------------------

_PRINCIPAL_COLUMNS = """u.id AS user_id, u.login, u.display_name, u.display_name_en, u.language,
    array(SELECT r.role FROM user_roles r WHERE r.user_id = u.id) AS roles,
    u.organisation_id, o.kind AS organisation_kind, o.name AS organisation_name,
    o.name_en AS organisation_name_en, u.must_change_password"""
#: Only people who may act: a disabled person, or a member of a disabled organisation, is refused at once, whatever
#: session or token they still hold.
_ACTIVE = "u.disabled_at IS NULL AND o.disabled_at IS NULL"


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
        display_name_en=row["display_name_en"],
        organisation_name_en=row["organisation_name_en"],
        must_change_password=row["must_change_password"],
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
             AND s.last_seen_at > now() - $2::interval AND """
        + _ACTIVE,
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


async def end_organisation_sessions(connection: Connection, organisation_id: int) -> int:
    """End every open session of an organisation's people; return how many there were."""
    status: str = await connection.execute(
        """UPDATE sessions SET ended_at = now()
           WHERE ended_at IS NULL AND user_id IN (SELECT id FROM users WHERE organisation_id = $1)""",
        organisation_id,
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
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND """
        + _ACTIVE,
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


async def select_recent_failures(connection: Connection, login: str, client_ip: str | None) -> RecentFailures:
    """What the sign-in limits of :mod:`bidding.accounts.model` look at, for this login from this address."""
    row = await connection.fetchrow(
        """SELECT clock_timestamp() AS now,
               array(SELECT a.at FROM sign_in_attempts a
                     WHERE a.login = $1 AND a.client_ip IS NOT DISTINCT FROM $2 AND NOT a.succeeded
                       AND a.at > clock_timestamp() - $3::interval
                       AND a.at > coalesce((SELECT max(s.at) FROM sign_in_attempts s
                                            WHERE s.login = $1 AND s.client_ip IS NOT DISTINCT FROM $2
                                              AND s.succeeded), '-infinity')
                     ORDER BY a.at DESC LIMIT $6) AS for_login_from_address,
               array(SELECT a.at FROM sign_in_attempts a
                     WHERE a.login = $1 AND NOT a.succeeded AND a.at > clock_timestamp() - $4::interval
                     ORDER BY a.at DESC LIMIT $6) AS for_login,
               array(SELECT a.at FROM sign_in_attempts a
                     WHERE a.client_ip = $2 AND NOT a.succeeded AND a.at > clock_timestamp() - $3::interval
                     ORDER BY a.at DESC LIMIT $6) AS from_address,
               EXISTS (SELECT 1 FROM sign_in_attempts s
                       WHERE s.login = $1 AND s.client_ip = $2 AND s.succeeded
                         AND s.at > clock_timestamp() - $5::interval) AS known_address""",
        login,
        client_ip,
        model.SIGN_IN_WINDOW,
        model.LOGIN_BACKOFF_WINDOW,
        model.KNOWN_ADDRESS_PERIOD,
        model.FAILURES_COUNTED,
    )
    assert row is not None, "a SELECT without FROM returns one row"
    return RecentFailures(
        row["now"], row["for_login_from_address"], row["for_login"], row["from_address"], row["known_address"]
    )
