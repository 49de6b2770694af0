"""Wake-ups across processes through PostgreSQL LISTEN/NOTIFY: a notification committed on one connection sets
the event of its key on the bulletin's listening connection; a lost connection wakes every waiter and listens
again."""

from __future__ import annotations

import asyncio
import functools

import asyncpg

from bidding.bulletin import Bulletin, PollingBulletin
from bidding.db import Database

CHANNEL = "bulletin_test"


async def _notify(url: str, payload: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
    finally:
        await connection.close()


async def test_a_notification_wakes_the_waiters_of_its_key_only(database_url: str) -> None:
    bulletin = Bulletin(functools.partial(Database.connect_one, database_url), (CHANNEL,))
    await bulletin.start()
    try:
        seven, eight = bulletin.event(CHANNEL, "7"), bulletin.event(CHANNEL, "8")
        assert bulletin.event(CHANNEL, "7") is seven
        await _notify(database_url, "7:41")
        await asyncio.wait_for(bulletin.wait(seven), 5)
        assert seven.is_set() and not eight.is_set()
        assert bulletin.event(CHANNEL, "7") is not seven, "the next wait is for the next notification"
    finally:
        await bulletin.stop()
    assert eight.is_set(), "stopping wakes whoever still waits"


async def test_a_lost_connection_wakes_everyone_and_listens_again(database_url: str) -> None:
    bulletin = Bulletin(functools.partial(Database.connect_one, database_url), (CHANNEL,))
    await bulletin.start()
    try:
        waiting = bulletin.event(CHANNEL, "9")
        admin = await asyncpg.connect(database_url)
        try:
            await admin.execute(
                """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE datname = current_database() AND query LIKE $1""",
                f"LISTEN%{CHANNEL}%",
            )
        finally:
            await admin.close()
        await asyncio.wait_for(waiting.wait(), 5)
        for _ in range(100):  # listening again after RECONNECT_DELAY
            again = bulletin.event(CHANNEL, "9")
            await _notify(database_url, "9:1")
            try:
                await asyncio.wait_for(again.wait(), 0.2)
                break
            except TimeoutError:
                continue
        assert again.is_set()
    finally:
        await bulletin.stop()


async def test_a_polling_bulletin_ends_each_wait_after_its_interval() -> None:
    """Without a listening connection (a test's application) every wait ends on the timer, and never later than
    the waiter's own timeout, so that the waiter reads the table again."""
    bulletin = PollingBulletin(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(bulletin.wait(bulletin.event(CHANNEL, "7")), 1)
    assert 0.04 <= loop.time() - started < 0.5
    started = loop.time()
    await bulletin.wait(bulletin.event(CHANNEL, "7"), timeout=0)
    assert loop.time() - started < 0.04
