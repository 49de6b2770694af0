"""The transparency log on a real PostgreSQL: appending in batches, tiles and bundles, checkpoints, proofs."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Database
from bidding.identity import PLATFORM
from bidding.log import model, repo, tree
from bidding.settings import Settings, SettingsError
from crypto import merkle, note, tiles


@pytest.fixture
def key(db: Database, tmp_path: Path) -> tree.LogKey:
    """The log key (and, through ``db``, the test's connection with its JSON codec)."""
    return tree.load_log_key(Settings(data_dir=tmp_path, log_origin="bids.example.org/log"))


async def _events(connection: asyncpg.Connection, count: int, action: str = "tender.published") -> list[int]:
    ids = []
    for number in range(count):
        recorded = event(PLATFORM, "platform", action, f"tender:{number}", {"number": number})
        ids.append(await audit_repo.insert_event(connection, recorded))
    return ids


async def _stored_entries(connection: asyncpg.Connection, size: int) -> list[bytes]:
    entries: list[bytes] = []
    for index in range(0, size, tiles.TILE_WIDTH):
        stored = await repo.select_bundle(connection, index // tiles.TILE_WIDTH)
        assert stored is not None
        entries += tiles.bundle_entries(stored[1], stored[0])
    return entries


async def test_the_first_run_signs_the_empty_tree(connection: asyncpg.Connection, key: tree.LogKey) -> None:
    checkpoint = await tree.sequence(connection, key)
    assert checkpoint is not None and checkpoint.size == 0 and checkpoint.root == merkle.EMPTY_ROOT
    assert await tree.sequence(connection, key) is None
    opened, _ = note.open_checkpoint(checkpoint.note, "bids.example.org/log", [key.signer.verifier()])
    assert opened.size == 0


async def test_batches_append_in_order_across_tile_boundaries(connection: asyncpg.Connection, key: tree.LogKey) -> None:
    await tree.sequence(connection, key)
    ids = await _events(connection, 600)
    sizes = []
    for limit in (1, 254, 1, 1, 300, 1000):
        checkpoint = await tree.sequence(connection, key, limit=limit)
        assert checkpoint is not None
        sizes.append(checkpoint.size)
    assert sizes == [1, 255, 256, 257, 557, 600]
    indexes = await connection.fetch("SELECT event_id, log_index FROM log_entries ORDER BY event_id")
    assert [(row["event_id"], row["log_index"]) for row in indexes] == list(zip(ids, range(600), strict=True))
    entries = await _stored_entries(connection, 600)
    expected = [model.log_entry(e) for e in [await repo.select_stored_event(connection, i) for i in ids] if e]
    assert entries == expected
    memory = merkle.MemoryHashStore(merkle.leaf_hash(entry) for entry in entries)
    assert checkpoint.root == memory.root()
    for size in sizes:
        assert await tree.tree_root(connection, size) == memory.root(size)
    for index in (0, 255, 256, 599):
        proof = await tree.inclusion_proof(connection, index, 600)
        merkle.verify_inclusion(merkle.leaf_hash(entries[index]), index, 600, proof, checkpoint.root)
    proof = await tree.consistency_proof(connection, 257, 600)
    merkle.verify_consistency(257, 600, memory.root(257), memory.root(600), proof)


async def test_a_receipt_proves_an_event_offline(connection: asyncpg.Connection, key: tree.LogKey) -> None:
    [event_id] = await _events(connection, 1)
    await _events(connection, 40)
    checkpoint = await tree.sequence(connection, key)
    assert checkpoint is not None
    stored = await repo.select_stored_event(connection, event_id)
    assert stored is not None
    receipt = await tree.receipt(connection, stored, checkpoint)
    parsed = note.parse_unverified_log_proof(receipt)
    assert parsed.unverified_extra == model.log_entry(stored)
    proven = note.verify_log_proof(
        receipt, merkle.leaf_hash(parsed.unverified_extra), key.origin, key.signer.verifier()
    )
    assert proven.index == stored.log_index == 0


async def test_entries_show_no_one_and_sealed_ones_show_nothing_but_the_time(
    connection: asyncpg.Connection, key: tree.LogKey
) -> None:
    [public] = await _events(connection, 1)
    [sealed] = await _events(connection, 1, action="tender.registered")
    await tree.sequence(connection, key)
    for event_id in (public, sealed):
        stored = await repo.select_stored_event(connection, event_id)
        assert stored is not None
        entry = json.loads(await tree.entry_at(connection, stored.log_index or 0))
        assert entry["private"] == model.commitment(model.private_record(stored))
        assert "actor_user_id" not in json.dumps(entry) and stored.salt.hex() not in json.dumps(entry)
    assert set(json.loads(await tree.entry_at(connection, 1))) == {"v", "at", "sealed", "private"}
    assert json.loads(await tree.entry_at(connection, 0))["action"] == "tender.published"


async def test_a_log_key_keeps_its_origin(tmp_path: Path) -> None:
    made = tree.load_log_key(Settings(data_dir=tmp_path, public_url="https://bids.example.org"))
    assert made.origin == "bids.example.org/log"
    again = tree.load_log_key(Settings(data_dir=tmp_path, public_url="https://elsewhere.example"))
    assert again.verifier_key == made.verifier_key
    with pytest.raises(SettingsError):
        tree.load_log_key(Settings(data_dir=tmp_path, log_origin="other.example/log"))
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(SettingsError):
        tree.load_log_key(Settings(data_dir=tmp_path, log_key_file=tmp_path / "bad.key"))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.integers(1, 130), min_size=1, max_size=5))
