"""The transparency log under load: durable events per second with the sequencer running, the latency from a
commit to a signed checkpoint covering it, how fast a backlog is sequenced, and ``bidding log verify`` over a
million entries.

1. A fresh database (embedded PostgreSQL in a temporary folder, or ``bidding_bench`` on ``DATABASE_URL``'s server,
   as ``bench/http_baseline.py`` does), migrated; ``synchronous_commit`` and ``fsync`` as the server has them
   (printed: on, so every commit waits for its WAL to reach the disk).
2. The disk's baseline: a small loop rewriting 8 KiB blocks (a WAL page) of a preallocated 16 MiB file (a WAL
   segment) next to the PostgreSQL data folder and ``os.fdatasync``-ing each, as PostgreSQL's default
   ``wal_sync_method`` does: fsyncs per second, measured before and after the sustained run.
3. ``bidding serve`` in a process of its own (granian, one worker), so the sequencer is the production one:
   the worker's lifespan task holds the lock and sequences every 0.1 s while idle.
4. Sustained events/s: ``--writers`` concurrent writers in this process each commit one audit event per
   transaction through the platform's path (``repo.insert_event`` inside ``Database.transaction()``) for
   ``--events-duration`` seconds. 16 by default: a server process's pool holds 10 connections
   (``database_pool_size``), so 16 is one or two busy processes all committing at once; enough commits in flight
   for PostgreSQL to flush several with one fdatasync, and few enough that this process is not what limits.
   Ratio to the fdatasync rate; target at least 0.5. Printed beside it, to tell what limits: the WAL flushes
   per second (``pg_stat_wal``) against the fdatasync rate, events per checkpoint (the sequencer's batches), and
   the CPU seconds of this process, the server, PostgreSQL and everything else on the machine.
5. Latency from commit to a signed checkpoint covering the event, for every event of the sustained run and of a
   lighter run at ``--steady-rate`` events/s, two ways:
   - *signed*: the checkpoint's ``signed_at`` (``clock_timestamp()`` in the sequencer's transaction, the
     database clock) minus the client's clock right after ``COMMIT`` returned, moved onto the database clock by
     the offset measured between them (printed; zero on one machine but for the round trip). Exact per
     checkpoint, and no polling, but it stops before the sequencer's own commit;
   - *visible*: when a connection of this process polling ``max(size)`` of the checkpoints every 10 ms first saw a
     size covering the event, minus the same commit time, both on the client clock: what a client waiting for
     its receipt sees, an upper bound (up to one poll late). Targets judged on this one: p99 at most 1.5 s.
6. A million entries: audit events bulk-loaded with ``COPY`` (one transaction, a quarter of them sealed actions)
   until the log will hold ``--entries``, sequenced by the running server's sequencer (entries/s, from the
   commit of the load to the checkpoint of the last), then ``bidding log verify URL --key KEY`` timed as a
   process of its own, with the CPU seconds of the verifier, the server and PostgreSQL during it. Target at most
   30 s.

Each figure is printed with its ratio to a baseline of the same run; missed targets never make it fail (the
machines are shared and noisy). Also printed: how many entries follow an event with a higher id (the log is in
commit order). A full run takes three to five minutes on two cores.

Usage: ``.venv/bin/python bench/audit_log.py [--events-duration 10] [--writers 16] [--entries 1000000]``
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, http_baseline  # after the path is set, when run as a script
from bench.probes import Poller
from bidding.audit import repo
from bidding.audit.model import event
from bidding.db import Database
from bidding.identity import PLATFORM
from bidding.log.model import SEALED_ACTIONS
from bidding.log.tree import load_log_key
from bidding.settings import Settings

#: Targets: durable events/s at least this share of the disk's fdatasync rate...
EVENTS_SHARE_TARGET = 0.5
#: ...99 % of events in a signed checkpoint within this many seconds of their commit...
LATENCY_P99_TARGET = 1.5
#: ...and a million entries verified from the outside within this many seconds.
VERIFY_TARGET = 30.0

#: The fdatasync loop: how long, and what it rewrites (a WAL page of a preallocated WAL-segment-sized file).
FSYNC_SECONDS = 3.0
FSYNC_BLOCK = 8192
FSYNC_FILE_SIZE = 16 * 1024 * 1024
#: How often the visibility poller looks at the newest checkpoint.
POLL_INTERVAL = 0.01
#: Longest wait for the sequencer to catch up with what was written (it should take a second or two).
CATCH_UP_TIMEOUT = 600.0
#: Rows per COPY statement of the bulk load (all in one transaction).
COPY_CHUNK = 50_000
#: Every this many bulk-loaded events is a sealed action, whose entry shows only the time and a commitment.
SEALED_EVERY = 4
SEALED_ACTION = "tender.document_downloaded"
assert SEALED_ACTION in SEALED_ACTIONS


# --- The disk -------------------------------------------------------------------------------------------------


def fdatasync_rate(folder: Path, seconds: float) -> tuple[float, float]:
    """Rewrite 8 KiB and ``fdatasync`` in a loop for ``seconds`` in ``folder``; return (fsyncs/s, p99 ms)."""
    path = folder / "fsync-probe"
    block = os.urandom(FSYNC_BLOCK)
    blocks = FSYNC_FILE_SIZE // FSYNC_BLOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        # Preallocated and flushed first, as PostgreSQL fills a WAL segment before using it: each fdatasync then
        # flushes data only, no file size or block map.
        for number in range(blocks):
            os.pwrite(fd, b"\0" * FSYNC_BLOCK, number * FSYNC_BLOCK)
        os.fsync(fd)
        durations = []
        started = time.perf_counter()
        deadline = started + seconds
        number = 0
        while (now := time.perf_counter()) < deadline:
            os.pwrite(fd, block, (number % blocks) * FSYNC_BLOCK)
            os.fdatasync(fd)
            durations.append(time.perf_counter() - now)
            number += 1
        elapsed = time.perf_counter() - started
    finally:
        os.close(fd)
        path.unlink()
    return len(durations) / elapsed, percentile(durations, 0.99) * 1000


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.5 for the median); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# --- The platform, serving and sequencing ---------------------------------------------------------------------


@contextlib.contextmanager
def serving(url: str, data_dir: Path, log: Path) -> Iterator[tuple[int, psutil.Process]]:
    """``bidding serve`` on ``url`` until the block ends; yield its port and process once it serves a checkpoint
    (the sequencer signs the empty tree first)."""
    port = http_baseline.free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(http_baseline.ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "bidding", "serve", "--no-migrate", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--database-url", url]
    with http_baseline.running("bidding serve", command, port, "/log/checkpoint", env, log) as process:
        yield port, psutil.Process(process.pid)


class CpuMeter:
    """CPU seconds (user + system) spent by groups of processes, and by the whole machine: it is shared, and what
    other work takes is not ours to use."""

    def __init__(self, groups: dict[str, tuple[psutil.Process | None, bool]]) -> None:
        #: Name: the process, and whether its descendants count too.
        self.groups = groups

    @staticmethod
    def _seconds(root: psutil.Process | None, descendants: bool) -> float:
        if root is None:
            return float("nan")
        total = 0.0
        with contextlib.suppress(psutil.Error):
            for process in [root, *(root.children(recursive=True) if descendants else [])]:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    total += times.user + times.system
        return total

    def read(self) -> dict[str, float]:
        seconds = {name: self._seconds(process, descendants) for name, (process, descendants) in self.groups.items()}
        machine = psutil.cpu_times()
        seconds["machine"] = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
        return seconds

    @staticmethod
    def since(
        before: dict[str, float], after: dict[str, float], wall: float, known: dict[str, float] | None = None
    ) -> str:
        """``name 1.2 s (60%)`` for each group and ``known`` (CPU seconds measured otherwise): CPU seconds, and as a
        share of one core over ``wall`` seconds; then what other processes took, and how busy the machine was."""
        spent = {name: after[name] - before[name] for name in before if after[name] == after[name]}  # NaN: unseen
        spent |= known or {}
        machine = spent.pop("machine")
        spent["other processes"] = machine - sum(spent.values())
        shares = ", ".join(f"{name} {seconds:.1f} s ({seconds / wall:.0%})" for name, seconds in spent.items())
        cores = os.cpu_count() or 1
        return f"{shares}; machine {machine / (wall * cores):.0%} busy of {cores} cores"


def postmaster(folder: Path) -> psutil.Process | None:
    """The embedded PostgreSQL's main process (its backends are its children); None on a server elsewhere."""
    with contextlib.suppress(FileNotFoundError, ValueError, psutil.Error):
        return psutil.Process(int((folder / "postgres" / "postmaster.pid").read_text().split("\n")[0]))
    return None


