"""The demo data on a real PostgreSQL: a notice board with every kind of tender and an expert pool with two
committees drawn, seeded once however often asked."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import asyncpg

from bidding.accounts import service as accounts
from bidding.blobs import BlobStore
from bidding.db import Database
from bidding.demo import experts as demo_experts
from bidding.demo import seed as demo
from bidding.demo.tenders import TENDERS
from bidding.experts import draws
from bidding.experts import service as experts
from bidding.opening import reading
from bidding.settings import Settings
from bidding.tenders import model, search, validation
from bidding.tenders import reading as tenders_reading
from bidding.tenders.model import Category, Status

#: Every table the seed writes to, counted before and after seeding again.
TABLES = (
    "organisations",
    "users",
    "tenders",
    "tender_lots",
    "tender_documents",
    "tender_registrations",
    "tender_questions",
    "tender_amendments",
    "ocds_releases",
    "audit_events",
    "notifications",
    "party_keys",
    "tender_custody",
    "bids",
    "opening_lines",
    "experts",
    "expert_specialties",
    "expert_unavailable",
    "expert_conflicts",
    "expert_draws",
    "draw_contributions",
    "draw_picks",
    "expert_invitations",
    "outbox",
)


async def _counts(connection: asyncpg.Connection) -> dict[str, int]:
    return {
        table: int(await connection.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608  # fixed table names
        for table in TABLES
    }


async def test_the_demo_board_has_every_kind_of_tender_and_a_second_seed_adds_nothing(
    db: Database, connection: asyncpg.Connection, tmp_path: Path
) -> None:
    settings = Settings(database_url="postgresql://unused", secret_key="t" * 64, data_dir=tmp_path)
    table = await demo.seed(db, settings)
    assert "agent" in table and demo.DEMO_PASSWORD in table
    seeded = await _counts(connection)

    agent = await accounts.act_as(db, demo.AGENT)
    own = {summary.reference: summary for summary in await tenders_reading.list_own(db, agent)}
    assert set(own) == {spec.reference for spec in TENDERS}
    public = await search.search(db, settings, search.SearchQuery(limit=100))
    assert {item.category for item in public.items if item.status is Status.PUBLISHED} == set(Category)
    assert any(summary.status is Status.DRAFT for summary in own.values())
    assert all(item.status is not Status.DRAFT for item in public.items)
    [cancelled] = [summary for summary in own.values() if summary.status is Status.CANCELLED]
    assert (await tenders_reading.get_tender(db, agent, cancelled.id)).tender.cancel_reason
    assert any(summary.lot_count >= 2 for summary in own.values())

    views = [await tenders_reading.get_tender(db, agent, summary.id) for summary in own.values()]
    amended = [view for view in views if view.amendments]
    assert amended and any(d.version == 2 for view in amended for d in view.documents)
    assert any(q.answer for view in views for q in view.questions)
    assert any(view.registrations for view in views)
    invited = [view for view in views if view.invited]
    assert invited and all(len(view.invited) == 3 for view in invited)
    pdf = next(d for view in views for d in view.documents if d.content_type == "application/pdf")
    with BlobStore(settings.blobs).open(pdf.sha256.hex()) as file:
        assert file.read().startswith(b"%PDF-1.4")

    # A tender open for bids holds sealed bids; two others were opened, with their records read out.
    statuses = await connection.fetch(
        "SELECT t.status AS tender, b.status AS bid FROM bids b JOIN tenders t ON t.id = b.tender_id"
    )
    assert {(row["tender"], row["bid"]) for row in statuses} == {("published", "sealed"), ("opened", "opened")}
    assert await connection.fetchval("SELECT count(*) FROM opening_lines") >= 6
    assert await connection.fetchval("SELECT count(*) FROM openings WHERE record IS NOT NULL") == 2
    key_files = sorted(path.name for path in (tmp_path / "demo-keys").iterdir())
    assert key_files == [f"{login}.age" for login in sorted((*demo.BIDDERS, *demo.CUSTODIANS))]
    assert "demo-key-passphrase" in table

    await demo.seed(db, settings)
    assert await _counts(connection) == seeded


async def test_every_demo_tender_keeps_the_rules_of_a_tender_made_on_the_pages(
    db: Database, connection: asyncpg.Connection, tmp_path: Path
) -> None:
    """The demo's tenders, as stored once seeded, pass the checks the use cases make of people's tenders: the
    terms' rules, publication with the whole bidding period, a contact, questions, registrations and bids within
    their periods; and the opened tender has at least three bids in each lot, each with the lot's bid security."""
    settings = Settings(database_url="postgresql://unused", secret_key="t" * 64, data_dir=tmp_path)
    await demo.seed(db, settings)
    agent = await accounts.act_as(db, demo.AGENT)
    opened = []
    for summary in await tenders_reading.list_own(db, agent):
        view = await tenders_reading.get_tender(db, agent, summary.id)
        tender = view.tender
        rules = settings.rules_for(tender.procedure)
        validation.validate_tender(model.tender_input(tender), rules)
        if tender.published_at is None:
            continue
        assert validation.missing_contact(tender.contact) == [], tender.reference
        documents_from = model.check_publication(tender.documents_from, tender.deadline, tender.published_at, rules)
        assert documents_from == tender.documents_from, f"{tender.reference}: documents before its publication"
        assert all(document.uploaded_at <= tender.published_at for document in view.documents if document.version == 1)
        for question in view.questions:
            assert tender.published_at <= question.asked_at < tender.questions_until, tender.reference
            assert question.answered_at is None or question.answered_at < tender.deadline, tender.reference
        assert all(tender.published_at <= r.registered_at < tender.deadline for r in view.registrations)
        bids = await connection.fetch(
            "SELECT lot, organisation_id, submitted_at FROM bids WHERE tender_id = $1", tender.id
        )
        assert all(tender.published_at <= bid["submitted_at"] < tender.deadline for bid in bids), tender.reference
        if tender.status is Status.OPENED:
            opened.append(tender)
            for lot in tender.lots:
                bidders = {bid["organisation_id"] for bid in bids if bid["lot"] == lot.number}
                assert len(bidders) >= 3, f"{tender.reference}, lot {lot.number}: fewer than three bidders"
            record = await reading.published_record(db, tender.id)
            assert record is not None
            lots = {lot.number: lot for lot in tender.lots}
            for line in record.lines:
                assert line.outcome == "opened"
                assert Decimal(line.bid_security or "0") == lots[line.lot].bid_security
                assert 0 < Decimal(line.total or "0") <= lots[line.lot].budget
    assert len(opened) == 2


