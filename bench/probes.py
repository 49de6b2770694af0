"""The instruments of ``bench/bids.py``: a lean HTTP/1.1 client for large bodies (:func:`send`), the resident
memory of a process and its descendants (:class:`ResidentMemory`), the people reading notice pages in a process of
their own (:func:`readers_child`, started as ``bench/bids.py --readers-child``) and what the server's database
connections do (:class:`PoolWatch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import resource
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Self

import asyncpg
import psutil
import uvloop

from bidding.settings import Settings

MB = 1024 * 1024
#: What the upload client writes to its socket at a time.
PIECE = MB
HTML = "text/html,application/xhtml+xml"
#: Resident memory is sampled this often during the memory runs.
RSS_INTERVAL = 0.005
#: How often the probe asks for /health/live, and how often the server's database connections are looked at.
PROBE_INTERVAL = 0.05
POOL_INTERVAL = 0.02
#: The server's pool (``Settings.database_pool_size``, default) and its sequencer's connection.
POOL_SIZE = Settings().database_pool_size
#: Longest a single HTTP exchange may take here (the k-th share opens every bid before it answers).
HTTP_TIMEOUT = 900.0


# --- A lean HTTP/1.1 client for large bodies -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    #: From the first byte sent to the whole answer read.
    seconds: float
    #: When the last byte of the body was handed to the socket.
    sent_at: float


async def send(port: int, method: str, path: str, headers: Mapping[str, str], body: bytes | memoryview) -> Answer:
    """One request on a connection of its own, the body written in :data:`PIECE` slices without copying, as a
    tus client sends a file; the answer whole. An answer the server gives before the body is all sent (a
    refusal) is read all the same."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    sent = 0
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        started = time.perf_counter()
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        view = memoryview(body)
        with contextlib.suppress(ConnectionError):
            for start in range(0, len(view), PIECE):
                writer.write(view[start : start + PIECE])
                await writer.drain()
                sent = start + len(view[start : start + PIECE])
        sent_at = time.perf_counter()
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        answer_headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name:
                answer_headers[name.strip().lower()] = value.strip()
        content = await reader.readexactly(int(answer_headers.get("content-length", "0")))
        return Answer(int(head[0].split(" ")[1]), answer_headers, content, time.perf_counter() - started, sent_at)
    except (ConnectionError, asyncio.IncompleteReadError) as error:
        raise RuntimeError(
            f"{method} {path}: the connection ended without an answer, {sent:,} of {len(body):,} bytes sent: {error!r}"
        ) from None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


# --- Memory ----------------------------------------------------------------------------------------------------


class ResidentMemory:
    """The resident memory of a process and its descendants, read from ``/proc/PID/statm`` on a thread of its
    own every :data:`RSS_INTERVAL` while the block runs: the highest sum seen, and the sum just before."""

    def __init__(self, root: psutil.Process) -> None:
        self.processes = [root, *root.children(recursive=True)]
        self.before = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def read(self) -> int:
        total = 0
        for process in self.processes:
            with contextlib.suppress(OSError), open(f"/proc/{process.pid}/statm") as statm:
                total += int(statm.read().split()[1]) * resource.getpagesize()
        return total

    def _sample(self) -> None:
        while not self._stop.wait(RSS_INTERVAL):
            self.peak = max(self.peak, self.read())

    def __enter__(self) -> ResidentMemory:
        self.before = self.peak = self.read()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.read())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / MB


# --- The notice readers and the database pool ------------------------------------------------------------------


