"""The rooms' websocket shell, through the opening hall of a real server: a late joiner is caught up with every
event it missed, promptly and in order, however many; each request's answer carries the request's own id."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from bidding.opening.model import hall_room
from bidding.rooms.model import EVENTS_PAGE
from tests.e2e.conftest import Clients, Server

#: A demo tender published and never opened, whose hall no other test follows.
QUIET = "SFJY-CQ-2026-001"
#: More events than two pages of catching up.
MISSED = 2 * EVENTS_PAGE + 234


def _hall(server: Server, clients: Clients, reference: str, login: str) -> ClientConnection:
    tender = server.sql("SELECT id FROM tenders WHERE reference = $1", reference)
    url = server.url.replace("http://", "ws://") + f"/ws/tenders/{tender}/opening"
    token = clients.token_for(login)
    return ws_connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None)


@pytest.fixture
def quiet_room(server: Server) -> Iterator[str]:
    """The quiet tender's hall with MISSED events stored by nobody who notified them (a hall quiet since)."""
    room = hall_room(server.sql("SELECT id FROM tenders WHERE reference = $1", QUIET))
    server.sql(
        """INSERT INTO room_events (room, seq, kind, payload)
           SELECT $1, n, 'filler', jsonb_build_object('n', n) FROM generate_series(1, $2::bigint) n""",
        room,
        MISSED,
    )
    try:
        yield room
    finally:
        server.sql("DELETE FROM room_events WHERE room = $1", room)


def test_a_late_joiner_of_a_quiet_hall_gets_every_missed_event_promptly_in_order(
    server: Server, clients: Clients, quiet_room: str
) -> None:
    """Regression: the joiner got the first 500 events, then waited 5 s for each next 500 (a page read per wake-up)."""
    with _hall(server, clients, QUIET, "supervisor1") as hall:
        started = time.monotonic()
        seen = [json.loads(hall.recv(timeout=10))["seq"] for _ in range(MISSED)]
        elapsed = time.monotonic() - started
    assert seen == list(range(1, MISSED + 1))
    assert elapsed < 4, f"caught up in {elapsed:.1f} s"


def test_a_rejoiner_gets_only_the_events_after_the_last_it_saw(
    server: Server, clients: Clients, quiet_room: str
) -> None:
    tender = server.sql("SELECT id FROM tenders WHERE reference = $1", QUIET)
    url = server.url.replace("http://", "ws://") + f"/ws/tenders/{tender}/opening?after={MISSED - 3}"
    token = clients.token_for("supervisor1")
    with ws_connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as hall:
        seen = [json.loads(hall.recv(timeout=10))["seq"] for _ in range(3)]
        with pytest.raises(TimeoutError):
            hall.recv(timeout=1)
    assert seen == [MISSED - 2, MISSED - 1, MISSED]


def _answers(hall: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next ``count`` answers (the hall's own events, which carry ``seq``, skipped)."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        message: dict[str, Any] = json.loads(hall.recv(timeout=10))
        if "seq" not in message:
            found.append(message)
    return found


def test_two_requests_in_flight_are_answered_each_with_its_own_id(server: Server, clients: Clients) -> None:
    """Regression: answers were matched to the oldest waiting request, so one lost or reordered answer shifted
    every later one onto the wrong request."""
    with _hall(server, clients, "SFJY-GC-2026-002", "bidder1") as hall:
        hall.send(json.dumps({"type": "confirm", "bid": "123456789012345", "id": "first"}))
        hall.send(json.dumps({"type": "nonsense", "id": "second"}))
        hall.send(json.dumps({"type": "confirm", "bid": True, "id": "third:3"}))
        hall.send(json.dumps({"type": "confirm", "bid": "123456789012345"}))
        answers = _answers(hall, 4)
    assert [answer.get("id") for answer in answers] == ["first", "second", "third:3", None]
    assert all(answer["type"] == "error" for answer in answers)
    assert "type" in answers[1]["errors"] and "bid" in answers[2]["errors"]


def test_a_request_id_that_is_not_a_short_name_is_refused_and_not_echoed(server: Server, clients: Clients) -> None:
    with _hall(server, clients, "SFJY-GC-2026-002", "bidder1") as hall:
        hall.send(json.dumps({"type": "confirm", "bid": "123456789012345", "id": "x" * 65}))
        (answer,) = _answers(hall, 1)
    assert answer["type"] == "error" and "id" in answer["errors"] and "id" not in answer


def test_an_attendee_is_present_while_connected_and_gone_when_it_leaves(server: Server, clients: Clients) -> None:
    """Presence is kept in the database, so that every process knows who is in a room, not only its own."""
    tender = server.sql("SELECT id FROM tenders WHERE reference = $1", QUIET)
    supervisor = server.sql("SELECT id FROM users WHERE login = 'supervisor1'")
    present = "SELECT array_agg(user_id) FROM room_presence WHERE room = $1"
    with _hall(server, clients, QUIET, "supervisor1") as hall:
        hall.send("{}")  # answered once the attendee is recorded: its presence is there by then
        _answers(hall, 1)
        assert server.sql(present, hall_room(tender)) == [supervisor]
    deadline = time.monotonic() + 10
    while server.sql(present, hall_room(tender)) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.sql(present, hall_room(tender)) is None
