"""Sealed bids under load: envelope uploads through tus, a deadline burst beside people reading notices, and the
opening of a thousand bids, each beside a baseline measured in the same run.

Setup: a fresh database (embedded PostgreSQL in a temporary folder, or ``bidding_bench`` on ``DATABASE_URL``'s
server, as ``bench/http_baseline.py`` does), migrated; then, through the platform's own use cases on it (as an
operator's script would, before the server starts): an agency and its agent, a purchaser, three custodians with
registered keys, ``max(--burst-bidders, --concurrent)`` bidder organisations each with a user, a registered key and
an API token, and two published tenders whose custody ceremonies were run as ``bidding custody ceremony`` runs
them (``crypto.custody.split_opening_key``): one of two lots for (a) and (b), one of ``ceil(--bids / bidders)``
lots for (c). Then ``bidding serve`` (granian, one worker, as in production) on that database and data folder.

(a) Upload (``bench/bids_upload.py``). One ``--upload-mb`` MB body sent with tus ``PATCH /api/v1/uploads/{id}``
    (whole, in one request, as tus clients send a file) by a lean client of this process writing 1 MiB slices to
    its socket; the time from the first byte sent to the 204. Two baselines, each served the same way (granian,
    one worker) and sent the same body the same way: the necessary work (``bench.apps:stored_app``, no framework:
    the body hashed with SHA-256 and written to a file in the blob store's ``uploads/`` folder by a thread, a
    megabyte at a time while the next arrives, each megabyte's write-back to the disk started at once, the file
    fsynced at the end), and reading alone (``bench.apps:sink_app``, a Litestar route reading ``request.stream()``
    and throwing it away). The three take turns, each run in another order; the best of ``--runs`` each counts,
    and each run's own ratios are printed. Targets: at least 0.8 of the necessary work's MB/s, and at least 0.5
    of reading alone's (beside it, what share of reading alone the necessary work itself reaches, and SHA-256
    alone over the body in this process, a run at a time: no upload that stores durably can beat them by much).
    First, the memory: ``--concurrent`` such uploads at once, the resident memory of the server's processes
    (``/proc/PID/statm`` every 5 ms) at most minus just before, per upload, the sink's beside it. Target: at most
    16 MB per concurrent upload.

(b) Deadline burst. ``--burst-bidders`` bidders each create an upload, send a sealed ``--burst-mb`` MB envelope
    and submit its signed statement, all starting at once, while ``--readers`` people (a process of their own)
    read the notice pages ``GET /tenders/{id}``, each waiting ``--think`` seconds on average between pages (the
    offered rate is printed; it is not a saturating crowd). Printed: the notice pages' p50 and p99 during the
    burst against the ``--quiet`` seconds before it (same readers, same run); the burst's sending MB/s (all its
    bytes over its sending time, and per upload) against one upload of the same size alone (best of three);
    what explains a difference: the CPU of each process, the delay of ``GET /health/live`` (no database: the
    event loop's own) and the server's database connections (``pg_stat_activity``: busy, waiting for a lock).
    No target was set for latency; the check is that every bid is in within the minute.

(c) Opening. ``--bids`` sealed bids of a ``--bid-mb`` MB document each (bidder ``i % bidders``, lot
    ``i // bidders + 1``) submitted through the bid use cases (``bidding.bids.service``: the HTTP API's path
    without HTTP) on the server's database and blob store, ``--insert-concurrency`` at a time; then the deadline
    set into the past with SQL, the opening started, and two shares handed in through the API. Timed: from
    sending the k-th share until ``GET /api/v1/tenders/{id}/opening/record`` answers 200 (the k-th hand-in opens
    every bid before it answers). Target: at most 5 s. Baseline: the same envelope files in a bare loop of this
    process, one after another, through ``crypto.age.decrypt_file`` into nothing and through
    ``crypto.envelope.open_envelope`` (what the server checks of each bid: decryption, ZIP, signed manifest,
    document hashes). Printed beside it: the hall's own message times (key rebuilt, lines read out, record
    signed) and the CPU of the server, PostgreSQL and this process.

Missed targets never make it fail: the machine is shared and noisy. A full run takes about one and a half minutes
on two cores (setup included); ``--quick`` scales every part down (under a minute).

Usage: ``.venv/bin/python bench/bids.py [--quick] [--parts abc] [--upload-mb 100] [--bids 1000] …`` (``--help``)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import httpx
import psutil
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import audit_log, harness, http_baseline  # after the path is set, when run as a script
from bench.bids_opening import (
    OpeningFigures,
    bare_loops,
    envelopes_of,
    insert_bids,
    open_bids,
    print_opening,
)
from bench.bids_upload import (
    UploadFigures,
    bearer,
    create_upload,
    measure_upload,
    patch_upload,
    print_targets,
    serving_baselines,
)
from bench.bids_world import Bidder, World, seal, set_up
from bench.probes import HTTP_TIMEOUT, MB, PoolWatch, readers_child

#: Targets (the upload's are in bench/bids_upload.py): the burst's bids are all in within the minute...
BURST_WITHIN_SECONDS = 60.0
#: ...and the opening's record is out within this many seconds of the k-th share.
OPENING_TARGET_SECONDS = 5.0

#: Full run and ``--quick`` defaults of each scale option.
FULL = {
    "upload_mb": 100,
    "concurrent": 4,
    "runs": 5,
    "burst_bidders": 50,
    "burst_mb": 20,
    "readers": 200,
    "quiet": 10.0,
    "bids": 1000,
    "bid_mb": 1.0,
}
QUICK = {
    "upload_mb": 20,
    "concurrent": 2,
    "runs": 3,
    "burst_bidders": 10,
    "burst_mb": 5,
    "readers": 50,
    "quiet": 5.0,
    "bids": 100,
    "bid_mb": 1.0,
}

#: Seconds the readers read before the quiet window starts (connections made, first pages cached).
READERS_WARMUP = 3.0


def percentile(values: Sequence[float], share: float) -> float:
    return audit_log.percentile(list(values), share)


# --- (b) The deadline burst -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BidTimes:
    started: float
    patch_started: float
    patch_ended: float
    submitted: float
    size: int

    @property
    def patch_mb_s(self) -> float:
        return self.size / MB / (self.patch_ended - self.patch_started)


async def bid_over_http(
    client: httpx.AsyncClient, port: int, tender_id: int, bidder: Bidder, data: bytes, statement: bytes
) -> BidTimes:
    """Create an upload, send the envelope, submit the statement, as a tus client and the bid form do."""
    started = time.perf_counter()
    location = await create_upload(client, bidder, tender_id, len(data))
    patch_started = time.perf_counter()
    await patch_upload(port, bidder, location, data)
    patch_ended = time.perf_counter()
    submitted = await client.post(
        f"/api/v1/tenders/{tender_id}/bids",
        headers=bearer(bidder),
        json={"upload": location.rsplit("/", 1)[1], "statement": statement.decode()},
    )
    if submitted.status_code != 201:
        raise RuntimeError(f"submitting: {submitted.status_code} {submitted.text}")
    return BidTimes(started, patch_started, patch_ended, time.perf_counter(), len(data))


@dataclasses.dataclass
class BurstFigures:
    alone: list[float] = dataclasses.field(default_factory=list)
    alone_bid_seconds: float = 0.0
    burst: list[BidTimes] = dataclasses.field(default_factory=list)
    quiet: list[float] = dataclasses.field(default_factory=list)
    during: list[float] = dataclasses.field(default_factory=list)
    #: /health/live's latencies, quiet and during the burst.
    probe_quiet: list[float] = dataclasses.field(default_factory=list)
    probe_during: list[float] = dataclasses.field(default_factory=list)
    pool_quiet: str = ""
    pool_during: str = ""
    quiet_seconds: float = 0.0
    burst_seconds: float = 0.0
    reader_errors: str = ""
    cpu_quiet: str = ""
    cpu: str = ""

    @property
    def aggregate_mb_s(self) -> float:
        first = min(times.patch_started for times in self.burst)
        last = max(times.patch_ended for times in self.burst)
        return sum(times.size for times in self.burst) / MB / (last - first)


async def measure_burst(
    world: World, port: int, args: argparse.Namespace, folder: Path, meter: audit_log.CpuMeter
) -> BurstFigures:
    figures = BurstFigures()
    tender = world.burst
    count = args.burst_bidders
    document = os.urandom(args.burst_mb * MB)
    started = time.perf_counter()
    sealed = [seal(tender, world.bidders[n], 1, document, f"{990000 + n}.00") for n in range(count)]
    alone_data, alone_statement = seal(tender, world.bidders[0], 2, document, "1000000.00")
    envelope_mb = len(sealed[0][0]) / MB
    print(
        f"\n(b) Deadline burst: sealed {count + 1} envelopes of {envelope_mb:.1f} MB in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=HTTP_TIMEOUT, limits=limits) as client:
        bidder = world.bidders[0]
        for _ in range(2):
            location = await create_upload(client, bidder, tender.id, len(alone_data))
            answer = await patch_upload(port, bidder, location, alone_data)
            figures.alone.append(answer.seconds)
        alone = await bid_over_http(client, port, tender.id, bidder, alone_data, alone_statement)
        figures.alone.append(alone.patch_ended - alone.patch_started)
        figures.alone_bid_seconds = alone.submitted - alone.started
        print(
            f"  alone: {envelope_mb / min(figures.alone):,.0f} MB/s sending (best of 3), "
            f"{figures.alone_bid_seconds:.2f} s from creating the upload to the submission's answer",
            flush=True,
        )

        # The people reading, for the whole burst and a quiet while before it.
        paths_file = folder / "notice-paths.txt"
        url = world.settings.database_url
        assert url is not None
        published = await published_tender_ids(url)
        paths_file.write_text("".join(f"/tenders/{tender_id}\n" for tender_id in published), encoding="ascii")
        readers = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--readers-child",
            str(port),
            str(paths_file),
            str(args.readers),
            str(args.think),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            async with PoolWatch(url) as pool:
                await asyncio.sleep(READERS_WARMUP + args.think)
                quiet_from = time.time()
                print(
                    f"  {args.readers} readers of {len(published)} notice pages, a page every {args.think:g} s each "
                    f"on average (about {args.readers / args.think:,.0f} pages/s offered); quiet for {args.quiet:g} s, "
                    f"then the burst of {count} bids",
                    flush=True,
                )
                before = meter.read()
                await asyncio.sleep(args.quiet)
                figures.cpu_quiet = audit_log.CpuMeter.since(before, meter.read(), args.quiet)
                burst_from = time.time()
                before = meter.read()
                burst_started = time.perf_counter()
                figures.burst = await asyncio.gather(
                    *(
                        bid_over_http(client, port, tender.id, world.bidders[n], data, statement)
                        for n, (data, statement) in enumerate(sealed)
                    )
                )
                figures.burst_seconds = time.perf_counter() - burst_started
                figures.cpu = audit_log.CpuMeter.since(before, meter.read(), figures.burst_seconds)
                burst_until = time.time()
                await asyncio.sleep(1.0)
        finally:
            # End of input tells the readers to stop (communicate() closes it only when given input, in 3.11).
            assert readers.stdin is not None
            readers.stdin.close()
            output, _ = await readers.communicate()
    result = json.loads(output)

    def window(kind: str, start: float, end: float) -> list[float]:
        return [latency for sent, latency, status in result["records"][kind] if status == 200 and start <= sent < end]

    figures.quiet, figures.during = window("notice", quiet_from, burst_from), window("notice", burst_from, burst_until)
    figures.probe_quiet = window("probe", quiet_from, burst_from)
    figures.probe_during = window("probe", burst_from, burst_until)
    figures.pool_quiet, figures.pool_during = (
        pool.between(quiet_from, burst_from),
        pool.between(burst_from, burst_until),
    )
    figures.quiet_seconds = burst_from - quiet_from
    statuses = Counter(status for kind in result["records"].values() for _, _, status in kind if status != 200)
    if statuses or result["failures"]:
        figures.reader_errors = f"statuses {dict(statuses)}, failures {result['failures']}"
    return figures


async def published_tender_ids(url: str) -> list[int]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT id FROM tenders WHERE published_at IS NOT NULL ORDER BY id")
    finally:
        await connection.close()
    return [row["id"] for row in rows]


def print_burst(figures: BurstFigures, args: argparse.Namespace) -> None:
    burst = figures.burst
    alone = args.burst_mb / min(figures.alone) if figures.alone else float("nan")
    per_upload = [times.patch_mb_s for times in burst]
    submissions = [times.submitted - times.patch_ended for times in burst]
    whole = [times.submitted - times.started for times in burst]
    aggregate = figures.aggregate_mb_s
    print(
        f"  burst: {len(burst)} bids in {figures.burst_seconds:.1f} s; sending {aggregate:,.0f} MB/s together "
        f"= {aggregate / alone:.2f} x one alone; per upload median {statistics.median(per_upload):,.1f} MB/s "
        f"= {statistics.median(per_upload) / alone:.3f} x alone"
        f"\n  each bid from creating its upload to the submission's answer: p50 {statistics.median(whole):.1f} s, "
        f"max {max(whole):.1f} s; the submission alone (statement checked, bid recorded, receipt waited for) "
        f"p50 {statistics.median(submissions):.2f} s, max {max(submissions):.2f} s "
        f"(alone: {figures.alone_bid_seconds:.2f} s for the whole bid)"
        f"\n  CPU while quiet: {figures.cpu_quiet}\n  CPU during the burst: {figures.cpu}",
        flush=True,
    )
    rows = (("quiet", figures.quiet, figures.quiet_seconds), ("burst", figures.during, figures.burst_seconds))
    quiet_p50, quiet_p99 = percentile(figures.quiet, 0.5), percentile(figures.quiet, 0.99)
    for name, values, seconds in rows:
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(
            f"  notice pages, {name}: {len(values):,} pages in {seconds:.1f} s ({len(values) / seconds:,.0f}/s), "
            f"p50 {p50 * 1000:6.1f} ms ({p50 / quiet_p50:4.1f} x quiet), p99 {p99 * 1000:6.1f} ms "
            f"({p99 / quiet_p99:4.1f} x quiet), max {max(values, default=float('nan')) * 1000:6.0f} ms",
            flush=True,
        )
    for name, values in (("quiet", figures.probe_quiet), ("burst", figures.probe_during)):
        print(
            f"  /health/live (the event loop's delay), {name}: p50 {percentile(values, 0.5) * 1000:6.1f} ms, "
            f"p99 {percentile(values, 0.99) * 1000:6.1f} ms",
            flush=True,
        )
    print(f"  the server's database connections, quiet: {figures.pool_quiet}", flush=True)
    print(f"  the server's database connections, burst: {figures.pool_during}", flush=True)
    if figures.reader_errors:
        print(f"  !!! readers' errors: {figures.reader_errors}", flush=True)


# --- The run ----------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Results:
    upload: UploadFigures | None = None
    burst: BurstFigures | None = None
    opening: OpeningFigures | None = None


def print_server_trouble(log: Path) -> None:
    text = log.read_text() if log.exists() else ""
    if any(word in text for word in ("Traceback", "WARN", "ERROR")):
        print("  !!! the server logged trouble:\n    " + "\n    ".join(text.splitlines()[-30:]), flush=True)


def run(args: argparse.Namespace, folder: Path) -> Results:
    results = Results()
    opening_lots = math.ceil(args.bids / args.bidders)
    with http_baseline.database(folder) as url:
        data_dir = folder / "data"
        started = time.perf_counter()
        world = uvloop.run(set_up(url, data_dir, args.bidders, opening_lots))
        print(
            f"Set up in {time.perf_counter() - started:.0f} s: an agency, a purchaser, three custodians with keys, "
            f"{args.bidders} bidder organisations with users, keys and API tokens; tender {world.burst.reference} "
            f"(2 lots) and tender {world.opening.reference} ({opening_lots} lots), their custody ceremonies run",
            flush=True,
        )
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(http_baseline.ROOT), os.environ.get("PYTHONPATH")])),
        }
        with contextlib.ExitStack() as stack:
            # Whatever happens, what the server logged is shown if it logged trouble.
            stack.callback(print_server_trouble, folder / "serve.log")
            port, server = stack.enter_context(audit_log.serving(url, data_dir, folder / "serve.log"))
            print(f"bidding serve (granian, one worker) on port {port}", flush=True)
            meter = audit_log.CpuMeter(
                {
                    "bench": (psutil.Process(), False),
                    "server": (server, True),
                    "PostgreSQL": (audit_log.postmaster(folder), True),
                }
            )
            if "a" in args.parts:
                with serving_baselines(env, folder, world.settings.blobs / "uploads") as baselines:
                    results.upload = uvloop.run(measure_upload(world, port, server, baselines, args))
            if "b" in args.parts:
                results.burst = uvloop.run(measure_burst(world, port, args, folder, meter))
                print_burst(results.burst, args)
            if "c" in args.parts:
                figures = results.opening = OpeningFigures()
                print(
                    f"\n(c) Opening: submitting {args.bids:,} bids of a {args.bid_mb:g} MB document each through "
                    f"the bid use cases, {args.insert_concurrency} at a time",
                    flush=True,
                )
                started = time.perf_counter()
                figures.envelope_size = uvloop.run(insert_bids(world, args))
                figures.insert_seconds = time.perf_counter() - started
                print(
                    f"  {args.bids:,} bids of {figures.envelope_size:,} bytes in {figures.insert_seconds:.1f} s "
                    f"({args.bids / figures.insert_seconds:,.0f} bids/s); deadline passed, opening started, "
                    "two shares handed in",
                    flush=True,
                )
                uvloop.run(open_bids(world, port, figures, meter))
                envelopes = uvloop.run(envelopes_of(url, world.opening.id))
                bare_loops(world, envelopes, figures)
                print_opening(figures, args)
    return results


def report(results: Results, args: argparse.Namespace) -> None:
    print("\nTargets")
    if (upload := results.upload) is not None:
        print_targets(upload, args)
    if (burst := results.burst) is not None:
        within = max(times.submitted for times in burst.burst) - min(times.started for times in burst.burst)
        print(
            f"  burst: {len(burst.burst)} bids of {args.burst_mb} MB all in within {BURST_WITHIN_SECONDS:g} s: "
            f"{within:.1f} s  {harness.verdict(within <= BURST_WITHIN_SECONDS)}; notice p99 "
            f"{percentile(burst.during, 0.99) * 1000:.0f} ms vs {percentile(burst.quiet, 0.99) * 1000:.0f} ms quiet "
            f"= {percentile(burst.during, 0.99) / percentile(burst.quiet, 0.99):.1f} x (no target set)"
        )
    if (opened := results.opening) is not None:
        complete = opened.lines == opened.opened == args.bids
        print(
            f"  opening {args.bids:,} bids of {args.bid_mb:g} MB, k-th share to record <= "
            f"{OPENING_TARGET_SECONDS:g} s: {opened.record_seconds:.1f} s "
            f"({opened.record_seconds / opened.bare_open_seconds:.2f} x the bare open_envelope loop, "
            f"{opened.record_seconds / opened.bare_decrypt_seconds:.2f} x bare decryption)  "
            f"{harness.verdict(opened.record_seconds <= OPENING_TARGET_SECONDS and complete)}"
            + ("" if complete else f"   !!! {opened.opened} of {args.bids} opened")
        )


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="every part scaled down (under a minute)")
    parser.add_argument("--parts", default="abc", help="which parts to run: a upload, b burst, c opening")
    parser.add_argument("--upload-mb", type=int, help="(a) MB of the upload (100; quick 20)")
    parser.add_argument("--concurrent", type=int, help="(a) uploads at once for the memory figure (4; quick 2)")
    parser.add_argument("--runs", type=int, help="(a) runs of each throughput figure (5; quick 3)")
    parser.add_argument("--burst-bidders", type=int, help="(b) bidders in the burst (50; quick 10)")
    parser.add_argument("--burst-mb", type=int, help="(b) MB of each burst envelope (20; quick 5)")
    parser.add_argument("--readers", type=int, help="(b) people reading notice pages (200; quick 50)")
    parser.add_argument("--think", type=float, default=2.0, help="(b) mean seconds between a reader's pages (2)")
    parser.add_argument("--quiet", type=float, help="(b) seconds read before the burst (10; quick 5)")
    parser.add_argument("--bids", type=int, help="(c) bids opened (1000; quick 100)")
    parser.add_argument("--bid-mb", type=float, help="(c) MB of each bid's document (1)")
    parser.add_argument("--insert-concurrency", type=int, default=16, help="(c) bids submitted at once (16)")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fills in the sizes of a full or quick run, then refuses impossible ones."""
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.bidders = max(args.burst_bidders, args.concurrent, 1)
    if args.bids > 50 * args.bidders:  # MAX_LOTS: one bid per bidder and lot
        parser.error(f"--bids: at most {50 * args.bidders} with {args.bidders} bidders (50 lots each)")
    if not set(args.parts) <= set("abc") or min(args.upload_mb, args.concurrent, args.runs, args.bids) < 1:
        parser.error("--parts takes a, b and c; sizes and counts must be positive")


def describe(args: argparse.Namespace) -> str:
    return (
        f"Bids: (a) {args.upload_mb} MB uploads, {args.concurrent} at once; (b) {args.burst_bidders} bids of "
        f"{args.burst_mb} MB beside {args.readers} readers; (c) {args.bids:,} bids of {args.bid_mb:g} MB opened; "
        f"parts {args.parts}"
    )


def measure(args: argparse.Namespace, folder: Path) -> None:
    report(run(args, folder), args)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--readers-child"]:
        _, _, port, paths_file, connections, think = sys.argv
        readers_child(int(port), paths_file, int(connections), float(think))
        sys.exit(0)
    sys.exit(
        harness.main(__doc__, arguments, measure, describe=describe, check=check, stopped="the servers and PostgreSQL")
    )
