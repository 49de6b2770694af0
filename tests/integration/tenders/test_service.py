"""Tenders on a real PostgreSQL: drafting, publication, documents, registration, questions, amendments, search."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import asyncpg
import msgspec
import pytest

from bidding.accounts import service as accounts
from bidding.db import Database
from bidding.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound, TooLarge
from bidding.identity import Actor, Role
from bidding.notifications import service as notifications
from bidding.settings import TimeRules
from bidding.tenders import documents, drafting, model, questions, reading, search
from bidding.tenders.model import Category, LocalText, LotInput, Method, Procedure, Status
from tests.integration.tenders.conftest import Cast, chunks_of, new_actor, publish, published_tender, run_ceremony
from tests.samples import scoring_criteria


async def _count(connection: asyncpg.Connection, table: str) -> int:
    return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608  # fixed table names


async def _events(connection: asyncpg.Connection, action: str) -> list[dict[str, object]]:
    rows = await connection.fetch("SELECT * FROM audit_events WHERE action = $1 ORDER BY id", action)
    return [dict(row) for row in rows]


async def _age(connection: asyncpg.Connection, tender_id: int, **moments: dt.timedelta) -> None:
    """Move a tender's times relative to now (the tests' clock stands still inside their transaction)."""
    for column, offset in moments.items():
        assert column in ("documents_from", "questions_until", "deadline")
        await connection.execute(f"UPDATE tenders SET {column} = now() + $2 WHERE id = $1", tender_id, offset)  # noqa: S608


# --- Drafting ---------------------------------------------------------------------------------------------------


async def test_a_draft_gets_a_reference_and_is_seen_only_by_its_people(
    db: Database, connection: asyncpg.Connection, cast: Cast
) -> None:
    tender_id = await drafting.create_draft(db, cast.settings, cast.agent, cast.tender())
    view = await reading.get_tender(db, cast.agent, tender_id)
    assert view.tender.reference.startswith(f"GC-{cast.now.astimezone(dt.timezone(dt.timedelta(hours=8))).year}-")
    assert view.status is Status.DRAFT and view.access.edit and view.access.publish
    assert view.tender.budget == 12500000 + 3800000.5
    for insider in (cast.purchaser_staff, cast.supervisor):
        assert (await reading.get_tender(db, insider, tender_id)).access.internals
    for outsider in (cast.other_agent, cast.bidders[0], cast.expert, cast.admin):
        with pytest.raises(NotFound):
            await reading.get_tender(db, outsider, tender_id)
    [drafted] = await _events(connection, "tender.drafted")
    assert drafted["subject"] == f"tender:{tender_id}" and len(drafted["details"]["after"]) == 64


async def test_someone_not_signed_in_sees_only_what_is_public(db: Database, cast: Cast) -> None:
    nobody = Actor(None, request_id="r1", client_ip="192.0.2.9")
    draft = await drafting.create_draft(db, cast.settings, cast.agent, cast.tender())
    with pytest.raises(NotFound):
        await reading.get_tender(db, nobody, draft)
    published = await published_tender(db, cast, reference="ZB-2026-PUB")
    await questions.register(db, cast.bidders[0], published)
    view = await reading.get_tender(db, nobody, published)
    assert not view.access.internals and view.registrations == [] and view.custodians == []
    assert not (view.access.download or view.access.register or view.access.ask or view.access.amend)
    with pytest.raises(Forbidden):
        await documents.open_document(db, nobody, published, view.documents[0].id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lots": []}, "lots"),
        ({"lots": [LotInput(1, LocalText("土建"), "", "0", Method.LOWEST_PRICE)]}, "lots.0.budget"),
        ({"lots": [LotInput(1, LocalText("土建"), "100.001", "0", Method.LOWEST_PRICE)]}, "lots.0.budget"),
        ({"lots": [LotInput(1, LocalText("土建"), "100", "5", Method.LOWEST_PRICE)]}, "lots.0.bid_security"),
        (
            {"lots": [LotInput(1, LocalText("土建"), "100", "0", Method.COMPREHENSIVE, scoring_criteria()[:2])]},
            "lots.0.criteria",
        ),
        ({"title": LocalText()}, "title"),
        ({"committee_size": 4}, "committee_size"),
        ({"custodian_ids": []}, "custodian_ids"),
    ],
)
async def test_invalid_drafts_are_refused_and_nothing_is_saved(
    db: Database, connection: asyncpg.Connection, cast: Cast, change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await drafting.create_draft(db, cast.settings, cast.agent, cast.tender(**change))
    assert field in raised.value.errors
    assert await _count(connection, "tenders") == 0
    assert await _count(connection, "audit_events WHERE action LIKE 'tender.%'") == 0


async def test_a_deadline_in_the_past_is_refused(db: Database, connection: asyncpg.Connection, cast: Cast) -> None:
    tender = cast.tender()
    past = msgspec.structs.replace(
        tender,
        documents_from=tender.documents_from - dt.timedelta(days=60),
        questions_until=tender.documents_from - dt.timedelta(days=40),
        deadline=tender.documents_from - dt.timedelta(days=30),
        evaluation_at=tender.documents_from - dt.timedelta(days=29),
    )
    with pytest.raises(InvalidInput) as raised:
        await drafting.create_draft(db, cast.settings, cast.agent, past)
    assert "deadline" in raised.value.errors
    assert await _count(connection, "tenders") == 0


async def test_parties_must_exist_and_be_of_the_right_kind(db: Database, cast: Cast) -> None:
    with pytest.raises(InvalidInput) as raised:
        await drafting.create_draft(
            db,
            cast.settings,
            cast.agent,
            cast.tender(purchaser_id=cast.bidder_ids[0], custodian_ids=[cast.custodian_ids[0], 999999]),
        )
    assert set(raised.value.errors) == {"purchaser_id", "custodian_ids"}
    invited = cast.tender(procedure=Procedure.INVITED, invited_ids=[cast.purchaser_id, *cast.bidder_ids[:2]])
    with pytest.raises(InvalidInput) as raised:
        await drafting.create_draft(db, cast.settings, cast.agent, invited)
    assert set(raised.value.errors) == {"invited_ids"}


async def test_only_agency_staff_draft_and_a_purchaser_drafts_for_itself(db: Database, cast: Cast) -> None:
    for outsider in (cast.bidders[0], cast.supervisor, cast.admin, cast.expert):
        with pytest.raises(Forbidden):
            await drafting.create_draft(db, cast.settings, outsider, cast.tender())
    own = await drafting.create_draft(db, cast.settings, cast.purchaser_staff, cast.tender())
    view = await reading.get_tender(db, cast.purchaser_staff, own)
    assert view.tender.agency.id == view.tender.purchaser.id == cast.purchaser_id
    choices = await drafting.draft_choices(db, cast.purchaser_staff)
    assert [p.id for p in choices.purchasers] == [cast.purchaser_id] and choices.own_purchaser == cast.purchaser_id
    assert {b.id for b in (await drafting.draft_choices(db, cast.agent)).bidders} == set(cast.bidder_ids)


async def test_a_taken_reference_is_refused(db: Database, cast: Cast) -> None:
    await drafting.create_draft(db, cast.settings, cast.agent, cast.tender(reference="ZB-2026-001"))
    with pytest.raises(Conflict):
        await drafting.create_draft(db, cast.settings, cast.agent, cast.tender(reference="ZB-2026-001"))


async def test_an_agency_cannot_touch_another_agencys_tender(
    db: Database, connection: asyncpg.Connection, cast: Cast
) -> None:
    tender_id = await drafting.create_draft(db, cast.settings, cast.agent, cast.tender())
    with pytest.raises(NotFound):
        await drafting.update_draft(db, cast.settings, cast.other_agent, tender_id, cast.tender(region="别处"))
    with pytest.raises(Forbidden):
        # The purchaser sees the draft but does not run it.
        await drafting.update_draft(db, cast.settings, cast.purchaser_staff, tender_id, cast.tender(region="别处"))
    await documents.upload_document(
        db, cast.settings, cast.blobs, cast.agent, tender_id, filename="a.pdf", chunks=chunks_of(b"%PDF")
    )
    await publish(db, cast, tender_id)
    with pytest.raises(Forbidden):
        await drafting.cancel(db, cast.settings, cast.other_agent, tender_id, "不是我的")
    with pytest.raises(Forbidden):
        await drafting.amend(
            db, cast.settings, cast.other_agent, tender_id, cast.tender(), summary="x", substantive=False
        )
    assert (await reading.get_tender(db, cast.agent, tender_id)).tender.region == "示范市"


async def test_a_draft_is_edited_until_published(db: Database, connection: asyncpg.Connection, cast: Cast) -> None:
    tender_id = await drafting.create_draft(db, cast.settings, cast.agent, cast.tender())
    await drafting.update_draft(db, cast.settings, cast.agent, tender_id, cast.tender(region="示范市高新区"))
    assert (await reading.get_tender(db, cast.agent, tender_id)).tender.region == "示范市高新区"
    [updated] = await _events(connection, "tender.draft_updated")
    details = updated["details"]
    assert details["before"] != details["after"]
    await documents.upload_document(
        db, cast.settings, cast.blobs, cast.agent, tender_id, filename="a.pdf", chunks=chunks_of(b"%PDF")
    )
    await publish(db, cast, tender_id)
    with pytest.raises(InvalidTransition):
        await drafting.update_draft(db, cast.settings, cast.agent, tender_id, cast.tender())


# --- Publication --------------------------------------------------------------------------------------------------


async def test_publishing_needs_documents_and_the_legal_period(
    db: Database, connection: asyncpg.Connection, cast: Cast
) -> None:
    tender_id = await drafting.create_draft(db, cast.settings, cast.agent, cast.tender())
    with pytest.raises(InvalidTransition, match="documents"):
        await drafting.publish(db, cast.settings, cast.agent, tender_id)
    await documents.upload_document(
        db, cast.settings, cast.blobs, cast.agent, tender_id, filename="招标文件.pdf", chunks=chunks_of(b"%PDF")
    )
    # Documents meant for a past moment are available from publication; the period counts from now.
    await connection.execute("UPDATE tenders SET deadline = now() + interval '19 days' WHERE id = $1", tender_id)
    with pytest.raises(InvalidTransition, match="less than"):
        await drafting.publish(db, cast.settings, cast.agent, tender_id)
    await connection.execute("UPDATE tenders SET deadline = now() + interval '21 days' WHERE id = $1", tender_id)
    with pytest.raises(InvalidTransition, match="custody ceremony"):
        await drafting.publish(db, cast.settings, cast.agent, tender_id)
    await run_ceremony(db, cast, tender_id)
    # A draft's custodians changed after its ceremony: the ceremony is run again.
    custodians = cast.custodian_ids[:2]
    await drafting.update_draft(
        db, cast.settings, cast.agent, tender_id, cast.tender(custodian_ids=custodians, days=21)
    )
    with pytest.raises(InvalidTransition, match="run it again"):
        await drafting.publish(db, cast.settings, cast.agent, tender_id)
    await run_ceremony(db, cast, tender_id)
    await drafting.publish(db, cast.settings, cast.agent, tender_id)
    view = await reading.get_tender(db, cast.bidders[0], tender_id)
    assert view.status is Status.PUBLISHED and view.tender.version == 1 and view.access.register
    with pytest.raises(InvalidTransition):
        await drafting.publish(db, cast.settings, cast.agent, tender_id)
    [published] = await _events(connection, "tender.published")
    assert published["details"]["release"].endswith("-v1")
    assert await connection.fetchval("SELECT tags FROM ocds_releases WHERE tender_id = $1", tender_id) == ["tender"]


async def test_the_time_rules_are_settings(db: Database, cast: Cast) -> None:
    relaxed = dataclasses.replace(cast.settings, time_rules={"open": TimeRules(bidding_days=5)})
    with pytest.raises(InvalidInput) as raised:
        await drafting.create_draft(db, cast.settings, cast.agent, cast.tender(days=12))
    assert "deadline" in raised.value.errors
    tender_id = await drafting.create_draft(db, relaxed, cast.agent, cast.tender(days=12))
    await documents.upload_document(
        db, relaxed, cast.blobs, cast.agent, tender_id, filename="a.pdf", chunks=chunks_of(b"x")
    )
    await publish(db, cast, tender_id, relaxed)


# --- Documents --------------------------------------------------------------------------------------------------


async def test_documents_are_versioned_and_downloads_recorded(
    db: Database, connection: asyncpg.Connection, cast: Cast
) -> None:
    tender_id = await published_tender(db, cast)
    bidder = cast.bidders[0]
    first = (await reading.get_tender(db, bidder, tender_id)).documents[0]
    assert first.name == "招标文件.pdf" and first.version == 1 and first.content_type == "application/pdf"
    with pytest.raises(Forbidden, match="Register"):
        await documents.open_document(db, bidder, tender_id, first.id)
    await questions.register(db, bidder, tender_id)
    opened = await documents.open_document(db, bidder, tender_id, first.id)
    assert opened.sha256 == hashlib.sha256(b"%PDF-1.7 v1").digest()
    row = await connection.fetchrow("SELECT * FROM document_downloads")
    assert row["document_id"] == first.id and row["organisation_id"] == cast.bidder_ids[0]
    # A new version on a published tender is an amendment; the old version stays readable.
    second = await documents.upload_document(
        db,
        cast.settings,
        cast.blobs,
        cast.agent,
        tender_id,
        filename="C:\\文件\\招标文件.pdf",
        chunks=chunks_of(b"%PDF-1.7 v2"),
        declared_sha256=hashlib.sha256(b"%PDF-1.7 v2").digest(),
        summary="更正工程量清单",
    )
    assert second.name == "招标文件.pdf" and second.version == 2
    view = await reading.get_tender(db, bidder, tender_id)
    assert [(d.version, d.current) for d in view.documents] == [(2, True), (1, False)]
    assert view.amendments[-1].changes == {
        "documents.招标文件.pdf": {"before": first.sha256.hex(), "after": second.sha256.hex()}
    }
    assert (await documents.open_document(db, bidder, tender_id, first.id)).version == 1
    assert cast.blobs.exists(first.sha256.hex()) and cast.blobs.exists(second.sha256.hex())


async def test_bad_documents_are_refused_and_nothing_is_stored(
    db: Database, connection: asyncpg.Connection, cast: Cast
) -> None:
    tender_id = await drafting.create_draft(db, cast.settings, cast.agent, cast.tender())
    settings = dataclasses.replace(cast.settings, max_document_size=10)
    with pytest.raises(TooLarge):
        await documents.upload_document(
            db, settings, cast.blobs, cast.agent, tender_id, filename="big.pdf", chunks=chunks_of(b"x" * 11)
        )
    with pytest.raises(InvalidInput) as raised:
        await documents.upload_document(
            db,
            cast.settings,
            cast.blobs,
            cast.agent,
            tender_id,
            filename="a.pdf",
            chunks=chunks_of(b"tampered"),
            declared_sha256=hashlib.sha256(b"original").digest(),
        )
    assert "file" in raised.value.errors
    for name in ("virus.exe", ".pdf", ""):
        with pytest.raises(InvalidInput):
            await documents.upload_document(
                db, cast.settings, cast.blobs, cast.agent, tender_id, filename=name, chunks=chunks_of(b"x")
            )
    with pytest.raises(Forbidden):
        await documents.upload_document(
            db, cast.settings, cast.blobs, cast.purchaser_staff, tender_id, filename="a.pdf", chunks=chunks_of(b"x")
        )
    assert await _count(connection, "tender_documents") == 0
    assert not [path for path in cast.blobs.folder.rglob("*") if path.is_file()]


# --- Registration and questions -----------------------------------------------------------------------------------


async def test_questions_are_answered_in_public_under_pseudonyms(
    db: Database, connection: asyncpg.Connection, cast: Cast
) -> None:
    tender_id = await published_tender(db, cast)
    first, second, third = cast.bidders
    with pytest.raises(InvalidTransition, match="Register"):
        await questions.ask(db, first, tender_id, "工期可以延长吗？")
    for bidder in (first, second):
        assert await questions.register(db, bidder, tender_id)
    assert not await questions.register(db, first, tender_id)
    a1 = await questions.ask(db, first, tender_id, "工期可以延长吗？")
    b1 = await questions.ask(db, second, tender_id, "是否接受联合体投标？")
    a2 = await questions.ask(db, first, tender_id, "  保证金可以用电子保函吗？ ")
    assert (a1.pseudonym, b1.pseudonym, a2.pseudonym) == ("A", "B", "A")
    assert a2.question == "保证金可以用电子保函吗？"
    # Unanswered questions are seen by their askers and the agency, not by other bidders or the public.
    assert [q.id for q in (await reading.get_tender(db, second, tender_id)).questions] == [b1.id]
    assert (await reading.get_tender(db, third, tender_id)).questions == []
    agency_view = await reading.get_tender(db, cast.agent, tender_id)
    assert len(agency_view.questions) == 3 and all(q.organisation_id is None for q in agency_view.questions)
    assert {q.organisation_id for q in (await reading.get_tender(db, cast.supervisor, tender_id)).questions} == set(
        cast.bidder_ids[:2]
    )
    await questions.answer(db, cast.agent, tender_id, a1.id, "工期不可延长。")
    with pytest.raises(InvalidTransition):
        await questions.answer(db, cast.agent, tender_id, a1.id, "再答一次")
    with pytest.raises(Forbidden):
        await questions.answer(db, cast.other_agent, tender_id, b1.id, "不是我的")
    public = await reading.get_tender(db, cast.expert, tender_id)
    assert [(q.pseudonym, q.answer) for q in public.questions] == [("A", "工期不可延长。")]
    assert public.questions[0].organisation_id is None
    kinds = await connection.fetch(
        """SELECT u.organisation_id, n.kind FROM notifications AS n JOIN users AS u ON u.id = n.user_id
           ORDER BY u.organisation_id"""
    )
    assert [(r["organisation_id"], r["kind"]) for r in kinds] == [(i, "tender.answered") for i in cast.bidder_ids[:2]]
    events = await _events(connection, "tender.question_asked")
    assert all("question" not in e["details"] for e in events)


async def test_questions_close_at_the_cutoff_and_registration_at_the_deadline(
    db: Database, connection: asyncpg.Connection, cast: Cast
) -> None:
    tender_id = await published_tender(db, cast)
    await questions.register(db, cast.bidders[0], tender_id)
    await _age(connection, tender_id, questions_until=dt.timedelta(seconds=-1))
    with pytest.raises(InvalidTransition, match="cutoff"):
        await questions.ask(db, cast.bidders[0], tender_id, "还能问吗？")
    await _age(connection, tender_id, deadline=dt.timedelta(seconds=-1), questions_until=dt.timedelta(days=-1))
    with pytest.raises(InvalidTransition):
        await questions.register(db, cast.bidders[1], tender_id)
    view = await reading.get_tender(db, cast.bidders[1], tender_id)
    assert view.status is Status.CLOSED and not view.access.register and view.access.register_refusal is not None
    with pytest.raises(InvalidTransition):
        await questions.ask(db, cast.bidders[0], tender_id, "")


async def test_only_invited_bidders_register_for_an_invited_tender(db: Database, cast: Cast) -> None:
    tender_id = await published_tender(db, cast, procedure=Procedure.INVITED, invited_ids=cast.bidder_ids)
    tender_id_other = await published_tender(
        db, cast, procedure=Procedure.INVITED, invited_ids=cast.bidder_ids, reference="YQ-2026-002"
    )
    assert await questions.register(db, cast.bidders[0], tender_id)
    assert tender_id_other
    # Invited organisations were notified at publication.
    notices = await notifications.inbox(db, cast.bidders[2])
    assert {n.kind for n in notices} == {"tender.invited"}


async def test_each_person_of_an_organisation_reads_their_own_notifications(db: Database, cast: Cast) -> None:
    organisation = await accounts.get_organisation(db, cast.admin, cast.bidder_ids[0])
    colleague = await new_actor(db, "colleague", Role.BIDDER, organisation)
    tender_id = await published_tender(db, cast)
    await questions.register(db, cast.bidders[0], tender_id)
    await drafting.cancel(db, cast.settings, cast.agent, tender_id, "预算取消")
    [seen] = await notifications.inbox(db, cast.bidders[0], mark_read=True)
    assert seen.kind == "tender.cancelled" and seen.read_at is None
    assert (await notifications.inbox(db, cast.bidders[0]))[0].read_at is not None
    [unseen] = await notifications.inbox(db, colleague)
    assert unseen.kind == "tender.cancelled" and unseen.read_at is None
    assert await notifications.inbox(db, cast.expert) == []


async def test_registrations_are_seen_by_the_agency_and_supervisors_only(db: Database, cast: Cast) -> None:
    tender_id = await published_tender(db, cast)
    await questions.register(db, cast.bidders[0], tender_id)
    assert [r.organisation_id for r in (await reading.get_tender(db, cast.agent, tender_id)).registrations] == [
        cast.bidder_ids[0]
    ]
    assert len((await reading.get_tender(db, cast.supervisor, tender_id)).registrations) == 1
    for outsider in (cast.bidders[0], cast.bidders[1], cast.other_agent, cast.expert):
        assert (await reading.get_tender(db, outsider, tender_id)).registrations == []


# --- Amendments and cancellation ----------------------------------------------------------------------------------


async def test_a_late_substantive_amendment_pushes_the_deadline_out(
    db: Database, connection: asyncpg.Connection, cast: Cast
) -> None:
    tender_id = await published_tender(db, cast)
    await questions.register(db, cast.bidders[0], tender_id)
    await _age(
        connection,
        tender_id,
        documents_from=dt.timedelta(days=-25),
        questions_until=dt.timedelta(days=5),
        deadline=dt.timedelta(days=10),
    )
    stored = (await reading.get_tender(db, cast.agent, tender_id)).tender
    amended_input = model.tender_input(stored)
    lots = list(amended_input.lots)
    lots[0] = msgspec.structs.replace(lots[0], budget="13000000")
    amendment = await drafting.amend(
        db,
        cast.settings,
        cast.agent,
        tender_id,
        msgspec.structs.replace(amended_input, lots=lots),
        summary="土建标段最高限价调整",
        substantive=False,
    )
    assert amendment.substantive and amendment.deadline_pushed
    assert amendment.deadline_after >= cast.now + dt.timedelta(days=15)
    assert amendment.deadline_after.time() == stored.deadline.time().replace(second=0, microsecond=0)
    assert set(amendment.changes) == {"lots.1.budget", "deadline", "evaluation_at"}
    after = (await reading.get_tender(db, cast.bidders[0], tender_id)).tender
    assert after.version == 2 and after.deadline == amendment.deadline_after and after.budget == 13000000 + 3800000.5
    assert [n.kind for n in await notifications.inbox(db, cast.bidders[0])] == ["tender.amended"]
    assert await notifications.inbox(db, cast.bidders[1]) == []
    releases = await connection.fetch("SELECT release_id, tags FROM ocds_releases ORDER BY id")
    assert [r["tags"] for r in releases] == [["tender"], ["tenderAmendment"]]
    assert releases[1]["release_id"].endswith("-v2")


async def test_a_minor_amendment_keeps_the_deadline(db: Database, cast: Cast) -> None:
    tender_id = await published_tender(db, cast)
    stored = (await reading.get_tender(db, cast.agent, tender_id)).tender
    changed = msgspec.structs.replace(
        model.tender_input(stored), title=LocalText(stored.title.zh + "（更正）", stored.title.en)
    )
    amendment = await drafting.amend(
        db, cast.settings, cast.agent, tender_id, changed, summary="更正标题", substantive=False
    )
    assert not amendment.substantive and not amendment.deadline_pushed and set(amendment.changes) == {"title.zh"}
    with pytest.raises(InvalidInput, match="nothing"):
        await drafting.amend(db, cast.settings, cast.agent, tender_id, changed, summary="再来", substantive=False)


async def test_amendments_cannot_change_what_publication_fixed_or_come_after_the_deadline(
    db: Database, connection: asyncpg.Connection, cast: Cast
) -> None:
    tender_id = await published_tender(db, cast)
    stored = model.tender_input((await reading.get_tender(db, cast.agent, tender_id)).tender)
    with pytest.raises(InvalidInput) as raised:
        await drafting.amend(
            db,
            cast.settings,
            cast.agent,
            tender_id,
            msgspec.structs.replace(stored, category=Category.GOODS, custodian_ids=cast.custodian_ids[:2]),
            summary="改类别",
            substantive=True,
        )
    assert set(raised.value.errors) == {"category", "custodian_ids"}
    await _age(connection, tender_id, deadline=dt.timedelta(seconds=-1), questions_until=dt.timedelta(days=-1))
    with pytest.raises(InvalidTransition, match="deadline"):
        await drafting.amend(db, cast.settings, cast.agent, tender_id, stored, summary="太晚", substantive=False)
    with pytest.raises(InvalidTransition):
        await documents.upload_document(
            db,
            cast.settings,
            cast.blobs,
            cast.agent,
            tender_id,
            filename="b.pdf",
            chunks=chunks_of(b"x"),
            summary="太晚",
        )
    assert await _count(connection, "tender_amendments") == 0


async def test_cancelling_needs_a_reason_and_publishes_it(
    db: Database, connection: asyncpg.Connection, cast: Cast
) -> None:
    tender_id = await published_tender(db, cast)
    await questions.register(db, cast.bidders[0], tender_id)
    with pytest.raises(InvalidInput):
        await drafting.cancel(db, cast.settings, cast.agent, tender_id, "   ")
    await drafting.cancel(db, cast.settings, cast.agent, tender_id, "采购需求发生重大变化")
    view = await reading.get_tender(db, cast.bidders[1], tender_id)
    assert view.status is Status.CANCELLED and view.tender.cancel_reason == "采购需求发生重大变化"
    assert not view.access.register
    with pytest.raises(InvalidTransition):
        await drafting.cancel(db, cast.settings, cast.agent, tender_id, "再取消")
    assert [n.kind for n in await notifications.inbox(db, cast.bidders[0])] == ["tender.cancelled"]
    assert await connection.fetchval(
        "SELECT tags FROM ocds_releases WHERE tender_id = $1 ORDER BY id DESC LIMIT 1", tender_id
    ) == ["tenderCancellation"]
    # A cancelled draft never becomes public.
    draft = await drafting.create_draft(db, cast.settings, cast.agent, cast.tender())
    await drafting.cancel(db, cast.settings, cast.agent, draft, "立项撤销")
    with pytest.raises(NotFound):
        await reading.get_tender(db, cast.bidders[0], draft)


# --- Search -------------------------------------------------------------------------------------------------------


async def test_search_finds_chinese_and_english_and_filters(db: Database, cast: Cast) -> None:
    works = await published_tender(db, cast)
    goods = await published_tender(
        db,
        cast,
        category=Category.GOODS,
        title=LocalText("医用影像设备采购", "Medical imaging equipment"),
        description=LocalText("采购CT机一台", "One CT scanner"),
        region="示范市高新区",
    )
    draft = await drafting.create_draft(db, cast.settings, cast.agent, cast.tender(title=LocalText("未发布的门诊楼")))

    async def found(**query: object) -> list[int]:
        page = await search.search(db, cast.settings, search.SearchQuery(**query))  # type: ignore[arg-type]  # each test passes the query's own fields
        return [item.id for item in page.items]

    assert await found() == [goods, works]
    assert await found(q="门诊楼") == [works]
    assert await found(q="门诊楼改造") == [works]
    assert await found(q="影像") == [goods]
    assert await found(q="楼") == [works]
    assert await found(q="renovat") == [works]
    assert await found(q="CT") == [goods]
    assert await found(q="门诊楼 renovation") == [works]
    assert await found(q="门诊楼 imaging") == []
    assert await found(category=Category.GOODS) == [goods]
    assert await found(region="示范市高新区") == [goods]
    assert await found(status="open") == [goods, works]
    assert await found(status="closed") == []
    assert await found(budget_min="16300000.50") == [goods, works]
    assert await found(budget_min="16300000.51") == []
    assert draft not in await found(q="未发布")
    first = await search.search(db, cast.settings, search.SearchQuery(limit=1))
    assert [i.id for i in first.items] == [goods] and first.next_cursor
    second = await search.search(db, cast.settings, search.SearchQuery(limit=1, cursor=first.next_cursor))
    assert [i.id for i in second.items] == [works] and second.next_cursor is None
    assert await search.regions(db) == ["示范市", "示范市高新区"]
    for bad in ({"budget_min": "1.001"}, {"status": "draft"}, {"cursor": "???"}, {"limit": 0}):
        with pytest.raises(InvalidInput):
            await search.search(db, cast.settings, search.SearchQuery(**bad))  # type: ignore[arg-type]  # bad values on purpose
