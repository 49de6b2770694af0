"""Part (c) of ``bench/bids.py``, the opening: ``--bids`` sealed bids submitted through the bid use cases
(:func:`insert_bids`); the deadline passed, the opening started and the k-th share timed until the record answers
(:func:`open_bids`); the bare loops over the same envelope files, its baseline (:func:`bare_loops`).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import io
import json
import os
import time
from typing import Any, BinaryIO, cast

import asyncpg
import httpx

from bench import audit_log
from bench.bids_world import World, one_chunk, seal
from bench.probes import HTTP_TIMEOUT, MB
from bidding.accounts import service as accounts
from bidding.bids import service as bids
from bidding.blobs import BlobStore
from bidding.db import Database
from crypto import age, custody, envelope
from crypto.note import parse_verifier_key
from crypto.statement import parse_unverified_statement


@dataclasses.dataclass
class OpeningFigures:
    insert_seconds: float = 0.0
    #: Bytes of each sealed envelope.
    envelope_size: int = 0
    #: From sending the k-th share to its answer, and to the record's 200.
    hand_in_seconds: float = 0.0
    record_seconds: float = 0.0
    lines: int = 0
    opened: int = 0
    #: From the hall's message times: the k-th share to the key rebuilt, to the first and the last line, to the record.
    phases: dict[str, float] = dataclasses.field(default_factory=dict)
    cpu: str = ""
    bare_decrypt_seconds: float = 0.0
    bare_open_seconds: float = 0.0


async def insert_bids(world: World, args: argparse.Namespace) -> int:
    """Seal and submit ``--bids`` bids through the bid use cases, ``--insert-concurrency`` at a time; return the
    size of an envelope."""
    settings = world.settings
    assert settings.database_url is not None
    blobs = BlobStore(settings.blobs)
    tender = world.opening
    document = os.urandom(int(args.bid_mb * MB))
    db = await Database.connect(settings.database_url, max_size=args.insert_concurrency)
    size = 0
    try:
        actors = [await accounts.act_as(db, bidder.login) for bidder in world.bidders]
        limit = asyncio.Semaphore(args.insert_concurrency)
        done = 0

        async def submit(number: int) -> None:
            nonlocal size, done
            index = number % len(world.bidders)
            lot = number // len(world.bidders) + 1
            async with limit:
                data, statement = await asyncio.to_thread(
                    seal, tender, world.bidders[index], lot, document, f"{100000 + number}.00"
                )
                size = len(data)
                actor = actors[index]
                upload_id = await bids.create_upload(db, blobs, actor, tender.id, len(data))
                await bids.append_upload(db, blobs, actor, upload_id, 0, one_chunk(data))
                await bids.submit_bid(
                    db, settings, blobs, actor, tender.id, upload_id=upload_id, signed_statement=statement
                )
                done += 1
                if done % max(1, args.bids // 10) == 0:
                    print(f"  {done:,} bids in", flush=True)

        await asyncio.gather(*(submit(number) for number in range(args.bids)))
    finally:
        await db.close()
    return size


async def hall_phases(url: str, tender_id: int, handed_at: float) -> dict[str, float]:
    """Seconds from the k-th share (``handed_at``, this process's ``time.time()``) to the hall's messages, by the
    database clock (one machine: the same clock)."""
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            """SELECT min(at) FILTER (WHERE kind = 'key_rebuilt') AS key_rebuilt,
                      min(at) FILTER (WHERE kind = 'line') AS first_line,
                      max(at) FILTER (WHERE kind = 'line') AS last_line,
                      min(at) FILTER (WHERE kind = 'record') AS record
               FROM room_events WHERE room = $1""",
            f"opening/{tender_id}",
        )
    finally:
        await connection.close()
    assert row is not None
    names = ("key_rebuilt", "first_line", "last_line", "record")
    return {name: row[name].timestamp() - handed_at for name in names if row[name] is not None}


async def open_bids(world: World, port: int, figures: OpeningFigures, meter: audit_log.CpuMeter) -> None:
    """Deadline past (SQL), the opening started and k shares handed in through the API; the k-th timed until
    the record answers."""
    url = world.settings.database_url
    assert url is not None
    tender = world.opening
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "UPDATE tenders SET deadline = clock_timestamp() - interval '1 second' WHERE id = $1", tender.id
        )
    finally:
        await connection.close()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=HTTP_TIMEOUT) as client:
        started = await client.post(
            f"/api/v1/tenders/{tender.id}/opening", headers={"Authorization": f"Bearer {world.agent_token}"}
        )
        if started.status_code != 200:
            raise RuntimeError(f"the opening did not start: {started.status_code} {started.text[:300]}")
        shares = []
        for login, token, key_file in world.custodians[:2]:
            sealed = await client.get(
                f"/api/v1/tenders/{tender.id}/custody/share", headers={"Authorization": f"Bearer {token}"}
            )
            share = custody.open_sealed_share(sealed.content, key_file.identity, tender.reference)
            shares.append((login, token, share))
        first_login, first_token, first_share = shares[0]
        handed = await client.post(
            f"/api/v1/tenders/{tender.id}/opening/shares",
            headers={"Authorization": f"Bearer {first_token}"},
            json={"share": first_share},
        )
        if handed.status_code != 200 or handed.json()["count"] != 1:
            raise RuntimeError(f"{first_login}'s share: {handed.status_code} {handed.text}")
        _, last_token, last_share = shares[1]
        before = meter.read()
        handed_at = time.time()
        clock = time.perf_counter()
        handed = await client.post(
            f"/api/v1/tenders/{tender.id}/opening/shares",
            headers={"Authorization": f"Bearer {last_token}"},
            json={"share": last_share},
        )
        figures.hand_in_seconds = time.perf_counter() - clock
        if handed.status_code != 200:
            raise RuntimeError(f"the k-th share: {handed.status_code} {handed.text}")
        while (record := await client.get(f"/api/v1/tenders/{tender.id}/opening/record")).status_code != 200:
            await asyncio.sleep(0.01)
        figures.record_seconds = time.perf_counter() - clock
        figures.cpu = audit_log.CpuMeter.since(before, meter.read(), figures.record_seconds)
    lines = json.loads(record.content)["lines"]
    figures.lines = len(lines)
    figures.opened = sum(1 for line in lines if line["outcome"] == "opened")
    figures.phases = await hall_phases(url, tender.id, handed_at)


class Discard(io.RawIOBase):
    """A writable stream that keeps nothing."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(data)


async def envelopes_of(url: str, tender_id: int) -> list[tuple[str, bytes, str]]:
    """Each bid's envelope key, statement and verifier key, in the order the server opens them."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            """SELECT b.envelope_sha256, b.statement, k.verifier_key FROM bids b JOIN party_keys k ON k.id = b.key_id
               WHERE b.tender_id = $1 ORDER BY b.id""",
            tender_id,
        )
    finally:
        await connection.close()
    return [(row["envelope_sha256"].hex(), row["statement"], row["verifier_key"]) for row in rows]


def bare_loops(world: World, envelopes: list[tuple[str, bytes, str]], figures: OpeningFigures) -> None:
    """The same envelope files, one after another in this process: decrypted into nothing, then opened and
    checked as the server checks a bid."""
    blobs = BlobStore(world.settings.blobs)
    identities: list[age.AnyIdentity] = [world.opening.identity]
    started = time.perf_counter()
    for key, _, _ in envelopes:
        with blobs.open(key) as source:
            age.decrypt_file(source, cast(BinaryIO, Discard()), identities)
    figures.bare_decrypt_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for key, statement, verifier_key in envelopes:
        with (
            blobs.open(key) as source,
            envelope.open_envelope(
                source, parse_unverified_statement(statement), parse_verifier_key(verifier_key), identities
            ) as opened,
        ):
            assert opened.manifest.bidder
    figures.bare_open_seconds = time.perf_counter() - started


def print_opening(figures: OpeningFigures, args: argparse.Namespace) -> None:
    total_mb = figures.envelope_size * args.bids / MB
    phases = figures.phases
    print(
        f"  the k-th share's answer after {figures.hand_in_seconds:.2f} s; the record 200 after "
        f"{figures.record_seconds:.2f} s: {figures.lines:,} lines, {figures.opened:,} opened; "
        f"{total_mb / figures.record_seconds:,.0f} MB/s, {figures.lines / figures.record_seconds:,.0f} bids/s",
        flush=True,
    )
    if {"key_rebuilt", "first_line", "last_line", "record"} <= phases.keys():
        lines_seconds = phases["last_line"] - phases["first_line"]
        print(
            f"  hall: key rebuilt at {phases['key_rebuilt']:.2f} s, first line {phases['first_line']:.2f} s, "
            f"last line {phases['last_line']:.2f} s ({figures.lines / max(lines_seconds, 1e-9):,.0f} lines/s), "
            f"record {phases['record']:.2f} s",
            flush=True,
        )
    print(f"  CPU from the k-th share to the record: {figures.cpu}", flush=True)
    for name, seconds in (
        ("age.decrypt_file", figures.bare_decrypt_seconds),
        ("envelope.open_envelope", figures.bare_open_seconds),
    ):
        print(
            f"  bare loop, {name} over the same {args.bids:,} files: {seconds:.2f} s "
            f"({total_mb / seconds:,.0f} MB/s); the opening takes {figures.record_seconds / seconds:.2f} x this",
            flush=True,
        )
