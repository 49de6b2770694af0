"""Signed notes, checkpoints, cosignatures and log proofs: the C2SP texts a transparency log is audited with.

- ``signed-note``: a UTF-8 text ending in a newline, a blank line, then one or more lines
  ``— <key name> base64(key ID || signature)``. The 4-byte key ID is ``SHA-256(name || 0x0A || type ||
  public key)[:4]`` with the signature type ``0x01`` for Ed25519. Keys travel as verifier keys
  ``<name>+<hex key ID>+base64(type || public key)`` and signer keys
  ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)``, the encoding of Go's ``golang.org/x/mod/sumdb/note``
  that the specification refers to as vkeys.
- ``tlog-checkpoint``: a note whose text is the log's origin, its size in decimal, its root hash in base64 and
  optional extension lines.
- ``tlog-cosignature``: a witness's Ed25519 signature, type ``0x04``, over ``cosignature/v1``, a ``time`` line and the
  checkpoint text, carried as an 8-byte big-endian timestamp followed by the 64-byte signature.
- ``tlog-proof``: a receipt made of an entry's index, its inclusion proof and the signed checkpoint, verifiable
  offline with the log's key (and the witnesses' keys, when a quorum of cosignatures is required).

Texts not yet verified say so in their names (``UnverifiedNote``, ``parse_unverified_note``); only
:func:`open_note` and the functions built on it return text whose signatures were checked. Every failure, of any
kind, is the one opaque :class:`NoteError`.

The only clock and randomness are in :meth:`CosignatureSigner.sign` and :func:`generate_signer_key`; each hands
them to a deterministic function (:meth:`CosignatureSigner.sign_at`, :func:`encode_signer_key`) that tests call.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
import time
import unicodedata
from collections.abc import Sequence
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto import merkle

#: Signature type of plain Ed25519 note signatures (C2SP signed-note).
ED25519 = 0x01
#: Signature type of timestamped Ed25519 witness cosignatures (C2SP tlog-cosignature).
COSIGNATURE_V1 = 0x04
#: Signature lines read from one note at most. The specification asks verifiers to accept at least 16; 100 is the
#: limit of Go's reference verifier, so no note it accepts is refused here for its length.
MAX_SIGNATURES = 100
#: The largest POSIX time a cosignature may carry (tlog-cosignature: "MUST NOT exceed 2^63 - 1").
MAX_TIMESTAMP = (1 << 63) - 1
#: The largest tree size a checkpoint may state: logs count entries in 64 bits.
MAX_TREE_SIZE = (1 << 64) - 1
#: Hashes in a receipt's inclusion proof at most: one per level of a tree of 2**64 entries.
MAX_PROOF_HASHES = 64
#: First line of every receipt (C2SP tlog-proof).
PROOF_HEADER = "c2sp.org/tlog-proof@v1"

_SIGNATURE_PREFIX = "\N{EM DASH} "
_COSIGNATURE_HEADER = "cosignature/v1\n"
_SEED_SIZE = 32
_PUBLIC_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
# ``[0-9]`` rather than ``\d``, which also matches digits of other scripts; no leading zeros except for 0 itself.
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")


class NoteError(Exception):
    """A note, key, checkpoint, cosignature or receipt is malformed or does not verify.

    One class whatever went wrong; the message is for people reading logs, not for branching on, and never
    contains key material.
    """


def _decode_base64(text: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4): padded, no stray characters, and in its one canonical form."""
    try:
        value = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII
        raise NoteError("malformed base64") from None
    if base64.b64encode(value).decode() != text:
        raise NoteError("malformed base64")
    return value


def _encode_base64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _is_space(character: str) -> bool:
    # Unicode spaces: Python's notion of whitespace, and every separator category it might leave out.
    return character.isspace() or unicodedata.category(character) in ("Zs", "Zl", "Zp")


def check_key_name(name: str) -> None:
    """Check a key name: non-empty, without Unicode spaces, ``+`` or control characters; raises :class:`NoteError`."""
    if not name or any(_is_space(c) or c == "+" or ord(c) < 0x20 for c in name):
        raise NoteError("a key name must be non-empty, without spaces, plus signs or control characters")


