import asyncio

import asyncpg
import pytest

from bidding.db import Migration, migrate, migrate_database, packaged_migrations
from tests.conftest import PostgresServer


async def test_migrating_a_migrated_database_applies_nothing(database_url: str) -> None:
    assert await migrate_database(database_url) == []


async def test_replicas_starting_together_apply_each_migration_once(postgres: PostgresServer) -> None:
    url = await asyncio.to_thread(postgres.create_database, "bidding_concurrent_migrations")
    results = await asyncio.gather(*(migrate_database(url) for _ in range(3)))
    assert sorted(len(applied) for applied in results) == [0, 0, len(packaged_migrations())]
    connection = await asyncpg.connect(url)
    try:
        versions = await connection.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await connection.close()
    assert [row["version"] for row in versions] == [m.version for m in packaged_migrations()]


async def test_a_failing_migration_leaves_nothing_of_itself(postgres: PostgresServer) -> None:
    url = await asyncio.to_thread(postgres.create_database, "bidding_failing_migration")
    good = Migration(1, "0001_good.sql", "CREATE TABLE good (id int)")
    bad = Migration(2, "0002_bad.sql", "CREATE TABLE half (id int); SELECT no_such_function()")
    connection = await asyncpg.connect(url)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await migrate(connection, [good, bad])
        assert await connection.fetchval("SELECT to_regclass('half')") is None
        assert await connection.fetchval("SELECT count(*) FROM schema_migrations") == 1
        # The advisory lock was released: the next run goes ahead.
        assert await migrate(connection, [good]) == []
    finally:
        await connection.close()
