"""A lean HTTP/1.1 load generator: requests per second and latency of one GET path on one server.

N keep-alive connections each send one GET at a time and wait for the whole response (status line, headers,
``Content-Length`` body) before sending the next. Responses during the warm-up are discarded; those completed
in the measured window count: 200s as successes, anything else (other statuses, dropped connections, responses
without a length, requests still unanswered at the end after a second) as errors.

With ``--paths-file`` the connections take the file's paths (one per line) in turn instead of one ``--path``; with
``--follow-next`` too, a connection then follows each response's ``links.next`` (an OCDS package's next page)
and takes the next path of the file only when a page has none.

Run it in a process of its own so it shares no interpreter with the server:
``python bench/loadgen.py --port 8000 --path /health`` prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import uvloop

#: A request unanswered this long when the measured window closes counts as an error (the server stalled).
STALL_SECONDS = 1.0
#: Where ``links.next`` is looked for: an OCDS package's head, before its releases.
NEXT_LINK = re.compile(rb'"links":\{"next":"([^"]+)"')
NEXT_LINK_WITHIN = 4096


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


@dataclass
class Requests:
    """The requests to send, made once: the paths' GETs in turn, and on demand the GET of a ``links.next``."""

    head: str
    paths: list[str]
    follow_next: bool = False

    def __post_init__(self) -> None:
        self.cycle = itertools.cycle([self.make(path) for path in self.paths])

    def make(self, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\n{self.head}\r\n".encode("ascii")

    def take(self) -> bytes:
        return next(self.cycle)

    def after(self, body: bytes) -> bytes | None:
        """The request following a 200 response ``body`` on the same connection, if it names one."""
        found = NEXT_LINK.search(body, 0, NEXT_LINK_WITHIN)
        if found is None:
            return None
        parts = urlsplit(found.group(1).decode("ascii"))
        return self.make(parts.path + (f"?{parts.query}" if parts.query else ""))


class Client(asyncio.Protocol):
    """One keep-alive connection sending requests one at a time, again and again."""

    def __init__(self, requests: Requests, tally: Tally, closed: asyncio.Future[None]) -> None:
        self.requests = requests
        self.request = requests.take()
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
            following = None
            if self.requests.follow_next and head[0].startswith(b"HTTP/1.1 200 "):
                following = self.requests.after(self.buffer[end + 4 : end + 4 + length])
            self.buffer = self.buffer[end + 4 + length :]
            self.waiting = False
            now = time.perf_counter()
            if self.tally.measuring(now):
                status = int(head[0].split(b" ", 2)[1])
                self.tally.statuses[status] += 1
                if status == 200:
                    self.tally.latencies.append(now - self.sent_at)
            self.request = following or self.requests.take()
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


async def connection_loop(host: str, port: int, requests: Requests, tally: Tally) -> None:
    """Keep one connection busy until the window closes, reconnecting when the server drops it."""
    loop = asyncio.get_running_loop()
    while time.perf_counter() < tally.measure_until:
        closed: asyncio.Future[None] = loop.create_future()
        try:
            transport, client = await loop.create_connection(
                functools.partial(Client, requests, tally, closed), host, port
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


async def run(
    host: str,
    port: int,
    paths: list[str],
    connections: int,
    warmup: float,
    duration: float,
    *,
    accept: str = "application/json",
    follow_next: bool = False,
) -> dict[str, object]:
    """Load ``paths`` (in turn) for ``warmup`` + ``duration`` seconds; return the measured window's figures."""
    requests = Requests(f"Host: {host}:{port}\r\nAccept: {accept}\r\n", paths, follow_next)
    start = time.perf_counter()
    tally = Tally(measure_from=start + warmup, measure_until=start + warmup + duration)
    cpu_at_start = 0.0

    async def mark_cpu() -> None:
        nonlocal cpu_at_start
        await asyncio.sleep(warmup)
        cpu_at_start = time.process_time()

    marker = asyncio.create_task(mark_cpu())
    await asyncio.gather(*(connection_loop(host, port, requests, tally) for _ in range(connections)))
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
    parser.add_argument("--paths-file", help="a file of paths, one per line, requested in turn instead of --path")
    parser.add_argument("--follow-next", action="store_true", help="follow each response's links.next")
    parser.add_argument("--accept", default="application/json", help="the Accept header sent")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    args = parser.parse_args()
    paths = [args.path]
    if args.paths_file:
        with open(args.paths_file, encoding="ascii") as file:
            paths = [line.strip() for line in file if line.strip()]
    result = uvloop.run(
        run(
            args.host,
            args.port,
            paths,
            args.connections,
            args.warmup,
            args.duration,
            accept=args.accept,
            follow_next=args.follow_next,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
