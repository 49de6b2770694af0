"""Part (a) of ``bench/bids.py``, one large upload: the tus client's requests (:func:`create_upload`,
:func:`patch_upload`), the memory of several at once and the throughput of one beside its two baselines, each on
a server of its own served the same way (:func:`measure_upload`), and what they mean (:func:`print_targets`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import psutil

from bench import harness, http_baseline
from bench.apps import STORED_FOLDER
from bench.bids_world import Bidder, World
from bench.probes import HTTP_TIMEOUT, MB, RSS_INTERVAL, Answer, ResidentMemory, send

#: Targets: an upload streams at least this share of the MB/s of the necessary work done bare...
STORED_SHARE_TARGET = 0.8
#: ...and at least this share of reading the body and throwing it away...
SINK_SHARE_TARGET = 0.5
#: ...and holds at most this many MB of the server's memory while it runs, with several at once.
MEMORY_PER_UPLOAD_TARGET_MB = 16.0

TUS = {"Tus-Resumable": "1.0.0"}


def bearer(bidder: Bidder) -> dict[str, str]:
    return {"Authorization": f"Bearer {bidder.token}"}


async def create_upload(client: httpx.AsyncClient, bidder: Bidder, tender_id: int, length: int) -> str:
    created = await client.post(
        f"/api/v1/tenders/{tender_id}/uploads", headers={**TUS, **bearer(bidder), "Upload-Length": str(length)}
    )
    if created.status_code != 201:
        raise RuntimeError(f"creating an upload: {created.status_code} {created.text}")
    return created.headers["location"]


async def patch_upload(port: int, bidder: Bidder, location: str, body: bytes | memoryview) -> Answer:
    headers = {**TUS, **bearer(bidder), "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    answer = await send(port, "PATCH", location, headers, body)
    if answer.status != 204 or answer.headers.get("upload-offset") != str(len(body)):
        raise RuntimeError(f"PATCH {location}: {answer.status} {answer.body[:500]!r}")
    return answer


async def baseline_upload(port: int, path: str, body: bytes | memoryview) -> Answer:
    """The body sent the same way to a baseline server's ``PATCH`` route (``/sink`` or ``/stored``)."""
    answer = await send(port, "PATCH", path, {"Content-Type": "application/offset+octet-stream"}, body)
    if answer.status != 204 or answer.headers.get("upload-offset") != str(len(body)):
        raise RuntimeError(f"PATCH {path}: {answer.status} {answer.body[:500]!r}")
    return answer


@dataclasses.dataclass(frozen=True)
class Baselines:
    """The two baseline servers: port and process of each."""

    sink_port: int
    sink: psutil.Process
    stored_port: int
    stored: psutil.Process


@contextlib.contextmanager
def serving_baselines(env: dict[str, str], folder: Path, uploads: Path) -> Iterator[Baselines]:
    """Both baseline servers, served as the platform is (granian, one worker) until the block ends; the
    necessary work writes in ``uploads``, the blob store's folder of uploads in progress."""
    uploads.mkdir(parents=True, exist_ok=True)
    env = {**env, STORED_FOLDER: str(uploads)}
    sink_port, stored_port = http_baseline.free_port(), http_baseline.free_port()
    with (
        http_baseline.running(
            "the sink",
            http_baseline.server_command("granian", "bench.apps:sink_app", sink_port),
            sink_port,
            "/",
            env,
            folder / "sink.log",
        ) as sink,
        http_baseline.running(
            "the necessary work",
            http_baseline.server_command("granian", "bench.apps:stored_app", stored_port),
            stored_port,
            "/",
            env,
            folder / "stored.log",
        ) as stored,
    ):
        yield Baselines(sink_port, psutil.Process(sink.pid), stored_port, psutil.Process(stored.pid))


@dataclasses.dataclass
class UploadFigures:
    #: Seconds of each run, in the order run.
    real: list[float] = dataclasses.field(default_factory=list)
    stored: list[float] = dataclasses.field(default_factory=list)
    sink: list[float] = dataclasses.field(default_factory=list)
    #: Seconds of SHA-256 over the body in this process, once per run: the one part of the work that no thread or
    #: disk can overlap away, on one core.
    hashing: list[float] = dataclasses.field(default_factory=list)
    memory_real: float = 0.0
    memory_sink: float = 0.0
    concurrent_seconds: float = 0.0

    @property
    def stored_share(self) -> float:
        """The upload's best MB/s over the necessary work's best."""
        return min(self.stored) / min(self.real)

    @property
    def sink_share(self) -> float:
        """The upload's best MB/s over reading and discarding's best."""
        return min(self.sink) / min(self.real)


