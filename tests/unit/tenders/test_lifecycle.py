"""The tender lifecycle (DESIGN §4), every status against every action at every relevant moment."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bidding.errors import InvalidTransition
from bidding.settings import TimeRules
from bidding.tenders.model import (
    ACTION_NAMES,
    TRANSITIONS,
    Clock,
    Status,
    effective_status,
    plan_amendment,
    transition,
)

RULES = TimeRules()
NOW = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)
BEFORE_DEADLINE = NOW + dt.timedelta(days=1)
PASSED_DEADLINE = NOW - dt.timedelta(seconds=1)

#: The lifecycle written out again, independently of the model's table: (status, action) → status after.
LIFECYCLE = {
    ("draft", "publish"): "published",
    ("draft", "cancel"): "cancelled",
    ("published", "close"): "closed",
    ("published", "cancel"): "cancelled",
    ("closed", "start_opening"): "opening",
    ("closed", "cancel"): "cancelled",
    ("closed", "fail"): "failed",
    ("opening", "finish_opening"): "opened",
    ("opening", "fail"): "failed",
    ("opened", "start_evaluation"): "evaluation",
    ("opened", "fail"): "failed",
    ("opened", "cancel"): "cancelled",
    ("evaluation", "finish_evaluation"): "evaluated",
    ("evaluation", "fail"): "failed",
    ("evaluated", "publicise"): "publicised",
    ("evaluated", "fail"): "failed",
    ("publicised", "award"): "awarded",
    ("publicised", "fail"): "failed",
}
#: Actions that depend on the clock, and when they are allowed.
CLOCKS = {
    "before the deadline": Clock(NOW, BEFORE_DEADLINE),
    "after the deadline": Clock(NOW, PASSED_DEADLINE),
    "publicity running": Clock(NOW, PASSED_DEADLINE, publicised_at=NOW - dt.timedelta(days=2)),
    "publicity over": Clock(NOW, PASSED_DEADLINE, publicised_at=NOW - dt.timedelta(days=3)),
}


def expected(status: Status, action: str, clock_name: str) -> str | None:
    """The status after ``action``, or ``None`` where the lifecycle forbids it."""
    clock = CLOCKS[clock_name]
    assert clock.deadline is not None
    passed = clock.now >= clock.deadline
    # A published tender is closed from its deadline on, recorded or not.
    current = "closed" if status == "published" and passed and action != "close" else str(status)
    if status == "published" and action == "close":
        return "closed" if passed else None
    target = LIFECYCLE.get((current, action))
    if action == "start_opening" and not passed:
        return None
    if action == "award" and clock_name != "publicity over":
        return None
    return target


@pytest.mark.parametrize(("status", "action", "clock_name"), list(itertools.product(Status, ACTION_NAMES, CLOCKS)))
def test_every_transition_at_every_moment(status: Status, action: str, clock_name: str) -> None:
    want = expected(status, action, clock_name)
    if want is None:
        with pytest.raises(InvalidTransition):
            transition(status, action, CLOCKS[clock_name], RULES)
    else:
        assert transition(status, action, CLOCKS[clock_name], RULES) == want


def test_the_table_and_the_action_names_agree() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert {action for moves in TRANSITIONS.values() for action in moves} | {"close"} == set(ACTION_NAMES)
    assert {(str(s), a): str(t) for s, moves in TRANSITIONS.items() for a, t in moves.items()} == LIFECYCLE
    # The ends are ends.
    assert TRANSITIONS[Status.AWARDED] == TRANSITIONS[Status.FAILED] == TRANSITIONS[Status.CANCELLED] == {}


def test_a_refusal_names_the_status_and_the_action() -> None:
    with pytest.raises(InvalidTransition) as raised:
        transition(Status.AWARDED, "cancel", CLOCKS["after the deadline"], RULES)
    assert raised.value.detail is not None
    assert raised.value.detail.params["status"].text == "Awarded"
    assert raised.value.detail.params["action"].text == "cancel"


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        transition(Status.DRAFT, "teleport", CLOCKS["before the deadline"], RULES)


def test_the_deadline_closes_a_published_tender_to_the_second() -> None:
    deadline = NOW
    assert effective_status(Status.PUBLISHED, deadline, deadline - dt.timedelta(microseconds=1)) is Status.PUBLISHED
    assert effective_status(Status.PUBLISHED, deadline, deadline) is Status.CLOSED
    assert effective_status(Status.DRAFT, deadline, deadline) is Status.DRAFT
    assert effective_status(Status.PUBLISHED, None, deadline) is Status.PUBLISHED


@pytest.mark.parametrize("days", [1, 3, 5])
def test_the_publicity_period_is_a_setting(days: int) -> None:
    rules = TimeRules(publicity_days=days)
    publicised = NOW - dt.timedelta(days=days)
    assert transition(Status.PUBLICISED, "award", Clock(NOW, PASSED_DEADLINE, publicised), rules) is Status.AWARDED
    with pytest.raises(InvalidTransition):
        transition(Status.PUBLICISED, "award", Clock(NOW, PASSED_DEADLINE, publicised + dt.timedelta(seconds=1)), rules)


# --- Amendments and the notice period ---------------------------------------------------------------------------


def _plan(deadline: dt.datetime, proposed: dt.datetime, *, substantive: bool, now: dt.datetime = NOW):  # type: ignore[no-untyped-def]  # returns what the test unpacks
    return plan_amendment(
        status=Status.PUBLISHED,
        current_deadline=deadline,
        proposed_deadline=proposed,
        substantive=substantive,
        now=now,
        rules=RULES,
    )


def test_a_substantive_amendment_within_15_days_moves_the_deadline_keeping_its_time_of_day() -> None:
    deadline = dt.datetime(2026, 11, 30, 1, 30, tzinfo=dt.UTC)  # 09:30 in Beijing
    plan = _plan(deadline, deadline, substantive=True)
    assert plan.pushed
    assert plan.deadline == dt.datetime(2026, 12, 7, 1, 30, tzinfo=dt.UTC)
    assert plan.deadline - NOW >= dt.timedelta(days=15)


def test_a_substantive_amendment_with_15_days_left_keeps_the_deadline() -> None:
    deadline = NOW + dt.timedelta(days=15)
    assert _plan(deadline, deadline, substantive=True) == type(_plan(deadline, deadline, substantive=True))(
        deadline, pushed=False
    )


def test_a_minor_amendment_keeps_even_a_close_deadline() -> None:
    deadline = NOW + dt.timedelta(hours=2)
    plan = _plan(deadline, deadline, substantive=False)
    assert (plan.deadline, plan.pushed) == (deadline, False)


def test_an_agency_may_move_the_deadline_later_itself() -> None:
    deadline = NOW + dt.timedelta(days=5)
    later = NOW + dt.timedelta(days=40)
    assert _plan(deadline, later, substantive=True).deadline == later


def test_no_amendment_after_the_deadline_or_to_a_past_deadline() -> None:
    with pytest.raises(InvalidTransition):
        _plan(NOW, NOW + dt.timedelta(days=20), substantive=False)
    with pytest.raises(InvalidTransition):
        _plan(NOW + dt.timedelta(days=1), NOW - dt.timedelta(seconds=1), substantive=False)
    with pytest.raises(InvalidTransition):
        plan_amendment(
            status=Status.DRAFT,
            current_deadline=NOW + dt.timedelta(days=30),
            proposed_deadline=NOW + dt.timedelta(days=30),
            substantive=False,
            now=NOW,
            rules=RULES,
        )


@given(
    left=st.timedeltas(min_value=dt.timedelta(seconds=1), max_value=dt.timedelta(days=60)),
    minute=st.integers(0, 24 * 60 - 1),
)
def test_after_a_substantive_amendment_bidders_always_have_the_notice_period(left: dt.timedelta, minute: int) -> None:
    deadline = (NOW + left).replace(hour=minute // 60, minute=minute % 60, second=0, microsecond=0)
    if deadline <= NOW:
        deadline += dt.timedelta(days=1)
    plan = _plan(deadline, deadline, substantive=True)
    assert plan.deadline - NOW >= dt.timedelta(days=RULES.amendment_notice_days)
    assert (plan.deadline.hour, plan.deadline.minute) == (deadline.hour, deadline.minute)
    # Never more than a day beyond what the rule needs.
    assert plan.deadline - NOW < dt.timedelta(days=RULES.amendment_notice_days + 1) or not plan.pushed