# --- Writing events -------------------------------------------------------------------------------------------


async def clock_offset(connection: asyncpg.Connection) -> tuple[float, float]:
    """The database clock minus this process's ``time.time()``, and its uncertainty (half the best round trip)."""
    best = (float("inf"), 0.0)
    for _ in range(30):
        before = time.time()
        moment: dt.datetime = await connection.fetchval("SELECT clock_timestamp()")
        after = time.time()
        best = min(best, (after - before, moment.timestamp() - (before + after) / 2))
    return best[1], best[0] / 2


class CheckpointWatch(Poller):
    """Polls the newest checkpoint's size on a connection of its own, recording when each new size is first seen."""

    interval = POLL_INTERVAL

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.sizes: list[int] = []
        self.seen_at: list[float] = []

    async def sample(self, connection: asyncpg.Connection) -> None:
        size = await connection.fetchval("SELECT max(size) FROM log_checkpoints") or 0
        if not self.sizes or size > self.sizes[-1]:
            self.sizes.append(size)
            self.seen_at.append(time.time())

    def first_seen(self, index: int) -> float | None:
        """When a checkpoint covering entry ``index`` (size > index) was first seen."""
        position = bisect.bisect_right(self.sizes, index)
        return self.seen_at[position] if position < len(self.seen_at) else None

    async def wait_for(self, size: int) -> None:
        deadline = time.monotonic() + CATCH_UP_TIMEOUT
        while not self.sizes or self.sizes[-1] < size:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the log did not reach {size} entries within {CATCH_UP_TIMEOUT:.0f} s")
            await asyncio.sleep(POLL_INTERVAL)


