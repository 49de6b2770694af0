"""The rooms' events and presence in PostgreSQL: numbered per room without gaps, read page by page, presence seen
only while refreshed."""

from __future__ import annotations

import uuid

import asyncpg

from bidding.db import Connection, Database
from bidding.identity import Role
from bidding.rooms import repo
from tests.integration.conftest import MakeUser


async def test_events_are_numbered_per_room_and_read_after_a_number(db: Database) -> None:
    async with db.transaction() as connection:
        await _numbered(connection)


async def _numbered(connection: Connection) -> None:
    assert [await repo.insert_event(connection, "opening/1", "share", {"n": n}) for n in range(3)] == [1, 2, 3]
    assert await repo.insert_event(connection, "opening/2", "share", {}) == 1
    after_one = await repo.select_events(connection, "opening/1", 1)
    assert [(e.seq, e.kind, e.payload) for e in after_one] == [(2, "share", {"n": 1}), (3, "share", {"n": 2})]
    assert [e.seq for e in await repo.select_events(connection, "opening/1", 0, limit=2)] == [1, 2]
    assert await repo.select_events(connection, "opening/1", 3) == []


async def test_presence_counts_those_connected_and_recently_seen(
    connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    user = (await make_user("rooms.expert", Role.EXPERT)).id
    first, second = uuid.uuid4(), uuid.uuid4()
    await repo.insert_presence(connection, "opening/3", first, user)
    await repo.insert_presence(connection, "opening/3", second, user)
    assert await repo.select_present(connection, "opening/3") == [user], "one person with two connections"
    await connection.execute("UPDATE room_presence SET seen_at = seen_at - interval '1 hour'")
    assert await repo.select_present(connection, "opening/3") == [], "gone once not refreshed"
    await repo.set_presence_seen(connection, first)
    assert await repo.select_present(connection, "opening/3") == [user]
    await repo.delete_presence(connection, first)
    await repo.delete_presence(connection, second)
    assert await repo.select_present(connection, "opening/3") == []
