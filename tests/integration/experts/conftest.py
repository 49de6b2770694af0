"""An opened tender with bids from two of its three bidders, a pool of experts of two specialties, and the draw at
hand: the agency's request, the supervisor's contribution, and the candidates' exclusions as supervisors read them.

Tenders are drafted by the service and then moved to ``opened`` by SQL, with bid rows inserted the same way: what a
draw reads of a tender is its status, dates and parties, and every bidding organisation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from bidding.accounts import service as accounts
from bidding.db import Database
from bidding.experts import draws, repo, service
from bidding.experts.model import DrawRequest, NewExpert, ProfileInput, QuotaInput, RegionRule
from bidding.identity import Actor, Role
from bidding.tenders import drafting
from crypto import draw as drawing
from crypto import draw_record
from tests.integration.tenders import conftest as tenders
from tests.integration.tenders.conftest import Cast, new_actor

#: The people of a tender, a fixture of this folder too.
cast = tenders.cast

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A committee of five: three building-construction seats with two reserves, two cost-engineering with one.
QUOTAS = (QuotaInput("A01", 3, 2), QuotaInput("A08", 2, 1))
#: Experts of each specialty in the pool: enough for the quotas at three per seat, and some to spare.
POOL = {"A01": 14, "A08": 10}
#: Where the pool's experts live: not the purchaser's region (示范市), so the region rule spares them.
POOL_REGION = "示范市高新区"
#: The supervisor's secret in every draw of these tests.
SECRET = bytes(range(32))

_IDENTITY_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def identity_number(serial: int) -> str:
    """A valid citizen identity number (GB 11643: born 1980-01-01 in 320505, the check character computed)."""
    first17 = f"32050519800101{serial % 1000:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(first17, _IDENTITY_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def expert_name(serial: int) -> str:
    return f"评审专家{serial:03d}"


async def insert_expert(
    connection: asyncpg.Connection,
    serial: int,
    specialties: Sequence[str],
    *,
    region: str = POOL_REGION,
    employer_credit_code: str | None = None,
    status: str = "active",
) -> int:
    """An expert written straight into the pool (login ``expert-NNN``), without the service's checks: for speed."""
    user_id = await connection.fetchval(
        """INSERT INTO users (login, display_name, language, password_hash) VALUES ($1, $2, 'zh-CN', 'unused')
           RETURNING id""",
        f"expert-{serial:03d}",
        expert_name(serial),
    )
    await connection.execute("INSERT INTO user_roles (user_id, role) VALUES ($1, 'expert')", user_id)
    number = identity_number(serial)
    expert_id: int = await connection.fetchval(
        """INSERT INTO experts (user_id, identity_number_masked, title, years, employer_name, employer_credit_code,
                                region, telephone, status, suspension_reason)
           VALUES ($1, $2, '高级工程师', 15, CASE WHEN $3::text IS NULL THEN NULL ELSE '某单位' END, $3, $4,
                   '138 0000 0000', $5, CASE WHEN $5 = 'suspended' THEN '测试' END)
           RETURNING id""",
        user_id,
        number[:3] + "*" * 11 + number[14:],
        employer_credit_code,
        region,
        status,
    )
    await connection.execute(
        "INSERT INTO expert_specialties (expert_id, code) SELECT $1, unnest($2::text[])", expert_id, list(specialties)
    )
    return expert_id


