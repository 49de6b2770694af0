"""The rules of the opening that need no database: the phase the hall's status line names."""

from __future__ import annotations

import datetime as dt

import pytest

from bidding.opening.model import HallPhase, OpeningTimes, hall_phase
from bidding.tenders.model import Status

AT = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)
NOT_STARTED = OpeningTimes(None, None, None)
STARTED = OpeningTimes(AT, None, None)
REBUILT = OpeningTimes(AT, AT, None)


@pytest.mark.parametrize(
    ("status", "times", "phase"),
    [
        (Status.PUBLISHED, NOT_STARTED, HallPhase.BEFORE_DEADLINE),
        (Status.CLOSED, NOT_STARTED, HallPhase.NOT_STARTED),
        (Status.OPENING, STARTED, HallPhase.SHARES),
        (Status.OPENING, REBUILT, HallPhase.DECRYPTING),
        (Status.OPENED, OpeningTimes(AT, AT, AT), HallPhase.FINISHED),
        (Status.EVALUATION, OpeningTimes(AT, AT, AT), HallPhase.FINISHED),
        # Closed by the agency without k shares: the record is signed, the key never rebuilt.
        (Status.OPENED, OpeningTimes(AT, None, AT), HallPhase.CLOSED_WITHOUT_KEY),
        (Status.FAILED, NOT_STARTED, HallPhase.NOT_STARTED),
        (Status.CANCELLED, NOT_STARTED, HallPhase.CANCELLED),
        # Cancelled after its opening: the tender's state comes first.
        (Status.CANCELLED, OpeningTimes(AT, AT, AT), HallPhase.CANCELLED),
    ],
)
def test_each_phase_of_the_opening_has_its_own_status(status: Status, times: OpeningTimes, phase: HallPhase) -> None:
    assert hall_phase(status, times) is phase
