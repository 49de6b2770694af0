"""The expert draw on a real PostgreSQL: the request and its refusals, the supervisor's contribution, the public
record's replay, the invitations and their answers, reserves and supplementary draws, time-outs, and who sees what.

The database clock stands still inside a test's transaction: time-outs are made by moving ``due_at`` and
``expires_at`` behind ``now()``.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from bidding.errors import Conflict, Forbidden, InvalidInput, InvalidTransition
from bidding.experts import draws, model, repo, service
from bidding.experts.model import QuotaInput, QuotaRequest
from bidding.log import repo as log_repo
from bidding.settings import DrawRules
from crypto import draw as drawing
from crypto import draw_record
from tests.integration.experts.conftest import QUOTAS, SECRET, Panel, expert_name


async def _events(connection: asyncpg.Connection, pattern: str) -> list[dict[str, Any]]:
    rows = await connection.fetch("SELECT * FROM audit_events WHERE action LIKE $1 ORDER BY id", pattern)
    return [dict(row) for row in rows]


async def _draw(connection: asyncpg.Connection, draw_id: int) -> dict[str, Any]:
    row = await connection.fetchrow("SELECT * FROM expert_draws WHERE id = $1", draw_id)
    assert row is not None
    return dict(row)


async def _picks(connection: asyncpg.Connection, draw_id: int) -> list[dict[str, Any]]:
    rows = await connection.fetch("SELECT * FROM draw_picks WHERE draw_id = $1 ORDER BY specialty, rank", draw_id)
    return [dict(row) for row in rows]


def _replay(record: dict[str, Any], document: dict[str, Any]) -> drawing.DrawResult:
    """Replay one round from what is public: its log entries and its inputs document."""
    entries = record["entries"]
    committed = entries["committed"]["details"]
    return draw_record.replay_record(
        document,
        inputs_sha256=committed["inputs_sha256"],
        commitment=committed["commitment"],
        one_time_code=entries["code_revealed"]["details"]["one_time_code"],
        contributions={
            draws.SUPERVISOR: (
                entries["contribution_committed"]["details"]["commitment"],
                entries["drawn"]["details"]["contributions"][draws.SUPERVISOR],
            )
        },
        groups=entries["drawn"]["details"]["groups"],
    )


async def _pending(panel: Panel, seat: int) -> repo.Invitation:
    [found] = [i for i in await panel.invitations() if i.seat == seat and i.status == "pending"]
    return found


# --- The whole draw --------------------------------------------------------------------------------------------


async def test_a_draw_runs_from_request_to_invitations_and_its_public_record_replays(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    draw_id = await panel.request()
    committing = await _draw(connection, draw_id)
    assert (committing["status"], committing["kind"], committing["round"]) == ("committing", "main", 1)
    assert committing["one_time_code"] is None
    [committed] = await _events(connection, "draw.committed")
    assert committed["details"]["candidates"] == 24 and committed["details"]["excluded"] == 0
    assert committed["details"]["parties"] == [draws.SUPERVISOR]
    assert {(q["group"], q["seats"], q["reserves"]) for q in committed["details"]["quotas"]} == {
        ("A01", 3, 2),
        ("A08", 2, 1),
    }
    supervisors = await connection.fetchval(
        "SELECT count(*) FROM notifications WHERE kind = 'draw.awaiting_contribution' AND tender_id = $1",
        panel.tender_id,
    )
    assert supervisors == 1

    await panel.commit(draw_id)
    revealing = await _draw(connection, draw_id)
    assert revealing["status"] == "revealing" and len(revealing["one_time_code"]) == 64
    [revealed] = await _events(connection, "draw.code_revealed")
    assert revealed["details"]["one_time_code"] == revealing["one_time_code"]

    await panel.reveal(draw_id)
    assert (await _draw(connection, draw_id))["status"] == "drawn"
    invitations = await panel.invitations()
    assert [i.seat for i in invitations] == [1, 2, 3, 4, 5]
    assert {i.status for i in invitations} == {"pending"}
    assert collections.Counter(i.specialty for i in invitations) == {"A01": 3, "A08": 2}
    picks = await _picks(connection, draw_id)
    assert collections.Counter((p["specialty"], p["role"]) for p in picks) == {
        ("A01", "member"): 3,
        ("A01", "reserve"): 2,
        ("A08", "member"): 2,
        ("A08", "reserve"): 1,
    }
    members = {p["expert_id"]: p["label"] for p in picks if p["role"] == "member"}
    assert {i.expert_id: i.label for i in invitations} == members
    outbox = await connection.fetch("SELECT user_id, channel, kind, payload FROM outbox ORDER BY id")
    assert len(outbox) == 5 and {(row["channel"], row["kind"]) for row in outbox} == {("sms", "expert.invited")}
    assert all("reference" not in row["payload"] for row in outbox), "the project is named only once accepted"

    [record] = await draws.public_record(panel.db, panel.tender_id)
    assert record["draw"] == draw_id
    assert set(record["entries"]) == {"committed", "contribution_committed", "code_revealed", "drawn"}
    document = json.loads(await draws.inputs_document(panel.db, draw_id))
    replayed = _replay(record, document)
    assert replayed.members == tuple(i.label for i in invitations)
    assert (await draws.supervised(panel.db, panel.cast.supervisor, panel.tender_id)).rounds[0].replay == ""


async def test_a_changed_inputs_document_does_not_replay(panel: Panel) -> None:
    draw_id = await panel.drawn()
    [record] = await draws.public_record(panel.db, panel.tender_id)
    document = json.loads(await draws.inputs_document(panel.db, draw_id))
    changed = copy.deepcopy(document)
    candidate = changed["candidates"][0]
    candidate["groups"] = ["A08"] if candidate["groups"] == ["A01"] else ["A01"]
    with pytest.raises(drawing.DrawError, match="SHA-256"):
        _replay(record, changed)
    # Even with the logged digest replaced by the changed document's, the commitment does not hold.
    record["entries"]["committed"]["details"]["inputs_sha256"] = draw_record.inputs_digest(changed)
    with pytest.raises(drawing.DrawError):
        _replay(record, changed)
    record["entries"]["committed"]["details"]["inputs_sha256"] = draw_record.inputs_digest(document)
    _replay(record, document)


async def test_a_secret_other_than_the_one_committed_is_refused(panel: Panel, connection: asyncpg.Connection) -> None:
    draw_id = await panel.request()
    await panel.commit(draw_id)
    with pytest.raises(InvalidInput) as raised:
        await panel.reveal(draw_id, bytes(32))
    assert set(raised.value.errors) == {"secret"}
    assert (await _draw(connection, draw_id))["status"] == "revealing"
    assert await connection.fetchval("SELECT secret FROM draw_contributions WHERE draw_id = $1", draw_id) is None
    await panel.reveal(draw_id, SECRET)
    assert (await _draw(connection, draw_id))["status"] == "drawn"


async def test_only_a_supervisor_contributes_once_with_a_32_byte_commitment(panel: Panel) -> None:
    draw_id = await panel.request()
    commitment = drawing.contribution_commitment(await panel.digest(draw_id), draws.SUPERVISOR, SECRET)
    settings, supervisor = panel.cast.settings, panel.cast.supervisor
    with pytest.raises(Forbidden):
        await draws.commit_contribution(panel.db, settings, panel.cast.agent, draw_id, commitment)
    with pytest.raises(InvalidInput):
        await draws.commit_contribution(panel.db, settings, supervisor, draw_id, commitment[:31])
    with pytest.raises(InvalidTransition):
        await panel.reveal(draw_id)
    await draws.commit_contribution(panel.db, settings, supervisor, draw_id, commitment)
    with pytest.raises(InvalidTransition):
        await draws.commit_contribution(panel.db, settings, supervisor, draw_id, commitment)


# --- Refused requests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quotas", "field"),
    [
        ([QuotaInput("A01", 3), QuotaInput("A08", 1)], "quotas"),
        ([QuotaInput("A01", 3), QuotaInput("A08", 3)], "quotas"),
        ([QuotaInput("A01", 3), QuotaInput("A01", 2)], "quotas.1.specialty"),
        ([QuotaInput("A", 5)], "quotas.0.specialty"),
        ([], "quotas"),
    ],
)
async def test_quotas_that_do_not_make_the_committee_are_refused(
    panel: Panel, connection: asyncpg.Connection, quotas: list[QuotaInput], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await panel.request(quotas)
    assert field in raised.value.errors
    assert await connection.fetchval("SELECT count(*) FROM expert_draws") == 0


async def test_an_even_or_too_small_committee_is_refused(panel: Panel, connection: asyncpg.Connection) -> None:
    """Government procurement of ¥10 million or more seats seven: the tender's five are refused; and an even
    committee never passes the quotas' check (the tenders table refuses one besides)."""
    await connection.execute("UPDATE tenders SET category = 'goods' WHERE id = $1", panel.tender_id)
    with pytest.raises(InvalidInput) as raised:
        await panel.request()
    assert "committee_size" in raised.value.errors
    rule = model.committee_rule("works", Decimal(1), DrawRules())
    even = model.check_quotas([QuotaRequest("A01", 6, 0)], 6, rule, model.load_specialties(None))
    assert set(even) == {"committee_size"}
    with pytest.raises(asyncpg.CheckViolationError):
        async with connection.transaction():
            await connection.execute("UPDATE tenders SET committee_size = 6 WHERE id = $1", panel.tender_id)