async def insert_bid(connection: asyncpg.Connection, tender_id: int, organisation_id: int, user_id: int) -> None:
    """An opened bid of ``organisation_id`` in lot 1, with a key and an event of its own (placeholders)."""
    key_id = await connection.fetchval(
        """INSERT INTO party_keys (purpose, organisation_id, name, verifier_key, recipient, registered_by)
           VALUES ('bidder', $1::bigint, '投标密钥', 'verifier-' || $1::bigint, 'age1pq1test' || $1::bigint, $2)
           ON CONFLICT DO NOTHING RETURNING id""",
        organisation_id,
        user_id,
    ) or await connection.fetchval(
        "SELECT id FROM party_keys WHERE organisation_id = $1 AND retired_at IS NULL", organisation_id
    )
    event_id = await connection.fetchval(
        """INSERT INTO audit_events (actor_user_id, actor_role, action, subject)
           VALUES ($1, 'bidder', 'bid.submitted', 'tender:' || $2::bigint) RETURNING id""",
        user_id,
        tender_id,
    )
    await connection.execute(
        """INSERT INTO bids (id, tender_id, lot, slot, organisation_id, key_id, statement, statement_sha256,
                             envelope_sha256, envelope_size, submitted_by, submitted_at, event_id, status)
           VALUES (($1::bigint << 20) + $2::bigint, $1, 1, 'single', $2::bigint, $3, '\\x00',
                   sha256(convert_to($1::bigint || '/' || $2::bigint, 'UTF8')), sha256('\\x00'), 1, $4,
                   now() - interval '2 days', $5, 'opened')""",
        tender_id,
        organisation_id,
        key_id,
        user_id,
        event_id,
    )


def evaluation_moment(now: dt.datetime, days: int = 3) -> dt.datetime:
    """01:00 in Shanghai ``days`` days from now: the evening before by UTC, so a day taken in UTC is wrong."""
    day = now.astimezone(SHANGHAI).date() + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, 1, 0, tzinfo=SHANGHAI)


async def opened_tender(
    db: Database,
    connection: asyncpg.Connection,
    cast: Cast,
    evaluation_at: dt.datetime,
    *,
    purchaser_id: int | None = None,
    bidders: Sequence[int] = (0, 1),
) -> int:
    """A tender drafted by the agent, then opened (by SQL) with bids of the cast's ``bidders``."""
    values: dict[str, object] = {} if purchaser_id is None else {"purchaser_id": purchaser_id}
    tender_id = await drafting.create_draft(db, cast.settings, cast.agent, cast.tender(**values))
    await connection.execute(
        """UPDATE tenders SET status = 'opened', version = 1, published_at = now() - interval '20 days',
                  deadline = now() - interval '1 hour', evaluation_at = $2
           WHERE id = $1""",
        tender_id,
        evaluation_at,
    )
    for index in bidders:
        bidder = cast.bidders[index].principal
        assert bidder is not None and bidder.organisation_id is not None
        await insert_bid(connection, tender_id, bidder.organisation_id, bidder.user_id)
    return tender_id


