"""``POST /add-checkpoint`` on the wire: every status of tlog-witness, the exact 409 body and type, the body limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bidding.witness.http import WitnessApplication
from bidding.witness.model import MAX_BODY_SIZE
from bidding.witness.service import Witness, group_log_keys
from bidding.witness.state import StateFile
from crypto import note
from tests.witnessing import SampleLog

LOG = SampleLog("log.example/http")
URL = "http://witness.test/add-checkpoint"


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    signer = note.parse_signer_key(note.generate_signer_key("witness.example/w1", note.COSIGNATURE_V1))
    assert isinstance(signer, note.CosignatureSigner)
    return Witness(signer, group_log_keys([LOG.verifier]), StateFile(tmp_path / "state.json"))


@pytest.fixture
async def client(witness: Witness) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=WitnessApplication(witness))
    async with httpx.AsyncClient(transport=transport) as client:
        yield client


async def test_a_cosignature_is_answered_with_200(client: httpx.AsyncClient, witness: Witness) -> None:
    signed = LOG.checkpoint(10)
    response = await client.post(URL, content=LOG.body(0, 10, signed=signed))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith("\N{EM DASH} witness.example/w1 ") and response.text.endswith("\n")
    note.open_note(signed + response.content, [witness.signer.verifier()])


async def test_a_stale_old_size_is_answered_409_with_the_size_as_text_x_tlog_size(client: httpx.AsyncClient) -> None:
    assert (await client.post(URL, content=LOG.body(0, 10))).status_code == 200
    response = await client.post(URL, content=LOG.body(0, 20))
    assert response.status_code == 409
    assert response.headers["content-type"] == "text/x.tlog.size"
    assert response.content == b"10\n"


async def test_each_refusal_has_its_status(client: httpx.AsyncClient) -> None:
    assert (await client.post(URL, content=LOG.body(0, 10))).status_code == 200
    fork = SampleLog(LOG.origin, salt="fork")
    fork.signer = LOG.signer
    cases = {
        400: LOG.body(11, 10, proof=[]),
        403: SampleLog(LOG.origin).body(10, 20),
        404: SampleLog("log.example/unknown").body(0, 20),
        422: LOG.body(10, 20, proof=LOG.proof(9, 20)),
    }
    for status, body in cases.items():
        response = await client.post(URL, content=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
    conflict = await client.post(URL, content=fork.body(10, 10))
    assert conflict.status_code == 409 and conflict.headers["content-type"] == "text/plain; charset=utf-8"
    assert (await client.post(URL, content=b"garbage")).status_code == 400


async def test_a_body_over_the_limit_is_refused_with_413_unread(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, content=b"x" * (MAX_BODY_SIZE + 1))
    assert response.status_code == 413


async def test_a_streamed_body_over_the_limit_is_refused_with_413(witness: Witness) -> None:
    """Without a Content-Length, the body is counted as it comes."""
    chunks = [{"type": "http.request", "body": b"x" * 40_000, "more_body": True}] * 3
    sent = await _call(WitnessApplication(witness), "POST", "/add-checkpoint", chunks)
    assert sent[0]["status"] == 413


async def test_a_body_in_chunks_is_read_whole(witness: Witness) -> None:
    body = LOG.body(0, 10)
    chunks = [
        {"type": "http.request", "body": body[:7], "more_body": True},
        {"type": "http.request", "body": body[7:], "more_body": False},
    ]
    sent = await _call(WitnessApplication(witness), "POST", "/add-checkpoint", chunks)
    assert sent[0]["status"] == 200


async def test_a_client_that_leaves_gets_no_answer_and_nothing_is_cosigned(witness: Witness) -> None:
    chunks = [{"type": "http.request", "body": b"old 0\n", "more_body": True}, {"type": "http.disconnect"}]
    assert await _call(WitnessApplication(witness), "POST", "/add-checkpoint", chunks) == []
    assert witness.state.read() == {}


async def test_other_paths_and_methods_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.post("http://witness.test/", content=LOG.body(0, 1))).status_code == 404
    assert (await client.post("http://witness.test/add-checkpoint/", content=LOG.body(0, 1))).status_code == 404
    response = await client.get(URL)
    assert response.status_code == 405 and response.headers["allow"] == "POST"


async def test_a_corrupt_state_is_answered_with_500(client: httpx.AsyncClient, witness: Witness) -> None:
    witness.state.path.write_text("[]")
    response = await client.post(URL, content=LOG.body(0, 10))
    assert response.status_code == 500


async def test_lifespan_and_websockets(witness: Witness) -> None:
    app = WitnessApplication(witness)
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert [message["type"] for message in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent.clear()
    await app({"type": "websocket", "path": "/add-checkpoint"}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def _call(app: WitnessApplication, method: str, path: str, incoming: list[dict[str, Any]]) -> list[Any]:
    """Call the application as a server would, with these request messages; the response messages it sent."""
    messages = list(incoming)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await app({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
    return sent