@dataclasses.dataclass
class Run:
    """What a run of writers committed and what became of it."""

    ids: list[int] = dataclasses.field(default_factory=list)
    #: The client's clock right after each commit returned.
    committed_at: list[float] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    cpu: str = ""
    #: WAL flushes (``pg_stat_wal.wal_sync``) while it ran, the sequencer's included.
    wal_syncs: int = 0
    #: Checkpoints signed from its start until the log held its last event: one per batch.
    checkpoints: int = 0
    #: Commit to signed checkpoint (database clock) and to visible checkpoint (client clock), per event.
    signed: list[float] = dataclasses.field(default_factory=list)
    visible: list[float] = dataclasses.field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.ids) / self.seconds


async def write_events(database: Database, run: Run, writers: int, seconds: float, rate: float | None) -> None:
    """``writers`` tasks committing one event per transaction for ``seconds``, each as fast as it can, or together
    at ``rate`` events/s (each on a fixed schedule, so that a late commit does not push back the next)."""
    start = time.perf_counter() + 0.05
    stop = start + seconds

    async def writer(number: int) -> None:
        count = 0
        while True:
            if rate is not None:
                due = start + (count * writers + number) / rate
                if due >= stop:
                    return
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            elif time.perf_counter() >= stop:
                return
            change = event(PLATFORM, "platform", "bench.event", f"writer:{number}", {"writer": number, "n": count})
            async with database.transaction() as connection:
                event_id = await repo.insert_event(connection, change)
            run.committed_at.append(time.time())
            run.ids.append(event_id)
            count += 1

    await asyncio.gather(*(writer(number) for number in range(writers)))
    run.seconds = time.perf_counter() - start


async def wal_syncs(connection: asyncpg.Connection) -> int:
    syncs: int = await connection.fetchval("SELECT wal_sync FROM pg_stat_wal")
    return syncs


async def measure_run(
    url: str,
    connection: asyncpg.Connection,
    watch: CheckpointWatch,
    offset: float,
    meter: CpuMeter,
    *,
    writers: int,
    seconds: float,
    rate: float | None,
) -> Run:
    """One run of writers on a pool of their own, waited for until the log holds every event; its latencies."""
    run = Run()
    wal_before = await wal_syncs(connection)
    checkpoints_before = await connection.fetchval("SELECT count(*) FROM log_checkpoints")
    cpu_before = meter.read()
    database = await Database.connect(url, max_size=writers)
    try:
        await write_events(database, run, writers, seconds, rate)
    finally:
        run.cpu = CpuMeter.since(cpu_before, meter.read(), run.seconds)
        # Backends report their WAL statistics as they exit, and an idle one only every few seconds.
        await database.close()
    await asyncio.sleep(0.3)
    run.wal_syncs = await wal_syncs(connection) - wal_before
    await watch.wait_for(await connection.fetchval("SELECT count(*) FROM audit_events"))
    run.checkpoints = await connection.fetchval("SELECT count(*) FROM log_checkpoints") - checkpoints_before

    rows = await connection.fetch(
        "SELECT event_id, log_index FROM log_entries WHERE event_id = ANY($1::bigint[])", run.ids
    )
    index_of = {row["event_id"]: row["log_index"] for row in rows}
    checkpoints = await connection.fetch("SELECT size, signed_at FROM log_checkpoints ORDER BY size")
    sizes = [row["size"] for row in checkpoints]
    signed_at = [row["signed_at"].timestamp() for row in checkpoints]
    for event_id, committed in zip(run.ids, run.committed_at, strict=True):
        index = index_of[event_id]
        run.signed.append(signed_at[bisect.bisect_right(sizes, index)] - (committed + offset))
        seen = watch.first_seen(index)
        assert seen is not None, "waited for every event to be sequenced"
        run.visible.append(seen - committed)
    return run


