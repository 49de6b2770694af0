"""The console's rules on their own: reading time and action filters, and naming where an entry differs."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from bidding.log.model import StoredEvent, log_entry
from bidding.supervision import model

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("raw", "start", "end"),
    [
        ("2026-07-01", dt.datetime(2026, 7, 1, tzinfo=SHANGHAI), dt.datetime(2026, 7, 2, tzinfo=SHANGHAI)),
        (
            "2026-07-01 09:30",
            dt.datetime(2026, 7, 1, 9, 30, tzinfo=SHANGHAI),
            dt.datetime(2026, 7, 1, 9, 31, tzinfo=SHANGHAI),
        ),
        (
            "2026-07-01T09:30:15",
            dt.datetime(2026, 7, 1, 9, 30, 15, tzinfo=SHANGHAI),
            dt.datetime(2026, 7, 1, 9, 30, 16, tzinfo=SHANGHAI),
        ),
        (
            " 2026-07-01T01:30Z ",
            dt.datetime(2026, 7, 1, 1, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 7, 1, 1, 31, tzinfo=dt.UTC),
        ),
    ],
)
def test_a_moment_is_read_in_the_platform_time_zone_and_an_end_includes_what_it_names(
    raw: str, start: dt.datetime, end: dt.datetime
) -> None:
    assert model.parse_moment(raw, SHANGHAI) == start
    assert model.parse_moment(raw, SHANGHAI, end=True) == end


@pytest.mark.parametrize("raw", ["", "yesterday", "2026-13-01", "2026-07-01 25:00", "1/7/2026", "2026-07-01T09"])
def test_anything_else_is_not_a_moment(raw: str) -> None:
    with pytest.raises(ValueError):
        model.parse_moment(raw, SHANGHAI)


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("tender.published", ("tender.published", None)),
        (" api_token.revoked ", ("api_token.revoked", None)),
        ("tender.", (None, "tender.")),
        ("tender", (None, "tender.")),
        ("tender.*", (None, "tender.")),
    ],
)
def test_an_action_filter_is_exact_or_every_action_of_a_kind(raw: str, parsed: tuple[str | None, str | None]) -> None:
    assert model.parse_action_filter(raw) == parsed


@pytest.mark.parametrize("raw", ["", "Tender.published", "tender.published.x", "tender%", ".published", "tender:17"])
def test_anything_else_is_not_an_action_filter(raw: str) -> None:
    with pytest.raises(ValueError):
        model.parse_action_filter(raw)


def _event(**changes: object) -> StoredEvent:
    values: dict[str, object] = {
        "id": 7,
        "at": dt.datetime(2026, 7, 1, 1, 30, tzinfo=dt.UTC),
        "actor_user_id": 3,
        "actor_role": "agency_staff",
        "organisation_id": 2,
        "action": "tender.published",
        "subject": "tender:17",
        "details": {"version": 1},
        "request_id": "abc",
        "client_ip": "192.0.2.1",
        "salt": bytes(16),
        "log_index": 4,
    }
    return StoredEvent(**(values | changes))  # type: ignore[arg-type]  # the test's own values


def test_an_entry_the_same_as_the_rebuilt_one_has_no_differences() -> None:
    entry = log_entry(_event())
    assert model.entry_differences(entry, entry) == []


@pytest.mark.parametrize(
    ("changes", "differing"),
    [
        ({"details": {"version": 2}}, ["details"]),
        ({"action": "tender.amended", "subject": "tender:18"}, ["action", "subject"]),
        ({"client_ip": "198.51.100.7"}, ["private"]),
        ({"salt": b"\x01" * 16}, ["private"]),
        ({"at": dt.datetime(2026, 7, 1, 1, 31, tzinfo=dt.UTC)}, ["at"]),
        ({"action": "tender.registered"}, ["sealed", "action", "subject", "role", "details", "private"]),
    ],
)
def test_a_changed_row_is_named_by_the_fields_its_entry_differs_in(
    changes: dict[str, object], differing: list[str]
) -> None:
    logged = log_entry(_event())
    assert model.entry_differences(logged, log_entry(_event(**changes))) == differing


def test_an_entry_that_is_not_json_or_written_otherwise_differs_as_a_whole() -> None:
    rebuilt = log_entry(_event())
    assert model.entry_differences(b"\xff not json", rebuilt) == ["entry"]
    assert model.entry_differences(b"[1, 2]", rebuilt) == ["entry"]
    respaced = json.dumps(json.loads(rebuilt), indent=1).encode()
    assert model.entry_differences(respaced, rebuilt) == ["encoding"]
