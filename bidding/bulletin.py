"""Wake-ups across processes: PostgreSQL ``NOTIFY`` heard by one ``LISTEN``ing connection per process.

Live rooms (:mod:`bidding.rooms`) store their events in the database, numbered, and notify a channel with a short
payload ``key:number`` (the room, and the event's number) in the same transaction; the log notifies each checkpoint,
for whoever waits for a receipt. Each process keeps one connection of its own listening to every channel; a
connection serving a page waits on :meth:`Bulletin.event` for its key and then reads what is new from the database.
Notifications carry no content, so a missed one costs only delay: waiters also look again every
:data:`SAFETY_INTERVAL`, and all of them are woken when the listening connection is lost.

The application makes one bulletin per process and hands it to what waits (:class:`Wakeups` is what they may use);
an application that holds a single connection of a test, which cannot ``LISTEN`` for others, gets a
:class:`PollingBulletin` instead: the same calls, and the waiter looks at the table again on a short timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import asyncpg

logger = logging.getLogger(__name__)

#: How long a waiter waits without a notification before it looks again anyway.
SAFETY_INTERVAL = 5.0
#: How long after losing its connection the bulletin connects again.
RECONNECT_DELAY = 1.0


class Wakeups(Protocol):
    """What a waiter uses: take the event of a key before reading, read, then wait on it."""

    def event(self, channel: str, key: str) -> asyncio.Event: ...

    async def wait(self, event: asyncio.Event, timeout: float = SAFETY_INTERVAL) -> None: ...


class Bulletin:
    """One listening connection for the process, and an :class:`asyncio.Event` per key somebody waits on.

    ``connect`` makes a connection of its own (outside any pool: it holds ``LISTEN``), again after one is lost.
    """

    def __init__(
        self, connect: Callable[[], Awaitable[asyncpg.Connection[asyncpg.Record]]], channels: tuple[str, ...]
    ) -> None:
        self._connect = connect
        self._channels = channels
        self._events: dict[tuple[str, str], asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def event(self, channel: str, key: str) -> asyncio.Event:
        """The event set at the next notification for ``key`` on ``channel``.

        Take it *before* reading what is new, then wait on it: a notification that comes in between is not lost.
        """
        found = self._events.get((channel, key))
        if found is None:
            found = self._events[(channel, key)] = asyncio.Event()
        return found

    async def wait(self, event: asyncio.Event, timeout: float = SAFETY_INTERVAL) -> None:
        """Wait for ``event`` (from :meth:`event`), at most ``timeout`` and :data:`SAFETY_INTERVAL` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), min(timeout, SAFETY_INTERVAL))

    def _notified(self, _connection: Any, _pid: int, channel: str, payload: object) -> None:
        key = str(payload).rsplit(":", 1)[0]
        event = self._events.pop((channel, key), None)
        if event is not None:
            event.set()

    def _wake_everyone(self) -> None:
        events, self._events = self._events, {}
        for event in events.values():
            event.set()

    async def start(self) -> None:
        """Start listening; returns once the first connection listens (or has failed once, and retries)."""
        self._task = asyncio.create_task(self._listen())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._wake_everyone()

    async def _listen(self) -> None:
        while True:
            lost = asyncio.Event()
            connection = None
            try:
                connection = await self._connect()
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                for channel in self._channels:
                    await connection.add_listener(channel, self._notified)
                self._listening.set()
                # What was notified while no connection listened is looked for again by every waiter.
                self._wake_everyone()
                await lost.wait()
                logger.warning("bulletin: the listening connection was lost; connecting again")
            except (OSError, asyncpg.PostgresError) as error:
                logger.warning("bulletin: cannot listen (%s); trying again", error)
            finally:
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(connection.close(timeout=2))
            self._listening.set()  # start() waits no longer; waiters poll every SAFETY_INTERVAL meanwhile
            self._wake_everyone()
            await asyncio.sleep(RECONNECT_DELAY)


class PollingBulletin:
    """A bulletin for an application without a listening connection (a test's, on one connection held in a
    transaction, whose notifications are never delivered): every wait lasts ``interval``, after which the waiter
    reads the table again, as it would after a notification."""

    def __init__(self, interval: float) -> None:
        self._interval = interval

    def event(self, channel: str, key: str) -> asyncio.Event:
        """An event nobody sets: the wait on it ends on the timer."""
        return asyncio.Event()

    async def wait(self, event: asyncio.Event, timeout: float = SAFETY_INTERVAL) -> None:
        """Wait ``interval`` (or ``timeout``, if shorter)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(0.0, min(timeout, self._interval)))
