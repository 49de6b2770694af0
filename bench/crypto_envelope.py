"""Sealed envelopes and the Merkle log: throughput, memory and proof times of ``crypto/``, each beside a baseline.

1. Seal and open a 100 MB envelope, streamed through :class:`crypto.age.Sealer` / :class:`crypto.age.Opener`, as a
   ratio to raw ChaCha20-Poly1305 over the same bytes in the same 64 KiB chunks (target ≥ 0.6).
2. Peak memory sealing and opening a 1 GB envelope, in a fresh process, over that process's baseline
   (target ≤ 32 MB).
3. Post-quantum file-key unwraps per second (target ≥ 3,000), beside the bare HPKE open they are built on.
4. Merkle appends per second in memory (target ≥ 200,000), beside bare SHA-256 of the same leaves, and the
   time to build inclusion and consistency proofs in a tree of a million leaves.

Usage: ``.venv/bin/python bench/crypto_envelope.py [--megabytes 100] [--memory-gigabytes 1]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # after the path is set, when run as a script
from crypto import age
from crypto.age.recipients import _HYBRID_INFO, _HYBRID_SUITE
from crypto.age.stream import CHUNK_SIZE

#: Pieces in which the envelope is fed, as an upload arrives: larger than a chunk, not aligned to one.
PIECE = 256 * 1024 + 1


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of ``runs`` timings of ``work``, in seconds: the least disturbed by a shared machine."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def throughput(megabytes: int) -> None:
    data = os.urandom(megabytes * 1024 * 1024)
    identity = age.HybridIdentity.generate()
    sealed = age.encrypt(data, [identity.recipient])

    def raw() -> None:
        aead = ChaCha20Poly1305(os.urandom(32))
        for index, start in enumerate(range(0, len(data), CHUNK_SIZE)):
            aead.encrypt(index.to_bytes(12, "big"), data[start : start + CHUNK_SIZE], None)

    def seal() -> None:
        # The output goes where an upload would go: on, not kept (the raw baseline keeps nothing either).
        sealer = age.Sealer([identity.recipient])
        for start in range(0, len(data), PIECE):
            sealer.update(data[start : start + PIECE])
        sealer.finish()

    def open_() -> None:
        opener = age.Opener([identity])
        for start in range(0, len(sealed), PIECE):
            opener.update(sealed[start : start + PIECE])
        opener.finish()

    baseline = best_of(3, raw)
    sealing = best_of(3, seal)
    opening = best_of(3, open_)
    rate = megabytes / baseline
    print(f"raw ChaCha20-Poly1305, {megabytes} MB in 64 KiB chunks: {rate:8.0f} MB/s")
    for name, seconds in (("seal", sealing), ("open", opening)):
        ratio = baseline / seconds
        verdict = harness.verdict(ratio >= 0.6)
        print(
            f"{name} {megabytes} MB envelope, streamed:           {megabytes / seconds:8.0f} MB/s  "
            f"ratio {ratio:.2f}  (target >= 0.6: {verdict})"
        )


def _resident_kib() -> int:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


def memory_child(gigabytes: float) -> None:
    """Seal a stream of ``gigabytes`` and open it as it is made; print the highest resident growth in KiB.

    The baseline is the interpreter with everything imported and the keys made; memory is sampled after every
    piece, so the figure is the most the streaming itself ever held.
    """
    identity = age.HybridIdentity.generate()
    piece = os.urandom(PIECE)
    total = int(gigabytes * 1024**3)
    sealer, opener = age.Sealer([identity.recipient]), age.Opener([identity])
    baseline = peak = _resident_kib()
    written = 0
    while written < total:
        size = min(PIECE, total - written)
        opener.update(sealer.update(piece[:size]))
        written += size
        peak = max(peak, _resident_kib())
    opener.update(sealer.finish())
    opener.finish()
    print(max(peak, _resident_kib()) - baseline)


def memory(gigabytes: float) -> None:
    done = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(gigabytes)], capture_output=True, text=True, check=True
    )
    growth = int(done.stdout.strip()) / 1024
    verdict = harness.verdict(growth <= 32)
    print(
        f"peak memory over baseline, sealing and opening {gigabytes:g} GB: {growth:6.1f} MB  (target <= 32: {verdict})"
    )


def unwraps() -> None:
    identity = age.HybridIdentity.generate()
    header = age.read_header(age.encrypt(b"", [identity.recipient]))
    count = 2000
    identity.unwrap(header.stanzas)  # expands the key once, as an opening does
    seconds = best_of(3, lambda: [identity.unwrap(header.stanzas) for _ in range(count)])
    stanza = header.stanzas[0]
    sealed = age.header.b64decode(stanza.args[1].encode()) + stanza.body
    private = identity._keys[0]
    bare = best_of(3, lambda: [_HYBRID_SUITE.decrypt(sealed, private, info=_HYBRID_INFO) for _ in range(count)])
    rate = count / seconds
    verdict = harness.verdict(rate >= 3000)
    print(f"bare HPKE MLKEM768-X25519 opens:               {count / bare:8.0f} /s")
    print(
        f"post-quantum file-key unwraps:                 {rate:8.0f} /s  {harness.ratio(rate, count / bare)}  "
        f"(target >= 3,000/s: {verdict})"
    )


def merkle() -> None:
    try:
        from crypto import merkle
    except ImportError:  # the Merkle module comes with the audit log's work
        print("Merkle figures: crypto.merkle is not there yet")
        return
    count = 200_000
    leaves = [i.to_bytes(8, "big") for i in range(count)]
    bare = best_of(3, lambda: [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves])

    def append() -> None:
        tree = merkle.CompactRange()
        for leaf in leaves:
            tree.append(merkle.leaf_hash(leaf))

    seconds = best_of(3, append)
    verdict = harness.verdict(count / seconds >= 200_000)
    print(f"bare SHA-256 leaf hashes:                      {count / bare:8.0f} /s")
    print(
        f"Merkle appends in memory:                      {count / seconds:8.0f} /s  "
        f"{harness.ratio(count / seconds, count / bare)}  "
        f"(target >= 200,000/s: {verdict})"
    )
    million = 1_000_000
    store = merkle.MemoryHashStore()
    for i in range(million):
        store.append(merkle.leaf_hash(i.to_bytes(8, "big")))
    inclusion = best_of(5, lambda: merkle.inclusion_proof(123_457, million, store))
    consistency = best_of(5, lambda: merkle.consistency_proof(654_321, million, store))
    print(f"inclusion proof at 1,000,000 leaves:           {inclusion * 1000:8.2f} ms")
    print(f"consistency proof at 1,000,000 leaves:         {consistency * 1000:8.2f} ms")


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--megabytes", type=int, default=100, help="size of the throughput envelope (default 100)")
    parser.add_argument("--memory-gigabytes", type=float, default=1.0, help="size of the memory envelope (default 1)")


def run(args: argparse.Namespace, folder: Path) -> None:
    throughput(args.megabytes)
    memory(args.memory_gigabytes)
    unwraps()
    merkle()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--memory-child"]:
        memory_child(float(sys.argv[2]))
        sys.exit(0)
    sys.exit(harness.main(__doc__, arguments, run, describe=lambda args: "crypto/ envelope benchmark"))