def latency_rows(run: Run) -> str:
    return "\n".join(
        f"  {name:8} p50 {percentile(values, 0.5) * 1000:6.0f} ms   p99 {percentile(values, 0.99) * 1000:6.0f} ms   "
        f"max {max(values) * 1000:6.0f} ms   min {min(values) * 1000:5.0f} ms"
        for name, values in (("signed", run.signed), ("visible", run.visible))
    )


async def order_inversions(connection: asyncpg.Connection) -> tuple[int, int]:
    """Entries of the log that follow an event with a higher id, of how many: the log is in commit order, and
    ids are taken at insert time, before commit."""
    row = await connection.fetchrow(
        """SELECT count(*) FILTER (WHERE id < previous) AS inverted, count(*) AS total
           FROM (SELECT event_id AS id, lag(event_id) OVER (ORDER BY log_index) AS previous FROM log_entries)
                AS entries"""
    )
    assert row is not None
    return row["inverted"], row["total"]


# --- A million entries ----------------------------------------------------------------------------------------


def bulk_events(first: int, count: int) -> Iterator[tuple[str, str, str, str]]:
    """Audit events as a busy platform writes them (actor role, action, subject, details): document hashes and
    ids, a quarter of them sealed actions."""
    for number in range(first, first + count):
        tender = number // 50
        if number % SEALED_EVERY == 0:
            yield "bidder", SEALED_ACTION, f"tender:{tender}", json.dumps({"document_id": number})
        else:
            digest = hashlib.sha256(number.to_bytes(8, "big")).hexdigest()
            details = {"tender_id": tender, "document_id": number, "sha256": digest, "size": 100_000 + number % 9973}
            yield "agency_staff", "tender.document_added", f"tender:{tender}", json.dumps(details)


async def bulk_load(url: str, count: int) -> float:
    """COPY ``count`` events in one transaction; return the seconds it took."""
    connection = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        async with connection.transaction():
            for first in range(0, count, COPY_CHUNK):
                await connection.copy_records_to_table(
                    "audit_events",
                    records=bulk_events(first, min(COPY_CHUNK, count - first)),
                    columns=["actor_role", "action", "subject", "details"],
                )
        return time.perf_counter() - started
    finally:
        await connection.close()


@dataclasses.dataclass(frozen=True)
class Verification:
    seconds: float
    cpu_seconds: float
    max_rss_mib: float
    returncode: int
    output: str
    #: CPU of the other processes meanwhile.
    others: str


def verify(port: int, key: str, folder: Path, meter: CpuMeter) -> Verification:
    """Run ``bidding log verify`` as a process of its own; its wall time, CPU time and peak memory."""
    command = [sys.executable, "-m", "bidding", "log", "verify", f"http://127.0.0.1:{port}", "--key", key]
    output = folder / "verify.out"
    before = meter.read()
    started = time.perf_counter()
    with output.open("wb") as sink:
        process = subprocess.Popen(command, cwd=http_baseline.ROOT, stdout=sink, stderr=subprocess.STDOUT)
        # wait4 rather than wait: the resources used by this one child.
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Verification(
        seconds=seconds,
        cpu_seconds=cpu,
        max_rss_mib=usage.ru_maxrss / 1024,
        returncode=process.returncode,
        output=output.read_text().strip(),
        others=CpuMeter.since(before, meter.read(), seconds, known={"verifier": cpu}),
    )


