"""The witness's state file: strict JSON, replaced whole and durably, read-decide-write under one lock."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from bidding.witness.model import EMPTY_TREE, TreeHead
from bidding.witness.state import StateError, StateFile, decode_state, encode_state
from crypto import merkle

ROOT = merkle.leaf_hash(b"root")


def test_a_missing_file_is_an_empty_state(tmp_path: Path) -> None:
    assert StateFile(tmp_path / "state.json").read() == {}


def test_create_writes_an_empty_state_once(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json")
    state.create()
    assert json.loads(state.path.read_text()) == {}
    state.update("log.example/a", lambda latest: TreeHead(3, ROOT))
    state.create()
    assert state.read() == {"log.example/a": TreeHead(3, ROOT)}


def test_an_update_keeps_the_decided_tree_head_in_a_private_file(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json")
    seen = []

    def decide(latest: TreeHead) -> TreeHead:
        seen.append(latest)
        return TreeHead(latest.size + 5, ROOT)

    assert state.update("log.example/a", decide) == TreeHead(5, ROOT)
    assert state.update("log.example/a", decide) == TreeHead(10, ROOT)
    state.update("log.example/b", lambda latest: EMPTY_TREE)
    assert seen == [EMPTY_TREE, TreeHead(5, ROOT)]
    assert json.loads(state.path.read_text()) == {
        "log.example/a": {"size": 10, "root": "PAb5plclr2BSYfY2ZyyWINQJcx2JpFHXRV/pxK4WeCk="},
        "log.example/b": {"size": 0, "root": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
    }
    assert state.path.stat().st_mode & 0o777 == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json", "state.json.lock"]


def test_nothing_is_written_when_the_decision_refuses(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json")
    state.update("log.example/a", lambda latest: TreeHead(7, ROOT))
    before = state.path.read_bytes()

    def refuse(latest: TreeHead) -> TreeHead:
        raise LookupError("refused")

    with pytest.raises(LookupError):
        state.update("log.example/a", refuse)
    assert state.path.read_bytes() == before


def test_concurrent_updates_are_serialised_across_state_objects(tmp_path: Path) -> None:
    """The tlog-witness race: each decision sees the one before it, even from another open file (another process)."""
    path = tmp_path / "state.json"

    def slow_increment(latest: TreeHead) -> TreeHead:
        time.sleep(0.01)  # wide enough a window for a lost update, without the lock
        return TreeHead(latest.size + 1, ROOT)

    threads = [
        threading.Thread(target=lambda: StateFile(path).update("log.example/a", slow_increment)) for _ in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert StateFile(path).read() == {"log.example/a": TreeHead(12, ROOT)}


def test_encoding_round_trips() -> None:
    heads = {"log.example/b": TreeHead(2**64 - 1, ROOT), "日志/a": EMPTY_TREE}
    assert decode_state(encode_state(heads)) == heads


@pytest.mark.parametrize(
    "contents",
    [
        b"",
        b"not json",
        b"\xff",
        b"[]",
        b'{"log": null}',
        b'{"log": {"size": 1}}',
        b'{"log": {"size": 1, "root": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "extra": 1}}',
        b'{"log": {"size": -1, "root": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}}',
        b'{"log": {"size": 18446744073709551616, "root": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}}',
        b'{"log": {"size": true, "root": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}}',
        b'{"log": {"size": 1.0, "root": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}}',
        b'{"log": {"size": 1, "root": "not base64!"}}',
        b'{"log": {"size": 1, "root": "AAAA"}}',
        b'{"log": {"size": 1, "root": 5}}',
    ],
)
def test_a_malformed_state_is_refused_not_taken_for_empty(tmp_path: Path, contents: bytes) -> None:
    state = StateFile(tmp_path / "state.json")
    state.path.write_bytes(contents)
    with pytest.raises(StateError):
        state.read()
    with pytest.raises(StateError):
        state.update("log", lambda latest: latest)
    assert state.path.read_bytes() == contents


def test_a_state_in_a_missing_folder_cannot_be_created(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="cannot open"):
        StateFile(tmp_path / "missing" / "state.json").create()


def test_an_unreadable_state_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "state.json").mkdir()
    with pytest.raises(StateError, match="cannot read"):
        StateFile(tmp_path / "state.json").read()


def test_a_failed_write_leaves_no_draft_behind(tmp_path: Path) -> None:
    (tmp_path / "state.json").mkdir()  # a rename onto a folder fails
    with pytest.raises(StateError, match="cannot write"):
        StateFile(tmp_path / "state.json")._write(b"{}\n")
    assert [path.name for path in tmp_path.iterdir()] == ["state.json"]
