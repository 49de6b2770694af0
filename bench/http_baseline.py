"""HTTP baseline: requests/s and latency of the platform under uvicorn and granian, side by side.

For each server (one worker each; the load generator uses the other core) it measures:

1. a bare ASGI application (no framework) answering ``{"status":"ok"}``: the server's own ceiling here;
2. the platform's JSON route ``GET /health/live`` (no database);
3. the platform's one-row database read ``GET /health`` (through the asyncpg pool).

It prints each row's requests/s, p50/p99 latency and errors, the ratios route/bare and read/bare on the same
server, PASS/FAIL against the targets, and which server gives the higher figures. Missed targets never make it
fail. PostgreSQL is the server in ``DATABASE_URL`` (on a fresh database ``bidding_bench``), else an embedded one
in a temporary folder; everything started here is stopped at the end, also on Ctrl-C.

Usage: ``.venv/bin/python bench/http_baseline.py [--duration 10] [--warmup 2] [--connections 64]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # after the path is set, when run as a script
from bidding.db import migrate_database
from bidding.postgres import EmbeddedPostgres, create_database

ROOT = Path(__file__).resolve().parent.parent
LOADGEN = Path(__file__).resolve().parent / "loadgen.py"
BENCH_DATABASE = "bidding_bench"
READY_TIMEOUT = 60.0

#: Targets: the framework route keeps at least this share of the bare server's rate...
ROUTE_SHARE_TARGET = 0.5
#: ...and the one-row read reaches this many requests per second.
READ_RPS_TARGET = 4000.0

#: The measured rows: name, application factory, path. Rows sharing a factory share one server process.
ROWS = [
    ("bare ASGI", "bench.apps:bare_app", "/"),
    ("framework route", "bench.apps:project_app", "/health/live"),
    ("one-row read", "bench.apps:project_app", "/health"),
]


def server_command(server: str, target: str, port: int) -> list[str]:
    """The command serving ``target`` with one worker, configured as the platform is served."""
    if server == "uvicorn":
        options = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    elif server == "granian":
        # As in production (bidding serve): ASGI interface, one worker, default loop (auto picks uvloop).
        options = ["--interface", "asgi", "--workers", "1", "--log-level", "warning"]
    else:
        raise SystemExit(f"unknown server {server!r}: use uvicorn and/or granian")
    return [sys.executable, "-m", server, "--factory", *options, "--host", "127.0.0.1", "--port", str(port), target]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(server: str, target: str, probe_path: str, env: dict[str, str], log: Path) -> Iterator[int]:
    """Run ``target`` under ``server`` until the block ends; yield its port once ``probe_path`` answers 200."""
    port = free_port()
    with running(server, server_command(server, target, port), port, probe_path, env, log):
        yield port


@contextlib.contextmanager
def running(
    name: str, command: list[str], port: int, probe_path: str, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server ``command`` (its output to ``log``) until the block ends, then stop it, its worker processes
    too; yield the process once ``probe_path`` on ``port`` answers 200."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C reaches us, and we stop it in order
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}{probe_path}", timeout=1.0).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer {probe_path} with 200 within {READY_TIMEOUT:.0f} s")
            time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            print(f"  {name} ignored SIGTERM for 15 s; killing it", flush=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the server's group: its worker processes too
        process.wait()


def load(port: int, path: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the load generator in a process of its own against ``path``; return its JSON figures."""
    command = [sys.executable, str(LOADGEN), "--port", str(port), "--path", path]
    command += ["--connections", str(args.connections), "--warmup", str(args.warmup), "--duration", str(args.duration)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.warmup + args.duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}):\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@contextlib.contextmanager
