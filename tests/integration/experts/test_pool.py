"""The candidate list of a draw on a real PostgreSQL: every avoidance rule, with experts it catches and experts it
must spare, as the committed inputs document lists them and supervisors read them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import asyncpg
import pytest

from bidding.errors import InvalidInput
from bidding.experts import draws, service
from bidding.experts.model import ConflictInput, Declarations, QuotaInput, RegionRule, Relation, Status, StatusChange
from bidding.identity import OrganisationKind
from bidding.settings import DrawRules
from tests.integration.conftest import MakeOrganisation
from tests.integration.experts.conftest import Panel, opened_tender


async def _document(panel: Panel, draw_id: int) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(await draws.inputs_document(panel.db, draw_id))
    return document


async def test_the_pool_holds_the_quotas_specialties_only_and_no_retired_expert(panel: Panel) -> None:
    retired = await panel.add_expert("A01", status="retired")
    elsewhere = await panel.add_expert("B01")
    both = await panel.add_expert("A01", "A08", "B01")
    draw_id = await panel.request()
    reasons = await panel.reasons()
    assert retired not in reasons and elsewhere not in reasons
    assert set(reasons) == set(panel.pool["A01"]) | set(panel.pool["A08"]) | {both}
    assert not any(reasons.values())
    document = await _document(panel, draw_id)
    groups = {tuple(candidate["groups"]) for candidate in document["candidates"]}
    assert groups == {("A01",), ("A08",), ("A01", "A08")}


async def test_a_suspension_excludes_until_its_last_day_and_not_after(panel: Panel) -> None:
    admin, day = panel.cast.admin, panel.day
    indefinite, to_the_day, ended = [await panel.add_expert() for _ in range(3)]
    await service.change_status(
        panel.db, panel.cast.settings, admin, indefinite, StatusChange(Status.SUSPENDED, "违规")
    )
    await service.change_status(
        panel.db, panel.cast.settings, admin, to_the_day, StatusChange(Status.SUSPENDED, "违规", day)
    )
    await service.change_status(
        panel.db, panel.cast.settings, admin, ended, StatusChange(Status.SUSPENDED, "违规", day - dt.timedelta(days=1))
    )
    await panel.request()
    reasons = await panel.reasons()
    assert reasons[indefinite] == ("suspended",) and reasons[to_the_day] == ("suspended",)
    assert reasons[ended] == ()


async def test_an_unavailable_day_counts_in_the_platform_time_zone(panel: Panel) -> None:
    """The evaluation is at 01:00 in Shanghai: the UTC date of that moment is the day before, and counts not."""
    assert panel.evaluation_at.astimezone(dt.UTC).date() == panel.day - dt.timedelta(days=1)
    away, id_away = await panel.enrol("A01")
    day_before, id_day_before = await panel.enrol("A01")
    await service.update_declarations(panel.db, panel.cast.settings, id_away, Declarations([panel.day], []))
    await service.update_declarations(
        panel.db, panel.cast.settings, id_day_before, Declarations([panel.day - dt.timedelta(days=1)], [])
    )
    await panel.request()
    reasons = await panel.reasons()
    assert reasons[away] == ("unavailable",)
    assert reasons[day_before] == ()


async def test_employees_of_the_purchaser_the_agency_and_each_bidder_are_excluded(panel: Panel) -> None:
    purchaser, _ = await panel.enrol("A01", employer=("第一人民医院", panel.purchaser_code))
    agency, _ = await panel.enrol("A01", employer=("明诚招标代理", panel.agency_code))
    bidders = [await panel.add_expert("A08", employer_credit_code=code) for code in panel.bidder_codes]
    await panel.request()
    reasons = await panel.reasons()
    assert reasons[purchaser] == ("employer:purchaser",)
    assert reasons[agency] == ("employer:agency",)
    assert [reasons[expert] for expert in bidders] == [("employer:bidder",), ("employer:bidder",), ()], (
        "the third bidder has no bid in this tender"
    )


async def test_declared_conflicts_exclude_while_they_count(panel: Panel) -> None:
    day, settings = panel.day, panel.cast.settings
    cases = {
        "conflict:purchaser": ConflictInput(panel.purchaser_code, "第一人民医院", Relation.RELATIVE_EMPLOYED),
        "conflict:agency": ConflictInput(panel.agency_code, "明诚招标代理", Relation.RELATIVE_SHAREHOLDER),
        "conflict:bidder": ConflictInput(panel.bidder_codes[1], "投标人2", Relation.FORMER_EMPLOYER, day),
    }
    tied = {}
    for reason, conflict in cases.items():
        expert_id, actor = await panel.enrol("A01")
        await service.update_declarations(panel.db, settings, actor, Declarations([], [conflict]))
        tied[reason] = expert_id
    ended, actor = await panel.enrol("A01")
    before = day - dt.timedelta(days=1)
    await service.update_declarations(
        panel.db,
        settings,
        actor,
        Declarations(
            [],
            [
                ConflictInput(panel.purchaser_code, "第一人民医院", Relation.FORMER_EMPLOYER, before),
                ConflictInput(panel.bidder_codes[2], "投标人3", Relation.RELATIVE_EMPLOYED),
            ],
        ),
    )
    await panel.request()
    reasons = await panel.reasons()
    assert {reason: reasons[expert_id] for reason, expert_id in tied.items()} == {reason: (reason,) for reason in cases}
    assert reasons[ended] == (), "a conflict that ended before the evaluation day, and one with a non-bidder"


async def test_experts_drawn_for_the_same_purchaser_recently_are_excluded(
    panel: Panel, connection: asyncpg.Connection, make_organisation: MakeOrganisation
) -> None:
    await panel.drawn()
    invited = {invitation.expert_id for invitation in await panel.invitations()}
    long_ago = next(iter(invited))
    await connection.execute(
        "UPDATE expert_invitations SET created_at = now() - make_interval(days => $2) WHERE expert_id = $1",
        long_ago,
        DrawRules().recent_draw_days + 1,
    )
    same_purchaser = await opened_tender(panel.db, connection, panel.cast, panel.evaluation_at)
    await panel.request(tender_id=same_purchaser)
    reasons = await panel.reasons(same_purchaser)
    assert {expert for expert, found in reasons.items() if found} == invited - {long_ago}
    assert all(reasons[expert] == ("recent:purchaser",) for expert in invited - {long_ago})

    other = await make_organisation(OrganisationKind.PURCHASER, "另一家医院")
    other_purchaser = await opened_tender(panel.db, connection, panel.cast, panel.evaluation_at, purchaser_id=other.id)
    await panel.request(tender_id=other_purchaser)
    assert not any((await panel.reasons(other_purchaser)).values())


async def test_the_recent_draw_rule_is_off_at_zero_days(panel: Panel, connection: asyncpg.Connection) -> None:
    await panel.drawn()
    same_purchaser = await opened_tender(panel.db, connection, panel.cast, panel.evaluation_at)
    panel.cast.settings = dataclasses.replace(panel.cast.settings, draw_rules=DrawRules(recent_draw_days=0))
    await panel.request(tender_id=same_purchaser)
    assert not any((await panel.reasons(same_purchaser)).values())


@pytest.mark.parametrize(
    ("rule", "expected"),
    [(RegionRule.EXCLUDE_PURCHASER_REGION, ("region:purchaser",)), (RegionRule.NONE, ())],
)
async def test_the_region_rule_excludes_the_purchasers_region_only_when_asked(
    panel: Panel, rule: RegionRule, expected: tuple[str, ...]
) -> None:
    local = await panel.add_expert("A01", region="示范市")
    neighbour = await panel.add_expert("A01", region="示范市滨江区")
    draw_id = await panel.request(rule=rule)
    reasons = await panel.reasons()
    assert reasons[local] == expected and reasons[neighbour] == ()
    assert await panel.connection.fetchval("SELECT region_rule FROM expert_draws WHERE id = $1", draw_id) == rule


async def test_experts_called_for_the_tender_already_are_excluded_from_a_supplementary_draw(panel: Panel) -> None:
    first = await panel.drawn()
    [*_, last] = [i for i in await panel.invitations() if i.specialty == "A08"]
    await panel.answer(last, "decline")
    [reserve] = [i for i in await panel.invitations() if i.status == "pending" and i.seat == last.seat]
    await panel.answer(reserve, "decline")
    called = {invitation.expert_id for invitation in await panel.invitations()}
    await panel.request([QuotaInput("A08", 1, 1)])
    reasons = await panel.reasons()
    assert set(reasons) == set(panel.pool["A08"])
    assert {expert for expert, found in reasons.items() if found} == {e for e in called if e in panel.pool["A08"]}
    assert {found for found in reasons.values() if found} == {("called:tender",)}
    first_round = (await draws.supervised(panel.db, panel.cast.supervisor, panel.tender_id)).rounds[0]
    assert first_round.round.id == first


async def test_a_quota_short_of_candidates_is_refused_naming_it(panel: Panel, connection: asyncpg.Connection) -> None:
    """Three eligible per seat: two cost-engineering seats need six, and five are left once the rest are suspended."""
    await connection.execute(
        """UPDATE experts SET status = 'suspended', suspension_reason = '测试' WHERE id = ANY($1::bigint[])""",
        panel.pool["A08"][5:],
    )
    with pytest.raises(InvalidInput) as raised:
        await panel.request([QuotaInput("A01", 3, 2), QuotaInput("A08", 2, 1)])
    assert set(raised.value.errors) == {"quotas.1.seats"}
    with pytest.raises(InvalidInput) as raised:
        await panel.request([QuotaInput("A08", 2, 1), QuotaInput("A01", 3, 2)])
    assert set(raised.value.errors) == {"quotas.0.seats"}
    assert await connection.fetchval("SELECT count(*) FROM expert_draws") == 0
    assert await connection.fetchval("SELECT count(*) FROM audit_events WHERE action LIKE 'draw.%'") == 0


async def test_reserves_count_when_they_ask_for_more_than_three_per_seat(panel: Panel) -> None:
    """Fourteen building-construction experts hold three seats and at most eleven reserves."""
    with pytest.raises(InvalidInput) as raised:
        await panel.request([QuotaInput("A01", 3, 12), QuotaInput("A08", 2, 1)])
    assert set(raised.value.errors) == {"quotas.0.seats"}
