"""PostgreSQL access: one asyncpg pool per process, a transaction helper, and the migration runner.

SQL lives in each domain's ``repo.py``; services open a transaction with :meth:`Database.transaction` and pass
the connection to repo functions, so that a change, its audit event and its notifications commit together.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

#: Key of the advisory lock held while migrating, so that replicas starting together migrate one at a time.
MIGRATION_LOCK = 0x62696464  # "bidd"
#: How long a statement may run before PostgreSQL cancels it; long jobs set their own.
STATEMENT_TIMEOUT_MS = 30_000
#: How long a request waits for a free connection before failing.
POOL_ACQUIRE_TIMEOUT = 10.0

#: A connection as repo functions receive it: a plain one, or one lent by the pool.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


class MigrationError(RuntimeError):
    """The migrations on disk and those applied to the database disagree; the message says how."""


async def _init_connection(connection: Connection) -> None:
    await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(connection: Connection) -> None:
    """Return a connection to the pool as it is, without asyncpg's reset query.

    The default reset (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``) costs a round trip on
    every release, as much as the query a request came for. Pooled connections never hold session state: no
    ``SET`` outside a transaction, no ``LISTEN``, no advisory locks, no cursors left open (the migration and
    listeners use connections of their own). asyncpg still rolls back a transaction left open, before this.
    """


class Database:
    """Connections to the platform's PostgreSQL.

    Made either from a pool (:meth:`connect`) or around one connection that tests hold inside a transaction
    (:meth:`bound`); in the second case every :meth:`transaction` becomes a savepoint, so a test can roll back
    everything a service committed.
    """

    def __init__(self, pool: asyncpg.Pool | None, connection: Connection | None = None) -> None:
        self._pool = pool
        self._connection = connection

    @classmethod
    async def connect(cls, url: str, *, max_size: int = 10) -> Database:
        pool = await asyncpg.create_pool(
            url,
            min_size=1,
            max_size=max_size,
            init=_init_connection,
            reset=_keep_session,
            server_settings={"statement_timeout": str(STATEMENT_TIMEOUT_MS), "application_name": "bidding"},
        )
        return cls(pool)

    @classmethod
    async def bound(cls, connection: Connection) -> Database:
        await _init_connection(connection)
        return cls(None, connection)

    @staticmethod
    async def connect_one(url: str) -> asyncpg.Connection[asyncpg.Record]:
        """A connection of its own, outside the pool: for what holds session state (a session lock, LISTEN)."""
        connection: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
            url, server_settings={"statement_timeout": str(STATEMENT_TIMEOUT_MS), "application_name": "bidding"}
        )
        await _init_connection(connection)
        return connection

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A connection for reads that need no transaction; returned to the pool on exit."""
        if self._connection is not None:
            yield self._connection
            return
        assert self._pool is not None
        async with self._pool.acquire(timeout=POOL_ACQUIRE_TIMEOUT) as connection:
            yield connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection inside a transaction that commits when the block ends and rolls back if it raises."""
        async with self.connection() as connection, connection.transaction():
            yield connection


@dataclasses.dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> bytes:
        return hashlib.sha256(self.sql.encode()).digest()


_MIGRATION_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


def load_migrations(files: Sequence[tuple[str, str]]) -> list[Migration]:
    """Parse ``(file name, SQL)`` pairs into migrations, in the order of their numbers.

    Numbers may skip: they are handed out ahead to pieces of work made side by side, so that one may hold 0009
    before 0007 and 0008 are merged beside it. Raises :class:`MigrationError` for a badly named file or two files
    with one number.
    """
    migrations: dict[int, Migration] = {}
    for filename, sql in files:
        match = _MIGRATION_FILE.fullmatch(filename)
        if match is None:
            raise MigrationError(f"migration file {filename!r} is not named like 0001_description.sql")
        version = int(match[1])
        if version in migrations:
            raise MigrationError(f"two migrations are numbered {version}: {migrations[version].name}, {filename}")
        migrations[version] = Migration(version, filename, sql)
    return [migrations[version] for version in sorted(migrations)]


def packaged_migrations() -> list[Migration]:
    """The migrations shipped in ``bidding/migrations``."""
    folder = resources.files("bidding") / "migrations"
    return load_migrations([(f.name, f.read_text("utf-8")) for f in folder.iterdir() if f.name.endswith(".sql")])


def plan_migrations(known: Sequence[Migration], applied: Sequence[tuple[int, str, bytes]]) -> list[Migration]:
    """The migrations still to apply, given those recorded as applied (version, name, checksum).

    Raises :class:`MigrationError` when the database was migrated by newer code, or when a file was edited
    after it was applied: either way, running would leave a schema nobody wrote.
    """
    by_version = {migration.version: migration for migration in known}
    for version, name, checksum in applied:
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(f"the database has migration {name}, which this version does not know")
        if migration.checksum != checksum:
            raise MigrationError(f"migration {name} was changed after it was applied; add a new one instead")
    done = {version for version, _, _ in applied}
    return [migration for migration in known if migration.version not in done]


async def migrate(connection: Connection, migrations: Sequence[Migration]) -> list[Migration]:
    """Apply the pending migrations, each in its own transaction, under an advisory lock; return those applied."""
    await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await connection.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   checksum bytea NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now()
               )"""
        )
        rows = await connection.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        pending = plan_migrations(migrations, [(r["version"], r["name"], bytes(r["checksum"])) for r in rows])
        for migration in pending:
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
        return pending
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def migrate_database(url: str) -> list[Migration]:
    """Connect to ``url`` and apply the packaged migrations."""
    connection = await asyncpg.connect(url)
    try:
        return await migrate(connection, packaged_migrations())
    finally:
        await connection.close()


async def select_status(connection: Connection) -> tuple[datetime, int]:
    """The database clock and the schema version: a one-row read that proves the database answers."""
    row = await connection.fetchrow("SELECT now() AS time, (SELECT max(version) FROM schema_migrations) AS version")
    assert row is not None, "a SELECT without FROM returns one row"
    return row["time"], row["version"] or 0