def _check_text(text: str) -> None:
    """A note text: ends with a newline, and has no control character but newlines (signed-note, Format)."""
    if not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note text ends with a newline and has no other control characters")


def key_id(name: str, signature_type: int, public_key: bytes) -> int:
    """The key ID of a key: the first four bytes of ``SHA-256(name || 0x0A || type || public key)``, big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclasses.dataclass(frozen=True, slots=True)
class Signature:
    """One signature line of a note: the key's name and ID, and the signature bytes after the ID.

    Constructing one that cannot be written (a bad name, an ID outside 32 bits, no signature bytes) raises
    :class:`NoteError`.
    """

    name: str
    key_id: int
    signature: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if not (0 <= self.key_id < 1 << 32 and self.signature):
            raise NoteError("a signature has a 32-bit key ID and at least one byte")

    def line(self) -> str:
        """The signature line, newline included: ``— <name> base64(key ID || signature)``."""
        return f"{_SIGNATURE_PREFIX}{self.name} {_encode_base64(self.key_id.to_bytes(4, 'big') + self.signature)}\n"


class Verifier(Protocol):
    """A known public key: it verifies the signatures whose name and key ID are its own."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> None:
        """Return when ``signature`` (the bytes after the key ID) signs the note text; raise :class:`NoteError`."""
        ...


class Signer(Protocol):
    """A private key that signs note texts under its name and key ID."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, text: bytes) -> Signature:
        """The signature of the note text by this key."""
        ...

    def verifier(self) -> Verifier:
        """The verifier of this key's signatures."""
        ...


def _ed25519_public_key(public_key: bytes) -> Ed25519PublicKey:
    if len(public_key) != _PUBLIC_KEY_SIZE:
        raise NoteError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(public_key)


def _ed25519_verify(key: Ed25519PublicKey, message: bytes, signature: bytes) -> None:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        raise NoteError("a signature by a known key does not verify") from None


class _Ed25519PublicKey:
    """An Ed25519 public key under a key name; subclasses say which signature type and how it verifies."""

    __slots__ = ("_key", "key_id", "name", "public_key")
    _TYPE: ClassVar[int]

    def __init__(self, name: str, public_key: bytes) -> None:
        check_key_name(name)
        self._key = _ed25519_public_key(public_key)
        self.name = name
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, self._TYPE, self.public_key)

    def verifier_key(self) -> str:
        """This key as a verifier key line: ``<name>+<hex key ID>+base64(type || public key)``."""
        return encode_verifier_key(self.name, self.public_key, self._TYPE)


class Ed25519Verifier(_Ed25519PublicKey):
    """The verifier of Ed25519 note signatures (type 0x01) by the key ``public_key`` named ``name``."""

    __slots__ = ()
    _TYPE = ED25519

    def verify(self, text: bytes, signature: bytes) -> None:
        """Return when ``signature`` is this key's Ed25519 signature of ``text``; raise :class:`NoteError`."""
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            raise NoteError("an Ed25519 signature is 64 bytes")
        _ed25519_verify(self._key, text, signature)


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """What a v1 cosignature signs: ``cosignature/v1``, ``time <timestamp>``, then the checkpoint's note text."""
    return f"{_COSIGNATURE_HEADER}time {timestamp}\n".encode() + text


