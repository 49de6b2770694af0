"""Tenders at scale: the public search and notice pages and the OCDS feed with 100,000 tenders, beside the
foundation benchmark's one-row read measured in the same run.

1. Seeds a fresh database (embedded PostgreSQL, or ``bidding_bench`` on ``DATABASE_URL``'s server, as
   ``bench/http_baseline.py`` does) with ``--tenders`` published tenders from word lists (``bench/tender_data.py``):
   every category, many regions and purchasers, budgets, deadlines over three years (a few percent still open),
   1–3 lots, documents, registrations, questions and answers, amendments, cancellations, the search column as the
   application fills it, and the OCDS releases the application would have written; then ``VACUUM ANALYZE``.
2. Serves the platform under granian with one worker, as the foundation benchmark does, and loads it with
   ``bench/loadgen.py`` (its own process), measuring in turn:
   - the one-row read ``GET /health``, exactly as ``bench/http_baseline.py`` measures it (its code, imported);
   - the search page ``GET /tenders?q=…`` over a mix of Chinese queries (one word, two words, with and without
     a category or status filter);
   - the notice page ``GET /tenders/{id}`` of random tenders;
   - ``GET /ocds/releases`` pages, each connection starting at a random cursor and following ``links.next``.
   Each at ``--connections`` (as the baseline: throughput, and latency under saturation), then search and notice
   again at ``--latency-connections`` (4: a few people at a time per server process, judged against the targets;
   at 64 the one worker is saturated and the p99 is the queue: 64 requests ahead of each other).
3. Prints requests/s, p50 and p99 of each, each as a ratio to the one-row read's, and PASS/FAIL against the
   targets (search p99 <= 100 ms, notice p99 <= 50 ms). Missed targets never make it fail.

Usage: ``.venv/bin/python bench/tenders_pages.py [--tenders 100000] [--duration 10] [--connections 64]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, http_baseline, tender_data  # after the path is set, when run as a script
from bidding.settings import Settings
from bidding.tenders.model import Category

#: Targets, milliseconds at the 99th percentile, with a few clients at a time rather than a saturating crowd.
SEARCH_P99_TARGET_MS = 100.0
NOTICE_P99_TARGET_MS = 50.0
#: What the load generator asks for, as a browser does.
HTML = "text/html,application/xhtml+xml"
#: Distinct requests in each mix (loadgen sends them in turn, over and over).
MIX_SIZE = 600
#: The platform as bench/apps.py:project_app serves it: the releases' URLs and ocids are made with these settings.
APP_SETTINGS = Settings(database_url="postgresql://unused", secret_key="b" * 64)


def seed(url: str, count: int, seed_value: int) -> int:
    """Generate and load ``count`` tenders and everything about them, printing how long each part took; return
    the number of OCDS releases."""

    async def run() -> int:
        connection = await asyncpg.connect(url)
        try:
            now = await connection.fetchval("SELECT now()")
            async with connection.transaction():
                parties = await tender_data.seed_parties(connection)
            started = time.perf_counter()
            data = tender_data.generate(count, parties, now, APP_SETTINGS, seed=seed_value)
            print(
                f"  generated {count:,} tenders, {len(data.lots):,} lots, {len(data.documents):,} documents, "
                f"{len(data.questions):,} questions, {len(data.amendments):,} amendments, "
                f"{len(data.releases):,} OCDS releases in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            async with connection.transaction():
                await tender_data.load(connection, data, lambda line: print(f"  {line}", flush=True))
            started = time.perf_counter()
            await connection.execute("VACUUM ANALYZE")
            print(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)
            return len(data.releases)
        finally:
            await connection.close()

    return asyncio.run(run())


def search_paths(rng: random.Random, prefix: str) -> list[str]:
    """Search requests: one Chinese word; a purchaser or region and a word; a word with a category filter or the
    "open" status filter; two words with both filters."""
    words = {
        Category.WORKS: [*tender_data.WORKS_SUBJECTS, *tender_data.WORKS_ACTIONS],
        Category.GOODS: [*tender_data.GOODS_ITEMS, *tender_data.GOODS_ACTIONS],
        Category.SERVICES: tender_data.SERVICES_ITEMS,
        Category.LAND_USE: [*tender_data.LAND_USES, *tender_data.ROADS, ("国有建设用地", "")],
        Category.STATE_PROPERTY: [*tender_data.COMPANIES, ("股权转让", "")],
    }
    owners = [owner for owner, _ in tender_data.OWNERS]
    regions = [region for region, _ in tender_data.REGIONS]
    paths = []
    for index in range(MIX_SIZE):
        category = rng.choice(list(words))
        word = rng.choice(words[category])[0]
        kind = index % 6
        query: dict[str, str]
        if kind == 0:
            query = {"q": word}
        elif kind == 1:
            query = {"q": f"{rng.choice(owners)} {word}"}
        elif kind == 2:
            query = {"q": f"{rng.choice(regions)} {word}"}
        elif kind == 3:
            query = {"q": word, "category": category.value}
        elif kind == 4:
            query = {"q": word, "status": "open"}
        else:
            query = {"q": f"{rng.choice(owners)} {word}", "category": category.value, "status": "open"}
        paths.append(f"{prefix}?{urlencode(query)}")
    return paths


def check_page(port: int, path: str) -> None:
    """Stop at once if ``path`` is not an HTML page answered 200: figures of error pages would mean nothing."""
    response = httpx.get(f"http://127.0.0.1:{port}{path}", headers={"accept": HTML}, timeout=30)
    if response.status_code != 200 or not response.headers.get("content-type", "").startswith("text/html"):
        raise RuntimeError(f"{path} answered {response.status_code} {response.headers.get('content-type')}")


def load_paths(
    port: int,
    paths: list[str],
    args: argparse.Namespace,
    folder: Path,
    *,
    connections: int,
    accept: str,
    follow_next: bool,
) -> dict[str, Any]:
    """Run the load generator over ``paths`` in turn, in a process of its own; return its JSON figures."""
    paths_file = folder / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n", encoding="ascii")
    command = [sys.executable, str(http_baseline.LOADGEN), "--port", str(port), "--paths-file", str(paths_file)]
    command += ["--connections", str(connections), "--warmup", str(args.warmup), "--duration", str(args.duration)]
    command += ["--accept", accept]
    if follow_next:
        command.append("--follow-next")
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.warmup + args.duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}):\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def row(name: str, path: str, connections: int, figures: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    p50, p99 = figures["p50_ms"] or float("nan"), figures["p99_ms"] or float("nan")
    ratios = ""
    if baseline is not None:
        base_p50, base_p99 = baseline["p50_ms"] or float("nan"), baseline["p99_ms"] or float("nan")
        ratios = (
            f"{figures['rps'] / (baseline['rps'] or float('nan')):>7.3f} {p50 / base_p50:>7.1f} {p99 / base_p99:>7.1f}"
        )
    note = "  (client-bound?)" if figures["client_cpu"] >= 0.9 else ""
    print(
        f"{name:22} {path:26} {connections:>5} {figures['rps']:>9,.1f} {p50:>8.2f} {p99:>8.2f} "
        f"{figures['errors']:>6} {ratios}{note}",
        flush=True,
    )
    if figures["errors"]:
        print(f"  !!! {figures['errors']} ERRORS: statuses {figures['statuses']}, {figures['failures']}", flush=True)


def measure(port: int, args: argparse.Namespace, folder: Path, releases_count: int) -> dict[str, dict[str, Any]]:
    rng = random.Random(args.seed)
    check_page(port, "/tenders?q=医院")
    check_page(port, "/tenders/1")
    searches = search_paths(rng, "/tenders")
    notices = [f"/tenders/{rng.randint(1, args.tenders)}" for _ in range(MIX_SIZE)]
    releases = [f"/ocds/releases?cursor={rng.randint(0, releases_count)}" for _ in range(MIX_SIZE)]
    print(
        f"\n{'row':22} {'path':26} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'÷ read: req/s':>7} {'p50':>7} {'p99':>7}"
    )
    results: dict[str, dict[str, Any]] = {}
    results["read"] = http_baseline.load(port, "/health", args)
    row("one-row read", "/health", args.connections, results["read"], None)
    base = results["read"]
    loads = [
        ("search", "search", searches, HTML, "/tenders?q=…", args.connections, False),
        ("notice", "notice", notices, HTML, "/tenders/{id}", args.connections, False),
        ("ocds", "OCDS pages", releases, "application/json", "/ocds/releases?cursor=…", args.connections, True),
        ("search-light", "search", searches, HTML, "/tenders?q=…", args.latency_connections, False),
        ("notice-light", "notice", notices, HTML, "/tenders/{id}", args.latency_connections, False),
    ]  # fmt: skip
    for key, name, paths, accept, shown, connections, follow in loads:
        results[key] = load_paths(port, paths, args, folder, connections=connections, accept=accept, follow_next=follow)
        row(name, shown, connections, results[key], base)
    return results


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    base = results["read"]
    print(
        f"\nOCDS feed: {results['ocds']['rps']:,.1f} pages/s of 100 releases "
        f"({results['ocds']['rps'] / (base['rps'] or float('nan')):.3f} x the one-row read's requests/s)"
    )
    print(f"\nTargets (p99 with {args.latency_connections} connections at a time)")
    for key, name, target in (
        ("search-light", "search", SEARCH_P99_TARGET_MS),
        ("notice-light", "notice", NOTICE_P99_TARGET_MS),
    ):
        p99 = results[key]["p99_ms"]
        verdict = harness.verdict(p99 is not None and p99 <= target and not results[key]["errors"])
        errors = f"   !!! {results[key]['errors']} errors" if results[key]["errors"] else ""
        print(
            f"  {name:7} p99 <= {target:.0f} ms: {p99 if p99 is not None else float('nan'):.1f} ms  {verdict}{errors}"
        )
        loaded = results[key.removesuffix("-light")]["p99_ms"]
        print(
            f"  {'':7} (at {args.connections} connections, the worker saturated: p99 {loaded or float('nan'):.1f} ms)"
        )


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenders", type=int, default=100_000, help="tenders seeded (default 100000)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per row (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of discarded load first (default 2)")
    parser.add_argument("--connections", type=int, default=64, help="connections, as the baseline (default 64)")
    parser.add_argument(
        "--latency-connections", type=int, default=4, help="connections of the latency rows (default 4)"
    )
    parser.add_argument("--seed", type=int, default=1, help="of the generated data and request mixes (default 1)")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.tenders < 1:
        parser.error("--tenders must be at least 1")


def describe(args: argparse.Namespace) -> str:
    return (
        f"Tenders pages: {args.tenders:,} tenders; granian, one worker; {args.connections} connections (latency rows "
        f"{args.latency_connections}), {args.warmup:g} s warm-up + {args.duration:g} s measured per row"
    )


def run(args: argparse.Namespace, folder: Path) -> None:
    started = time.perf_counter()
    with http_baseline.database(folder) as url:
        print(f"Seeding {args.tenders:,} tenders", flush=True)
        releases_count = seed(url, args.tenders, args.seed)
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
        env = {**os.environ, "DATABASE_URL": url}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(http_baseline.ROOT), os.environ.get("PYTHONPATH")]))
        log = folder / "granian.log"
        with http_baseline.serving("granian", "bench.apps:project_app", "/health", env, log) as port:
            results = measure(port, args, folder, releases_count)
        if log.exists() and (text := log.read_text().strip()):
            print("  !!! the server wrote to its log:\n    " + "\n    ".join(text.splitlines()[-10:]), flush=True)
    report(results, args)


if __name__ == "__main__":
    sys.exit(harness.main(__doc__, arguments, run, describe=describe, check=check, stopped="the server and PostgreSQL"))
