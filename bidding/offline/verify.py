"""Checking the log from the outside, as anyone may: ``bidding log verify`` and ``bidding log proof``.

``verify`` reads only the public endpoints (``/log/key``, ``/log/checkpoint``, ``/log/tile/…``) and trusts
nothing but the verifier key: it checks the checkpoint's signature (and its witnesses' cosignatures), rebuilds
every leaf from the entries, checks every tile against the level below, recomputes the root, and checks that an
earlier checkpoint the caller kept is a prefix of this one. It stops at the first inconsistency and says exactly
where it is. ``proof`` checks a receipt, or a whole export of events, offline.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bidding.log.model import EXPORT_FORMAT, commitment
from bidding.offline.commands import VERIFIER_KEY_HELP, OfflineError, read_verifier_key
from crypto import merkle, note, tiles
from crypto.canonical import CanonicalJSONError, parse_canonical_json

#: Requests in flight at once while fetching tiles.
CONCURRENCY = 16
#: Tiles or bundles fetched together, then checked while the next window is fetched: a million entries are
#: 3,907 bundles and as many tiles, held a window at a time instead of all at once.
WINDOW = 64


class VerifyError(OfflineError):
    """The log, a receipt or an export is not what it claims: the message says what, and where."""


@dataclasses.dataclass(frozen=True, slots=True)
class Verified:
    origin: str
    size: int
    root: bytes
    #: The checkpoint note as served, to keep for the next run's consistency check.
    checkpoint: bytes
    cosigned_by: tuple[str, ...]


def parse_verifiers(key: str, witnesses: Sequence[str]) -> tuple[note.Ed25519Verifier, list[note.CosignatureVerifier]]:
    try:
        log_verifier = note.parse_verifier_key(key.strip())
        witness_verifiers = [note.parse_verifier_key(witness.strip()) for witness in witnesses]
    except note.NoteError as error:
        raise OfflineError(f"not a verifier key: {error}") from None
    if not isinstance(log_verifier, note.Ed25519Verifier):
        raise OfflineError("the log key is a cosignature key; give the log's Ed25519 verifier key")
    if not all(isinstance(verifier, note.CosignatureVerifier) for verifier in witness_verifiers):
        raise OfflineError("a witness key is not a cosignature key")
    return log_verifier, witness_verifiers  # type: ignore[return-value]  # checked just above


def open_checkpoint(
    data: bytes, log_verifier: note.Ed25519Verifier, witnesses: Sequence[note.CosignatureVerifier], quorum: int
) -> tuple[note.Checkpoint, tuple[str, ...]]:
    """A checkpoint signed by the log and cosigned by at least ``quorum`` witnesses; raises VerifyError."""
    try:
        checkpoint, opened = note.open_checkpoint(data, log_verifier.name, [log_verifier, *witnesses])
    except note.NoteError as error:
        raise VerifyError(f"the checkpoint does not verify: {error}") from None
    names = {(signature.name, signature.key_id) for signature in opened.signatures}
    if (log_verifier.name, log_verifier.key_id) not in names:
        raise VerifyError("the checkpoint is not signed by the log's key")
    cosigned = tuple(w.name for w in witnesses if (w.name, w.key_id) in names)
    if len(cosigned) < quorum:
        raise VerifyError(f"the checkpoint has {len(cosigned)} witness cosignatures, fewer than {quorum}")
    return checkpoint, cosigned


_Resource = TypeVar("_Resource", tiles.Tile, tiles.Bundle)


class _Fetcher:
    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self.client = client
        self.base = base_url.rstrip("/")
        self.limit = asyncio.Semaphore(CONCURRENCY)

    async def get(self, path: str) -> bytes:
        async with self.limit:
            try:
                response = await self.client.get(f"{self.base}/log/{path}", timeout=30)
            except httpx.HTTPError as error:
                raise VerifyError(f"cannot fetch {path}: {error}") from None
        if response.status_code != 200:
            raise VerifyError(f"{path}: the log answered {response.status_code}")
        return response.content

    async def each(self, resources: Sequence[_Resource]) -> AsyncIterator[tuple[_Resource, bytes]]:
        """Each resource with its contents, in order, fetched a window at a time: the next window is on its way
        while the caller works through this one (the loop runs between items), and no more than two are held."""
        windows = [resources[start : start + WINDOW] for start in range(0, len(resources), WINDOW)]
        pending = asyncio.ensure_future(self._fetch(windows[0])) if windows else None
        try:
            for number, window in enumerate(windows):
                assert pending is not None
                data = await pending
                if number + 1 < len(windows):
                    pending = asyncio.ensure_future(self._fetch(windows[number + 1]))
                for item in zip(window, data, strict=True):
                    yield item
                    await asyncio.sleep(0)
        finally:
            if pending is not None and not pending.done():
                pending.cancel()

    async def _fetch(self, resources: Sequence[_Resource]) -> list[bytes]:
        return list(await asyncio.gather(*(self.get(resource.path) for resource in resources)))


def _level_tiles(level: int, size: int) -> list[tiles.Tile]:
    """Every tile of ``level`` in the tree of ``size`` leaves, the partial one last."""
    count = size >> (tiles.TILE_HEIGHT * level)
    full, rest = divmod(count, tiles.TILE_WIDTH)
    return [tiles.Tile(level, index) for index in range(full)] + ([tiles.Tile(level, full, rest)] if rest else [])


class _Levels:
    """The hashes recomputed level by level (the leaves, then the roots of each 256 below): a merkle
    ``HashStore`` for the roots of the served and the saved checkpoint, without hashing the tree again."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.levels = [leaves]

    def add_level(self) -> list[bytes]:
        """The next level up: the roots of the full tiles of the top one. Returns it."""
        below = self.levels[-1]
        width = tiles.TILE_WIDTH
        self.levels.append(
            [tiles.subtree_root(below[start : start + width]) for start in range(0, len(below) // width * width, width)]
        )
        return self.levels[-1]

    def node_hashes(self, nodes: Sequence[merkle.Node]) -> list[bytes]:
        hashes = []
        for node in nodes:
            level, height = divmod(node.level, tiles.TILE_HEIGHT)
            hashes.append(tiles.subtree_root(self.levels[level][node.index << height : (node.index + 1) << height]))
        return hashes


def _check_tile(tile: tiles.Tile, data: bytes, below: list[bytes], level: int) -> None:
    """A served tile must hold exactly the hashes recomputed from the level below; else name the first that
    differs, and what it should be the hash of."""
    # Its length first: a tile with bytes past its hashes would otherwise match hash for hash and be named nowhere
    # in the search for the first wrong hash below.
    if len(data) != tile.width * merkle.HASH_SIZE:
        raise VerifyError(f"{tile.path} is {len(data)} bytes, not {tile.width} hashes")
    start = tile.index * tiles.TILE_WIDTH
    expected = b"".join(below[start : start + tile.width])
    if data != expected:
        first = next(i for i in range(tile.width) if data[i * 32 : i * 32 + 32] != expected[i * 32 : i * 32 + 32])
        covers = f"entry {start + first}" if level == 0 else tiles.Tile(level - 1, start + first).path
        raise VerifyError(f"{tile.path}: hash {first} is not the hash of {covers}")


async def verify_log(
    client: httpx.AsyncClient,
    base_url: str,
    key: str,
    *,
    witnesses: Sequence[str] = (),
    quorum: int = 0,
    saved: bytes | None = None,
) -> Verified:
    """Verify the whole log at ``base_url`` against its verifier key ``key``; raises VerifyError at the first fault.

    ``saved`` is a checkpoint kept from an earlier run: the log must still hold exactly the tree it named.
    """
    log_verifier, witness_verifiers = parse_verifiers(key, witnesses)
    fetch = _Fetcher(client, base_url)
    served = await fetch.get("checkpoint")
    checkpoint, cosigned = open_checkpoint(served, log_verifier, witness_verifiers, quorum)
    size = checkpoint.size
    # Every entry, rebuilt into its leaf hash and held against hash i of its level 0 tile.
    bundles = [tiles.Bundle(index) for index in range(size // tiles.TILE_WIDTH)]
    if partial := tiles.partial_bundle(size):
        bundles.append(partial)
    leaves: list[bytes] = []
    async for bundle, data in fetch.each(bundles):
        try:
            entries = tiles.bundle_entries(data, bundle.width)
        except tiles.TileError as error:
            raise VerifyError(f"entry bundle {bundle.path} is malformed: {error}") from None
        for offset, entry in enumerate(entries):
            try:
                parse_canonical_json(entry)
            except CanonicalJSONError:
                number = bundle.index * tiles.TILE_WIDTH + offset
                raise VerifyError(f"entry {number} is not canonical JSON") from None
        leaves += map(merkle.leaf_hash, entries)
    levels = _Levels(leaves)
    below = leaves
    level = 0
    while below:
        async for tile, data in fetch.each(_level_tiles(level, size)):
            _check_tile(tile, data, below, level)
        below = levels.add_level()
        level += 1
    root = merkle.tree_hash(size, levels)
    if root != checkpoint.root_hash:
        raise VerifyError(f"the entries hash to a root other than the checkpoint's (size {size})")
    if saved is not None:
        old, _ = open_checkpoint(saved, log_verifier, witness_verifiers, 0)
        if old.size > size:
            raise VerifyError(f"the log went back from {old.size} entries to {size}")
        if merkle.tree_hash(old.size, levels) != old.root_hash:
            raise VerifyError(f"the first {old.size} entries no longer hash to the saved checkpoint's root")
    return Verified(checkpoint.origin, size, root, served, cosigned)


@dataclasses.dataclass(frozen=True, slots=True)
class ProvenEvent:
    #: Its entry's place in the log, counted from 0 (RFC 9162), as the receipt's ``index`` line says.
    index: int
    entry: dict[str, Any]
    #: Whether a private record came with it and matches the entry's commitment.
    record_checked: bool
    #: The event's number on the platform (counted from 1), as its private record says, when one came with it.
    event_id: int | None = None

    def describe(self) -> str:
        """``entry 41 (event 42)``: the names the console and receipts use for the two numbers."""
        return f"entry {self.index}" + (f" (event {self.event_id})" if self.event_id is not None else "")


def verify_receipt(
    data: bytes,
    key: str,
    *,
    witnesses: Sequence[str] = (),
    quorum: int = 0,
    record: dict[str, Any] | None = None,
) -> ProvenEvent:
    """Check a receipt offline: its entry (carried as ``extra``) is in a checkpoint signed by the log; and, with
    the event's private record, that the entry commits to it. Raises VerifyError."""
    log_verifier, witness_verifiers = parse_verifiers(key, witnesses)
    try:
        receipt = note.parse_unverified_log_proof(data)
    except note.NoteError as error:
        raise VerifyError(f"not a receipt: {error}") from None
    if receipt.unverified_extra is None:
        raise VerifyError("the receipt does not carry its entry")
    try:
        note.verify_log_proof(
            data, merkle.leaf_hash(receipt.unverified_extra), log_verifier.name, log_verifier, witness_verifiers, quorum
        )
    except note.NoteError as error:
        raise VerifyError(f"the receipt does not verify: {error}") from None
    try:
        entry = parse_canonical_json(receipt.unverified_extra)
    except CanonicalJSONError:
        raise VerifyError("the receipt's entry is not canonical JSON") from None
    if record is not None and commitment(record) != entry.get("private"):
        raise VerifyError(f"the private record does not match entry {receipt.index}'s commitment")
    event_id = record.get("event_id") if record is not None else None
    return ProvenEvent(receipt.index, entry, record is not None, event_id if isinstance(event_id, int) else None)


def verify_export(data: bytes, key: str, *, witnesses: Sequence[str] = (), quorum: int = 0) -> list[ProvenEvent]:
    """Check every event of an export: each receipt, and each private record against its entry."""
    try:
        export = json.loads(data)
        events = export["events"] if export.get("format") == EXPORT_FORMAT else None
    except (ValueError, AttributeError, KeyError, TypeError):
        events = None
    if not isinstance(events, list):
        raise VerifyError(f"not an export ({EXPORT_FORMAT})")
    proven = []
    for number, item in enumerate(events, start=1):
        # Named by the event's own number when the export gives it, else by its place in the export.
        where = f"event {item['event_id']}" if isinstance(item, dict) and isinstance(item.get("event_id"), int) else ""
        where = f"{where} (item {number} of the export)" if where else f"item {number} of the export"
        if not isinstance(item, dict) or not isinstance(item.get("receipt"), str):
            raise VerifyError(f"{where} has no receipt")
        try:
            proven.append(
                verify_receipt(
                    item["receipt"].encode(), key, witnesses=witnesses, quorum=quorum, record=item.get("record")
                )
            )
        except VerifyError as error:
            raise VerifyError(f"{where}: {error}") from None
    return proven


# --- The commands ---------------------------------------------------------------------------------------------


def command_verify(args: argparse.Namespace) -> None:
    async def run() -> Verified:
        async with httpx.AsyncClient(headers={"user-agent": "bidding-log-verify"}) as client:
            key = read_verifier_key(args.key) if args.key is not None else None
            if key is None:
                try:
                    response = await client.get(f"{args.url.rstrip('/')}/log/key", timeout=30)
                except httpx.HTTPError as error:
                    raise VerifyError(f"cannot fetch the log's key: {error}") from None
                key = response.text.strip()
                print(f"trusting the key the log serves (pin it with --key): {key}", file=sys.stderr)
            saved = Path(args.checkpoint).read_bytes() if args.checkpoint else None
            return await verify_log(
                client,
                args.url,
                key,
                witnesses=[read_verifier_key(w) for w in args.witness],
                quorum=args.quorum,
                saved=saved,
            )

    verified = asyncio.run(run())
    if args.save:
        Path(args.save).write_bytes(verified.checkpoint)
    witnessed = f", cosigned by {', '.join(verified.cosigned_by)}" if verified.cosigned_by else ""
    print(f"{verified.origin}: {verified.size} entries verified, root {verified.root.hex()}{witnessed}")


def command_proof(args: argparse.Namespace) -> None:
    data = Path(args.file).read_bytes()
    key = read_verifier_key(args.key)
    witnesses = [read_verifier_key(w) for w in args.witness]
    if data.lstrip().startswith(b"{"):
        proven = verify_export(data, key, witnesses=witnesses, quorum=args.quorum)
    else:
        record = json.loads(Path(args.record).read_text(encoding="utf-8")) if args.record else None
        proven = [verify_receipt(data, key, witnesses=witnesses, quorum=args.quorum, record=record)]
    for event in proven:
        what = "sealed" if event.entry.get("sealed") else f"{event.entry.get('action')} {event.entry.get('subject')}"
        checked = ", private record matches" if event.record_checked else ""
        print(f"{event.describe()}: {event.entry.get('at')} {what}{checked}")
    print(f"{len(proven)} event(s) proven in the log")


#: The help of ``--witness``.
WITNESS_HELP = f"a witness's key: {VERIFIER_KEY_HELP}, as its keygen printed it (repeatable)"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``bidding log verify`` and ``bidding log proof``: they need nothing but the log's public data."""
    tool = commands.add_parser("log", help="check the transparency log from the outside")
    actions = tool.add_subparsers(title="actions", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="verify a log's every entry and tile against its signed checkpoint")
    verify.add_argument("url", help="the platform's address, e.g. https://bids.example.org")
    verify.add_argument(
        "--key", metavar="VKEY", help=f"the log's key: {VERIFIER_KEY_HELP}, as /log/key serves it (default: trust that)"
    )
    verify.add_argument("--checkpoint", metavar="FILE", help="a checkpoint kept earlier: the log must extend it")
    verify.add_argument("--save", metavar="FILE", help="keep the verified checkpoint here for the next run")
    verify.add_argument("--witness", action="append", default=[], metavar="VKEY", help=WITNESS_HELP)
    verify.add_argument("--quorum", type=int, default=0, help="witness cosignatures required")
    verify.set_defaults(run_offline=command_verify)
    proof = actions.add_parser("proof", help="check a receipt, or an export of events, offline")
    proof.add_argument("file", help="a receipt (tlog-proof) or an export (JSON)")
    proof.add_argument(
        "--key", required=True, metavar="VKEY", help=f"the log's key: {VERIFIER_KEY_HELP}, as /log/key serves it"
    )
    proof.add_argument("--record", metavar="FILE", help="the event's private record (JSON), to check it too")
    proof.add_argument("--witness", action="append", default=[], metavar="VKEY", help=WITNESS_HELP)
    proof.add_argument("--quorum", type=int, default=0, help="witness cosignatures required")
    proof.set_defaults(run_offline=command_proof)