async def test_any_batching_gives_the_same_tree(
    db: Database, connection: asyncpg.Connection, key: tree.LogKey, batches: list[int]
) -> None:
    """Each example runs in a savepoint undone at its end."""
    with pytest.raises(_Undo):
        async with db.transaction() as inner:
            await _sequence_batches(inner, key, batches)


async def _sequence_batches(inner: asyncpg.Connection, key: tree.LogKey, batches: list[int]) -> None:
    await tree.sequence(inner, key)
    total = 0
    for count in batches:
        await _events(inner, count)
        total += count
        checkpoint = await tree.sequence(inner, key)
        assert checkpoint is not None and checkpoint.size == total
    entries = await _stored_entries(inner, total)
    assert checkpoint.root == merkle.root_hash([merkle.leaf_hash(entry) for entry in entries])
    raise _Undo()


class _Undo(Exception):
    pass


#: Events as the domains write them: public and sealed actions, subjects, roles, and details of any JSON shape
#: (text from all of Unicode but NUL, which PostgreSQL's text and jsonb cannot hold; integers; nesting), and
#: whether the log is sequenced right after each.
_TEXT = st.characters(codec="utf-8", exclude_characters="\x00")
_DETAILS = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(_TEXT, max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(_TEXT, max_size=6), children, max_size=3),
    max_leaves=8,
)
_EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["tender.published", "tender.amended", "tender.registered", "user.signed_in", "bid.sealed"]),
        st.sampled_from(["tender:1", "tender:22", "user:3", "organisation:4"]),
        st.sampled_from(["agency_staff", "bidder", "self", "platform"]),
        st.dictionaries(st.text(_TEXT, min_size=1, max_size=8), _DETAILS, max_size=4),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=_EVENTS)
async def test_a_random_stream_of_events_is_logged_in_order_and_each_receipt_proves_its_entry(
    db: Database, connection: asyncpg.Connection, key: tree.LogKey, events: list[tuple[str, str, str, dict, int]]
) -> None:
    """Events written and sequenced in any interleaving: the bundles hold each event's entry in the order written,
    every checkpoint is of the entries so far, and each event's receipt against the last one verifies offline."""
    with pytest.raises(_Undo):
        async with db.transaction() as inner:
            await tree.sequence(inner, key)
            ids = []
            for action, subject, role, details, sequence_after in events:
                ids.append(await audit_repo.insert_event(inner, event(PLATFORM, role, action, subject, details)))
                if sequence_after == 0:
                    await tree.sequence(inner, key)
            checkpoint = await tree.sequence(inner, key) or await repo.select_latest_checkpoint(inner)
            assert checkpoint is not None and checkpoint.size == len(ids)
            stored = [await repo.select_stored_event(inner, event_id) for event_id in ids]
            assert [item.log_index for item in stored if item] == list(range(len(ids)))
            entries = await _stored_entries(inner, len(ids))
            assert entries == [model.log_entry(item) for item in stored if item]
            assert checkpoint.root == merkle.root_hash([merkle.leaf_hash(entry) for entry in entries])
            for item, entry in zip(stored, entries, strict=True):
                assert item is not None
                proof = note.verify_log_proof(
                    await tree.receipt(inner, item, checkpoint),
                    merkle.leaf_hash(entry),
                    key.origin,
                    key.signer.verifier(),
                )
                assert proof.index == item.log_index
                sealed = item.action in model.SEALED_ACTIONS
                assert set(json.loads(entry)) == (
                    {"v", "at", "sealed", "private"}
                    if sealed
                    else {"v", "at", "action", "subject", "role", "details", "private"}
                )
            raise _Undo()