# --- The run --------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Figures:
    fsync_before: tuple[float, float] = (0.0, 0.0)
    fsync_after: tuple[float, float] = (0.0, 0.0)
    offset: tuple[float, float] = (0.0, 0.0)
    sustained: Run = dataclasses.field(default_factory=Run)
    steady: Run = dataclasses.field(default_factory=Run)
    inversions: tuple[int, int] = (0, 0)
    loaded: int = 0
    load_seconds: float = 0.0
    sequence_seconds: float = 0.0
    grow_cpu: str = ""

    @property
    def fsync(self) -> float:
        """The baseline: the mean of the fdatasync rates before and after the sustained run."""
        return (self.fsync_before[0] + self.fsync_after[0]) / 2

    @property
    def sequence_rate(self) -> float:
        return self.loaded / self.sequence_seconds if self.sequence_seconds else float("nan")


async def measure_events(url: str, args: argparse.Namespace, meter: CpuMeter, figures: Figures, folder: Path) -> None:
    """The sustained run, the disk again, then the steady run."""
    connection = await asyncpg.connect(url)
    try:
        figures.offset = await clock_offset(connection)
        async with CheckpointWatch(url) as watch:
            figures.sustained = await measure_run(
                url,
                connection,
                watch,
                figures.offset[0],
                meter,
                writers=args.writers,
                seconds=args.events_duration,
                rate=None,
            )
            figures.fsync_after = fdatasync_rate(folder, FSYNC_SECONDS)
            figures.steady = await measure_run(
                url,
                connection,
                watch,
                figures.offset[0],
                meter,
                writers=4,
                seconds=max(args.events_duration / 2, 1.0),
                rate=args.steady_rate,
            )
        figures.inversions = await order_inversions(connection)
    finally:
        await connection.close()


async def grow_log(url: str, entries: int, figures: Figures) -> None:
    """Bulk-load events until the log will hold ``entries``, and wait for the sequencer to take them all in."""
    connection = await asyncpg.connect(url)
    try:
        figures.loaded = max(0, entries - await connection.fetchval("SELECT count(*) FROM audit_events"))
        async with CheckpointWatch(url) as watch:
            figures.load_seconds = await bulk_load(url, figures.loaded)
            committed = time.perf_counter()
            await watch.wait_for(entries)
            figures.sequence_seconds = time.perf_counter() - committed
    finally:
        await connection.close()


