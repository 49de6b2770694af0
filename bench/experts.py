"""The expert draw at scale: a committee drawn from a pool of 100,000 experts with 50 organisations to avoid,
beside a bare SQL count of the same filter measured in the same run.

Setup: a fresh database (embedded PostgreSQL in a temporary folder, or ``bidding_bench`` on ``DATABASE_URL``'s
server, as ``bench/http_baseline.py`` does), migrated, then loaded with COPY from a fixed random seed: the 50
organisations a committee must not be tied to (a purchaser, an agency and 48 bidders, with valid credit codes) and
``--experts`` people holding the expert role (one Argon2id hash for all: no one signs in), each an expert of 1 to
3 specialties of ``bidding/data/specialties.csv`` in a region of ``bidding/data/regions.csv``. About 5 % are
suspended (some until before the evaluation day, which no longer counts), 2 % retired, 4 % unavailable on the
evaluation day (more on other days), 2 % of those with an employer work for one of the 50, and 8 % declare
conflicts, a quarter of them with one of the 50 (some of those ended already); then ``VACUUM ANALYZE``. No tender
row is made: the parties are given to the pool's query directly (``repo.TenderParties``), and no invitation
exists yet, so the "drawn recently" and "called already" checks find nothing.

Timed, ``--runs`` times (after one run not counted), what ``bidding/experts/draws.py`` computes to commit a round
and, once the supervisor reveals, to rank it, without its writes and its log entries:

- the candidate list: ``repo.select_pool`` for quotas A01 (5 seats, 3 reserves) and A08 (2 seats, 2 reserves),
  the purchaser's region excluded, then ``model.check_pool`` and ``model.make_pool`` (every candidate labelled);
- the commitment: ``crypto.draw.commit``, the inputs document (``draw_record.inputs_to_json``), its canonical JSON
  and its digest;
- the ranking: the supervisor's secret and its commitment, the platform's one-time code, the secret checked, the
  stored inputs document read back, ``contributions_randomness``, ``seed_from``, ``crypto.draw.draw``, and the
  picks' experts found (``model.experts_by_label``).

Baseline, in turn with each run: ``SELECT count(*)`` of the experts the same filter leaves eligible (of those
specialties, not retired, no exclusion), the least the database does to answer the question. Printed: the pool,
the candidates and the eligible per quota, the median of each phase and of the whole draw, the count's median,
their ratio, and the targets: the whole draw within 1 s on this machine, and within 3 x the bare count. Missed
targets never make it fail. A run takes under a minute, most of it the loading.

Usage: ``.venv/bin/python bench/experts.py [--experts 100000] [--runs 7] [--seed 20240601]``
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import random
import secrets
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, http_baseline  # after the path is set, when run as a script
from bidding.accounts.model import credit_code_check_character
from bidding.accounts.passwords import hash_password
from bidding.experts import model, repo
from bidding.experts.model import QuotaInput
from bidding.names import load_regions
from bidding.settings import DrawRules
from crypto import draw as drawing
from crypto import draw_record
from crypto.canonical import canonical_json

#: Targets: the whole draw (candidate list, commitment, ranking) within this many seconds...
TOTAL_TARGET_SECONDS = 1.0
#: ...and within this many times the bare count of the same filter.
RATIO_TARGET = 3.0

#: A committee of seven: five building construction experts and two cost engineers, with reserves.
QUOTAS = (QuotaInput("A01", 5, 3), QuotaInput("A08", 2, 2))
#: The bidders besides the purchaser and the agency: 50 organisations to avoid in all.
BIDDERS = 48
#: Employers of the pool that are none of the parties.
OTHER_EMPLOYERS = 3000
#: The evaluation is this many days after today; the tender's purchaser is in this region.
EVALUATION_IN_DAYS = 14
PURCHASER_REGION = "示范市滨江区"
TIMEZONE = "Asia/Shanghai"
SUPERVISOR = "supervisor"
RULES = DrawRules()

#: The eligible experts of the quotas' specialties, as POOL_SQL decides it but counted: $1…$9 as there.
COUNT_SQL = """
SELECT count(*) FROM experts e
WHERE e.status <> 'retired'
  AND EXISTS (SELECT 1 FROM expert_specialties s WHERE s.expert_id = e.id AND s.code = ANY($1::text[]))
  AND NOT (e.status = 'suspended' AND (e.suspended_until IS NULL OR e.suspended_until >= $2))
  AND NOT EXISTS (SELECT 1 FROM expert_unavailable u WHERE u.expert_id = e.id AND u.day = $2)
  AND NOT coalesce(e.employer_credit_code = ANY(ARRAY[$3, $4]::text[] || $5::text[]), false)
  AND NOT EXISTS (SELECT 1 FROM expert_conflicts x
                  WHERE x.expert_id = e.id AND (x.until IS NULL OR x.until >= $2)
                    AND x.credit_code = ANY(ARRAY[$3, $4]::text[] || $5::text[]))
  AND NOT ($7::timestamptz IS NOT NULL AND EXISTS (
      SELECT 1 FROM expert_invitations i JOIN tenders t ON t.id = i.tender_id
      WHERE i.expert_id = e.id AND t.purchaser_id = $8 AND i.tender_id <> $9 AND i.created_at >= $7))
  AND NOT e.region = ANY($6::text[])
  AND NOT EXISTS (SELECT 1 FROM expert_invitations i WHERE i.expert_id = e.id AND i.tender_id = $9)
