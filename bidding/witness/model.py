"""The witness's rules, C2SP tlog-witness ``add-checkpoint``: parsing a request and deciding on it, without I/O.

A request goes through three steps, in the order the specification states its checks:

1. :func:`parse_submission`: the body's format (400);
2. :func:`open_submission`: the origin is a log it follows (404), a trusted key of that log signed the checkpoint
   (403), the checkpoint is well formed and not smaller than the old size (400);
3. :func:`next_tree_head`, given the latest tree head cosigned for that log: the old size is that tree head's
   size (409, telling the size), a checkpoint of the same size has the same root (409), and the consistency proof
   leads from the latest tree head to the new one (422).

Only the third step depends on the witness's state; the caller runs it and persists its result atomically (see
:mod:`bidding.witness.service`). Each refusal is a :class:`WitnessError` carrying its HTTP status.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import ClassVar

from crypto import merkle, note

#: The largest request body read, in bytes. A request is an old size line, at most 63 proof lines of 45 bytes and
#: a checkpoint note; a note of 100 signatures (the most :mod:`crypto.note` reads) is about 15 KiB.
MAX_BODY_SIZE = 64 * 1024
#: Consistency proof lines a request may carry at most (tlog-witness: "MUST NOT send more than 63").
MAX_PROOF_LINES = 63

# ``[0-9]`` rather than ``\d``, which matches other scripts' digits too; no leading zeros except for 0 itself.
_OLD_SIZE = re.compile(r"old (0|[1-9][0-9]*)")


class WitnessError(Exception):
    """A request the witness refuses; ``status`` is the HTTP status tlog-witness prescribes for it."""

    status: ClassVar[int] = 400


class MalformedRequest(WitnessError):
    """The body is not an old size line, proof lines, a blank line and a checkpoint; or the old size is larger."""

    status = 400


class UntrustedCheckpoint(WitnessError):
    """No signature of a trusted key of the checkpoint's log verifies (or one of them fails)."""

    status = 403


class UnknownLog(WitnessError):
    """The checkpoint's origin is not a log this witness follows."""

    status = 404


class StaleOldSize(WitnessError):
    """The old size is not the size of the latest checkpoint cosigned for the log, ``size``."""

    status = 409

    def __init__(self, size: int) -> None:
        super().__init__(f"the latest checkpoint cosigned for this log has size {size}")
        self.size = size


class RootConflict(WitnessError):
    """A checkpoint of the size last cosigned states another root: the log has forked."""

    status = 409


class InconsistentProof(WitnessError):
    """The consistency proof does not show the new checkpoint to extend the one last cosigned."""

    status = 422


@dataclasses.dataclass(frozen=True, slots=True)
class TreeHead:
    """What the witness keeps per log: the size and root hash of the latest checkpoint it cosigned."""

    size: int
    root: bytes


#: The tree head of a log never cosigned: the empty tree (RFC 9162 §2.1.1), so that the first request says old 0.
EMPTY_TREE = TreeHead(0, merkle.EMPTY_ROOT)