async def database_facts(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        names = ("server_version", "synchronous_commit", "fsync", "wal_sync_method", "shared_buffers")
        return ", ".join([f"{name} {await connection.fetchval(f'SHOW {name}')}" for name in names])
    finally:
        await connection.close()


def print_events(figures: Figures, args: argparse.Namespace) -> None:
    fsync = figures.fsync
    print(
        f"fdatasync again after the sustained run: {figures.fsync_after[0]:,.0f} /s, "
        f"p99 {figures.fsync_after[1]:.2f} ms; their mean, {fsync:,.0f} /s, is the baseline below"
    )
    offset, uncertainty = figures.offset
    for name, run, how in (
        ("Sustained", figures.sustained, f"{args.writers} writers as fast as they go"),
        ("Steady", figures.steady, f"4 writers at {args.steady_rate:g} events/s together"),
    ):
        syncs = run.wal_syncs
        print(
            f"\n{name}: {how}: {len(run.ids):,} events in {run.seconds:.1f} s = {run.rate:,.0f} events/s "
            f"= {run.rate / fsync:.2f} x fdatasync/s"
            f"\n  WAL flushes {syncs / run.seconds:,.0f} /s = {syncs / run.seconds / fsync:.2f} x fdatasync/s, "
            f"{len(run.ids) / max(syncs, 1):.1f} events per flush; {run.checkpoints:,} checkpoints signed, "
            f"{len(run.ids) / max(run.checkpoints, 1):,.0f} events per batch"
            f"\n  CPU: {run.cpu}"
            f"\n  commit to checkpoint (database clock = client clock {offset * 1000:+.2f} ms"
            f" ± {uncertainty * 1000:.2f}):"
            f"\n{latency_rows(run)}",
            flush=True,
        )
    inverted, total = figures.inversions
    print(
        f"\nLog order: {inverted:,} of {total:,} entries follow an event with a higher id (commit order, not id order)"
    )


def print_growth(figures: Figures) -> None:
    loaded = figures.loaded
    print(
        f"  COPY of {loaded:,} events in one transaction: {figures.load_seconds:.1f} s "
        f"({loaded / figures.load_seconds:,.0f} events/s)"
        f"\n  sequenced by the server's sequencer in {figures.sequence_seconds:.1f} s from the load's commit: "
        f"{figures.sequence_rate:,.0f} entries/s = {figures.sequence_rate / figures.sustained.rate:.1f} x the "
        f"sustained events/s\n  CPU: {figures.grow_cpu}",
        flush=True,
    )


def run(args: argparse.Namespace, folder: Path) -> None:
    figures = Figures()
    with http_baseline.database(folder) as url:
        print(f"  {uvloop.run(database_facts(url))}", flush=True)
        if os.environ.get("DATABASE_URL"):
            print("  !!! DATABASE_URL: the fdatasync baseline is this machine's disk, maybe not the server's")
        figures.fsync_before = fdatasync_rate(folder, FSYNC_SECONDS)
        print(
            f"\nfdatasync baseline (8 KiB rewrites for {FSYNC_SECONDS:g} s, beside the data folder): "
            f"{figures.fsync_before[0]:,.0f} /s, p99 {figures.fsync_before[1]:.2f} ms",
            flush=True,
        )
        data_dir = folder / "data"
        with serving(url, data_dir, folder / "serve.log") as (port, server):
            key = load_log_key(Settings(data_dir=data_dir)).verifier_key
            processes = {"bench": (psutil.Process(), False), "server": (server, True)}
            meter = CpuMeter({**processes, "PostgreSQL": (postmaster(folder), True)})
            print(f"bidding serve (granian, one worker) on port {port}; log key {key}", flush=True)
            uvloop.run(measure_events(url, args, meter, figures, folder))
            print_events(figures, args)

            print(f"\nGrowing the log to {args.entries:,} entries", flush=True)
            before, started = meter.read(), time.perf_counter()
            uvloop.run(grow_log(url, args.entries, figures))
            figures.grow_cpu = CpuMeter.since(before, meter.read(), time.perf_counter() - started)
            print_growth(figures)

            checked = verify(port, key, folder, meter)
            rate = args.entries / checked.seconds
            print(
                f"\nbidding log verify http://127.0.0.1:{port} --key …: {checked.seconds:.1f} s "
                f"(exit {checked.returncode})\n  {checked.output}"
                f"\n  {rate:,.0f} entries/s = {rate / figures.sequence_rate:.1f} x sequencing's; "
                f"peak memory {checked.max_rss_mib:,.0f} MiB"
                f"\n  CPU: {checked.others}",
                flush=True,
            )
        log = (folder / "serve.log").read_text()
        if "Traceback" in log or " - WARNING - " in log or " - ERROR - " in log:
            print("  !!! the server logged trouble:\n    " + "\n    ".join(log.splitlines()[-15:]), flush=True)

    share = figures.sustained.rate / figures.fsync
    print("\nTargets")
    print(
        f"  sustained events/s >= {EVENTS_SHARE_TARGET} x fdatasync/s: {share:.2f}  "
        f"{harness.verdict(share >= EVENTS_SHARE_TARGET)}"
    )
    for name, values in (("sustained", figures.sustained.visible), ("steady", figures.steady.visible)):
        p99 = percentile(values, 0.99)
        print(
            f"  commit to visible checkpoint p99 <= {LATENCY_P99_TARGET:g} s, {name}: {p99:.2f} s  "
            f"{harness.verdict(p99 <= LATENCY_P99_TARGET)}"
        )
    passed = checked.returncode == 0 and checked.seconds <= VERIFY_TARGET
    print(
        f"  verify {args.entries:,} entries <= {VERIFY_TARGET:g} s: {checked.seconds:.1f} s  {harness.verdict(passed)}"
    )


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events-duration", type=float, default=10.0, help="seconds of sustained writing (default 10)")
    parser.add_argument(
        "--writers",
        type=int,
        default=16,
        help="concurrent writers, each one transaction at a time (default 16; see above)",
    )
    parser.add_argument("--steady-rate", type=float, default=100.0, help="events/s of the lighter run (default 100)")
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries the log holds when verified")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.writers < 1 or args.events_duration <= 0 or args.steady_rate <= 0:
        parser.error("--writers, --events-duration and --steady-rate must be positive")


def describe(args: argparse.Namespace) -> str:
    return (
        f"Transparency log: {args.writers} writers for {args.events_duration:g} s, then {args.steady_rate:g} "
        f"events/s; verify at {args.entries:,} entries"
    )


if __name__ == "__main__":
    sys.exit(harness.main(__doc__, arguments, run, describe=describe, check=check, stopped="the server and PostgreSQL"))
