"""The witness's use case: cosign only after the new tree head is on disk, one decision at a time."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from bidding.witness.model import (
    InconsistentProof,
    RootConflict,
    StaleOldSize,
    TreeHead,
    UntrustedCheckpoint,
    WitnessError,
)
from bidding.witness.service import Witness, group_log_keys
from bidding.witness.state import StateError, StateFile
from crypto import note
from tests.witnessing import SampleLog

LOG = SampleLog("log.example/service")


def _witness(tmp_path: Path, *logs: SampleLog) -> Witness:
    signer = note.parse_signer_key(note.generate_signer_key("witness.example/w1", note.COSIGNATURE_V1))
    assert isinstance(signer, note.CosignatureSigner)
    keys = group_log_keys([log.verifier for log in logs or (LOG,)])
    return Witness(signer, keys, StateFile(tmp_path / "state.json"))


def _cosigned(witness: Witness, signed: bytes, line: bytes) -> note.Note:
    """The checkpoint with the witness's answer appended, opened with the witness's key: what a log does."""
    return note.open_note(signed + line, [witness.signer.verifier()])


async def test_the_answer_is_a_timestamped_cosignature_of_the_checkpoint(tmp_path: Path) -> None:
    witness = _witness(tmp_path)
    signed = LOG.checkpoint(10)
    before = int(time.time())
    line = await witness.add_checkpoint(LOG.body(0, 10, signed=signed))
    assert line.startswith("\N{EM DASH} witness.example/w1 ".encode()) and line.endswith(b"\n")
    assert line.count(b"\n") == 1
    [cosignature] = _cosigned(witness, signed, line).signatures
    assert before <= note.cosignature_timestamp(cosignature) <= time.time()
    assert witness.state.read() == {LOG.origin: TreeHead(10, LOG.root(10))}


async def test_each_log_has_its_own_tree_head(tmp_path: Path) -> None:
    other = SampleLog("log.example/other")
    witness = _witness(tmp_path, LOG, other)
    await witness.add_checkpoint(LOG.body(0, 10))
    await witness.add_checkpoint(other.body(0, 3))
    await witness.add_checkpoint(LOG.body(10, 12))
    assert witness.state.read() == {LOG.origin: TreeHead(12, LOG.root(12)), other.origin: TreeHead(3, other.root(3))}


async def test_refused_requests_change_nothing(tmp_path: Path) -> None:
    witness = _witness(tmp_path)
    await witness.add_checkpoint(LOG.body(0, 10))
    kept = witness.state.path.read_bytes()
    fork = SampleLog(LOG.origin, salt="fork")
    fork.signer = LOG.signer
    forger = SampleLog(LOG.origin)
    refused: list[tuple[bytes, type[WitnessError]]] = [
        (LOG.body(0, 20), StaleOldSize),
        (LOG.body(10, 20, proof=LOG.proof(9, 20)), InconsistentProof),
        (fork.body(10, 10), RootConflict),
        (fork.body(10, 20, proof=LOG.proof(10, 20)), InconsistentProof),
        (forger.body(10, 20), UntrustedCheckpoint),
    ]
    for body, error in refused:
        with pytest.raises(error):
            await witness.add_checkpoint(body)
    assert witness.state.path.read_bytes() == kept


async def test_a_fork_is_logged_as_evidence(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    witness = _witness(tmp_path)
    await witness.add_checkpoint(LOG.body(0, 10))
    fork = SampleLog(LOG.origin, salt="fork")
    fork.signer = LOG.signer
    body = fork.body(10, 10)
    with caplog.at_level(logging.WARNING, "bidding.witness.service"), pytest.raises(RootConflict):
        await witness.add_checkpoint(body)
    assert body.decode() in caplog.text


async def test_racing_requests_from_one_old_size_are_cosigned_once(tmp_path: Path) -> None:
    """tlog-witness's race: A (N → N+1) and B (N → N+K) are both consistent with N; only the first may pass."""
    witness = _witness(tmp_path)
    await witness.add_checkpoint(LOG.body(0, 100))
    sizes = [101, 500, 102, 900, 100]
    results = await asyncio.gather(
        *(witness.add_checkpoint(LOG.body(100, size)) for size in sizes), return_exceptions=True
    )
    accepted = [size for size, result in zip(sizes, results, strict=True) if isinstance(result, bytes)]
    assert len(accepted) == 1
    winner = witness.state.read()[LOG.origin]
    assert winner == TreeHead(accepted[0], LOG.root(accepted[0]))
    for result in results:
        if not isinstance(result, bytes):
            assert isinstance(result, StaleOldSize) and result.size == winner.size


async def test_racing_chained_requests_never_roll_back(tmp_path: Path) -> None:
    """Requests each extending the one before, submitted all at once: whatever order they run in, the tree head
    only grows, and each cosigned checkpoint extends the one cosigned before it."""
    witness = _witness(tmp_path)
    steps = list(range(0, 300, 7))
    bodies = [LOG.body(old, new) for old, new in zip(steps, steps[1:], strict=False)]
    for _ in range(5):
        await asyncio.gather(*(witness.add_checkpoint(body) for body in bodies), return_exceptions=True)
    assert witness.state.read()[LOG.origin] == TreeHead(steps[-1], LOG.root(steps[-1]))


async def test_a_corrupt_state_cosigns_nothing(tmp_path: Path) -> None:
    witness = _witness(tmp_path)
    witness.state.path.write_text("{")
    with pytest.raises(StateError):
        await witness.add_checkpoint(LOG.body(0, 10))


def test_log_keys_are_grouped_by_origin_once_each() -> None:
    rotated = SampleLog(LOG.origin)
    other = SampleLog("log.example/other")
    logs = group_log_keys([LOG.verifier, rotated.verifier, LOG.verifier, other.verifier])
    assert {origin: [key.verifier_key() for key in keys] for origin, keys in logs.items()} == {
        LOG.origin: [LOG.verifier_key, rotated.verifier_key],
        other.origin: [other.verifier_key],
    }


def test_a_witness_key_is_not_a_log_key() -> None:
    cosigner = note.parse_signer_key(note.generate_signer_key("witness.example/w1", note.COSIGNATURE_V1))
    with pytest.raises(ValueError, match="not a log's Ed25519 key"):
        group_log_keys([cosigner.verifier()])


def test_two_keys_of_a_log_with_one_key_id_are_refused() -> None:
    """The verifier of another public key stated under the same name and key ID: no signature tells them apart."""
    impostor = SampleLog(LOG.origin).verifier
    impostor.key_id = LOG.verifier.key_id
    with pytest.raises(ValueError, match="key ID"):
        group_log_keys([LOG.verifier, impostor])
