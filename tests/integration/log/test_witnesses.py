"""The log side of C2SP tlog-witness (``sequencer.Witnesses``) against the real witness application, over HTTP.

The witness is :mod:`bidding.witness` itself, reached through httpx's ASGI transport: the requests the log builds
from its stored tiles are checked by the code an outside party runs, and its answers read back as the log reads
any witness's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Database
from bidding.identity import PLATFORM
from bidding.log import repo, sequencer, tree
from bidding.settings import Settings
from bidding.settings import Witness as WitnessSetting
from bidding.witness.http import WitnessApplication
from bidding.witness.model import TreeHead
from bidding.witness.service import Witness, group_log_keys
from bidding.witness.state import StateFile
from crypto import note

WITNESS_URL = "http://witness.test"


@pytest.fixture
def key(db: Database, tmp_path: Path) -> tree.LogKey:
    """The log key (and, through ``db``, the test's connection with its JSON codec)."""
    return tree.load_log_key(Settings(data_dir=tmp_path, log_origin="bids.example.org/log"))


def _new_witness(tmp_path: Path, log_keys: list[note.Verifier], name: str = "witness.example/w1") -> Witness:
    signer = note.parse_signer_key(note.generate_signer_key(name, note.COSIGNATURE_V1))
    assert isinstance(signer, note.CosignatureSigner)
    return Witness(signer, group_log_keys(log_keys), StateFile(tmp_path / f"{name.replace('/', '-')}.json"))


@pytest.fixture
def witness(tmp_path: Path, key: tree.LogKey) -> Witness:
    return _new_witness(tmp_path, [key.signer.verifier()])


@pytest.fixture
async def client(witness: Witness) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=WitnessApplication(witness))) as client:
        yield client


def _witnesses(key: tree.LogKey, client: httpx.AsyncClient, *configured: tuple[str, Witness]) -> sequencer.Witnesses:
    settings = Settings(witnesses=tuple(WitnessSetting(url, witness.verifier_key) for url, witness in configured))
    return sequencer.Witnesses(settings, key, client)


async def _append(connection: asyncpg.Connection, key: tree.LogKey, count: int) -> repo.StoredCheckpoint:
    for number in range(count):
        await audit_repo.insert_event(
            connection, event(PLATFORM, "platform", "tender.published", f"tender:{number}", {})
        )
    checkpoint = await tree.sequence(connection, key)
    assert checkpoint is not None
    return checkpoint


async def _latest(connection: asyncpg.Connection) -> repo.StoredCheckpoint:
    latest = await repo.select_latest_checkpoint(connection)
    assert latest is not None
    return latest


async def test_the_newest_checkpoint_is_cosigned_and_each_next_one_proven_from_it(
    connection: asyncpg.Connection, key: tree.LogKey, witness: Witness, client: httpx.AsyncClient
) -> None:
    witnesses = _witnesses(key, client, (WITNESS_URL, witness))
    await tree.sequence(connection, key)
    for count in (0, 3, 1, 300):
        checkpoint = await _append(connection, key, count) if count else await _latest(connection)
        await witnesses.cosign(connection)
        stored = await _latest(connection)
        assert stored.size == checkpoint.size and stored.cosignatures == 1
        opened, signed = note.open_checkpoint(
            stored.note, key.origin, [key.signer.verifier(), witness.signer.verifier()]
        )
        assert {signature.name for signature in signed.signatures} == {key.origin, "witness.example/w1"}
        assert witness.state.read() == {key.origin: TreeHead(checkpoint.size, checkpoint.root)}
        assert await repo.select_witness_sizes(connection) == {"witness.example/w1": checkpoint.size}
        assert opened.size == checkpoint.size
    # Nothing new: the witness is not asked again.
    before = witness.state.path.stat().st_mtime_ns
    await witnesses.cosign(connection)
    assert witness.state.path.stat().st_mtime_ns == before


