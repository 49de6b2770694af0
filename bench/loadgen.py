"""A lean HTTP/1.1 load generator: requests per second and latency of one GET path on one server.

N keep-alive connections each send one GET at a time and wait for the whole response (status line, headers,
``Content-Length`` body) before sending the next. Responses during the warm-up are discarded; those completed
in the measured window count: 200s as successes, anything else (other statuses, dropped connections, responses
without a length, requests still unanswered at the end after a second) as errors.

Run it in a process of its own so it shares no interpreter with the server:
``python bench/loadgen.py --port 8000 --path /health`` prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

import uvloop

#: A request unanswered this long when the measured window closes counts as an error (the server stalled).
STALL_SECONDS = 1.0


@dataclass
class Tally:
    """What the measured window saw, shared by every connection."""

    measure_from: float = 0.0
    measure_until: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)

    def measuring(self, now: float) -> bool:
        return self.measure_from <= now < self.measure_until


class Client(asyncio.Protocol):
    """One keep-alive connection sending the same precomputed request again and again."""

    def __init__(self, request: bytes, tally: Tally, closed: asyncio.Future[None]) -> None:
        self.request = request
        self.tally = tally
        self.closed = closed
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.sent_at = 0.0
        self.waiting = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without deriving from it.
        self.transport = cast(asyncio.Transport, transport)
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        if time.perf_counter() >= self.tally.measure_until:
            self.transport.close()
            return
        self.sent_at = time.perf_counter()
        self.waiting = True
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.waiting:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].split(b"\r\n")
            length = -1
            for line in head[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length < 0:
                self.fail("response without content-length")
                return
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.waiting = False
            now = time.perf_counter()
            if self.tally.measuring(now):
                status = int(head[0].split(b" ", 2)[1])
                self.tally.statuses[status] += 1
                if status == 200:
                    self.tally.latencies.append(now - self.sent_at)
            self.send()

    def fail(self, reason: str) -> None:
        if self.tally.measuring(time.perf_counter()):
            self.tally.failures[reason] += 1
        self.waiting = False
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiting:
            self.fail(f"connection lost: {exc or 'closed by server'}")
        if not self.closed.done():
            self.closed.set_result(None)


async def connection_loop(host: str, port: int, request: bytes, tally: Tally) -> None:
    """Keep one connection busy until the window closes, reconnecting when the server drops it."""
    loop = asyncio.get_running_loop()
    while time.perf_counter() < tally.measure_until:
        closed: asyncio.Future[None] = loop.create_future()
        try:
            transport, client = await loop.create_connection(
                functools.partial(Client, request, tally, closed), host, port
            )
        except OSError as error:
            if tally.measuring(time.perf_counter()):
                tally.failures[f"connect: {error}"] += 1
            await asyncio.sleep(0.01)
            continue
        remaining = tally.measure_until - time.perf_counter() + STALL_SECONDS
        try:
            await asyncio.wait_for(asyncio.shield(closed), max(remaining, 0.0))
        except TimeoutError:
            if client.waiting:
                tally.failures["no answer within 1 s of the end"] += 1
            transport.abort()
            return


async def run(host: str, port: int, path: str, connections: int, warmup: float, duration: float) -> dict[str, object]:
    """Load ``path`` for ``warmup`` + ``duration`` seconds; return the measured window's figures."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n".encode("ascii")
    start = time.perf_counter()
    tally = Tally(measure_from=start + warmup, measure_until=start + warmup + duration)
    cpu_at_start = 0.0

    async def mark_cpu() -> None:
        nonlocal cpu_at_start
        await asyncio.sleep(warmup)
        cpu_at_start = time.process_time()

    marker = asyncio.create_task(mark_cpu())
    await asyncio.gather(*(connection_loop(host, port, request, tally) for _ in range(connections)))
    await marker
    cpu = time.process_time() - cpu_at_start
    latencies = sorted(tally.latencies)

    def percentile(fraction: float) -> float | None:
        return round(latencies[int(fraction * (len(latencies) - 1))] * 1000, 3) if latencies else None

    errors = sum(tally.failures.values()) + sum(n for status, n in tally.statuses.items() if status != 200)
    return {
        "rps": round(len(latencies) / duration, 1),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "errors": errors,
        "statuses": {str(status): n for status, n in sorted(tally.statuses.items())},
        "failures": dict(tally.failures),
        "client_cpu": round(cpu / duration, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    args = parser.parse_args()
    result = uvloop.run(run(args.host, args.port, args.path, args.connections, args.warmup, args.duration))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