async def measure_upload(
    world: World, port: int, server: psutil.Process, baselines: Baselines, args: argparse.Namespace
) -> UploadFigures:
    figures = UploadFigures()
    body = os.urandom(args.upload_mb * MB)
    size = len(body)
    tender_id = world.burst.id
    sink_port, stored_port = baselines.sink_port, baselines.stored_port
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=HTTP_TIMEOUT) as client:
        # A small upload first, so that the memory run does not count what the first request of its kind loads.
        bidder = world.bidders[0]
        await patch_upload(port, bidder, await create_upload(client, bidder, tender_id, MB), body[:MB])
        await baseline_upload(sink_port, "/sink", body[:MB])
        await baseline_upload(stored_port, "/stored", body[:MB])

        print(
            f"\n(a) Memory: {args.concurrent} uploads of {args.upload_mb} MB at once, resident memory of the "
            f"server's processes every {RSS_INTERVAL * 1000:g} ms",
            flush=True,
        )
        uploaders = world.bidders[: args.concurrent]
        locations = [await create_upload(client, b, tender_id, size) for b in uploaders]
        with ResidentMemory(server) as memory:
            started = time.perf_counter()
            await asyncio.gather(*(patch_upload(port, b, at, body) for b, at in zip(uploaders, locations, strict=True)))
            figures.concurrent_seconds = time.perf_counter() - started
        figures.memory_real = memory.growth_mb
        with ResidentMemory(baselines.sink) as sink_memory:
            sink_started = time.perf_counter()
            await asyncio.gather(*(baseline_upload(sink_port, "/sink", body) for _ in uploaders))
            sink_seconds = time.perf_counter() - sink_started
        figures.memory_sink = sink_memory.growth_mb
        total = args.concurrent * args.upload_mb
        print(
            f"  bidding serve: {memory.before / MB:,.0f} MB before, {memory.peak / MB:,.0f} MB at most: "
            f"+{figures.memory_real:.1f} MB = {figures.memory_real / args.concurrent:.1f} MB per upload; "
            f"{total / figures.concurrent_seconds:,.0f} MB/s together"
            f"\n  sink:          {sink_memory.before / MB:,.0f} MB before, {sink_memory.peak / MB:,.0f} MB at most: "
            f"+{figures.memory_sink:.1f} MB = {figures.memory_sink / args.concurrent:.1f} MB per upload; "
            f"{total / sink_seconds:,.0f} MB/s together",
            flush=True,
        )

        print(
            f"\n(a) Throughput: {args.upload_mb} MB in one PATCH, {args.runs} runs of each of the three, taking "
            "turns (each run in another order)",
            flush=True,
        )

        async def real() -> float:
            location = await create_upload(client, bidder, tender_id, size)
            return (await patch_upload(port, bidder, location, body)).seconds

        async def stored() -> float:
            return (await baseline_upload(stored_port, "/stored", body)).seconds

        async def sink() -> float:
            return (await baseline_upload(sink_port, "/sink", body)).seconds

        turns = [(figures.real, real), (figures.stored, stored), (figures.sink, sink)]
        for run in range(args.runs):
            # Each takes every place in turn, so that what one leaves behind (dirty pages being written back, a
            # cache warmed) does not always fall on the same one.
            for seconds, measure in turns[run % 3 :] + turns[: run % 3]:
                seconds.append(await measure())
            started = time.perf_counter()
            hashlib.sha256(body)
            figures.hashing.append(time.perf_counter() - started)
            print(
                f"  run {run + 1}: tus PATCH {args.upload_mb / figures.real[-1]:6,.0f} MB/s   necessary work "
                f"{args.upload_mb / figures.stored[-1]:6,.0f} MB/s   read and discard "
                f"{args.upload_mb / figures.sink[-1]:6,.0f} MB/s   PATCH ÷ necessary "
                f"{figures.stored[-1] / figures.real[-1]:.2f}, ÷ discard {figures.sink[-1] / figures.real[-1]:.2f}",
                flush=True,
            )
    return figures


def _spread(values: Sequence[float]) -> str:
    return f"per run {min(values):.2f} to {max(values):.2f}"


def print_targets(figures: UploadFigures, args: argparse.Namespace) -> None:
    """The upload's lines of the targets: both ratios (best of the runs, and their spread run by run) and the
    memory per concurrent upload."""
    mb, best = args.upload_mb, min(figures.real)
    by_run = [
        (stored / real, sink / real)
        for real, stored, sink in zip(figures.real, figures.stored, figures.sink, strict=True)
    ]
    for name, share, target, baseline, per_run in (
        ("the necessary work (SHA-256, write, fsync)", figures.stored_share, STORED_SHARE_TARGET, figures.stored, 0),
        ("read and discard", figures.sink_share, SINK_SHARE_TARGET, figures.sink, 1),
    ):
        print(
            f"  upload {mb} MB to storage >= {target} x {name}: {share:.2f} ({mb / best:,.0f} vs "
            f"{mb / min(baseline):,.0f} MB/s, best of {len(figures.real)}; "
            f"{_spread([ratios[per_run] for ratios in by_run])})  {harness.verdict(share >= target)}"
        )
    ceiling, hashing = min(figures.sink) / min(figures.stored), min(figures.sink) / min(figures.hashing)
    print(
        f"  the necessary work itself: {ceiling:.2f} x read and discard"
        + (
            f" (below {SINK_SHARE_TARGET} already: here, no upload stored durably can meet that target)"
            if ceiling < SINK_SHARE_TARGET
            else ""
        )
        + f"; SHA-256 alone, on one core of this process: {mb / min(figures.hashing):,.0f} MB/s = "
        f"{hashing:.2f} x read and discard"
    )
    per_upload = figures.memory_real / args.concurrent
    print(
        f"  server memory per concurrent upload <= {MEMORY_PER_UPLOAD_TARGET_MB:g} MB: {per_upload:.1f} MB "
        f"({args.concurrent} at once; the sink's {figures.memory_sink / args.concurrent:.1f} MB)  "
        f"{harness.verdict(per_upload <= MEMORY_PER_UPLOAD_TARGET_MB)}"
    )
