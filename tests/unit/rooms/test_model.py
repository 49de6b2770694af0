"""The rooms' pure parts: names, ``after``, the events as sent, requests' ids and answers."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest

from bidding.rooms import model


def test_a_room_is_named_by_its_kind_and_record() -> None:
    assert model.room_name("opening", 42) == "opening/42"


@pytest.mark.parametrize(("raw", "after"), [("0", 0), ("17", 17), (str(2**63 - 1), 2**63 - 1)])
def test_after_is_zero_or_an_event_number(raw: str, after: int) -> None:
    assert model.parse_after(raw) == after


@pytest.mark.parametrize("raw", ["", "-1", "1.5", "²", str(2**63), "9" * 20, " 1"])
def test_an_after_that_is_no_event_number_is_refused(raw: str) -> None:
    assert model.parse_after(raw) is None


def test_an_event_is_sent_as_one_object_with_its_number_kind_and_time() -> None:
    at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    event = model.RoomEvent("opening/1", 7, "share", {"count": 2}, at)
    assert json.loads(model.event_json(event)) == {
        "seq": 7,
        "kind": "share",
        "at": "2026-03-01T09:30:00+00:00",
        "count": 2,
    }


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"type": "confirm", "id": "r1"}', "r1"),
        ('{"id": "a.b:c-d_9", "bid": true}', "a.b:c-d_9"),
        ('{"type": "confirm"}', None),
        ('{"id": 5}', None),
        ('{"id": "' + "x" * 65 + '"}', None),
        ('{"id": "with space"}', None),
        ("[1, 2]", None),
        ("not json", None),
        ("[" * 30_000, None),
        ('{"id": "r1", "pad": "' + "x" * model.MAX_MESSAGE + '"}', None),
    ],
)
def test_the_id_of_a_request_is_read_whatever_else_it_holds(text: str, found: str | None) -> None:
    assert model.request_id(text) == found


def test_an_answer_echoes_the_request_id_when_there_was_one() -> None:
    assert json.loads(model.answer("r1")) == {"type": "ok", "id": "r1"}
    assert json.loads(model.answer(None)) == {"type": "ok"}
    refused = json.loads(model.answer("r2", {"title": "无效", "errors": {"bid": "x"}}))
    assert refused == {"type": "error", "id": "r2", "title": "无效", "errors": {"bid": "x"}}
    assert "无效" in model.answer("r2", {"title": "无效"}), "Chinese is sent as it is"


class _Ping(model.Request, frozen=True, tag="ping"):
    text: str


def test_a_room_request_may_carry_an_id_and_nothing_unknown() -> None:
    assert msgspec.json.decode(b'{"type": "ping", "text": "x", "id": "r1"}', type=_Ping) == _Ping("x", id="r1")
    assert msgspec.json.decode(b'{"type": "ping", "text": "x"}', type=_Ping).id is None
    with pytest.raises(msgspec.ValidationError, match="id"):
        msgspec.json.decode(b'{"type": "ping", "text": "x", "id": ""}', type=_Ping)
    with pytest.raises(msgspec.ValidationError, match="other"):
        msgspec.json.decode(b'{"type": "ping", "text": "x", "other": 1}', type=_Ping)