def cosignature_timestamp(signature: Signature) -> int:
    """The POSIX time a v1 cosignature carries (its first 8 bytes, big-endian); raises :class:`NoteError`.

    Trust it only from a signature that :func:`open_note` verified with a :class:`CosignatureVerifier`.
    """
    if len(signature.signature) != 8 + _ED25519_SIGNATURE_SIZE:
        raise NoteError("a cosignature is an 8-byte time and a 64-byte signature")
    timestamp = int.from_bytes(signature.signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise NoteError("a cosignature's time exceeds 2**63 - 1")
    return timestamp


class CosignatureVerifier(_Ed25519PublicKey):
    """The verifier of a witness's timestamped Ed25519 cosignatures (type 0x04, ``cosignature/v1``)."""

    __slots__ = ()
    _TYPE = COSIGNATURE_V1

    def verify(self, text: bytes, signature: bytes) -> None:
        """Return when ``signature`` is this witness's cosignature of the checkpoint ``text``; raise NoteError.

        Timestamps in the future are not refused here: this library reads no clock. A caller that wants to refuse
        them compares :func:`cosignature_timestamp` with its own clock.
        """
        timestamp = cosignature_timestamp(Signature(self.name, self.key_id, signature))
        _ed25519_verify(self._key, cosigned_message(text, timestamp), signature[8:])


class _Ed25519SigningKey:
    """An Ed25519 private key under a key name, from its 32-byte seed; subclasses say which signature type."""

    __slots__ = ("_key", "key_id", "name", "public_key", "seed")
    _TYPE: ClassVar[int]

    def __init__(self, name: str, seed: bytes) -> None:
        check_key_name(name)
        if len(seed) != _SEED_SIZE:
            raise NoteError("an Ed25519 seed is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        #: The private key's seed, for writing the key back out (a person's key file).
        self.seed = seed
        self.name = name
        self.public_key = self._key.public_key().public_bytes_raw()
        self.key_id = key_id(name, self._TYPE, self.public_key)


class Ed25519Signer(_Ed25519SigningKey):
    """A log's Ed25519 note signer (type 0x01), from the 32-byte seed of its private key."""

    __slots__ = ()
    _TYPE = ED25519

    def sign(self, text: bytes) -> Signature:
        """This key's Ed25519 signature of ``text`` (deterministic, RFC 8032)."""
        return Signature(self.name, self.key_id, self._key.sign(text))

    def verifier(self) -> Ed25519Verifier:
        """The verifier of this key's signatures."""
        return Ed25519Verifier(self.name, self.public_key)


class CosignatureSigner(_Ed25519SigningKey):
    """A witness's cosigner (type 0x04), from the 32-byte seed of its Ed25519 private key."""

    __slots__ = ()
    _TYPE = COSIGNATURE_V1

    def sign(self, text: bytes) -> Signature:
        """A cosignature of the checkpoint ``text`` at the current time."""
        return self.sign_at(text, int(time.time()))

    def sign_at(self, text: bytes, timestamp: int) -> Signature:
        """A cosignature of the checkpoint ``text`` stating the POSIX time ``timestamp``; raises NoteError."""
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise NoteError("a cosignature's time is 0 to 2**63 - 1")
        signature = self._key.sign(cosigned_message(text, timestamp))
        return Signature(self.name, self.key_id, timestamp.to_bytes(8, "big") + signature)

    def verifier(self) -> CosignatureVerifier:
        """The verifier of this witness's cosignatures."""
        return CosignatureVerifier(self.name, self.public_key)


def encode_verifier_key(name: str, public_key: bytes, signature_type: int = ED25519) -> str:
    """A verifier key line, ``<name>+<hex key ID>+base64(type || public key)``, for Ed25519 or cosignature keys."""
    verifier = _make_verifier(name, signature_type, public_key)
    return f"{name}+{verifier.key_id:08x}+{_encode_base64(bytes([signature_type]) + public_key)}"


def encode_signer_key(name: str, seed: bytes, signature_type: int = ED25519) -> str:
    """A signer key line, ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)``; keep it secret.

    The key ID is that of the public key, as in the verifier key. Raises :class:`NoteError` for a bad name, a seed
    that is not 32 bytes or a type other than :data:`ED25519` and :data:`COSIGNATURE_V1`.
    """
    signer = _make_signer(name, signature_type, seed)
    return f"PRIVATE+KEY+{name}+{signer.key_id:08x}+{_encode_base64(bytes([signature_type]) + seed)}"


def generate_signer_key(name: str, signature_type: int = ED25519) -> str:
    """A new signer key line from 32 random bytes of the operating system; derive its verifier key from it."""
    return encode_signer_key(name, os.urandom(_SEED_SIZE), signature_type)


def _make_verifier(name: str, signature_type: int, public_key: bytes) -> Ed25519Verifier | CosignatureVerifier:
    if signature_type == ED25519:
        return Ed25519Verifier(name, public_key)
    if signature_type == COSIGNATURE_V1:
        return CosignatureVerifier(name, public_key)
    raise NoteError("unsupported signature type")


def _make_signer(name: str, signature_type: int, seed: bytes) -> Ed25519Signer | CosignatureSigner:
    if signature_type == ED25519:
        return Ed25519Signer(name, seed)
    if signature_type == COSIGNATURE_V1:
        return CosignatureSigner(name, seed)
    raise NoteError("unsupported signature type")


def _split_key(text: str) -> tuple[str, int, int, bytes]:
    """Name, key ID, signature type and key material of ``<name>+<hex key ID>+base64(type || key)``."""
    name, plus, rest = text.partition("+")
    hex_id, plus_too, encoded = rest.partition("+")
    if not plus or not plus_too or not _KEY_ID.fullmatch(hex_id):
        raise NoteError("malformed key")
    material = _decode_base64(encoded)
    if not material:
        raise NoteError("malformed key")
    return name, int(hex_id, 16), material[0], material[1:]


def parse_verifier_key(vkey: str) -> Ed25519Verifier | CosignatureVerifier:
    """The verifier of a verifier key line; raises :class:`NoteError` if malformed or its key ID is not its own."""
    name, stated_id, signature_type, public_key = _split_key(vkey)
    verifier = _make_verifier(name, signature_type, public_key)
    if verifier.key_id != stated_id:
        raise NoteError("the key ID does not match the key")
    return verifier


def parse_signer_key(skey: str) -> Ed25519Signer | CosignatureSigner:
    """The signer of a signer key line; raises :class:`NoteError` if malformed or its key ID is not its own.

    The error never quotes the line, which is secret.
    """
    prefix, _, rest = skey.partition("PRIVATE+KEY+")
    if prefix:
        raise NoteError("malformed signer key")
    name, stated_id, signature_type, seed = _split_key(rest)
    signer = _make_signer(name, signature_type, seed)
    if signer.key_id != stated_id:
        raise NoteError("the key ID does not match the key")
    return signer


@dataclasses.dataclass(frozen=True, slots=True)
class UnverifiedNote:
    """A note as parsed, before any signature was checked: its text must not be acted on."""

    text: str
    signatures: tuple[Signature, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Note:
    """A note with at least one signature by a known key verified.

    ``signatures`` are the verified ones; ``unverified_signatures`` are those of unknown keys, kept so that the
    note can be passed on (or cosigned) without losing them.
    """

    text: str
    signatures: tuple[Signature, ...]
    unverified_signatures: tuple[Signature, ...]


def _parse_signature_line(line: str) -> Signature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise NoteError("a signature line starts with an em dash and a space")
    name, space, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not space:
        raise NoteError("a signature line has a key name, a space and a signature")
    raw = _decode_base64(encoded)
    if len(raw) < 5:
        raise NoteError("a signature is a 4-byte key ID and at least one byte")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse_unverified_note(data: bytes) -> UnverifiedNote:
    """Split a signed note into its text and signature lines, checking the format only.

    The note is valid UTF-8 without control characters other than newlines; the text ends at the last blank line
    (it includes its final newline, not the blank line); then come 1 to :data:`MAX_SIGNATURES` signature lines,
    each ending in a newline. Raises :class:`NoteError`. Nothing is verified: see :func:`open_note`.
    """
    try:
        message = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("a note is UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in message):
        raise NoteError("a note has no control characters other than newlines")
    split = message.rfind("\n\n")
    if split < 0:
        raise NoteError("a note has a blank line before its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("a note ends with signature lines")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note has at most {MAX_SIGNATURES} signatures")
    return UnverifiedNote(text, tuple(_parse_signature_line(line) for line in lines))


def format_note(text: str, signatures: Sequence[Signature]) -> bytes:
    """A signed note from its text and signature lines, in the given order; raises :class:`NoteError`.

    The text must end with a newline and hold no control characters but newlines; there must be 1 to
    :data:`MAX_SIGNATURES` signatures.
    """
    _check_text(text)
    if not 0 < len(signatures) <= MAX_SIGNATURES:
        raise NoteError(f"a note has 1 to {MAX_SIGNATURES} signatures")
    return (text + "\n" + "".join(signature.line() for signature in signatures)).encode()


def sign_note(text: str, signers: Sequence[Signer]) -> bytes:
    """The note of ``text`` signed by each signer in turn; raises :class:`NoteError` for a malformed text."""
    _check_text(text)
    return format_note(text, [signer.sign(text.encode()) for signer in signers])


def open_note(data: bytes, verifiers: Sequence[Verifier]) -> Note:
    """Parse a signed note and verify it with the known keys; the text may be acted on only if this returns.

    Following signed-note: a signature whose key name *and* key ID match no known key is set aside unverified
    (even when one of the two matches a known key); every signature of a known key is verified, and a single one
    that fails rejects the whole note; at least one must verify. Two known keys with the same name and key ID are
    refused, as they cannot be told apart. Raises :class:`NoteError`.
    """
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        if (verifier.name, verifier.key_id) in known:
            raise NoteError("two known keys share a name and key ID")
        known[verifier.name, verifier.key_id] = verifier
    note = parse_unverified_note(data)
    text = note.text.encode()
    verified: dict[tuple[str, int], Signature] = {}
    unverified: dict[Signature, None] = {}
    for signature in note.signatures:
        signer_key = known.get((signature.name, signature.key_id))
        if signer_key is None:
            unverified[signature] = None
            continue
        signer_key.verify(text, signature.signature)
        verified.setdefault((signature.name, signature.key_id), signature)
    if not verified:
        raise NoteError("no signature by a known key")
    return Note(note.text, tuple(verified.values()), tuple(unverified))


@dataclasses.dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head, as the text of a checkpoint note (C2SP tlog-checkpoint).

    ``extensions`` are the optional lines after the root hash: opaque, and not auditable by monitors.
    Constructing one with a field that cannot be written raises :class:`NoteError`.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("a checkpoint's origin is one non-empty line")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError("a checkpoint's size is 0 to 2**64 - 1")
        if len(self.root_hash) != merkle.HASH_SIZE:
            raise NoteError("a checkpoint's root hash is 32 bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise NoteError("a checkpoint's extension lines are non-empty lines")

    def text(self) -> str:
        """The note text: origin, size, base64 root hash and extension lines, each ending with a newline."""
        lines = [self.origin, str(self.size), _encode_base64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint a note text states; raises :class:`NoteError` if it is not one.

    Use it on the text of a note :func:`open_note` returned (or use :func:`open_checkpoint`): it checks the format
    only. The size is decimal without leading zeros, the root hash the base64 of 32 bytes.
    """
    if not text.endswith("\n"):
        raise NoteError("a checkpoint's lines end with newlines")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise NoteError("a checkpoint has at least three non-empty lines")
    origin, size, root, *extensions = lines
    if not _DECIMAL.fullmatch(size) or len(size) > len(str(MAX_TREE_SIZE)):
        raise NoteError("a checkpoint's size is decimal without leading zeros")
    return Checkpoint(origin, int(size), _decode_base64(root), tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[Signer]) -> bytes:
    """The checkpoint note signed by each signer (the log's key first, by convention)."""
    return sign_note(checkpoint.text(), signers)


def open_checkpoint(data: bytes, origin: str, verifiers: Sequence[Verifier]) -> tuple[Checkpoint, Note]:
    """Verify a checkpoint note (:func:`open_note`) and read it; its origin must be ``origin``.

    Raises :class:`NoteError`. Which keys must have signed is for the caller to check on the returned note's
    signatures when more than one verifier is known (see :func:`verify_log_proof` for a log key and witnesses).
    """
    note = open_note(data, verifiers)
    checkpoint = parse_checkpoint(note.text)
    if checkpoint.origin != origin:
        raise NoteError("the checkpoint is for another log")
    return checkpoint, note


@dataclasses.dataclass(frozen=True, slots=True)
class UnverifiedLogProof:
    """A receipt as parsed (C2SP tlog-proof), nothing in it checked yet.

    ``unverified_extra`` stays unauthenticated even after verification: the receipt's signatures do not cover it.
    """

    index: int
    inclusion_proof: tuple[bytes, ...]
    signed_checkpoint: bytes
    unverified_extra: bytes | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class LogProof:
    """A verified receipt: the entry at ``index`` is in the log whose signed checkpoint is ``checkpoint``."""

    index: int
    checkpoint: Checkpoint
    note: Note
    unverified_extra: bytes | None


def format_log_proof(
    index: int, inclusion_proof: Sequence[bytes], signed_checkpoint: bytes, extra: bytes | None = None
) -> bytes:
    """A receipt: header, optional ``extra`` line, ``index`` line, proof hashes, a blank line, the checkpoint note.

    No ``extra`` line is written when ``extra`` is None or empty. The checkpoint note is copied verbatim. Raises
    :class:`NoteError` for a negative index, a proof hash that is not 32 bytes or a proof too long.
    """
    if index < 0 or len(inclusion_proof) > MAX_PROOF_HASHES:
        raise NoteError("a receipt has a non-negative index and at most 64 proof hashes")
    if any(len(value) != merkle.HASH_SIZE for value in inclusion_proof):
        raise NoteError("a proof hash is 32 bytes")
    lines = [PROOF_HEADER]
    if extra:
        lines.append(f"extra {_encode_base64(extra)}")
    lines.append(f"index {index}")
    lines.extend(_encode_base64(value) for value in inclusion_proof)
    return ("".join(line + "\n" for line in lines) + "\n").encode() + signed_checkpoint


def parse_unverified_log_proof(data: bytes) -> UnverifiedLogProof:
    """Split a receipt into its parts, checking the format only; raises :class:`NoteError`.

    Nothing is verified; see :func:`verify_log_proof`.
    """
    position = 0

    def next_line() -> str:
        nonlocal position
        end = data.find(b"\n", position)
        if end < 0:
            raise NoteError("the receipt ends before its checkpoint")
        try:
            line = data[position:end].decode("ascii")
        except UnicodeDecodeError:
            raise NoteError("a receipt's lines before the checkpoint are ASCII") from None
        position = end + 1
        return line

    if next_line() != PROOF_HEADER:
        raise NoteError("not a receipt")
    line = next_line()
    extra = None
    if line.startswith("extra "):
        extra = _decode_base64(line[len("extra ") :])
        if not extra:
            raise NoteError("an extra line carries data")
        line = next_line()
    index = line[len("index ") :]
    if not line.startswith("index ") or not _DECIMAL.fullmatch(index) or len(index) > len(str(MAX_TREE_SIZE)):
        raise NoteError("a receipt states its index in decimal")
    proof: list[bytes] = []
    while line := next_line():
        if len(proof) == MAX_PROOF_HASHES:
            raise NoteError("a receipt has at most 64 proof hashes")
        value = _decode_base64(line)
        if len(value) != merkle.HASH_SIZE:
            raise NoteError("a proof hash is 32 bytes")
        proof.append(value)
    return UnverifiedLogProof(int(index), tuple(proof), data[position:], extra)


def verify_log_proof(
    data: bytes,
    leaf_hash: bytes,
    origin: str,
    log_verifier: Verifier,
    witnesses: Sequence[Verifier] = (),
    quorum: int = 0,
) -> LogProof:
    """Check a receipt offline: the entry whose leaf hash is ``leaf_hash`` is in the log named ``origin``.

    The checkpoint must be signed by ``log_verifier`` and cosigned by at least ``quorum`` of ``witnesses``; its
    origin must be ``origin``; the inclusion proof must lead from the leaf hash at the receipt's index to the
    checkpoint's root. ``leaf_hash`` is :func:`crypto.merkle.leaf_hash` of the entry. Raises :class:`NoteError`
    whatever is wrong, including a bad proof.
    """
    receipt = parse_unverified_log_proof(data)
    checkpoint, note = open_checkpoint(receipt.signed_checkpoint, origin, [log_verifier, *witnesses])
    signed_by = {(signature.name, signature.key_id) for signature in note.signatures}
    if (log_verifier.name, log_verifier.key_id) not in signed_by:
        raise NoteError("the checkpoint is not signed by the log")
    cosigned = {(witness.name, witness.key_id) for witness in witnesses} & signed_by
    if len(cosigned) < quorum:
        raise NoteError("too few witnesses cosigned the checkpoint")
    try:
        merkle.verify_inclusion(
            leaf_hash, receipt.index, checkpoint.size, receipt.inclusion_proof, checkpoint.root_hash
        )
    except merkle.MerkleError:
        raise NoteError("the entry is not in the checkpointed tree") from None
    return LogProof(receipt.index, checkpoint, note, receipt.unverified_extra)