def database(folder: Path) -> Iterator[str]:
    """A migrated database for the platform: ``bidding_bench`` on ``DATABASE_URL``'s server, else embedded."""
    if server_url := os.environ.get("DATABASE_URL"):
        url = urlunsplit(urlsplit(server_url)._replace(path=f"/{BENCH_DATABASE}"))

        async def execute(statement: str) -> None:
            connection = await asyncpg.connect(server_url)
            try:
                await connection.execute(statement)
            finally:
                await connection.close()

        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        asyncio.run(execute(f'CREATE DATABASE "{BENCH_DATABASE}"'))
        try:
            asyncio.run(migrate_database(url))
            print(f"PostgreSQL: database {BENCH_DATABASE} on the DATABASE_URL server", flush=True)
            yield url
        finally:
            asyncio.run(execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        return
    embedded = EmbeddedPostgres(folder / "postgres")
    url = embedded.start()
    try:
        asyncio.run(create_database(embedded.maintenance_url))
        asyncio.run(migrate_database(url))
        print("PostgreSQL: embedded, in a temporary folder (Unix socket)", flush=True)
        yield url
    finally:
        try:
            embedded.stop()
        except Exception as error:  # already stopped by Ctrl-C reaching it, for instance
            print(f"stopping the embedded PostgreSQL: {error}", flush=True)


Results = dict[tuple[str, str], dict[str, Any]]


def measure(servers: list[str], args: argparse.Namespace, env: dict[str, str], logs: Path) -> Results:
    """Every row under every server, printed as it completes; return the figures by (server, row)."""
    results: Results = {}
    print(
        f"{'server':8} {'row':16} {'path':13} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'client CPU':>10}"
    )
    for server in servers:
        log = logs / f"{server}.log"
        for target in dict.fromkeys(target for _, target, _ in ROWS):
            rows = [(name, path) for name, row_target, path in ROWS if row_target == target]
            with serving(server, target, rows[0][1], env, log) as port:
                for name, path in rows:
                    r = results[server, name] = load(port, path, args)
                    p50, p99 = r["p50_ms"] or 0.0, r["p99_ms"] or 0.0
                    note = "  (client-bound?)" if r["client_cpu"] >= 0.9 else ""
                    print(
                        f"{server:8} {name:16} {path:13} {r['rps']:>9,.0f} {p50:>8.2f} {p99:>8.2f} "
                        f"{r['errors']:>7} {r['client_cpu']:>10.0%}{note}",
                        flush=True,
                    )
                    if r["errors"]:
                        print(f"  !!! {r['errors']} ERRORS: statuses {r['statuses']}, {r['failures']}", flush=True)
        if log.exists() and (text := log.read_text().strip()):
            print(f"  !!! {server} wrote to its log:\n    " + "\n    ".join(text.splitlines()[-10:]), flush=True)
    return results


def report(servers: list[str], results: Results) -> None:
    """Ratios, targets and the recommendation."""

    def rps(server: str, name: str) -> float:
        return float(results[server, name]["rps"])

    def errors(server: str) -> str:
        total = sum(results[server, name]["errors"] for name, _, _ in ROWS)
        return f"   !!! {total} errors in this server's rows" if total else ""

    print("\nRatios (same server, same run)")
    for server in servers:
        bare = rps(server, "bare ASGI") or float("nan")
        print(
            f"  {server:8} route/bare {rps(server, 'framework route') / bare:.2f}   "
            f"db-read/bare {rps(server, 'one-row read') / bare:.2f}"
        )
    print("\nTargets")
    for server in servers:
        share = rps(server, "framework route") / (rps(server, "bare ASGI") or float("nan"))
        read = rps(server, "one-row read")
        print(
            f"  {server:8} framework route >= {ROUTE_SHARE_TARGET} x bare ASGI: {share:.2f}  "
            f"{harness.verdict(share >= ROUTE_SHARE_TARGET)}{errors(server)}"
        )
        print(
            f"  {server:8} one-row read >= {READ_RPS_TARGET:,.0f} req/s: {read:,.0f}  "
            f"{harness.verdict(read >= READ_RPS_TARGET)}{errors(server)}"
        )
    if len(servers) < 2:
        print(f"\nRecommendation: only {servers[0]} was measured; nothing to compare.")
        return
    first, second = servers[:2]
    wins = {first: 0, second: 0}
    details = []
    for name, _, _ in ROWS:
        a, b = rps(first, name), rps(second, name)
        wins[first if a >= b else second] += 1
        details.append(f"{name} {a:,.0f} vs {b:,.0f}")
    project = [name for name, target, _ in ROWS if target.endswith("project_app")]
    best = max(servers[:2], key=lambda s: (wins[s], sum(rps(s, name) for name in project)))
    print(
        f"\nRecommendation: {best} gives the higher figures ({wins[best]} of {len(ROWS)} rows; "
        f"{first} vs {second}: {', '.join(details)} req/s)."
    )


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per row (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of discarded load first (default 2)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent keep-alive connections (default 64)")
    parser.add_argument("--servers", default="uvicorn,granian", help="comma-separated (default uvicorn,granian)")


def servers_of(args: argparse.Namespace) -> list[str]:
    return [name.strip() for name in args.servers.split(",") if name.strip()]


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for server in servers_of(args):
        server_command(server, "", 0)  # refuses unknown names before anything starts


def describe(args: argparse.Namespace) -> str:
    return (
        f"HTTP baseline: uvicorn {version('uvicorn')}, granian {version('granian')}; {args.connections} connections, "
        f"{args.warmup:g} s warm-up + {args.duration:g} s measured per row; one worker per server"
    )


def run(args: argparse.Namespace, folder: Path) -> None:
    servers = servers_of(args)
    with database(folder) as url:
        env = {**os.environ, "DATABASE_URL": url}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        results = measure(servers, args, env, folder)
    report(servers, results)
    print("(this run alone keeps about 2 cores busy)")


if __name__ == "__main__":
    sys.exit(harness.main(__doc__, arguments, run, describe=describe, check=check, stopped="servers and PostgreSQL"))
