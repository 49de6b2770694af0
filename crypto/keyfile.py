"""A person's key file: their post-quantum age identity and Ed25519 signing key, sealed with a passphrase.

The file is an age file encrypted with ``scrypt``, so only its passphrase opens it. Inside is an age identity
file: the identity on its own line, and the public halves and the signing key in ``#`` comment lines, which
age ignores. So ``age -d -i KEYFILE`` (or ``bidding age -d -i KEYFILE``) opens the bidder's own copy of an
envelope with no other tool. Only the public halves (recipient, verifier key) ever reach the platform.
"""

from __future__ import annotations

import dataclasses
import os

from crypto import age
from crypto.note import Ed25519Signer, NoteError, encode_signer_key, parse_signer_key

_HEADER = "# bidding key file v1"
_SIGNING_PREFIX = "# signing key (secret): "


class KeyFileError(ValueError):
    """A key file cannot be made or opened; the message never says which part of a passphrase was wrong."""


@dataclasses.dataclass(frozen=True, repr=False)
class KeyFile:
    """A person's keys: ``name`` is the key name in their signatures (e.g. ``bidder-91320505MA1MXK7U5E``)."""

    name: str
    identity: age.HybridIdentity
    signing_seed: bytes

    @property
    def recipient(self) -> age.HybridRecipient:
        return self.identity.recipient

    @property
    def signer(self) -> Ed25519Signer:
        return Ed25519Signer(self.name, self.signing_seed)

    @property
    def verifier_key(self) -> str:
        return self.signer.verifier().verifier_key()

    def text(self) -> str:
        """The identity file inside the key file."""
        return (
            f"{_HEADER}\n# name: {self.name}\n# recipient: {self.recipient.encode()}\n"
            f"# verifier key: {self.verifier_key}\n{_SIGNING_PREFIX}{encode_signer_key(self.name, self.signing_seed)}\n"
            f"{self.identity.encode()}\n"
        )

    def __repr__(self) -> str:
        return f"KeyFile({self.name!r}, …)"


def generate_key_file(name: str) -> KeyFile:
    """Fresh keys for ``name``; raises :class:`KeyFileError` if the name cannot be a signature key name."""
    return key_file_from_parts(name, os.urandom(32), os.urandom(32))


def key_file_from_parts(name: str, identity_seed: bytes, signing_seed: bytes) -> KeyFile:
    keys = KeyFile(name, age.HybridIdentity(identity_seed), signing_seed)
    try:
        keys.signer.verifier()
    except NoteError as error:
        raise KeyFileError(f"{name!r} cannot name a key: {error}") from None
    return keys


def seal_key_file(keys: KeyFile, passphrase: bytes, *, work_factor: int = age.recipients.DEFAULT_WORK_FACTOR) -> bytes:
    """The key file, armored, encrypted to ``passphrase`` (refused if shorter than 10 characters)."""
    if len(passphrase) < 10:
        raise KeyFileError("a key file passphrase needs at least 10 characters")
    return age.encrypt(keys.text().encode(), [age.ScryptRecipient(passphrase, work_factor)], armor=True)


def open_key_file(data: bytes, passphrase: bytes) -> KeyFile:
    """The keys in a key file; raises :class:`KeyFileError` for a wrong passphrase or a damaged file."""
    try:
        text = age.decrypt(data, [age.ScryptIdentity(passphrase)]).decode("utf-8")
    except age.NoIdentityMatch:
        raise KeyFileError("wrong passphrase") from None
    except (age.AgeError, UnicodeDecodeError):
        raise KeyFileError("not a key file, or a damaged one") from None
    return parse_key_file_text(text)


def parse_key_file_text(text: str) -> KeyFile:
    lines = text.splitlines()
    if not lines or lines[0] != _HEADER:
        raise KeyFileError("not a key file")
    signing = [line[len(_SIGNING_PREFIX) :] for line in lines if line.startswith(_SIGNING_PREFIX)]
    identities = [line for line in lines if line and not line.startswith("#")]
    if len(signing) != 1 or len(identities) != 1:
        raise KeyFileError("a key file holds exactly one identity and one signing key")
    try:
        signer = parse_signer_key(signing[0])
        identity = age.parse_identity(identities[0])
    except (NoteError, age.KeyFormatError) as error:
        raise KeyFileError(f"a key in the file is malformed: {error}") from None
    if not isinstance(signer, Ed25519Signer) or not isinstance(identity, age.HybridIdentity):
        raise KeyFileError("a key file holds a post-quantum identity and an Ed25519 signing key")
    return KeyFile(signer.name, identity, signer.seed)