@dataclasses.dataclass(frozen=True, slots=True)
class UnverifiedSubmission:
    """An ``add-checkpoint`` body as parsed: nothing in it has been checked against a key or the state yet."""

    old_size: int
    proof: tuple[bytes, ...]
    signed_checkpoint: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Submission:
    """A request whose checkpoint a trusted key of its log signed; it has yet to be checked against the state."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: note.Checkpoint
    #: The checkpoint's note text, what a cosignature signs (the checkpoint's lines, as received).
    text: str


def _decode_hash(line: str) -> bytes:
    """A proof line: the canonical standard base64 (RFC 4648 §4) of 32 bytes."""
    try:
        value = base64.b64decode(line, validate=True)
    except ValueError:  # binascii.Error, and the ValueError of text that is not ASCII
        raise MalformedRequest("a proof line is the base64 of a hash") from None
    if len(value) != merkle.HASH_SIZE or base64.b64encode(value).decode() != line:
        raise MalformedRequest("a proof line is the base64 of a 32-byte hash")
    return value


def parse_submission(body: bytes) -> UnverifiedSubmission:
    """Split an ``add-checkpoint`` body into its old size, proof hashes and checkpoint note; raises MalformedRequest.

    The body is ``old <size>`` (decimal, no leading zeros), up to :data:`MAX_PROOF_LINES` base64 hashes, a blank
    line, then a note; every line ends with a newline. The note's format is checked (:func:`note.parse_unverified_note`)
    but not its signatures: see :func:`open_submission`.
    """
    if len(body) > MAX_BODY_SIZE:
        raise MalformedRequest(f"the body is larger than {MAX_BODY_SIZE} bytes")
    # The header's lines are non-empty, so the first blank line ends it; the note's own blank line comes after.
    end = body.find(b"\n\n")
    if end < 0:
        raise MalformedRequest("the body has no blank line before the checkpoint")
    try:
        header = body[:end].decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise MalformedRequest("the lines before the checkpoint are ASCII") from None
    old = _OLD_SIZE.fullmatch(header[0])
    # The length first: int() refuses to read more than 4,300 digits, and no size has more than 20.
    if old is None or len(old[1]) > len(str(note.MAX_TREE_SIZE)) or int(old[1]) > note.MAX_TREE_SIZE:
        raise MalformedRequest("the first line is 'old <size>', the size in decimal without leading zeros")
    if len(header) - 1 > MAX_PROOF_LINES:
        raise MalformedRequest(f"a consistency proof has at most {MAX_PROOF_LINES} lines")
    proof = tuple(_decode_hash(line) for line in header[1:])
    signed_checkpoint = body[end + 2 :]
    try:
        note.parse_unverified_note(signed_checkpoint)
    except note.NoteError as error:
        raise MalformedRequest(f"the checkpoint is not a signed note: {error}") from None
    return UnverifiedSubmission(int(old[1]), proof, signed_checkpoint)


def open_submission(submission: UnverifiedSubmission, logs: Mapping[str, Sequence[note.Verifier]]) -> Submission:
    """Verify a parsed request's checkpoint against the keys of the logs followed, ``logs`` (origin → keys).

    Raises :class:`UnknownLog` for an origin not in ``logs``, :class:`UntrustedCheckpoint` unless a signature of
    one of its keys verifies (signatures of other keys are ignored; one of its keys that fails refuses the note),
    and :class:`MalformedRequest` for a note that is not a checkpoint or an old size larger than its size.
    """
    try:
        unverified = note.parse_unverified_note(submission.signed_checkpoint)
    except note.NoteError as error:
        raise MalformedRequest(f"the checkpoint is not a signed note: {error}") from None
    origin = unverified.text.partition("\n")[0]
    verifiers = logs.get(origin)
    if not verifiers:
        raise UnknownLog(f"this witness does not follow the log {origin!r}")
    try:
        opened = note.open_note(submission.signed_checkpoint, verifiers)
    except note.NoteError as error:
        raise UntrustedCheckpoint(f"the checkpoint is not signed by the log's key: {error}") from None
    try:
        checkpoint = note.parse_checkpoint(opened.text)
    except note.NoteError as error:
        raise MalformedRequest(f"the note is not a checkpoint: {error}") from None
    if submission.old_size > checkpoint.size:
        raise MalformedRequest(f"the old size {submission.old_size} is larger than the checkpoint's {checkpoint.size}")
    return Submission(submission.old_size, submission.proof, checkpoint, opened.text)


def next_tree_head(latest: TreeHead, submission: Submission) -> TreeHead:
    """The tree head to keep and cosign after ``submission``, given the latest one cosigned for its log.

    Raises :class:`StaleOldSize` when the request's old size is not ``latest.size`` (this also refuses every
    rollback: a smaller checkpoint either states a smaller old size or fails the 400 check before);
    :class:`RootConflict` for a checkpoint of the same size with another root (a fork);
    :class:`InconsistentProof` when the proof does not lead from ``latest`` to the new checkpoint (a fork at a
    larger size, or a bad proof), including a non-empty proof where none is due (old size 0, or equal sizes) and
    an empty tree whose root is not SHA-256 of nothing. Returns ``latest`` itself when the checkpoint is the one
    last cosigned: it may be cosigned again.
    """
    checkpoint = submission.checkpoint
    if submission.old_size != latest.size:
        raise StaleOldSize(latest.size)
    if checkpoint.size == 0 and checkpoint.root_hash != merkle.EMPTY_ROOT:
        raise InconsistentProof("the root of the empty tree is SHA-256 of nothing")
    if checkpoint.size == latest.size:
        if checkpoint.root_hash != latest.root:
            raise RootConflict(f"the log has already stated another root for size {latest.size}")
        if submission.proof:
            raise InconsistentProof("the consistency proof between equal sizes is empty")
        return latest
    try:
        merkle.verify_consistency(latest.size, checkpoint.size, latest.root, checkpoint.root_hash, submission.proof)
    except merkle.MerkleError as error:
        raise InconsistentProof(f"the consistency proof does not verify: {error}") from None
    return TreeHead(checkpoint.size, checkpoint.root_hash)
