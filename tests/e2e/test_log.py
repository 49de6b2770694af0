"""The transparency log from the outside: a stock client written from the C2SP specifications audits it over HTTP,
``bidding log verify`` finds a changed entry, a changed tile and a log that went back, and receipts prove events.

The stock client below is written from tlog-tiles, tlog-checkpoint, signed-note and RFC 6962 alone, with hashlib,
base64 and ``cryptography``'s Ed25519, so that it shares no mistake with ``crypto/`` or ``bidding/``. Tests that
change the stored log run a platform process of their own (:class:`Platform`) on a database of their own, so that
the shared e2e server's log stays whole.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.conftest import PostgresServer, run_sync
from tests.e2e.conftest import Clients, Server, free_port, run_ceremony, sql, stop, tender_json, wait_until_live

PROBLEM = "application/problem+json"
#: How long a test waits for the sequencer (it appends within a second; the machine may be busy).
SEQUENCER_TIMEOUT = 120.0
#: The log's size once every event is in it under a checkpoint of that size; NULL while some are not.
_SEQUENCED_SIZE = """
    SELECT CASE WHEN NOT EXISTS (SELECT FROM log_queue)
                 AND (SELECT max(size) FROM log_checkpoints) = (SELECT count(*) FROM audit_events)
           THEN (SELECT count(*) FROM audit_events) END"""

# --- A stock client, from the specifications ----------------------------------------------------------------------


class LogRejected(Exception):
    """The log served something a client following the specifications must reject."""


def tile_index_path(index: int) -> str:
    """tlog-tiles: "a non-negative integer encoded into zero-padded 3-digit path elements. All but the last path
    element MUST begin with an x"."""
    groups = [f"{index % 1000:03d}"]
    while index >= 1000:
        index //= 1000
        groups.insert(0, f"x{index % 1000:03d}")
    return "/".join(groups)


def tile_path(level: int | str, index: int, width: int) -> str:
    """``tile/<L>/<N>[.p/<W>]``: the suffix only for a partial tile, of 1 to 255 hashes or entries."""
    assert 0 < width <= 256
    return f"tile/{level}/{tile_index_path(index)}" + ("" if width == 256 else f".p/{width}")


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey


def parse_verifier_key(line: str) -> VerifierKey:
    """``<name>+<key ID, 8 hex digits>+<base64(0x01 || 32-byte Ed25519 public key)>``; the ID is checked against
    signed-note's recommendation, SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    name, key_hash, encoded = line.strip().split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        raise LogRejected(f"not an Ed25519 verifier key: {line!r}")
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if key_id.hex() != key_hash:
        raise LogRejected(f"the key ID {key_hash} is not the hash of the key")
    return VerifierKey(name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:]))


def open_signed_note(note: bytes, key: VerifierKey) -> str:
    """The text of a signed note that ``key`` signed (signed-note): text, a blank line, signature lines
    ``— <name> base64(key ID || signature)``. Unknown keys are ignored; a known key's bad signature rejects it."""
    text = note.decode("utf-8")
    if any(ord(character) < 0x20 and character != "\n" for character in text) or not text.endswith("\n"):
        raise LogRejected("a signed note is UTF-8 without control characters, ending in a newline")
    split = text.rindex("\n\n")
    body, signatures = text[: split + 1], text[split + 2 :].splitlines()
    verified = False
    for line in signatures:
        dash, name, encoded = line.split(" ")
        if dash != "\N{EM DASH}":
            raise LogRejected(f"not a signature line: {line!r}")
        signature = base64.b64decode(encoded, validate=True)
        if name != key.name or signature[:4] != key.key_id:
            continue
        try:
            key.public_key.verify(signature[4:], body.encode())
        except InvalidSignature:
            raise LogRejected("the log's signature does not verify") from None
        verified = True
    if not verified:
        raise LogRejected("the note carries no signature by the log's key")
    return body


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def parse_checkpoint(text: str) -> Checkpoint:
    """tlog-checkpoint: origin, tree size (decimal, no leading zero), base64 root hash, optional extensions."""
    origin, size, root, *_extensions = text.split("\n")[:-1]
    if not origin or not size.isdigit() or (size != "0" and size.startswith("0")):
        raise LogRejected(f"not a checkpoint: {text!r}")
    root_hash = base64.b64decode(root, validate=True)
    if len(root_hash) != 32:
        raise LogRejected("the root hash is not a SHA-256 hash")
    return Checkpoint(origin, int(size), root_hash)


def split_bundle(data: bytes) -> list[bytes]:
    """tlog-tiles: "sequences of big-endian uint16 length-prefixed log entries"."""
    entries = []
    offset = 0
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 2], "big")
        entries.append(data[offset + 2 : offset + 2 + length])
        if offset + 2 + length > len(data):
            raise LogRejected("an entry bundle ends inside an entry")
        offset += 2 + length
    return entries


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 §2.1: MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + entry).digest()