"""

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲建国志文斌宇浩凯鹏辉婷雪琳晨欣"
TITLES = ("高级工程师", "正高级工程师", "高级经济师", "高级会计师", "教授", "副教授", "研究员", "高级建筑师")
SUSPENSION_REASONS = ("评审中未按评标办法评审", "无正当理由拒不参加评审", "年度考核不合格")
RELATIONS = tuple(relation.value for relation in model.Relation)


def credit_code(serial: int) -> str:
    first17 = f"91320500MA{serial:07d}"
    return first17 + credit_code_check_character(first17)


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))


# --- The pool --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class World:
    parties: repo.TenderParties
    day: dt.date
    now: dt.datetime
    region_spellings: list[str]
    experts: Counter[str]


async def insert_parties(connection: asyncpg.Connection[asyncpg.Record]) -> repo.TenderParties:
    async def organisation(kind: str, name: str, region: str, code: str) -> repo.Party:
        organisation_id: int = await connection.fetchval(
            "INSERT INTO organisations (kind, name, region, credit_code) VALUES ($1, $2, $3, $4) RETURNING id",
            kind,
            name,
            region,
            code,
        )
        return repo.Party(organisation_id, name, None, code, region)

    purchaser = await organisation("purchaser", "示范市滨江区教育局", PURCHASER_REGION, credit_code(1))
    agency = await organisation("agency", "示范市明诚招标代理有限公司", "示范市", credit_code(2))
    bidders = [
        await organisation("bidder", f"示范市第{n}建设工程有限公司", "示范市", credit_code(2 + n))
        for n in range(1, BIDDERS + 1)
    ]
    return repo.TenderParties(purchaser, agency, tuple(bidders))


async def load_pool(url: str, count: int, seed: int) -> World:
    """Load the parties and the pool with COPY, printing what was loaded; returns what a draw is asked with."""
    rng = random.Random(seed)
    specialties = [entry.code for entry in model.load_specialties(None) if entry.parent is not None]
    regions = load_regions(None)
    region_names = [region.zh for region in regions]
    listed = regions.find(PURCHASER_REGION)
    assert listed is not None
    party_codes = [credit_code(n) for n in range(1, 3 + BIDDERS)]
    other_codes = [credit_code(n) for n in range(1000, 1000 + OTHER_EMPLOYERS)]
    password_hash = hash_password(secrets.token_urlsafe(32))
    connection = await asyncpg.connect(url)
    try:
        now: dt.datetime = await connection.fetchval("SELECT now()")
        day = (now.astimezone(ZoneInfo(TIMEZONE)) + dt.timedelta(days=EVALUATION_IN_DAYS)).date()
        started = time.perf_counter()
        async with connection.transaction():
            parties = await insert_parties(connection)
            logins = [f"expert{n:06d}" for n in range(count)]
            await connection.copy_records_to_table(
                "users",
                columns=("login", "display_name", "language", "password_hash"),
                records=((login, person_name(rng), "zh-CN", password_hash) for login in logins),
            )
            users = await connection.fetch("SELECT login, id FROM users WHERE login LIKE 'expert%'")
            user_ids: dict[str, int] = {row["login"]: row["id"] for row in users}
            await connection.copy_records_to_table(
                "user_roles", columns=("user_id", "role"), records=((user_ids[login], "expert") for login in logins)
            )
            statuses: Counter[str] = Counter()
            rows = []
            for login in logins:
                status, until, reason = "active", None, None
                if (draw := rng.random()) < 0.05:
                    status, reason = "suspended", rng.choice(SUSPENSION_REASONS)
                    if (kind := rng.random()) < 0.2:
                        until = day - dt.timedelta(days=rng.randint(1, 10))  # lifted by the evaluation day
                    elif kind < 0.4:
                        until = day + dt.timedelta(days=rng.randint(1, 365))
                elif draw < 0.07:
                    status = "retired"
                statuses[status] = statuses[status] + 1
                employer = None
                if rng.random() < 0.8:
                    employer = rng.choice(party_codes) if rng.random() < 0.02 else rng.choice(other_codes)
                rows.append(
                    (
                        user_ids[login],
                        f"{rng.randint(110, 659)}{'*' * 11}{rng.randint(0, 999):03d}{rng.choice('0123456789X')}",
                        rng.choice(TITLES),
                        rng.randint(3, 40),
                        f"单位{employer[10:17]}" if employer else None,
                        employer,
                        rng.choice(region_names),
                        f"13{rng.randint(0, 999_999_999):09d}",
                        f"{login}@example.cn" if rng.random() < 0.7 else None,
                        status,
                        until,
                        reason,
                    )
                )
            await connection.copy_records_to_table(
                "experts",
                columns=(
                    "user_id",
                    "identity_number_masked",
                    "title",
                    "years",
                    "employer_name",
                    "employer_credit_code",
                    "region",
                    "telephone",
                    "email",
                    "status",
                    "suspended_until",
                    "suspension_reason",
                ),
                records=rows,
            )
            expert_ids = [row["id"] for row in await connection.fetch("SELECT id FROM experts ORDER BY id")]
            held = [
                (expert_id, code) for expert_id in expert_ids for code in rng.sample(specialties, rng.randint(1, 3))
            ]
            await connection.copy_records_to_table("expert_specialties", columns=("expert_id", "code"), records=held)
            days: list[tuple[int, dt.date]] = []
            conflicts: list[tuple[int, str, str, str, dt.date | None]] = []
            for expert_id in expert_ids:
                off = {day} if rng.random() < 0.04 else set()
                if rng.random() < 0.15:
                    off.update(day + dt.timedelta(days=rng.randint(-60, 120)) for _ in range(rng.randint(1, 5)))
                days.extend((expert_id, off_day) for off_day in sorted(off))
                if rng.random() < 0.08:
                    declared: set[tuple[str, str]] = set()
                    for _ in range(rng.randint(1, 3)):
                        code = rng.choice(party_codes) if rng.random() < 0.25 else rng.choice(other_codes)
                        relation = rng.choice(RELATIONS)
                        if (code, relation) in declared:
                            continue
                        declared.add((code, relation))
                        ends = None
                        if relation == model.Relation.FORMER_EMPLOYER:
                            ends = day + dt.timedelta(days=rng.randint(-365, 3 * 365))  # some ended already
                        conflicts.append((expert_id, code, f"单位{code[10:17]}", relation, ends))
            await connection.copy_records_to_table("expert_unavailable", columns=("expert_id", "day"), records=days)
            await connection.copy_records_to_table(
                "expert_conflicts", columns=("expert_id", "credit_code", "name", "relation", "until"), records=conflicts
            )
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        print(
            f"Loaded in {loaded:.1f} s (VACUUM ANALYZE {time.perf_counter() - started:.1f} s): 50 organisations to "
            f"avoid (a purchaser in {PURCHASER_REGION}, an agency, {BIDDERS} bidders); {count:,} experts "
            f"({', '.join(f'{n:,} {status}' for status, n in statuses.most_common())}) holding {len(held):,} "
            f"specialties of {len(specialties)}, {len(days):,} unavailable days, {len(conflicts):,} conflicts "
            f"declared; {OTHER_EMPLOYERS:,} other employers; seed {seed}",
            flush=True,
        )
    finally:
        await connection.close()
    spellings = sorted({PURCHASER_REGION, listed.code, listed.zh, listed.en})
    return World(parties, day, now, spellings, statuses)


# --- The draw and its baseline ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DrawRun:
    query: float
    candidate_list: float
    commitment: float
    ranking: float
    entries: list[model.PoolEntry]
    eligible: dict[str, int]
    members: int

    @property
    def total(self) -> float:
        return self.candidate_list + self.commitment + self.ranking


async def draw_once(connection: asyncpg.Connection[asyncpg.Record], world: World) -> DrawRun:
    """One draw as the round's commitment and the supervisor's reveal compute it, without their writes."""
    started = time.perf_counter()
    entries = await repo.select_pool(
        connection,
        specialties=[quota.specialty for quota in QUOTAS],
        day=world.day,
        parties=world.parties,
        region_spellings=world.region_spellings,
        recent_since=world.now - dt.timedelta(days=RULES.recent_draw_days),
        tender_id=1,
    )
    queried = time.perf_counter()
    ordered, errors = model.check_pool(entries, QUOTAS, RULES.candidates_per_seat)
    assert not errors, errors
    label_key = secrets.token_bytes(32)
    context = (
        f"tender BENCH-1: main draw of {sum(q.seats for q in ordered)} experts for the evaluation of"
        f" {world.day.isoformat()}, round 1"
    )
    with model.collector_paused():
        pool = model.make_pool(context, entries, ordered, label_key)
    listed = time.perf_counter()

    with model.collector_paused():
        secret, commitment = drawing.commit(pool.inputs)
        document = draw_record.inputs_to_json(pool.inputs)
        inputs_bytes = canonical_json(document)
        candidate_ids = [pool.experts[item["label"]] for item in document["candidates"]]
    hashlib.sha256(inputs_bytes).hexdigest()
    committed = draw_record.commitment_to_json(commitment)
    commit_ended = time.perf_counter()

    # The supervisor commits to a secret, the platform reveals its code, the supervisor reveals the secret.
    supervisor_secret = secrets.token_bytes(drawing.SECRET_SIZE)
    contribution = drawing.contribution_commitment(commitment.digest, SUPERVISOR, supervisor_secret)
    code = drawing.one_time_code(secret, draw_record.commitment_from_json(committed))
    stored = draw_record.commitment_from_json(committed)
    drawing.check_contribution(stored.digest, SUPERVISOR, supervisor_secret, contribution)
    with model.collector_paused():
        inputs = draw_record.inputs_from_json(json.loads(inputs_bytes))
    key = drawing.seed_from(stored, code, drawing.contributions_randomness([(SUPERVISOR, supervisor_secret)]))
    with model.collector_paused():
        result = drawing.draw(inputs, key)
    draw_record.groups_to_json(result)
    experts = model.experts_by_label(label_key, inputs, candidate_ids, result)
    members = [experts[name] for group in result.groups for name in group.members]
    ended = time.perf_counter()
    return DrawRun(
        queried - started,
        listed - started,
        commit_ended - listed,
        ended - commit_ended,
        entries,
        dict(pool.eligible),
        len(members),
    )


async def count_once(connection: asyncpg.Connection[asyncpg.Record], world: World) -> tuple[float, int]:
    parties = world.parties
    started = time.perf_counter()
    count: int = await connection.fetchval(
        COUNT_SQL,
        [quota.specialty for quota in QUOTAS],
        world.day,
        parties.purchaser.credit_code,
        parties.agency.credit_code,
        [bidder.credit_code for bidder in parties.bidders if bidder.credit_code],
        world.region_spellings,
        world.now - dt.timedelta(days=RULES.recent_draw_days),
        parties.purchaser.id,
        1,
    )
    return time.perf_counter() - started, count


async def measure_draws(url: str, world: World, runs: int) -> tuple[list[DrawRun], list[float], int]:
    """One run of each not counted, then ``runs`` of each, taking turns (the order alternating)."""
    connection = await asyncpg.connect(url)
    try:
        await draw_once(connection, world)
        await count_once(connection, world)
        draws: list[DrawRun] = []
        counts: list[float] = []
        count = 0
        for run in range(runs):
            if run % 2:
                draws.append(await draw_once(connection, world))
            seconds, count = await count_once(connection, world)
            counts.append(seconds)
            if not run % 2:
                draws.append(await draw_once(connection, world))
    finally:
        await connection.close()
    return draws, counts, count


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def report(world: World, draws: Sequence[DrawRun], counts: Sequence[float], count: int, experts: int) -> None:
    last = draws[-1]
    reasons = Counter(reason for entry in last.entries for reason in entry.reasons)
    excluded = sum(1 for entry in last.entries if entry.reasons)
    held = Counter(group for entry in last.entries for group in entry.groups)
    eligible_experts = len(last.entries) - excluded
    print(
        f"\nPool {experts:,} experts, {experts - world.experts['retired']:,} not retired; quotas "
        + ", ".join(f"{q.specialty} {q.seats} seats + {q.reserves} reserves" for q in QUOTAS)
        + f"; evaluation day {world.day.isoformat()}, the purchaser's region excluded"
        f"\n  candidates: {len(last.entries):,} ("
        + ", ".join(f"{code} {n:,}" for code, n in sorted(held.items()))
        + f"), {excluded:,} excluded: "
        + ", ".join(f"{reason} {n:,}" for reason, n in reasons.most_common())
        + "\n  eligible per quota: "
        + ", ".join(f"{q.specialty} {last.eligible.get(q.specialty, 0):,}" for q in QUOTAS)
        + f"; {eligible_experts:,} eligible experts, {last.members} members drawn"
        f"\n  bare count of the same filter: {count:,} "
        + (
            "(the same)" if count == eligible_experts else f"!!! differs from the candidate list's {eligible_experts:,}"
        ),
        flush=True,
    )
    total = statistics.median(run.total for run in draws)
    baseline = statistics.median(counts)
    print(f"\nMedians of {len(draws)} runs")
    rows = (
        ("candidate list", [run.candidate_list for run in draws]),
        ("  of it, select_pool", [run.query for run in draws]),
        ("commitment", [run.commitment for run in draws]),
        ("ranking", [run.ranking for run in draws]),
    )
    for name, values in rows:
        median = statistics.median(values)
        print(f"  {name:<22}{ms(median)}  {harness.ratio(median, baseline)} to the count", flush=True)
    print(f"  {'draw, total':<22}{ms(total)}  {harness.ratio(total, baseline)} to the count", flush=True)
    print(
        f"  {'bare count':<22}{ms(baseline)}  (runs: " + ", ".join(f"{value * 1000:.1f}" for value in counts) + " ms)",
        flush=True,
    )
    print(
        "\nTargets"
        f"\n  draw <= {TOTAL_TARGET_SECONDS:g} s: {total:.3f} s  {harness.verdict(total <= TOTAL_TARGET_SECONDS)}"
        f"\n  draw <= {RATIO_TARGET:g} x the bare count: {total / baseline:.2f} x  "
        f"{harness.verdict(total <= RATIO_TARGET * baseline)}",
        flush=True,
    )


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--experts", type=int, default=100_000, help="experts in the pool (100,000)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of the draw and of the count (7)")
    parser.add_argument("--seed", type=int, default=20240601, help="the random seed of the pool (20240601)")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.experts < 1000 or args.runs < 1:
        parser.error("--experts: at least 1,000; --runs: at least 1")


def describe(args: argparse.Namespace) -> str:
    return f"Experts: a draw over {args.experts:,} experts with 50 organisations to avoid, {args.runs} runs"


def measure(args: argparse.Namespace, folder: Path) -> None:
    with http_baseline.database(folder) as url:
        world = uvloop.run(load_pool(url, args.experts, args.seed))
        draws, counts, count = uvloop.run(measure_draws(url, world, args.runs))
    report(world, draws, counts, count, args.experts)


if __name__ == "__main__":
    sys.exit(harness.main(__doc__, arguments, measure, describe=describe, check=check, stopped="PostgreSQL"))
