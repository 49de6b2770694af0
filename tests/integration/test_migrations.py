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


async def test_an_organisations_notifications_become_one_for_each_of_its_people(postgres: PostgresServer) -> None:
    url = await asyncio.to_thread(postgres.create_database, "bidding_notifications_migration")
    known = packaged_migrations()
    assert known[10].name == "0011_notifications_per_person.sql"
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection, known[:10])
        organisation = await connection.fetchval(
            """INSERT INTO organisations (kind, name, region, credit_code)
               VALUES ('bidder', '华建工程', '320500', '91320505MA1MXK7U5E') RETURNING id"""
        )
        for login in ("first", "second"):
            await connection.execute(
                """INSERT INTO users (login, display_name, language, organisation_id, password_hash)
                   VALUES ($1, $1, 'zh-CN', $2, 'x')""",
                login,
                organisation,
            )
        await connection.execute(
            """INSERT INTO notifications (organisation_id, kind, payload, read_at)
               VALUES ($1, 'tender.invited', '{"reference": "A"}', now()), ($1, 'tender.cancelled', '{}', NULL)""",
            organisation,
        )
        await migrate(connection, known[:11])
        rows = await connection.fetch(
            """SELECT u.login, n.kind, n.read_at IS NOT NULL AS read FROM notifications AS n
               JOIN users AS u ON u.id = n.user_id ORDER BY n.id"""
        )
    finally:
        await connection.close()
    assert [tuple(row) for row in rows] == [
        ("first", "tender.invited", True),
        ("second", "tender.invited", True),
        ("first", "tender.cancelled", False),
        ("second", "tender.cancelled", False),
    ]