def tree_hash(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH over leaf hashes: SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of
    two below n; the empty tree hashes to SHA-256 of nothing."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + tree_hash(leaves[:k]) + tree_hash(leaves[k:])).digest()


@dataclass(frozen=True)
class AuditedLog:
    checkpoint: Checkpoint
    entries: list[bytes]
    #: Every path fetched, tiles and bundles.
    paths: list[str]


def audit_log(base_url: str, pinned_key: str | None = None) -> AuditedLog:
    """Audit the whole log at ``base_url`` as a monitor would: the checkpoint's signature, every entry bundle and
    every hash tile at every level, each tile hash against the RFC 6962 hash of the leaves it spans, and the root.

    Raises :class:`LogRejected`, or ``httpx.HTTPStatusError`` for a resource the log failed to serve.
    """
    with httpx.Client(base_url=base_url.rstrip("/") + "/log/", timeout=30) as http:

        def fetch(path: str, content_type: str) -> bytes:
            response = http.get(path)
            response.raise_for_status()
            if response.headers["content-type"] != content_type:
                raise LogRejected(f"{path} is served as {response.headers['content-type']}")
            return response.content

        # A monitor pins the key it was given; trusting the served one only shows the log signs with it.
        key = parse_verifier_key(pinned_key or fetch("key", "text/plain; charset=utf-8").decode())
        checkpoint = parse_checkpoint(open_signed_note(fetch("checkpoint", "text/plain; charset=utf-8"), key))
        if checkpoint.origin != key.name:
            raise LogRejected(f"the checkpoint's origin {checkpoint.origin!r} is not the key's name")
        size = checkpoint.size
        paths: list[str] = []
        entries: list[bytes] = []
        for index in range((size + 255) // 256):
            width = min(256, size - index * 256)
            paths.append(tile_path("entries", index, width))
            bundle = split_bundle(fetch(paths[-1], "application/octet-stream"))
            if len(bundle) != width:
                raise LogRejected(f"{paths[-1]} holds {len(bundle)} entries")
            entries += bundle
        leaves = [leaf_hash(entry) for entry in entries]
        # "The n-th tile at level l is the sequence of MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l])",
        # the partial tile at level l holding floor(s / 256**l) mod 256 of them.
        level = 0
        while hashes := size >> (8 * level):
            span = 256**level
            for index in range((hashes + 255) // 256):
                width = min(256, hashes - index * 256)
                paths.append(tile_path(level, index, width))
                tile = fetch(paths[-1], "application/octet-stream")
                if len(tile) != 32 * width:
                    raise LogRejected(f"{paths[-1]} is {len(tile)} bytes")
                for i in range(width):
                    first = (index * 256 + i) * span
                    if tile[32 * i : 32 * i + 32] != tree_hash(leaves[first : first + span]):
                        raise LogRejected(f"{paths[-1]}: hash {i} is not the hash of its leaves")
            level += 1
        if tree_hash(leaves) != checkpoint.root:
            raise LogRejected("the entries do not hash to the checkpoint's root")
        return AuditedLog(checkpoint, entries, paths)


@dataclass(frozen=True)
class Receipt:
    index: int
    entry: bytes
    checkpoint: Checkpoint


def verify_receipt(proof: bytes, key_line: str) -> Receipt:
    """tlog-proof: ``c2sp.org/tlog-proof@v1``, ``extra <base64>``, ``index <n>``, the inclusion proof (one base64
    hash per line), a blank line, the checkpoint verbatim. The extra (here the entry) is trusted only once it
    hashes, through the proof (RFC 9162 §2.1.3.2), to the root the log signed."""
    key = parse_verifier_key(key_line)
    header, separator, signed = proof.partition(b"\n\n")
    lines = header.decode().split("\n")
    if not separator or lines[0] != "c2sp.org/tlog-proof@v1" or not lines[1].startswith("extra "):
        raise LogRejected("not a tlog-proof carrying its entry")
    entry = base64.b64decode(lines[1].removeprefix("extra "), validate=True)
    if not lines[2].startswith("index ") or not lines[2].removeprefix("index ").isdigit():
        raise LogRejected("a tlog-proof names its index")
    index = int(lines[2].removeprefix("index "))
    path = [base64.b64decode(line, validate=True) for line in lines[3:]]
    checkpoint = parse_checkpoint(open_signed_note(signed, key))
    if checkpoint.origin != key.name or index >= checkpoint.size:
        raise LogRejected("the proof is for another log, or an index beyond its checkpoint")
    fn, sn, root = index, checkpoint.size - 1, leaf_hash(entry)
    for sibling in path:
        if sn == 0:
            raise LogRejected("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            root = hashlib.sha256(b"\x01" + sibling + root).digest()
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            root = hashlib.sha256(b"\x01" + root + sibling).digest()
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or root != checkpoint.root:
        raise LogRejected("the entry is not in the tree the log signed")
    return Receipt(index, entry, checkpoint)


def commitment(record: dict[str, Any]) -> str:
    """The entry's ``private``: SHA-256 of the record's canonical JSON (RFC 8785; for the strings, whole numbers
    and nulls of a record, sorted keys and no spaces)."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_the_stock_client_encodes_tile_paths_as_the_specification_does() -> None:
    """The examples of tlog-tiles, so that the client below is not wrong in the same way as the server."""
    assert tile_index_path(1234067) == "x001/x234/067"
    assert tile_index_path(0) == "000" and tile_index_path(1000) == "x001/000"
    assert tile_path(0, 273, 112) == "tile/0/273.p/112" and tile_path(1, 1, 256) == "tile/1/001"
    assert tile_path("entries", 0, 5) == "tile/entries/000.p/5"


# --- A platform of a test's own -----------------------------------------------------------------------------------


class Platform:
    """``bidding serve`` on a database of its own, which a test may stop, change, crash and start again.

    The database and the data folder (and so the log key) outlive each process. Each process runs in a process
    group of its own, so that one that will not stop can be killed with every worker it started.
    """

    def __init__(self, database_url: str, data_dir: Path, **settings: str) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        #: More environment variables every process is started with.
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.log = data_dir / "server.log"
        #: The verifier key served at the first start, pinned for every verification after.
        self.key = ""

    def environment(self, **extra: str) -> dict[str, str]:
        inherited = {name: value for name, value in os.environ.items() if name != "BIDDING_CRASH_AT"}
        return {
            **inherited,
            "DATABASE_URL": self.database_url,
            "BIDDING_DATA_DIR": str(self.data_dir),
            "BIDDING_SECRET_KEY": "e2e-log-secret-" + "k" * 40,
            **self.settings,
            **extra,
        }

    def start(self, *, crash_at: str | None = None) -> subprocess.Popen[bytes]:
        """Start a process; without ``crash_at`` wait until it answers, with it (``<point>@<marker file>``, see
        :mod:`bidding.faults`) return at once: it may die before it answers anything."""
        assert self.process is None or self.process.poll() is not None, "one process at a time"
        port = free_port()
        with self.log.open("a") as output:
            output.write(f"\n--- started on port {port}, crash at {crash_at}\n")
            output.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bidding", "serve", "--port", str(port)],
                env=self.environment(**({"BIDDING_CRASH_AT": crash_at} if crash_at else {})),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}"
        if crash_at is None:
            wait_until_live(self.url, self.process, self.log)
            served = httpx.get(f"{self.url}/log/key", timeout=10).text.strip()
            self.key = self.key or served
            assert served == self.key, "the platform's log key changed across a restart"
        return self.process

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop the process as Ctrl-C does; it must exit cleanly."""
        assert self.process is not None
        assert stop(self.process) == 0, self.log.read_text()

    def wait_for_exit(self, timeout: float = 60) -> int:
        """The process's exit status once it has exited, killing its whole group if it has not within ``timeout``.

        A worker killed by a crash point takes the server down (granian does not respawn failed workers unless
        told to), but a test must not hang on it if a version of granian does otherwise.
        """
        assert self.process is not None
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            status = self.process.wait(timeout=30)
        # Whatever the server did, nothing of its group may linger into the next start.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return status

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def sql(self, query: str, *args: Any) -> Any:
        """The first value of one statement on the platform's database."""
        return sql(self.database_url, query, *args)

    def insert_events(self, count: int, action: str = "test.event") -> None:
        """``count`` events of the platform itself, straight into the table, as a busy day would bring them."""
        self.sql(
            """INSERT INTO audit_events (actor_role, action, subject, details)
               SELECT 'platform', $1, 'test:' || g, jsonb_build_object('number', g) FROM generate_series(1, $2) g""",
            action,
            count,
        )

    def wait_sequenced(self, timeout: float = SEQUENCER_TIMEOUT) -> int:
        """Wait until every event is in the log under a checkpoint of its size; return that size."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log.read_text()}")
            size = self.sql(_SEQUENCED_SIZE)
            if size is not None:
                return int(size)
            time.sleep(0.1)
        raise RuntimeError(f"the log was not sequenced within {timeout} s:\n{self.log.read_text()}")

    def verify(self, *flags: str, key: str | None = None, url: str | None = None) -> subprocess.CompletedProcess[str]:
        """``bidding log verify`` of this platform (or ``url``) with its pinned key, as an outside auditor runs it."""
        return subprocess.run(
            [sys.executable, "-m", "bidding", "log", "verify", url or self.url, "--key", key or self.key, *flags],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def platforms(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Platform]]:
    """Makes platforms, each on a new database, started; all killed at the end of the module if still running."""
    made: list[Platform] = []

    def make(name: str) -> Platform:
        platform = Platform(postgres.create_database(name), tmp_path_factory.mktemp(name))
        made.append(platform)
        platform.start()
        return platform

    yield make
    for platform in made:
        platform.kill()


@pytest.fixture(scope="module")
def platform(platforms: Callable[[str], Platform]) -> Platform:
    """A platform whose log has grown past two full tiles: full and partial tiles at level 0, a level 1 tile."""
    made = platforms("bidding_e2e_log")
    made.insert_events(700)
    made.wait_sequenced()
    return made


# --- The stock client against the shared server and a grown log ---------------------------------------------------


def _wait_sequenced(server: Server) -> int:
    """Wait until every event of the shared server is in its log under a checkpoint; return the log's size."""
    deadline = time.monotonic() + SEQUENCER_TIMEOUT
    while time.monotonic() < deadline:
        size = server.sql(_SEQUENCED_SIZE)
        if size is not None:
            return int(size)
        time.sleep(0.1)
    raise AssertionError(f"the log was not sequenced within {SEQUENCER_TIMEOUT} s")


def _event_id(server: Server, action: str, subject: str) -> int:
    event_id: int = server.sql("SELECT max(id) FROM audit_events WHERE action = $1 AND subject = $2", action, subject)
    assert event_id is not None, f"no {action} event on {subject}"
    return event_id


def _published_tender(agent: httpx.Client, server: Server, title: str) -> int:
    created = agent.post("/api/v1/tenders", json=tender_json(server, title))
    assert created.status_code == 201, created.text
    tender_id: int = created.json()["id"]
    pdf = b"%PDF-1.7\n% e2e log tender documents\n"
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(pdf).digest()).decode() + ":"
    uploaded = agent.post(
        f"/api/v1/tenders/{tender_id}/documents",
        params={"name": "招标文件.pdf"},
        content=pdf,
        headers={"content-type": "application/pdf", "repr-digest": digest},
    )
    assert uploaded.status_code == 201, uploaded.text
    run_ceremony(agent, tender_id)
    assert agent.post(f"/api/v1/tenders/{tender_id}/publish").status_code == 200
    return tender_id


def test_a_stock_client_audits_the_log_of_a_working_platform(server: Server, clients: Clients) -> None:
    """What people do through the API is in the log, each entry where its event's index says, public actions with
    what was done to what, sealed ones with nothing but the time; and the whole log verifies from the specs."""
    agent, bidder = clients.api("agent"), clients.api("bidder3")
    tender_id = _published_tender(agent, server, "日志审计测试办公家具采购")
    assert bidder.post(f"/api/v1/tenders/{tender_id}/registration").status_code == 200
    published = _event_id(server, "tender.published", f"tender:{tender_id}")
    registered = _event_id(server, "tender.registered", f"tender:{tender_id}")
    size = _wait_sequenced(server)

    audited = audit_log(server.url)

    assert audited.checkpoint.size == len(audited.entries) == size
    public = json.loads(audited.entries[server.sql("SELECT log_index FROM log_entries WHERE event_id = $1", published)])
    assert public["action"] == "tender.published" and public["subject"] == f"tender:{tender_id}"
    assert public["role"] == "agency_staff"
    assert set(public) == {"v", "at", "action", "subject", "role", "details", "private"}
    sealed = json.loads(
        audited.entries[server.sql("SELECT log_index FROM log_entries WHERE event_id = $1", registered)]
    )
    assert set(sealed) == {"v", "at", "sealed", "private"} and sealed["sealed"] is True
    # Nobody's login, user id or address is in any public entry.
    everything = b"\n".join(audited.entries).decode()
    assert "bidder3" not in everything and "127.0.0.1" not in everything and "actor_user_id" not in everything
    # The platform's own verifier agrees with the stock client.
    key = httpx.get(f"{server.url}/log/key").text.strip()
    verified = server.bidding("log", "verify", server.url, "--key", key)
    assert verified.returncode == 0, verified.stderr
    assert f": {size} entries verified, root {audited.checkpoint.root.hex()}" in verified.stdout


def test_a_stock_client_audits_a_log_of_full_and_partial_tiles_at_two_levels(platform: Platform) -> None:
    audited = audit_log(platform.url, platform.key)
    size = audited.checkpoint.size
    assert size >= 700
    full, rest = divmod(size, 256)
    assert [tile_path(0, i, 256) for i in range(full)] + [tile_path(0, full, rest)] == [
        path for path in audited.paths if path.startswith("tile/0/")
    ]
    assert tile_path("entries", full, rest) in audited.paths and tile_path(1, 0, full) in audited.paths
    assert [json.loads(entry)["subject"] for entry in audited.entries[-700:]] == [f"test:{n}" for n in range(1, 701)]
    # "Logs MAY delete any partial tile once the corresponding full tile is available": this one keeps them, and
    # serves a partial tile of a smaller tree as the prefix of the full one.
    whole = httpx.get(f"{platform.url}/log/{tile_path(0, 0, 256)}").content
    assert httpx.get(f"{platform.url}/log/{tile_path(0, 0, 7)}").content == whole[: 7 * 32]


def test_log_text_is_served_with_its_charset_once(server: Server) -> None:
    """Regression: ``/log/checkpoint``, ``/log/key`` and receipts were served as ``text/plain; charset=utf-8;
    charset=utf-8`` (the framework adds the charset itself), not the ``text/plain; charset=utf-8`` of tlog-tiles.
    The checkpoint may not be cached; tiles, which never change, for good."""
    checkpoint, key = httpx.get(f"{server.url}/log/checkpoint"), httpx.get(f"{server.url}/log/key")
    for response in (checkpoint, key):
        assert response.headers.get_list("content-type") == ["text/plain; charset=utf-8"]
    assert checkpoint.headers["cache-control"] == "no-cache"
    tile = httpx.get(f"{server.url}/log/tile/entries/000.p/1")
    assert tile.headers["content-type"] == "application/octet-stream"
    assert tile.headers["cache-control"] == "public, max-age=31536000, immutable"


# --- Tampering and rollback, found by `bidding log verify` -------------------------------------------------------


def _flip_hex_digit(data: bytes, at: int) -> bytes:
    """``data`` with the hex digit at ``at`` changed to another hex digit: the entry stays canonical JSON."""
    replacement = b"0" if data[at : at + 1] != b"0" else b"1"
    return data[:at] + replacement + data[at + 1 :]


def test_a_changed_entry_is_named_by_verify_until_it_is_restored(platform: Platform) -> None:
    entry_number = 300
    bundle_index, offset = divmod(entry_number, 256)
    stored = platform.sql("SELECT entries FROM log_bundles WHERE index = $1", bundle_index)
    entries = split_bundle(stored)
    # One byte of entry 300 in its stored bundle: a digit of its commitment to the private record.
    position = sum(2 + len(entry) for entry in entries[:offset]) + 2 + entries[offset].index(b'"private":"') + 11
    changed = _flip_hex_digit(stored, position)
    assert split_bundle(changed)[offset] != entries[offset] and len(changed) == len(stored)
    platform.sql("UPDATE log_bundles SET entries = $2 WHERE index = $1", bundle_index, changed)
    try:
        result = platform.verify()
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"bidding: error: {tile_path(0, 1, 256)}: hash {offset} is not the hash of entry {entry_number}"
        )
        with pytest.raises(LogRejected, match="is not the hash of its leaves"):
            audit_log(platform.url, platform.key)
    finally:
        platform.sql("UPDATE log_bundles SET entries = $2 WHERE index = $1", bundle_index, stored)
    assert platform.verify().returncode == 0
    audit_log(platform.url, platform.key)


@pytest.mark.parametrize(("level", "index", "hash_number"), [(0, 0, 17), (1, 0, 1)])
def test_a_changed_tile_hash_is_named_by_verify_until_it_is_restored(
    platform: Platform, level: int, index: int, hash_number: int
) -> None:
    stored = platform.sql("SELECT hashes FROM log_tiles WHERE level = $1 AND index = $2", level, index)
    changed = bytearray(stored)
    changed[32 * hash_number + 5] ^= 0x01
    platform.sql("UPDATE log_tiles SET hashes = $3 WHERE level = $1 AND index = $2", level, index, bytes(changed))
    try:
        result = platform.verify()
        assert result.returncode == 1
        size = platform.sql("SELECT max(size) FROM log_checkpoints")
        width = min(256, (size >> (8 * level)) - 256 * index)
        covers = f"entry {hash_number}" if level == 0 else tile_path(0, hash_number, 256)
        assert result.stderr.strip() == (
            f"bidding: error: {tile_path(level, index, width)}: hash {hash_number} is not the hash of {covers}"
        )
        with pytest.raises(LogRejected, match="is not the hash of its leaves"):
            audit_log(platform.url, platform.key)
    finally:
        platform.sql("UPDATE log_tiles SET hashes = $3 WHERE level = $1 AND index = $2", level, index, stored)
    assert platform.verify().returncode == 0


def test_verify_refuses_a_checkpoint_of_another_key_or_a_forged_one(platform: Platform) -> None:
    impostor = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    name = platform.key.split("+")[0]
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + impostor).digest()[:4]
    other_key = f"{name}+{key_id.hex()}+" + base64.b64encode(b"\x01" + impostor).decode()
    wrong = platform.verify(key=other_key)
    assert wrong.returncode == 1 and "the checkpoint does not verify" in wrong.stderr
    with pytest.raises(LogRejected, match="no signature by the log's key"):
        audit_log(platform.url, other_key)
    signed = platform.sql("SELECT note FROM log_checkpoints ORDER BY size DESC LIMIT 1")
    size = platform.sql("SELECT max(size) FROM log_checkpoints")
    forged = signed.replace(f"\n{size}\n".encode(), f"\n{size + 1}\n".encode())
    platform.sql("UPDATE log_checkpoints SET note = $2 WHERE size = $1", size, forged)
    try:
        result = platform.verify()
        assert result.returncode == 1 and "the checkpoint does not verify" in result.stderr
        with pytest.raises(LogRejected, match="signature does not verify"):
            audit_log(platform.url, platform.key)
    finally:
        platform.sql("UPDATE log_checkpoints SET note = $2 WHERE size = $1", size, signed)
    assert platform.verify().returncode == 0


@contextlib.contextmanager
def misbehaving_log(upstream: str, rewrite: Callable[[str, bytes], bytes]) -> Iterator[str]:
    """A log in front of ``upstream`` that serves what ``rewrite(path, body)`` makes of each answer: a broken or
    lying log, as an auditor may meet one. Yields its base URL."""

    class Rewriting(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = httpx.get(upstream + self.path, timeout=30)
            body = rewrite(self.path, answer.content)
            self.send_response(answer.status_code)
            self.send_header("content-type", answer.headers.get("content-type", "application/octet-stream"))
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            """Quiet: the test reads what the verifier says, not the proxy."""

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Rewriting)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{proxy.server_port}"
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join()


def test_verify_names_a_tile_longer_than_its_width_instead_of_crashing(platform: Platform) -> None:
    """Regression: a tile served with bytes past its hashes matched hash for hash, and the search for the first
    wrong one ended in ``RuntimeError: coroutine raised StopIteration`` and a traceback."""
    padded = tile_path(0, 1, 256)

    def pad(path: str, body: bytes) -> bytes:
        return body + bytes(32) if path == f"/log/{padded}" else body

    with misbehaving_log(platform.url, pad) as url:
        result = platform.verify(url=url)
    assert result.returncode == 1
    assert result.stderr.strip() == f"bidding: error: {padded} is {257 * 32} bytes, not 256 hashes"


async def _roll_back(connection: asyncpg.Connection, size: int) -> None:
    """Make the stored log what it was at ``size`` entries: later checkpoints, events, tiles and entries gone, the
    rightmost tile of each level and the rightmost bundle cut back. What a restored backup, or an operator hiding
    events, would leave; the log is then whole and valid on its own, only shorter than before."""
    async with connection.transaction():
        await connection.execute("DELETE FROM log_checkpoints WHERE size > $1", size)
        await connection.execute(
            """WITH gone AS (DELETE FROM log_entries WHERE log_index >= $1 RETURNING event_id)
               DELETE FROM audit_events WHERE id IN (SELECT event_id FROM gone)""",
            size,
        )
        for level in range(4):
            hashes = size >> (8 * level)
            full, rest = divmod(hashes, 256)
            await connection.execute(
                "DELETE FROM log_tiles WHERE level = $1 AND (index > $2 OR index = $2 AND $3 = 0)", level, full, rest
            )
            await connection.execute(
                "UPDATE log_tiles SET hashes = substring(hashes FROM 1 FOR $3) WHERE level = $1 AND index = $2",
                level,
                full,
                32 * rest,
            )
        full, rest = divmod(size, 256)
        await connection.execute("DELETE FROM log_bundles WHERE index > $1 OR index = $1 AND $2 = 0", full, rest)
        edge = await connection.fetchval("SELECT entries FROM log_bundles WHERE index = $1", full)
        if edge is not None:
            kept = split_bundle(edge)[:rest]
            data = b"".join(len(entry).to_bytes(2, "big") + entry for entry in kept)
            await connection.execute(
                "UPDATE log_bundles SET width = $2, entries = $3 WHERE index = $1", full, rest, data
            )


def test_a_saved_checkpoint_catches_a_log_that_went_back_and_one_that_forked(
    platforms: Callable[[str], Platform], tmp_path: Path
) -> None:
    """A log that lost its newest entries, or rewrote them while growing, is valid on its own: only a checkpoint
    kept from before shows it."""
    platform = platforms("bidding_e2e_log_rollback")
    platform.insert_events(300)
    old_size = platform.wait_sequenced()
    old, new = tmp_path / "old.checkpoint", tmp_path / "new.checkpoint"
    assert platform.verify("--save", str(old)).returncode == 0
    platform.insert_events(200)
    new_size = platform.wait_sequenced()
    extended = platform.verify("--checkpoint", str(old), "--save", str(new))
    assert extended.returncode == 0, extended.stderr
    assert f": {new_size} entries verified" in extended.stdout and new_size == old_size + 200

    # The log goes back to its old size, as a restored backup would leave it.
    platform.stop()

    async def roll_back() -> None:
        connection = await asyncpg.connect(platform.database_url)
        try:
            await _roll_back(connection, old_size)
        finally:
            await connection.close()

    run_sync(roll_back)
    platform.start()
    assert platform.verify().returncode == 0, "the shorter log is valid on its own"
    assert audit_log(platform.url, platform.key).checkpoint.size == old_size
    assert platform.verify("--checkpoint", str(old)).returncode == 0
    went_back = platform.verify("--checkpoint", str(new))
    assert went_back.returncode == 1
    assert went_back.stderr.strip() == f"bidding: error: the log went back from {new_size} entries to {old_size}"

    # It then grows past where it was, with other entries in place of the lost ones: a fork.
    platform.insert_events(250, action="test.other_event")
    forked_size = platform.wait_sequenced()
    assert forked_size == old_size + 250 > new_size
    assert platform.verify().returncode == 0, "the forked log is valid on its own"
    assert platform.verify("--checkpoint", str(old)).returncode == 0
    forked = platform.verify("--checkpoint", str(new))
    assert forked.returncode == 1
    assert forked.stderr.strip() == (
        f"bidding: error: the first {new_size} entries no longer hash to the saved checkpoint's root"
    )


# --- Receipts, records and the public's limits --------------------------------------------------------------------


def _offline_bidding(*args: str) -> subprocess.CompletedProcess[str]:
    """A ``bidding`` command as someone runs it on their own machine, with nothing of the platform configured."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("BIDDING_") and name != "DATABASE_URL"
    }
    return subprocess.run(
        [sys.executable, "-m", "bidding", *args], env=environment, capture_output=True, text=True, timeout=60
    )


@dataclass(frozen=True)
class Proven:
    """An event's receipt and record as its actor downloaded them, in files, with the log's key."""

    receipt: Path
    record: Path
    key: Path
    public: dict[str, Any]
    private: dict[str, Any]
    index: int


def _download_proof(server: Server, client: httpx.Client, event_id: int, folder: Path) -> Proven:
    deadline = time.monotonic() + SEQUENCER_TIMEOUT
    while (receipt := client.get(f"/api/v1/events/{event_id}/receipt", params={"wait": 5})).status_code == 409:
        # Not in a checkpoint within the five seconds asked for: on a busy machine, ask again, as told to.
        assert receipt.headers["retry-after"] == "1" and time.monotonic() < deadline, receipt.text
    assert receipt.status_code == 200, receipt.text
    assert receipt.headers["content-type"] == "text/plain; charset=utf-8"
    assert f'filename="event-{event_id}.tlog-proof"' in receipt.headers["content-disposition"]
    record = client.get(f"/api/v1/events/{event_id}/record")
    assert record.status_code == 200, record.text
    key = httpx.get(f"{server.url}/log/key").text
    # The stock client checks it first, from the specifications.
    verified = verify_receipt(receipt.content, key)
    assert verified.index == server.sql("SELECT log_index FROM log_entries WHERE event_id = $1", event_id)
    proven = Proven(
        receipt=folder / f"event-{event_id}.tlog-proof",
        record=folder / "record.json",
        key=folder / "log.vkey",
        public=json.loads(verified.entry),
        private=record.json(),
        index=verified.index,
    )
    assert commitment(proven.private) == proven.public["private"]
    proven.receipt.write_bytes(receipt.content)
    proven.record.write_text(record.text)
    proven.key.write_text(key)
    return proven


def test_a_sealed_events_receipt_proves_it_offline_and_its_record_says_what_the_entry_hides(
    server: Server, clients: Clients, tmp_path: Path
) -> None:
    bidder = clients.api("bidder2")
    created = server.sql(
        """SELECT max(id) FROM audit_events
           WHERE action = 'api_token.created' AND actor_user_id = (SELECT id FROM users WHERE login = 'bidder2')"""
    )
    proven = _download_proof(server, bidder, created, tmp_path)

    assert set(proven.public) == {"v", "at", "sealed", "private"}
    assert proven.private["action"] == "api_token.created" and proven.private["subject"].startswith("api_token:")
    assert proven.private["actor_user_id"] == server.sql("SELECT id FROM users WHERE login = 'bidder2'")
    checked = _offline_bidding(
        "log", "proof", str(proven.receipt), "--key", str(proven.key), "--record", str(proven.record)
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == [
        f"entry {proven.index} (event {created}): {proven.public['at']} sealed, private record matches",
        "1 event(s) proven in the log",
    ]

    # A record changed in one field no longer matches; a receipt changed in one digit no longer verifies.
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps({**proven.private, "actor_user_id": proven.private["actor_user_id"] + 1}))
    mismatch = _offline_bidding("log", "proof", str(proven.receipt), "--key", str(proven.key), "--record", str(changed))
    assert mismatch.returncode == 1
    assert f"the private record does not match entry {proven.index}'s commitment" in mismatch.stderr
    forged = tmp_path / "forged.tlog-proof"
    forged.write_bytes(proven.receipt.read_bytes().replace(f"index {proven.index}\n".encode(), b"index 0\n"))
    assert _offline_bidding("log", "proof", str(forged), "--key", str(proven.key)).returncode == 1
    with pytest.raises(LogRejected):
        verify_receipt(forged.read_bytes(), proven.key.read_text())

    # Someone else learns nothing, not even that the event exists; a supervisor sees both; nobody signed out does.
    other, supervisor, anonymous = clients.api("bidder1"), clients.api("supervisor1"), clients.new(browser=False)
    for path in (f"/api/v1/events/{created}/receipt", f"/api/v1/events/{created}/record"):
        refused = other.get(path, headers={"accept-language": "en"})
        assert refused.status_code == 404 and refused.headers["content-type"] == PROBLEM
        assert refused.json()["detail"] == "There is no such event, or it is not yours to see."
        assert supervisor.get(path).status_code == 200
        assert anonymous.get(path).status_code == 401
    assert other.get("/api/v1/events/999999999/receipt").status_code == 404


def test_a_public_events_receipt_shows_what_was_done_and_its_record_only_who_did_it(
    server: Server, clients: Clients, tmp_path: Path
) -> None:
    agent = clients.api("agent")
    created = agent.post("/api/v1/tenders", json=tender_json(server, "日志回执测试绿化养护服务"))
    assert created.status_code == 201, created.text
    drafted = _event_id(server, "tender.drafted", f"tender:{created.json()['id']}")
    proven = _download_proof(server, agent, drafted, tmp_path)

    assert proven.public["action"] == "tender.drafted" and proven.public["subject"] == f"tender:{created.json()['id']}"
    assert "action" not in proven.private and proven.private["event_id"] == drafted
    assert proven.private["actor_user_id"] == server.sql("SELECT id FROM users WHERE login = 'agent'")
    checked = _offline_bidding(
        "log", "proof", str(proven.receipt), "--key", str(proven.key), "--record", str(proven.record)
    )
    assert checked.returncode == 0, checked.stderr
    assert f"entry {proven.index} (event {drafted}): {proven.public['at']} tender.drafted tender:" in checked.stdout


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1000",  # an index over 999 is written x001/000
        "tile/0/x000/001",  # and 1 is 001, not x000/001
        "tile/00/000",
        "tile/64/000",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
        "tile/entries/000.p/07",
        "tile/entries/0",
        "tile/0/000.p/1/2",
        "tile/leaves/000",
    ],
)
def test_a_malformed_tile_path_is_a_404_that_says_how_paths_look(server: Server, clients: Clients, path: str) -> None:
    response = clients.new(browser=False, **{"accept-language": "en"}).get(f"/log/{path}")
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == (
        "Tile paths are tile/<level>/<index>[.p/<width>] or tile/entries/<index>[.p/<width>] (C2SP tlog-tiles)."
    )


@pytest.mark.parametrize("path", ["tile/0/x001/000", "tile/entries/x999/999", "tile/7/000.p/1", "tile/0/999"])
def test_a_tile_beyond_the_tree_is_a_404(server: Server, clients: Clients, path: str) -> None:
    response = clients.new(browser=False, **{"accept-language": "en"}).get(f"/log/{path}")
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "The log has no such tile yet."


def test_nothing_the_public_sends_changes_the_log(server: Server, clients: Clients) -> None:
    public = clients.new(browser=False)
    _wait_sequenced(server)
    before = {path: public.get(f"/log/{path}").content for path in ("checkpoint", "key", "tile/entries/000.p/1")}
    rows = server.sql("SELECT (SELECT count(*) FROM audit_events) + (SELECT count(*) FROM log_checkpoints)")
    forged = before["checkpoint"].replace(b"\n", b"\n\n", 1)
    for path in ("checkpoint", "key", "tile/0/000.p/1", "tile/entries/000.p/1", "tile/entries/000", "add-checkpoint"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = public.request(method, f"/log/{path}", content=forged)
            assert response.status_code in (404, 405), (method, path, response.status_code)
            assert response.headers["content-type"] == PROBLEM
    assert {path: public.get(f"/log/{path}").content for path in before} == before
    assert server.sql("SELECT (SELECT count(*) FROM audit_events) + (SELECT count(*) FROM log_checkpoints)") == rows


def test_receipt_wait_nan_is_refused_rather_than_waited_for_ever(server: Server, clients: Clients) -> None:
    """Regression: ``wait=nan`` passed the service's clamp to 0–10 s (comparisons with NaN are false), so a request
    polled until its event was published, for ever if it never was. Any wait outside 0 to 10 s is now a 400."""
    bidder = clients.api("bidder1")
    created = server.sql(
        """SELECT max(id) FROM audit_events
           WHERE action = 'api_token.created' AND actor_user_id = (SELECT id FROM users WHERE login = 'bidder1')"""
    )
    for wait in ("nan", "NaN", "inf", "-1", "10.5"):
        refused = bidder.get(f"/api/v1/events/{created}/receipt", params={"wait": wait})
        assert refused.status_code == 400 and refused.headers["content-type"] == PROBLEM, (wait, refused.text)
        assert [error["parameter"] for error in refused.json()["errors"]] == ["wait"]
    for wait in ("0", "10"):
        assert bidder.get(f"/api/v1/events/{created}/receipt", params={"wait": wait}).status_code in (200, 409)
