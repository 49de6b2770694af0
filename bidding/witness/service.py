"""The witness's one use case, ``add-checkpoint``: check a request, keep the new tree head, cosign it.

The checks that need no state (format, origin, the log's signature) run first, concurrently; the check against
the latest tree head and the write of the new one run under the state file's lock, one request at a time, and
the cosignature is made only once the new tree head is on disk. So the witness never cosigns two checkpoints of a
log that are not consistent with each other, even when requests race or it crashes between two of these steps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from bidding.witness import model
from bidding.witness.state import StateFile
from crypto import note
from crypto.note import CosignatureSigner, Ed25519Verifier

logger = logging.getLogger(__name__)


class Witness:
    """A witness: its cosigning key, the logs it follows (origin → their keys) and its state file."""

    def __init__(
        self, signer: CosignatureSigner, logs: Mapping[str, Sequence[Ed25519Verifier]], state: StateFile
    ) -> None:
        self.signer = signer
        self.logs = logs
        self.state = state
        # Requests of this process wait here rather than each holding a thread blocked on the file lock.
        self._lock = asyncio.Lock()

    @property
    def verifier_key(self) -> str:
        """The witness's cosignature verifier key, which logs and their clients configure."""
        return self.signer.verifier().verifier_key()

    async def add_checkpoint(self, body: bytes) -> bytes:
        """The cosignature line of the checkpoint a request body submits, once its tree head is persisted.

        Raises a :class:`~bidding.witness.model.WitnessError` for a refused request, and
        :class:`~bidding.witness.state.StateError` when the state cannot be read or written (then nothing was
        cosigned).
        """
        submission = model.open_submission(model.parse_submission(body), self.logs)
        origin = submission.checkpoint.origin
        try:
            async with self._lock:
                await asyncio.to_thread(
                    self.state.update, origin, lambda latest: model.next_tree_head(latest, submission)
                )
        except (model.RootConflict, model.InconsistentProof) as error:
            # Signed by the log, and not consistent with what it showed before: evidence of misbehaviour,
            # worth keeping (tlog-witness: the witness MAY log it).
            logger.warning("%s refused: %s; request:\n%s", origin, error, body.decode(errors="replace"))
            raise
        except model.StaleOldSize as error:
            logger.info("%s: old size %d, latest cosigned %d", origin, submission.old_size, error.size)
            raise
        signature = self.signer.sign(submission.text.encode())
        logger.info("%s: cosigned size %d", origin, submission.checkpoint.size)
        return signature.line().encode()


def group_log_keys(verifiers: Sequence[note.Verifier]) -> dict[str, list[Ed25519Verifier]]:
    """Log keys by origin, the key's name (a log signs its checkpoints under its origin); duplicates once.

    Raises ``ValueError`` for a key that is not a log's Ed25519 key, and for two keys of one log with the same key
    ID (no signature could be told to be either's).
    """
    logs: dict[str, dict[int, Ed25519Verifier]] = {}
    for verifier in verifiers:
        if not isinstance(verifier, Ed25519Verifier):
            raise ValueError(f"the key of {verifier.name} is not a log's Ed25519 key")
        keys = logs.setdefault(verifier.name, {})
        known = keys.setdefault(verifier.key_id, verifier)
        if known.public_key != verifier.public_key:
            raise ValueError(f"two keys of {verifier.name} have the key ID {verifier.key_id:08x}")
    return {origin: list(keys.values()) for origin, keys in logs.items()}
