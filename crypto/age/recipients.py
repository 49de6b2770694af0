"""The native age recipient types (C2SP age): mlkem768x25519 (post-quantum hybrid), X25519 and scrypt.

A recipient wraps a file key into a stanza; an identity unwraps it again. An identity ignores stanzas of
other types, returns ``None`` when a stanza of its type is not for it, and raises :class:`HeaderError` when
a stanza of its type is malformed, as the specification requires.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Sequence
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto import bech32
from crypto.age.errors import HeaderError, KeyFormatError
from crypto.age.header import FILE_KEY_SIZE, Stanza, b64decode, b64encode

_ZERO_NONCE = bytes(12)
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw

# --- Recipient and identity interfaces ------------------------------------------------------------------------


class Recipient(Protocol):
    #: Whether the recipient resists quantum computers; age refuses to mix such recipients with others.
    post_quantum: bool

    def wrap(self, file_key: bytes) -> list[Stanza]: ...


class Identity(Protocol):
    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None: ...


def _check_body(stanza: Stanza) -> None:
    # Checked before decrypting, against partitioning oracle attacks (a longer body could be crafted to
    # decrypt under many keys at once); it also makes every unwrapped file key 16 bytes long.
    if len(stanza.body) != FILE_KEY_SIZE + 16:
        raise HeaderError(f"{stanza.type} stanza body is not 32 bytes")


# --- X25519 ---------------------------------------------------------------------------------------------------

_X25519_INFO = b"age-encryption.org/v1/X25519"


def _x25519_wrap_key(shared_secret: bytes, ephemeral_share: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=ephemeral_share + recipient, info=_X25519_INFO).derive(shared_secret)


@dataclasses.dataclass(frozen=True, slots=True)
class X25519Recipient:
    public_key: bytes
    post_quantum = False

    def encode(self) -> str:
        return bech32.encode("age", self.public_key)

    def wrap(self, file_key: bytes) -> list[Stanza]:
        return [self.wrap_from_parts(file_key, os.urandom(32))]

    def wrap_from_parts(self, file_key: bytes, ephemeral_secret: bytes) -> Stanza:
        """The stanza for ``file_key`` with a given ephemeral secret (tests pin it; :meth:`wrap` draws it)."""
        ephemeral = x25519.X25519PrivateKey.from_private_bytes(ephemeral_secret)
        share = ephemeral.public_key().public_bytes(*_RAW)
        shared_secret = ephemeral.exchange(x25519.X25519PublicKey.from_public_bytes(self.public_key))
        key = _x25519_wrap_key(shared_secret, share, self.public_key)
        return Stanza(("X25519", b64encode(share).decode()), ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, file_key, None))


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class X25519Identity:
    secret: bytes

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(os.urandom(32))

    def encode(self) -> str:
        return bech32.encode("AGE-SECRET-KEY-", self.secret).upper()

    @property
    def recipient(self) -> X25519Recipient:
        public = x25519.X25519PrivateKey.from_private_bytes(self.secret).public_key()
        return X25519Recipient(public.public_bytes(*_RAW))

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        private = x25519.X25519PrivateKey.from_private_bytes(self.secret)
        recipient = private.public_key().public_bytes(*_RAW)
        for stanza in stanzas:
            if stanza.type != "X25519":
                continue
            if len(stanza.args) != 2:
                raise HeaderError("X25519 stanza must have exactly one argument")
            share = b64decode(stanza.args[1].encode())
            if len(share) != 32:
                raise HeaderError("X25519 share is not 32 bytes")
            _check_body(stanza)
            try:
                shared_secret = private.exchange(x25519.X25519PublicKey.from_public_bytes(share))
            except ValueError:
                raise HeaderError("X25519 share gives an all-zero shared secret") from None
            key = _x25519_wrap_key(shared_secret, share, recipient)
            try:
                return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, stanza.body, None)
            except InvalidTag:
                continue
        return None

    def __repr__(self) -> str:
        return "X25519Identity(…)"


# --- mlkem768x25519 (X-Wing) ----------------------------------------------------------------------------------

_HYBRID_INFO = b"age-encryption.org/mlkem768x25519"
_HYBRID_SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_HYBRID_ENC_SIZE = 1120  # ML-KEM-768 ciphertext (1088) || X25519 share (32)
_MLKEM_PUBLIC_SIZE = 1184
HYBRID_PUBLIC_SIZE = _MLKEM_PUBLIC_SIZE + 32


def _expand_hybrid_seed(seed: bytes) -> tuple[mlkem.MLKEM768PrivateKey, x25519.X25519PrivateKey]:
    # draft-ietf-hpke-pq-03 (MLKEM768-X25519): the 32-byte seed is expanded with SHAKE256 to 96 bytes, the
    # ML-KEM-768 seed (d || z) then the X25519 private key.
    expanded = hashlib.shake_256(seed).digest(96)
    return mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]), x25519.X25519PrivateKey.from_private_bytes(
        expanded[64:]
    )


@dataclasses.dataclass(frozen=True, slots=True)
class HybridRecipient:
    """An ``age1pq1…`` recipient: an ML-KEM-768 encapsulation key followed by an X25519 public key."""

    public_key: bytes
    post_quantum = True

    def encode(self) -> str:
        return bech32.encode("age1pq", self.public_key)

    def _hpke_key(self) -> hpke.MLKEM768X25519PublicKey:
        try:
            return hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(self.public_key[:_MLKEM_PUBLIC_SIZE]),
                x25519.X25519PublicKey.from_public_bytes(self.public_key[_MLKEM_PUBLIC_SIZE:]),
            )
        except ValueError:
            raise KeyFormatError("not a valid post-quantum age recipient") from None

    def wrap(self, file_key: bytes) -> list[Stanza]:
        sealed = _HYBRID_SUITE.encrypt(file_key, self._hpke_key(), info=_HYBRID_INFO)
        enc, body = sealed[:_HYBRID_ENC_SIZE], sealed[_HYBRID_ENC_SIZE:]
        return [Stanza(("mlkem768x25519", b64encode(enc).decode()), body)]


@dataclasses.dataclass(frozen=True, repr=False)
class HybridIdentity:
    """An ``AGE-SECRET-KEY-PQ-1…`` identity: a 32-byte seed from which both private keys are expanded."""

    seed: bytes

    @functools.cached_property
    def _keys(self) -> tuple[hpke.MLKEM768X25519PrivateKey, x25519.X25519PrivateKey]:
        # Expanded once per identity: opening many bids with one tender key should not redo it each time.
        mlkem_key, x25519_key = _expand_hybrid_seed(self.seed)
        return hpke.MLKEM768X25519PrivateKey(mlkem_key, x25519_key), x25519_key

    @classmethod
    def generate(cls) -> HybridIdentity:
        return cls(os.urandom(32))

    def encode(self) -> str:
        return bech32.encode("AGE-SECRET-KEY-PQ-", self.seed).upper()

    @property
    def recipient(self) -> HybridRecipient:
        mlkem_key, x25519_key = _expand_hybrid_seed(self.seed)
        return HybridRecipient(mlkem_key.public_key().public_bytes(*_RAW) + x25519_key.public_key().public_bytes(*_RAW))

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type != "mlkem768x25519":
                continue
            if len(stanza.args) != 2:
                raise HeaderError("mlkem768x25519 stanza must have exactly one argument")
            enc = b64decode(stanza.args[1].encode())
            if len(enc) != _HYBRID_ENC_SIZE:
                raise HeaderError("mlkem768x25519 enc is not 1120 bytes")
            _check_body(stanza)
            private, x25519_key = self._keys
            try:
                return _HYBRID_SUITE.decrypt(enc + stanza.body, private, info=_HYBRID_INFO)
            except InvalidTag:
                # Either the stanza is for someone else, or its X25519 share is a low-order point, which the
                # specification treats as a malformed stanza. Only a failure pays for telling them apart.
                try:
                    x25519_key.exchange(x25519.X25519PublicKey.from_public_bytes(enc[-32:]))
                except ValueError:
                    raise HeaderError("mlkem768x25519 share gives an all-zero X25519 secret") from None
                continue
        return None

    def __repr__(self) -> str:
        return "HybridIdentity(…)"


# --- scrypt ---------------------------------------------------------------------------------------------------

_SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
#: Work factor used when encrypting with a passphrase: 2^18 iterations, about 256 MiB and a second of work.
DEFAULT_WORK_FACTOR = 18
#: The highest work factor accepted when decrypting (2^22, 4 GiB): above it a file could tie up the machine.
MAX_WORK_FACTOR = 22


def _scrypt(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    n = 1 << work_factor
    return hashlib.scrypt(passphrase, salt=_SCRYPT_LABEL + salt, n=n, r=8, p=1, dklen=32, maxmem=129 * 8 * n + 1024)


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class ScryptRecipient:
    passphrase: bytes
    work_factor: int = DEFAULT_WORK_FACTOR
    post_quantum = False  # never mixed with other recipients anyway: a scrypt stanza must be alone

    def wrap(self, file_key: bytes) -> list[Stanza]:
        return [self.wrap_from_parts(file_key, os.urandom(16))]

    def wrap_from_parts(self, file_key: bytes, salt: bytes) -> Stanza:
        key = _scrypt(self.passphrase, salt, self.work_factor)
        body = ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, file_key, None)
        return Stanza(("scrypt", b64encode(salt).decode(), str(self.work_factor)), body)

    def __repr__(self) -> str:
        return f"ScryptRecipient(work_factor={self.work_factor})"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class ScryptIdentity:
    passphrase: bytes
    max_work_factor: int = MAX_WORK_FACTOR

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type != "scrypt":
                continue
            if len(stanza.args) != 3:
                raise HeaderError("scrypt stanza must have exactly two arguments")
            salt = b64decode(stanza.args[1].encode())
            if len(salt) != 16:
                raise HeaderError("scrypt salt is not 16 bytes")
            factor = stanza.args[2]
            if not (factor.isascii() and factor.isdigit() and factor[0] != "0"):
                raise HeaderError("scrypt work factor is not a decimal number without leading zeros")
            if int(factor) > self.max_work_factor:
                raise HeaderError(f"scrypt work factor {factor} is above the limit of {self.max_work_factor}")
            _check_body(stanza)
            key = _scrypt(self.passphrase, salt, int(factor))
            try:
                return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, stanza.body, None)
            except InvalidTag:
                return None
        return None

    def __repr__(self) -> str:
        return "ScryptIdentity(…)"


# --- Key strings ----------------------------------------------------------------------------------------------

AnyRecipient = X25519Recipient | HybridRecipient | ScryptRecipient
AnyIdentity = X25519Identity | HybridIdentity | ScryptIdentity


def parse_recipient(text: str) -> X25519Recipient | HybridRecipient:
    """An ``age1…`` or ``age1pq1…`` recipient; raises :class:`KeyFormatError`."""
    try:
        hrp, data = bech32.decode(text.strip())
    except bech32.Bech32Error as error:
        raise KeyFormatError(f"not an age recipient: {error}") from None
    if text.strip() != text.strip().lower():
        raise KeyFormatError("age recipients are written in lower case")
    if hrp == "age" and len(data) == 32:
        return X25519Recipient(data)
    if hrp == "age1pq" and len(data) == HYBRID_PUBLIC_SIZE:
        recipient = HybridRecipient(data)
        recipient._hpke_key()  # refuses an invalid ML-KEM key now rather than at encryption
        return recipient
    raise KeyFormatError("unknown or malformed age recipient")


def parse_identity(text: str) -> X25519Identity | HybridIdentity:
    """An ``AGE-SECRET-KEY-1…`` or ``AGE-SECRET-KEY-PQ-1…`` identity; raises :class:`KeyFormatError`."""
    try:
        hrp, data = bech32.decode(text.strip())
    except bech32.Bech32Error:
        raise KeyFormatError("not an age identity") from None
    if text.strip() != text.strip().upper():
        raise KeyFormatError("age identities are written in upper case")
    if hrp == "age-secret-key-" and len(data) == 32:
        return X25519Identity(data)
    if hrp == "age-secret-key-pq-" and len(data) == 32:
        return HybridIdentity(data)
    raise KeyFormatError("unknown or malformed age identity")


def check_recipient_mix(recipients: Sequence[AnyRecipient]) -> None:
    """Refuse what age refuses: no recipients, a scrypt recipient beside others, or PQ mixed with non-PQ.

    Encrypting one file to a post-quantum and a classical recipient would make it only as strong as the
    classical one, which defeats the purpose of choosing post-quantum keys.
    """
    if not recipients:
        raise KeyFormatError("no recipients")
    if any(isinstance(r, ScryptRecipient) for r in recipients) and len(recipients) > 1:
        raise KeyFormatError("a passphrase cannot be combined with other recipients")
    if len({r.post_quantum for r in recipients}) > 1:
        raise KeyFormatError("post-quantum and classical recipients cannot be mixed")
