"""The opening hall's websocket under bad input: a handshake it cannot read is closed with 4400 and a reason; a
message it cannot read gets an error reply and the connection stays open; nothing is a server error (the
framework's bare 4500), and the server logs none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from tests.e2e.conftest import Clients, Server

#: Anything JSON can say, nested a little.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
#: Messages shaped like the hall's, with every field free.
HALL_LIKE = st.fixed_dictionaries(
    {"type": st.sampled_from(["share", "confirm", "object", "answer", "file_key", "x", ""])},
    optional={
        # Never the id of a real bid (small numbers): the shared demo hall's lines stay as they are.
        "bid": st.integers(min_value=10**12, max_value=2**70) | st.integers(max_value=0) | st.text() | st.none(),
        "text": JSON_VALUES,
        "share": JSON_VALUES,
        "file_key": st.text(max_size=70) | JSON_VALUES,
    },
)


def _hall_url(server: Server) -> str:
    tender = server.sql("SELECT id FROM tenders WHERE reference = 'SFJY-GC-2026-002'")
    return server.url.replace("http://", "ws://") + f"/ws/tenders/{tender}/opening"


@pytest.fixture
def hall(server: Server, clients: Clients) -> Iterator[ClientConnection]:
    """The opened demo tender's hall, as its bidder bidder1, with the history already read."""
    token = clients.token_for("bidder1")
    with ws_connect(
        _hall_url(server), additional_headers={"Authorization": f"Bearer {token}"}, max_size=None
    ) as connection:
        try:
            while True:
                connection.recv(timeout=1)
        except TimeoutError:
            pass
        yield connection


def _answer(hall: ClientConnection, message: str | bytes) -> dict[str, Any]:
    """The hall's reply to one message (its own numbered messages, which carry ``seq``, are skipped)."""
    hall.send(message)
    while True:
        reply: dict[str, Any] = json.loads(hall.recv(timeout=10))
        if "seq" not in reply:
            return reply


@pytest.mark.parametrize("after", ["²", "9" * 5000, "-1", "1.5", str(2**63)])
def test_an_after_that_is_not_a_message_number_closes_with_4400(server: Server, clients: Clients, after: str) -> None:
    """Regression: ``?after=²`` and ``?after=`` with 5,000 digits closed with 4500 and logged nothing."""
    token = clients.token_for("bidder1")
    with (
        ws_connect(
            f"{_hall_url(server)}?after={after}", additional_headers={"Authorization": f"Bearer {token}"}
        ) as connection,
        pytest.raises(ConnectionClosed) as closed,
    ):
        connection.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    assert "after" in closed.value.rcvd.reason


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ('{"type": "confirm", "bid": 9223372036854775808}', "bid"),
        ('{"type": "file_key", "bid": 1, "file_key": "é"}', "file_key"),
        ("[" * 30_000 + "]" * 30_000, ""),
        ('{"type": "confirm", "bid": true}', "bid"),
        ('{"type": "share", "share": "\\u0000"}', "share"),
        ('{"bid": 1}', "type"),
    ],
)
def test_a_message_the_hall_cannot_read_gets_an_error_and_the_connection_stays(
    hall: ClientConnection, message: str, field: str
) -> None:
    """Regression: each of these closed the connection with 4500."""
    reply = _answer(hall, message)
    assert reply["type"] == "error" and field in reply.get("errors", {}), reply
    assert _answer(hall, "{}")["type"] == "error"


@pytest.mark.parametrize("message", ["not json", "", b"\x00\x01binary", json.dumps("x" * 70_000)])
def test_malformed_frames_get_an_error(hall: ClientConnection, message: str | bytes) -> None:
    assert _answer(hall, message)["type"] == "error"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(message=HALL_LIKE | st.lists(JSON_VALUES) | st.text())
def test_whatever_json_an_attendee_sends_gets_an_answer(hall: ClientConnection, message: Any) -> None:
    """Random JSON, and random messages shaped like the hall's: each is answered (``ok`` or ``error``), never
    with a closed connection."""
    reply = _answer(hall, json.dumps(message))
    assert reply["type"] in ("ok", "error"), reply


def test_the_server_logged_no_failure_of_the_hall(server: Server) -> None:
    assert server.log is not None
    assert "failed: opening hall" not in server.log.read_text()