@dataclasses.dataclass
class Panel:
    """A tender ready for its committee's draw, the pool, and the people who take part."""

    cast: Cast
    db: Database
    connection: asyncpg.Connection
    tender_id: int
    evaluation_at: dt.datetime
    #: The evaluation's date in the platform's time zone.
    day: dt.date
    purchaser_code: str
    agency_code: str
    #: The credit codes of the cast's three bidders; the first two bid, the third only registered.
    bidder_codes: list[str]
    #: The pool's experts by specialty.
    pool: dict[str, list[int]]
    serials: list[int]

    def next_serial(self) -> int:
        self.serials.append(self.serials[-1] + 1)
        return self.serials[-1]

    async def add_expert(
        self,
        *specialties: str,
        region: str = POOL_REGION,
        employer_credit_code: str | None = None,
        status: str = "active",
    ) -> int:
        """One more expert, by SQL."""
        return await insert_expert(
            self.connection,
            self.next_serial(),
            specialties or ("A01",),
            region=region,
            employer_credit_code=employer_credit_code,
            status=status,
        )

    async def enrol(self, *specialties: str, employer: tuple[str, str] | None = None) -> tuple[int, Actor]:
        """A person given the expert role and added to the pool by the administrator, with the service."""
        serial = self.next_serial()
        actor = await new_actor(self.db, f"enrolled-{serial:03d}", Role.EXPERT)
        assert actor.principal is not None
        profile = ProfileInput(
            title="教授级高级工程师",
            years=20,
            region=POOL_REGION,
            telephone="139 1234 5678",
            specialties=list(specialties or ("A01",)),
            identity_number=identity_number(serial),
            employer_name=employer[0] if employer else None,
            employer_credit_code=employer[1] if employer else None,
        )
        created = await service.create_expert(
            self.db, self.cast.settings, self.cast.admin, NewExpert(actor.principal.user_id, profile)
        )
        return created.id, actor

    async def expert_actor(self, expert_id: int) -> Actor:
        login = await self.connection.fetchval(
            "SELECT u.login FROM experts e JOIN users u ON u.id = e.user_id WHERE e.id = $1", expert_id
        )
        return await accounts.act_as(self.db, login)

    async def request(
        self,
        quotas: Sequence[QuotaInput] = QUOTAS,
        rule: RegionRule = RegionRule.EXCLUDE_PURCHASER_REGION,
        *,
        tender_id: int | None = None,
    ) -> int:
        """The agent's request of a draw: the new round's id."""
        return await draws.request_draw(
            self.db, self.cast.settings, self.cast.agent, tender_id or self.tender_id, DrawRequest(list(quotas), rule)
        )

    async def digest(self, draw_id: int) -> bytes:
        """The commitment digest of a round, as its ``draw.committed`` entry publishes it."""
        committed = await self.connection.fetchval("SELECT commitment FROM expert_draws WHERE id = $1", draw_id)
        return draw_record.commitment_from_json(committed).digest

    async def commit(self, draw_id: int, secret: bytes = SECRET) -> None:
        commitment = drawing.contribution_commitment(await self.digest(draw_id), draws.SUPERVISOR, secret)
        await draws.commit_contribution(self.db, self.cast.settings, self.cast.supervisor, draw_id, commitment)

    async def reveal(self, draw_id: int, secret: bytes = SECRET) -> None:
        await draws.reveal_contribution(self.db, self.cast.settings, self.cast.supervisor, draw_id, secret)

    async def drawn(self, quotas: Sequence[QuotaInput] = QUOTAS) -> int:
        """A round requested, contributed to and drawn: its members invited."""
        draw_id = await self.request(quotas)
        await self.commit(draw_id)
        await self.reveal(draw_id)
        return draw_id

    async def reasons(self, tender_id: int | None = None) -> dict[int, tuple[str, ...]]:
        """Each candidate of the tender's last round, by expert id, with the reasons it was excluded."""
        supervised = await draws.supervised(self.db, self.cast.supervisor, tender_id or self.tender_id)
        return {candidate.expert_id: candidate.reasons for candidate in supervised.rounds[-1].candidates}

    async def invitations(self) -> list[repo.Invitation]:
        async with self.db.connection() as connection:
            return await repo.select_invitations(connection, self.tender_id)

    async def answer(self, invitation: repo.Invitation, action: str, reason: str | None = None) -> None:
        actor = await self.expert_actor(invitation.expert_id)
        await draws.answer(self.db, self.cast.settings, actor, invitation.id, draws.Answer(action, reason))


async def organisation_code(connection: asyncpg.Connection, organisation_id: int) -> str:
    code: str = await connection.fetchval("SELECT credit_code FROM organisations WHERE id = $1", organisation_id)
    return code


@pytest.fixture
async def panel(db: Database, connection: asyncpg.Connection, cast: Cast) -> Panel:
    evaluation_at = evaluation_moment(cast.now)
    tender_id = await opened_tender(db, connection, cast, evaluation_at)
    agency_id = await connection.fetchval("SELECT agency_id FROM tenders WHERE id = $1", tender_id)
    bidder_codes = []
    for bidder in cast.bidders:
        assert bidder.principal is not None and bidder.principal.organisation_id is not None
        bidder_codes.append(await organisation_code(connection, bidder.principal.organisation_id))
    pool: dict[str, list[int]] = {}
    serial = 0
    for specialty, count in POOL.items():
        for _ in range(count):
            serial += 1
            pool.setdefault(specialty, []).append(await insert_expert(connection, serial, [specialty]))
    return Panel(
        cast=cast,
        db=db,
        connection=connection,
        tender_id=tender_id,
        evaluation_at=evaluation_at,
        day=evaluation_at.date(),
        purchaser_code=await organisation_code(connection, cast.purchaser_id),
        agency_code=await organisation_code(connection, agency_id),
        bidder_codes=bidder_codes,
        pool=pool,
        serials=[serial + 100],
    )