def readers_child(port: int, paths_file: str, connections: int, think: float) -> None:
    """The readers, in a process of their own: ``connections`` people each reading a notice page, waiting
    ``think`` seconds on average (uniformly 0 to twice that), and again; beside them one probe asking for
    ``GET /health/live`` (no database, no template: its delay is the event loop's own) every
    :data:`PROBE_INTERVAL`. Until standard input closes; then each request's send time (``time.time()``),
    latency and status, by kind, as JSON on standard output."""
    paths = [line.strip() for line in Path(paths_file).read_text(encoding="ascii").splitlines() if line.strip()]
    records: dict[str, list[tuple[float, float, int]]] = {"notice": [], "probe": []}
    failures: Counter[str] = Counter()

    async def client(kind: str, number: int, stop: asyncio.Event) -> None:
        rng = random.Random(number)
        request_head = f"Host: 127.0.0.1:{port}\r\nAccept: {HTML}\r\n\r\n"

        async def pause() -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PROBE_INTERVAL if kind == "probe" else rng.uniform(0, 2 * think))

        await pause()
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
            except OSError as error:
                failures[f"connect: {error}"] += 1
                await asyncio.sleep(0.1)
                continue
            try:
                while not stop.is_set():
                    path = "/health/live" if kind == "probe" else rng.choice(paths)
                    sent, started = time.time(), time.perf_counter()
                    writer.write(f"GET {path} HTTP/1.1\r\n{request_head}".encode("ascii"))
                    head = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
                    length = next(
                        (int(line.split(b":", 1)[1]) for line in head if line.lower().startswith(b"content-length:")),
                        None,
                    )
                    if length is None:
                        failures["an answer without content-length"] += 1
                        break
                    await reader.readexactly(length)
                    records[kind].append((sent, time.perf_counter() - started, int(head[0].split(b" ")[1])))
                    await pause()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
                failures[f"{type(error).__name__}: {error}"] += 1
            finally:
                writer.close()

    async def run() -> None:
        stop = asyncio.Event()
        clients = [asyncio.create_task(client("notice", number, stop)) for number in range(connections)]
        clients.append(asyncio.create_task(client("probe", -1, stop)))
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
        stop.set()
        _, pending = await asyncio.wait(clients, timeout=5)
        for task in pending:
            task.cancel()

    uvloop.run(run())
    json.dump({"records": records, "failures": dict(failures)}, sys.stdout)


class Poller:
    """Takes a sample (:meth:`sample`) every :attr:`interval` seconds on a database connection of its own, for as
    long as an ``async with`` block runs."""

    interval: float

    def __init__(self, url: str) -> None:
        self.url = url
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        connection = await asyncpg.connect(self.url)
        self._task = asyncio.create_task(self._poll(connection))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _poll(self, connection: asyncpg.Connection) -> None:
        try:
            while True:
                await self.sample(connection)
                await asyncio.sleep(self.interval)
        finally:
            await connection.close()

    async def sample(self, connection: asyncpg.Connection) -> None:
        raise NotImplementedError


class PoolWatch(Poller):
    """What the server's database connections do, from ``pg_stat_activity`` every :data:`POOL_INTERVAL` on a
    connection of its own: how many are busy (in a statement or a transaction) and how many wait for a lock."""

    interval = POOL_INTERVAL

    def __init__(self, url: str) -> None:
        super().__init__(url)
        #: (``time.time()``, busy, waiting for a lock, open), per sample.
        self.samples: list[tuple[float, int, int, int]] = []

    async def sample(self, connection: asyncpg.Connection) -> None:
        # The server's connections are named "bidding" (bidding.db); this one is not.
        row = await connection.fetchrow(
            """SELECT count(*) FILTER (WHERE state <> 'idle') AS busy,
                      count(*) FILTER (WHERE wait_event_type = 'Lock') AS locked, count(*) AS open
               FROM pg_stat_activity WHERE application_name = 'bidding'"""
        )
        assert row is not None
        self.samples.append((time.time(), row["busy"], row["locked"], row["open"]))

    def between(self, start: float, end: float) -> str:
        window = [sample for sample in self.samples if start <= sample[0] <= end]
        if not window:
            return "no samples"
        busy = [sample[1] for sample in window]
        locked = [sample[2] for sample in window]
        full = sum(1 for sample in window if sample[1] >= POOL_SIZE) / len(window)
        return (
            f"busy mean {statistics.mean(busy):.1f}, max {max(busy)} of {max(s[3] for s in window)} open; "
            f"waiting for a lock mean {statistics.mean(locked):.1f}, max {max(locked)}; "
            f"{POOL_SIZE} or more busy in {full:.0%} of {len(window)} samples"
        )