async def test_the_demo_pool_has_sixty_experts_one_committee_declared_and_one_awaiting_answers(
    db: Database, connection: asyncpg.Connection, tmp_path: Path
) -> None:
    """Sixty experts, some suspended, some with conflicts declared with the demo bidders, some away; the opened
    works tender's committee drawn without expert1, every seat declared, its draw replaying from the public record;
    the opened goods tender's invitations pending, their experts named in the table seeding prints."""
    settings = Settings(database_url="postgresql://unused", secret_key="t" * 64, data_dir=tmp_path)
    table = await demo.seed(db, settings)
    admin = await accounts.act_as(db, "admin")
    assert (await experts.list_experts(db, admin)).total == demo_experts.POOL_SIZE == 60
    assert (await experts.list_experts(db, admin, status="suspended")).total == len(demo_experts.SUSPENSIONS) == 3
    bidder_codes = [code for key, _, _, _, code in demo.ORGANISATIONS if key in ("huajian", "qiming", "lvyuan")]
    declared = await connection.fetchval(
        "SELECT count(DISTINCT expert_id) FROM expert_conflicts WHERE credit_code = ANY($1::text[])", bidder_codes
    )
    assert declared == len(demo_experts.CONFLICTS) == 4
    assert await connection.fetchval("SELECT count(DISTINCT expert_id) FROM expert_unavailable") == 2

    agent = await accounts.act_as(db, demo.AGENT)
    own = {summary.reference: summary.id for summary in await tenders_reading.list_own(db, agent)}
    works = await draws.committee(db, agent, own["SFJY-GC-2026-002"])
    assert works.complete and len(works.seats) == 7
    supervisor = await accounts.act_as(db, demo_experts.SUPERVISOR)
    [drawn] = (await draws.supervised(db, supervisor, own["SFJY-GC-2026-002"])).rounds
    assert drawn.replay == ""
    assert not any(candidate.name == "杨志远" for candidate in drawn.candidates), "expert1 is no works candidate"

    goods = await draws.committee(db, agent, own["SFJY-HW-2026-001"])
    assert len(goods.seats) == 7 and all(seat.status == "pending" for seat in goods.seats)
    pending = await demo_experts.pending_logins(db, own["SFJY-HW-2026-001"])
    assert len(pending) == 7 and "expert1" in pending, "a newcomer answers as expert1"
    [goods_round] = (await draws.supervised(db, supervisor, own["SFJY-HW-2026-001"])).rounds
    assert goods_round.replay == ""
    [line] = [line for line in table.splitlines() if "SFJY-HW-2026-001" in line]
    assert line.split()[1:] == [f"{login}," for login in pending[:-1]] + [pending[-1]]