async def test_a_log_that_forgot_what_the_witness_cosigned_learns_it_from_the_409(
    connection: asyncpg.Connection, key: tree.LogKey, witness: Witness, client: httpx.AsyncClient
) -> None:
    witnesses = _witnesses(key, client, (WITNESS_URL, witness))
    await tree.sequence(connection, key)
    await _append(connection, key, 5)
    await witnesses.cosign(connection)
    await connection.execute("DELETE FROM log_witnesses")
    checkpoint = await _append(connection, key, 7)
    await witnesses.cosign(connection)
    assert (await _latest(connection)).cosignatures == 1
    assert witness.state.read()[key.origin].size == checkpoint.size == 12


async def test_a_quorum_counts_each_witness_once(
    connection: asyncpg.Connection, key: tree.LogKey, tmp_path: Path, witness: Witness
) -> None:
    second = _new_witness(tmp_path, [key.signer.verifier()], "witness.example/w2")
    routes = {"w1.test": WitnessApplication(witness), "w2.test": WitnessApplication(second)}

    async def route(scope: Any, receive: Any, send: Any) -> None:
        host = dict(scope["headers"])[b"host"].decode()
        await routes[host](scope, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=route)) as client:
        witnesses = _witnesses(key, client, ("http://w1.test", witness), ("http://w2.test", second))
        await _append(connection, key, 4)
        await witnesses.cosign(connection)
    stored = await _latest(connection)
    assert stored.cosignatures == 2
    assert (await repo.select_latest_checkpoint(connection, quorum=2)) == stored


async def test_a_witness_that_is_down_leaves_the_checkpoint_uncosigned_and_rests(
    connection: asyncpg.Connection, key: tree.LogKey, witness: Witness, unused_tcp_port: int
) -> None:
    async with httpx.AsyncClient() as client:
        witnesses = _witnesses(key, client, (f"http://127.0.0.1:{unused_tcp_port}", witness))
        await _append(connection, key, 2)
        await witnesses.cosign(connection)
        assert (await _latest(connection)).cosignatures == 0
        assert witnesses.witnesses[0].resting_until > 0
    assert await repo.select_latest_checkpoint(connection, quorum=1) is None


async def test_a_witness_that_does_not_follow_this_key_cosigns_nothing(
    connection: asyncpg.Connection, key: tree.LogKey, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A witness trusting another key for this origin answers 403; the log records nothing for it."""
    other_key = note.parse_signer_key(note.generate_signer_key(key.origin))
    stranger = _new_witness(tmp_path, [other_key.verifier()])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=WitnessApplication(stranger))) as client:
        witnesses = _witnesses(key, client, (WITNESS_URL, stranger))
        await _append(connection, key, 2)
        await witnesses.cosign(connection)
    assert (await _latest(connection)).cosignatures == 0
    assert "did not cosign size 2: 403" in caplog.text


async def test_a_witness_that_saw_another_tree_is_reported_as_a_fork(
    connection: asyncpg.Connection, key: tree.LogKey, witness: Witness, client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    witnesses = _witnesses(key, client, (WITNESS_URL, witness))
    checkpoint = await _append(connection, key, 3)
    witness.state.update(key.origin, lambda latest: TreeHead(checkpoint.size, bytes(32)))
    await repo.set_witness_size(connection, "witness.example/w1", checkpoint.size)
    await connection.execute("UPDATE log_checkpoints SET cosignatures = 0")
    await witnesses.cosign(connection)
    assert (await _latest(connection)).cosignatures == 0
    assert "refuses size 3 as inconsistent" in caplog.text


async def _endless(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"\xe2\x80\x94 x " + b"A" * sequencer.MAX_WITNESS_ANSWER})


async def _slow(scope: Any, receive: Any, send: Any) -> None:
    await asyncio.sleep(60)


async def _size_without_its_type(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 409, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"0\n"})


@pytest.mark.parametrize("answer", [_endless, _slow, _size_without_its_type])
async def test_a_misbehaving_witness_neither_holds_up_nor_misleads_the_log(
    connection: asyncpg.Connection,
    key: tree.LogKey,
    witness: Witness,
    answer: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sequencer, "WITNESS_TIMEOUT", 0.2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=answer)) as client:
        witnesses = _witnesses(key, client, (WITNESS_URL, witness))
        await _append(connection, key, 2)
        async with asyncio.timeout(5):
            await witnesses.cosign(connection)
    assert (await _latest(connection)).cosignatures == 0
    assert await repo.select_witness_sizes(connection) == {}
