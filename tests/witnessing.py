"""A small transparency log for witness tests: real leaves, real signed checkpoints, real consistency proofs."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from crypto import merkle, note


class SampleLog:
    """A log of ``size`` leaves ``b"entry <n>"`` under ``origin``, signing its checkpoints with a fresh key."""

    def __init__(self, origin: str = "log.example/sample", size: int = 1000, *, salt: str = "") -> None:
        signer = note.parse_signer_key(note.generate_signer_key(origin))
        assert isinstance(signer, note.Ed25519Signer)
        self.signer = signer
        self.origin = origin
        # A different salt makes a fork: another tree whose checkpoints the same kind of key signs.
        self.store = merkle.MemoryHashStore(merkle.leaf_hash(f"entry {n}{salt}".encode()) for n in range(size))

    @property
    def verifier(self) -> note.Ed25519Verifier:
        return self.signer.verifier()

    @property
    def verifier_key(self) -> str:
        return self.verifier.verifier_key()

    def root(self, size: int) -> bytes:
        return self.store.root(size)

    def checkpoint(
        self, size: int, *, signers: Sequence[note.Signer] | None = None, root: bytes | None = None
    ) -> bytes:
        """The checkpoint note of the tree of ``size`` leaves (or stating ``root``), signed by the log's key."""
        checkpoint = note.Checkpoint(self.origin, size, self.root(size) if root is None else root)
        return note.sign_checkpoint(checkpoint, [self.signer] if signers is None else signers)

    def proof(self, old: int, new: int) -> list[bytes]:
        return merkle.consistency_proof(old, new, self.store)

    def body(self, old: int, size: int, *, proof: Sequence[bytes] | None = None, signed: bytes | None = None) -> bytes:
        """An add-checkpoint request body from ``old`` to ``size``, with the right proof unless one is given."""
        hashes = self.proof(old, size) if proof is None else proof
        lines = [f"old {old}", *(base64.b64encode(value).decode() for value in hashes)]
        return ("".join(line + "\n" for line in lines) + "\n").encode() + (signed or self.checkpoint(size))
