"""A platform process killed at each step of sequencing the log, then started again: nothing lost, nothing twice.

Each crash point of :func:`bidding.log.tree.sequence` is reached by a real ``bidding serve`` process started with
``BIDDING_CRASH_AT`` (see :mod:`bidding.faults`), which kills its worker with SIGKILL there. A backlog of events
waits in the database when it starts, so that its first batch appends across a tile boundary. The server is then
started again as an operator would, and the log is checked from the outside (``bidding log verify`` with a
checkpoint saved before the crash) and from the inside (every row, every stored entry, every checkpoint).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bidding.db import Database
from bidding.log import model, repo
from crypto import merkle, tiles
from tests.conftest import PostgresServer, run_sync
from tests.e2e.test_log import Platform

#: Every crash point of a batch, in the order a batch reaches them.
CRASH_POINTS = [
    "sequencer.read",
    "sequencer.tiles",
    "sequencer.bundles",
    "sequencer.indexes",
    "sequencer.checkpoint",
    "sequencer.committed",
]
#: Events waiting when the crashing process starts: its first batch crosses from one tile into the next.
BACKLOG = 300
#: How long the crashing process has to reach its crash point (it does within a second of starting).
CRASH_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def platform(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One platform for every crash point in turn: each test starts from the log the one before left."""
    made = Platform(postgres.create_database("bidding_e2e_log_crash"), tmp_path_factory.mktemp("log-crash"))
    made.start()
    made.insert_events(40)
    made.wait_sequenced()
    yield made
    made.kill()


async def _check_stored_log(database_url: str) -> int:
    """Check the log as stored against the events it was made from; return its size.

    Every event has one index, the indexes run 0 to n-1, the bundles hold in that order exactly the entries the
    events' rows rebuild into, and every checkpoint ever signed is of a prefix of those entries.
    """
    connection = await Database.connect_one(database_url)
    try:
        rows = await connection.fetch(
            """SELECT e.id, l.log_index FROM audit_events e LEFT JOIN log_entries l ON l.event_id = e.id
               ORDER BY l.log_index, e.id"""
        )
        assert [row["log_index"] for row in rows] == list(range(len(rows))), "a gap, a duplicate or a missing index"
        size = len(rows)
        bundles = await connection.fetch("SELECT index, width, entries FROM log_bundles ORDER BY index")
        assert [bundle["index"] for bundle in bundles] == list(range((size + 255) // 256))
        entries: list[bytes] = []
        for bundle in bundles:
            entries += tiles.bundle_entries(bytes(bundle["entries"]), bundle["width"])
        rebuilt = []
        for row in rows:
            stored = await repo.select_stored_event(connection, row["id"])
            assert stored is not None
            rebuilt.append(model.log_entry(stored))
        assert entries == rebuilt, "the bundles do not hold the events' entries in log order"
        leaves = [merkle.leaf_hash(entry) for entry in entries]
        checkpoints = await connection.fetch("SELECT size, root FROM log_checkpoints ORDER BY size")
        assert checkpoints[-1]["size"] == size
        for checkpoint in checkpoints:
            assert bytes(checkpoint["root"]) == merkle.root_hash(leaves[: checkpoint["size"]]), checkpoint["size"]
        return size
    finally:
        await connection.close()


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_crash_while_sequencing_leaves_the_log_whole_and_the_restart_completes_it(
    platform: Platform, tmp_path: Path, point: str
) -> None:
    if not platform.running:
        platform.start()
    before_size = platform.wait_sequenced()
    before = tmp_path / "before.checkpoint"
    saved = platform.verify("--save", str(before))
    assert saved.returncode == 0, saved.stderr
    platform.stop()
    platform.insert_events(BACKLOG, action="test.backlog")

    marker = tmp_path / "crashed"
    process = platform.start(crash_at=f"{point}@{marker}")
    _wait_for(lambda: marker.exists() or process.poll() is not None, CRASH_TIMEOUT, f"the crash at {point}")
    assert marker.exists(), f"the server exited before reaching {point}:\n{platform.log.read_text()}"
    # The worker killed itself; the server around it exits (or is killed, group and all, if it does not).
    assert platform.wait_for_exit() != 0

    # The batch is all in or all out: in only when the crash came after the commit.
    committed = point == "sequencer.committed"
    assert platform.sql("SELECT max(size) FROM log_checkpoints") == before_size + (BACKLOG if committed else 0)
    assert platform.sql("SELECT count(*) FROM log_queue") == (0 if committed else BACKLOG)

    platform.start()
    platform.insert_events(3, action="test.after_restart")
    size = platform.wait_sequenced()
    assert size == before_size + BACKLOG + 3
    verified = platform.verify("--checkpoint", str(before))
    assert verified.returncode == 0, verified.stderr
    assert f": {size} entries verified" in verified.stdout
    assert run_sync(lambda: _check_stored_log(platform.database_url)) == size
