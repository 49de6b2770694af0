"""The age v1 file format (C2SP age), with post-quantum hybrid, X25519 and passphrase recipients.

Files written here open with age ≥ 1.3 and with typage; files written by them open here. The format is
implemented on ``cryptography`` (its HPKE module provides the MLKEM768-X25519 KEM).
"""

from crypto.age.errors import (
    AgeError,
    ArmorError,
    HeaderError,
    HeaderMacError,
    KeyFormatError,
    NoIdentityMatch,
    PayloadError,
)
from crypto.age.file import (
    Opener,
    Sealer,
    decrypt,
    decrypt_file,
    decrypt_iter,
    encrypt,
    encrypt_file,
    encrypt_iter,
    read_header,
    unwrap_file_key,
)
from crypto.age.header import Header, Stanza
from crypto.age.recipients import (
    AnyIdentity,
    AnyRecipient,
    HybridIdentity,
    HybridRecipient,
    ScryptIdentity,
    ScryptRecipient,
    X25519Identity,
    X25519Recipient,
    parse_identity,
    parse_recipient,
)

__all__ = [
    "AgeError",
    "AnyIdentity",
    "AnyRecipient",
    "ArmorError",
    "Header",
    "HeaderError",
    "HeaderMacError",
    "HybridIdentity",
    "HybridRecipient",
    "KeyFormatError",
    "NoIdentityMatch",
    "Opener",
    "PayloadError",
    "ScryptIdentity",
    "ScryptRecipient",
    "Sealer",
    "Stanza",
    "X25519Identity",
    "X25519Recipient",
    "decrypt",
    "decrypt_file",
    "decrypt_iter",
    "encrypt",
    "encrypt_file",
    "encrypt_iter",
    "parse_identity",
    "parse_recipient",
    "read_header",
    "unwrap_file_key",
]