@pytest.mark.parametrize("offset", [dt.timedelta(0), dt.timedelta(minutes=-1), dt.timedelta(days=-2)])
async def test_an_evaluation_date_passed_is_refused(
    panel: Panel, connection: asyncpg.Connection, offset: dt.timedelta
) -> None:
    await connection.execute("UPDATE tenders SET evaluation_at = now() + $2 WHERE id = $1", panel.tender_id, offset)
    with pytest.raises(InvalidInput) as raised:
        await panel.request()
    assert set(raised.value.errors) == {"evaluation_at"}


async def test_a_draw_waits_for_the_opening_and_is_requested_by_the_agency_only(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    with pytest.raises(Forbidden):
        await draws.request_draw(
            panel.db, panel.cast.settings, panel.cast.other_agent, panel.tender_id, model.DrawRequest(list(QUOTAS))
        )
    await connection.execute("UPDATE tenders SET status = 'published' WHERE id = $1", panel.tender_id)
    with pytest.raises(InvalidTransition):
        await panel.request()


async def test_a_second_request_while_a_round_is_live_is_a_conflict(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    draw_id = await panel.request()
    with pytest.raises(Conflict):
        await panel.request()
    await panel.commit(draw_id)
    with pytest.raises(Conflict):
        await panel.request()
    assert await connection.fetchval("SELECT count(*) FROM expert_draws") == 1


async def test_the_database_refuses_a_second_live_round_and_a_second_main_draw(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    """What two requests racing would meet, whichever process comes second: the partial unique indexes."""
    draw_id = await panel.request()
    copy_round = """INSERT INTO expert_draws (tender_id, kind, status, evaluation_at, region_rule, quotas, inputs,
                        inputs_sha256, label_key, candidate_ids, secret, commitment, due_at, requested_by)
                    SELECT tender_id, $2, $3, evaluation_at, region_rule, quotas, inputs, inputs_sha256, label_key,
                           candidate_ids, secret, commitment, due_at, requested_by
                    FROM expert_draws WHERE id = $1"""
    with pytest.raises(asyncpg.UniqueViolationError, match="expert_draws_one_live"):
        async with connection.transaction():
            await connection.execute(copy_round, draw_id, "supplementary", "committing")
    with pytest.raises(asyncpg.UniqueViolationError, match="expert_draws_one_main"):
        async with connection.transaction():
            await connection.execute(copy_round, draw_id, "main", "drawn")
    async with connection.transaction():
        await connection.execute(copy_round, draw_id, "supplementary", "drawn")


async def test_a_second_draw_is_refused_while_no_seat_is_open(panel: Panel) -> None:
    await panel.drawn()
    with pytest.raises(Conflict):
        await panel.request()
    with pytest.raises(Conflict):
        await panel.request([QuotaInput("A08", 1)])


# --- Answers ---------------------------------------------------------------------------------------------------


async def test_an_expert_accepts_then_declares_and_learns_the_project_only_then(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    await panel.drawn()
    invitation = await _pending(panel, 1)
    actor = await panel.expert_actor(invitation.expert_id)
    _, [before] = await service.workspace(panel.db, actor)
    assert before.reference is None and before.purchaser is None and before.bidders == []
    with pytest.raises(InvalidTransition):
        await panel.answer(invitation, "declare")
    await panel.answer(invitation, "accept")
    _, [after] = await service.workspace(panel.db, actor)
    assert after.invitation.status == "accepted" and after.reference is not None
    assert after.purchaser is not None and len(after.bidders) == 2
    await panel.answer(invitation, "declare")
    with pytest.raises(InvalidTransition):
        await panel.answer(invitation, "accept")
    [accepted] = await _events(connection, "invitation.accepted")
    [declared] = await _events(connection, "invitation.declared")
    for found in (accepted, declared):
        assert found["details"] == {"seat": 1, "label": invitation.label}
    seats = (await draws.committee(panel.db, panel.cast.agent, panel.tender_id)).seats
    assert [seat.status for seat in seats] == ["declared", "pending", "pending", "pending", "pending"]


async def test_a_decline_calls_the_next_reserve_of_the_same_specialty_to_the_same_seat(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    draw_id = await panel.drawn()
    invitation = next(i for i in await panel.invitations() if i.specialty == "A01")
    await panel.answer(invitation, "decline", "出差")
    reserves = [p for p in await _picks(connection, draw_id) if p["specialty"] == "A01" and p["role"] == "reserve"]
    called = await _pending(panel, invitation.seat)
    assert called.specialty == "A01" and called.expert_id == reserves[0]["expert_id"] and reserves[0]["rank"] == 4
    assert called.label == reserves[0]["label"]
    declined = await connection.fetchrow("SELECT status, reason FROM expert_invitations WHERE id = $1", invitation.id)
    assert declined is not None and tuple(declined) == ("declined", "出差")
    [sent] = [e for e in await _events(connection, "invitation.sent") if e["details"]["label"] == called.label]
    assert sent["details"]["seat"] == invitation.seat


async def test_a_recusal_needs_a_reason_and_calls_a_reserve(panel: Panel) -> None:
    await panel.drawn()
    invitation = next(i for i in await panel.invitations() if i.specialty == "A08")
    with pytest.raises(InvalidTransition):
        await panel.answer(invitation, "recuse", "亲属在投标人处任职")
    await panel.answer(invitation, "accept")
    with pytest.raises(InvalidInput):
        await panel.answer(invitation, "recuse", "  ")
    await panel.answer(invitation, "recuse", "亲属在投标人处任职")
    called = await _pending(panel, invitation.seat)
    assert called.specialty == "A08" and called.expert_id != invitation.expert_id


async def test_an_answer_after_the_time_out_is_refused(panel: Panel, connection: asyncpg.Connection) -> None:
    await panel.drawn()
    invitation = await _pending(panel, 2)
    await connection.execute(
        "UPDATE expert_invitations SET expires_at = now() - interval '1 minute' WHERE id = $1", invitation.id
    )
    for action in ("accept", "decline"):
        with pytest.raises(InvalidTransition):
            await panel.answer(invitation, action)
    assert await connection.fetchval("SELECT status FROM expert_invitations WHERE id = $1", invitation.id) == "pending"


async def test_only_the_expert_invited_answers(panel: Panel) -> None:
    await panel.drawn()
    mine, other = (await panel.invitations())[:2]
    someone_else = await panel.expert_actor(other.expert_id)
    for actor in (someone_else, panel.cast.agent, panel.cast.supervisor):
        with pytest.raises(Forbidden):
            await draws.answer(panel.db, panel.cast.settings, actor, mine.id, draws.Answer("accept"))
    with pytest.raises(InvalidInput):
        await panel.answer(mine, "maybe")


async def test_a_seat_left_without_reserves_opens_a_supplementary_draw(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    await panel.drawn()
    first = next(i for i in await panel.invitations() if i.specialty == "A08")
    await panel.answer(first, "decline")
    await panel.answer(await _pending(panel, first.seat), "decline")
    [opened] = await _events(connection, "invitation.seat_open")
    assert opened["details"] == {"seat": first.seat, "specialty": "A08"}
    agent = panel.cast.agent.principal
    assert agent is not None
    agency_told = await connection.fetchval(
        "SELECT count(*) FROM notifications WHERE kind = 'draw.seat_open' AND user_id = $1", agent.user_id
    )
    assert agency_told == 1
    view = await draws.committee(panel.db, panel.cast.agent, panel.tender_id)
    assert view.open_seats == [first.seat] and not view.complete

    with pytest.raises(InvalidInput) as raised:
        await panel.request([QuotaInput("A08", 2)])
    assert "quotas" in raised.value.errors and "committee_size" not in raised.value.errors
    supplementary = await panel.drawn([QuotaInput("A08", 1, 1)])
    assert (await _draw(connection, supplementary))["kind"] == "supplementary"
    called = await _pending(panel, first.seat)
    assert called.draw_id == supplementary and called.specialty == "A08"
    with pytest.raises(Conflict):
        await panel.request([QuotaInput("A08", 1, 1)])
    records = await draws.public_record(panel.db, panel.tender_id)
    assert len(records) == 2
    for record in records:
        _replay(record, json.loads(await draws.inputs_document(panel.db, record["draw"])))


# --- Time-outs -------------------------------------------------------------------------------------------------


async def test_a_round_whose_supervisor_does_not_commit_is_void_and_restarted(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    first = await panel.request()
    await connection.execute("UPDATE expert_draws SET due_at = now() - interval '1 minute' WHERE id = $1", first)
    assert await draws.sweep(panel.db, panel.cast.settings) == 1
    void = await _draw(connection, first)
    assert void["status"] == "void" and void["void_reason"] == "the supervisor did not commit in time"
    [voided] = await _events(connection, "draw.void")
    assert voided["details"]["party"] == draws.SUPERVISOR and voided["details"]["draw"] == first
    [second] = await connection.fetch("SELECT id FROM expert_draws WHERE status = 'committing'")
    restarted = await _draw(connection, second["id"])
    assert (restarted["round"], restarted["request_id"], restarted["kind"]) == (2, first, "main")
    assert restarted["commitment"] != void["commitment"] and restarted["secret"] != void["secret"]
    assert restarted["inputs_sha256"] != void["inputs_sha256"], "fresh labels, and round 2 in the context"
    assert sorted(restarted["candidate_ids"]) == sorted(void["candidate_ids"])
    assert len(await _events(connection, "draw.committed")) == 2
    assert await draws.sweep(panel.db, panel.cast.settings) == 0
    await panel.commit(second["id"])
    await panel.reveal(second["id"])
    records = await draws.public_record(panel.db, panel.tender_id)
    assert [set(r["entries"]) for r in records] == [
        {"committed", "void"},
        {"committed", "contribution_committed", "code_revealed", "drawn"},
    ]
    _replay(records[1], json.loads(await draws.inputs_document(panel.db, second["id"])))


async def test_a_round_whose_supervisor_does_not_reveal_is_void_naming_it(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    first = await panel.request()
    await panel.commit(first)
    await connection.execute("UPDATE expert_draws SET due_at = now() - interval '1 minute' WHERE id = $1", first)
    await draws.sweep(panel.db, panel.cast.settings)
    assert (await _draw(connection, first))["void_reason"] == "the supervisor did not reveal in time"
    assert await connection.fetchval("SELECT round FROM expert_draws WHERE status = 'committing'") == 2


async def test_a_round_is_left_void_when_the_pool_has_shrunk_too_far(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    first = await panel.request()
    await connection.execute(
        "UPDATE experts SET status = 'retired' WHERE id = ANY($1::bigint[])", panel.pool["A08"][:6]
    )
    await connection.execute("UPDATE expert_draws SET due_at = now() - interval '1 minute' WHERE id = $1", first)
    assert await draws.sweep(panel.db, panel.cast.settings) == 1
    assert [row["status"] for row in await connection.fetch("SELECT status FROM expert_draws")] == ["void"]
    assert (await draws.committee(panel.db, panel.cast.agent, panel.tender_id)).live_round is None


async def test_a_failed_restart_rolls_its_savepoint_back_instead_of_releasing_it(
    panel: Panel, connection: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restart runs in a savepoint: when its insert fails, the savepoint is rolled back (the void is kept) and
    the sweep goes on; releasing the failed savepoint made the whole sweep fail."""
    first = await panel.request()
    await connection.execute("UPDATE expert_draws SET due_at = now() - interval '1 minute' WHERE id = $1", first)
    insert_draw = repo.insert_draw

    async def racing_insert(connection: Any, draw: repo.NewDraw) -> int | None:
        # Another round takes the tender's place first: the insert meets the one-live index.
        await connection.execute("UPDATE expert_draws SET status = 'committing' WHERE id = $1", first)
        return await insert_draw(connection, draw)

    monkeypatch.setattr(repo, "insert_draw", racing_insert)
    assert await draws.sweep(panel.db, panel.cast.settings) == 1
    assert [row["status"] for row in await connection.fetch("SELECT status FROM expert_draws")] == ["void"]
    assert len(await _events(connection, "draw.void")) == 1


async def test_an_invitation_not_answered_in_time_is_swept_and_a_reserve_called(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    await panel.drawn()
    invitation = await _pending(panel, 1)
    await connection.execute(
        "UPDATE expert_invitations SET expires_at = now() - interval '1 minute' WHERE id = $1", invitation.id
    )
    assert await draws.sweep(panel.db, panel.cast.settings) == 1
    assert await connection.fetchval("SELECT status FROM expert_invitations WHERE id = $1", invitation.id) == "expired"
    [expired] = await _events(connection, "invitation.expired")
    assert expired["details"] == {"seat": 1, "label": invitation.label}
    called = await _pending(panel, 1)
    assert called.specialty == invitation.specialty and called.expert_id != invitation.expert_id
    assert called.seconds_left > 0


# --- Who sees what ---------------------------------------------------------------------------------------------


async def test_the_agency_follows_seats_and_rounds_without_names(panel: Panel, connection: asyncpg.Connection) -> None:
    await panel.drawn()
    view = await draws.committee(panel.db, panel.cast.agent, panel.tender_id)
    assert [seat.status for seat in view.seats] == ["pending"] * 5 and view.live_round is None
    assert view.rounds[0].candidates == 24 and view.rounds[0].eligible == {"A01": 14, "A08": 10}
    shown = repr(view)
    names = await connection.fetch("SELECT u.display_name, u.login FROM experts e JOIN users u ON u.id = e.user_id")
    assert not any(row["display_name"] in shown or row["login"] in shown for row in names)
    assert "expert_id" not in shown and "label" not in shown
    for outsider in (panel.cast.bidders[0], panel.cast.other_agent, panel.cast.purchaser_staff):
        with pytest.raises(Forbidden):
            await draws.committee(panel.db, outsider, panel.tender_id)
    for not_supervisor in (panel.cast.agent, panel.cast.admin, panel.cast.bidders[0]):
        with pytest.raises(Forbidden):
            await draws.supervised(panel.db, not_supervisor, panel.tender_id)
    supervised = await draws.supervised(panel.db, panel.cast.supervisor, panel.tender_id)
    assert {i.name for i in supervised.invitations} <= {expert_name(n) for n in range(1, 25)}


async def test_the_draws_events_carry_labels_never_experts(panel: Panel, connection: asyncpg.Connection) -> None:
    await panel.drawn()
    invitations = await panel.invitations()
    await panel.answer(invitations[0], "accept")
    await panel.answer(invitations[1], "decline")
    events = await _events(connection, "draw.%") + await _events(connection, "invitation.%")
    assert {e["action"] for e in events} >= {
        "draw.committed",
        "draw.contribution_committed",
        "draw.code_revealed",
        "draw.drawn",
        "invitation.sent",
        "invitation.accepted",
        "invitation.declined",
    }
    experts = await connection.fetch(
        "SELECT e.id, e.user_id, u.display_name, u.login, e.telephone FROM experts e JOIN users u ON u.id = e.user_id"
    )
    for found in events:
        text = json.dumps(found["details"], ensure_ascii=False)
        assert not any(row["display_name"] in text or row["login"] in text for row in experts), found["action"]
        assert "expert" not in text and "telephone" not in text and "138 0000" not in text
        if found["action"].startswith("invitation.") and found["action"] != "invitation.seat_open":
            assert found["details"]["label"].startswith("X")
    labels = {e["details"]["label"] for e in events if e["action"] == "invitation.sent"}
    assert labels == {i.label for i in await panel.invitations()}
    [drawn] = [e for e in events if e["action"] == "draw.drawn"]
    drawn_labels = {label for group in drawn["details"]["groups"] for label in group["members"] + group["reserves"]}
    assert labels <= drawn_labels and all(label.startswith("X") for label in drawn_labels)


async def test_the_pools_events_show_only_a_commitment_in_the_public_log(
    panel: Panel, connection: asyncpg.Connection
) -> None:
    """Who is in the pool, and whom its experts are tied to, is nobody else's business (bidding/experts/service.py)."""
    expert_id, actor = await panel.enrol("A01", employer=("某设计院", panel.bidder_codes[2]))
    await service.update_declarations(
        panel.db,
        panel.cast.settings,
        actor,
        model.Declarations(
            [panel.day], [model.ConflictInput(panel.purchaser_code, "医院", model.Relation.RELATIVE_EMPLOYED)]
        ),
    )
    events = await log_repo.select_subject_events(connection, f"expert:{expert_id}", limit=10)
    assert {stored.action for stored in events} == {"expert.created", "expert.declarations_changed"}
    assert all(stored.sealed for stored in events)
