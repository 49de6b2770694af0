"""Whole age files: sealing and opening, from bytes, file objects or async iterators, in bounded memory.

:class:`Sealer` and :class:`Opener` are the I/O-free cores (feed bytes, get bytes); the functions below are
thin loops around them. Memory stays at about one 64 KiB chunk and the header, whatever the file's size.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import BinaryIO

from crypto.age.armor import Armorer, Dearmorer, looks_armored
from crypto.age.errors import HeaderError, NoIdentityMatch
from crypto.age.header import FILE_KEY_SIZE, Header, Stanza, encode_header, header_length, parse_header
from crypto.age.recipients import AnyIdentity, AnyRecipient, check_recipient_mix
from crypto.age.stream import NONCE_SIZE, Decryptor, Encryptor

#: How much a file loop reads at a time.
READ_SIZE = 256 * 1024


def unwrap_file_key(header: Header, identities: Sequence[AnyIdentity]) -> bytes:
    """The file key, unwrapped by the first identity that can and checked against the header MAC.

    Raises :class:`HeaderError` (a malformed stanza for one of the identities, or a scrypt stanza that is not
    alone), :class:`NoIdentityMatch`, or :class:`HeaderMacError`.
    """
    # A passphrase-encrypted file must have nobody else who could have written it (C2SP age, scrypt).
    if any(stanza.type == "scrypt" for stanza in header.stanzas) and len(header.stanzas) != 1:
        raise HeaderError("a scrypt stanza must be alone in the header")
    for identity in identities:
        file_key = identity.unwrap(header.stanzas)
        if file_key is not None:
            header.verify_mac(file_key)
            return file_key
    raise NoIdentityMatch("no identity matches any recipient stanza")


class Sealer:
    """Encrypts one file to its recipients: :meth:`update` and :meth:`finish` return the file's bytes."""

    def __init__(self, recipients: Sequence[AnyRecipient], *, armor: bool = False) -> None:
        check_recipient_mix(recipients)
        file_key = os.urandom(FILE_KEY_SIZE)
        stanzas = [stanza for recipient in recipients for stanza in recipient.wrap(file_key)]
        self._init(stanzas, file_key, os.urandom(NONCE_SIZE), armor)

    @classmethod
    def from_parts(cls, stanzas: list[Stanza], file_key: bytes, nonce: bytes, *, armor: bool = False) -> Sealer:
        """A sealer with given stanzas, file key and nonce (tests pin them; the constructor draws them)."""
        sealer = cls.__new__(cls)
        sealer._init(stanzas, file_key, nonce, armor)
        return sealer

    def _init(self, stanzas: list[Stanza], file_key: bytes, nonce: bytes, armor: bool) -> None:
        self._armorer = Armorer() if armor else None
        self._start = encode_header(stanzas, file_key) + nonce
        self._encryptor = Encryptor(file_key, nonce)

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        out = self._start + self._encryptor.update(data)
        self._start = b""
        return self._armorer.update(out) if self._armorer else out

    def finish(self) -> bytes:
        out = self._start + self._encryptor.finish()
        self._start = b""
        return self._armorer.update(out) + self._armorer.finish() if self._armorer else out


class Opener:
    """Decrypts one file: :meth:`update` releases verified plaintext, :meth:`finish` confirms it was whole.

    Give ``identities`` to unwrap the file key from the header, or ``file_key`` when it was obtained apart
    (the bidder's fallback at an opening). ``armored`` is detected from the first byte when ``None``.
    Raises the :mod:`crypto.age.errors` that name the part at fault; plaintext released before an error is
    not the whole file and must be discarded.
    """

    def __init__(
        self,
        identities: Sequence[AnyIdentity] = (),
        *,
        file_key: bytes | None = None,
        armored: bool | None = None,
    ) -> None:
        self._identities = identities
        self._file_key = file_key
        self._armored = armored
        self._dearmorer: Dearmorer | None = None
        self._buffer = bytearray()
        self._decryptor: Decryptor | None = None
        self.header: Header | None = None

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        if self._armored is None:
            if not data:
                return b""
            self._armored = looks_armored(bytes(data[:1]))
        if self._armored:
            self._dearmorer = self._dearmorer or Dearmorer()
            data = self._dearmorer.update(data)
        return self._feed(data)

    def finish(self) -> bytes:
        out = self._feed(self._dearmorer.finish()) if self._dearmorer else b""
        if self._decryptor is None:
            if self.header is None:
                raise HeaderError("the file ends inside the header" if self._buffer else "empty file")
            raise HeaderError("the file ends before the payload nonce")
        return out + self._decryptor.finish()

    def _feed(self, data: bytes | bytearray | memoryview) -> bytes:
        if self._decryptor is not None:
            return self._decryptor.update(data)
        self._buffer += data
        if self.header is None:
            length = header_length(self._buffer)
            if length is None:
                return b""
            self.header = parse_header(bytes(self._buffer[:length]))
            del self._buffer[:length]
            if self._file_key is None:
                self._file_key = unwrap_file_key(self.header, self._identities)
            else:
                self.header.verify_mac(self._file_key)
        if len(self._buffer) < NONCE_SIZE:
            return b""
        assert self._file_key is not None
        self._decryptor = Decryptor(self._file_key, bytes(self._buffer[:NONCE_SIZE]))
        rest = bytes(self._buffer[NONCE_SIZE:])
        self._buffer.clear()
        return self._decryptor.update(rest)


# --- Bytes ----------------------------------------------------------------------------------------------------


def encrypt(plaintext: bytes, recipients: Sequence[AnyRecipient], *, armor: bool = False) -> bytes:
    sealer = Sealer(recipients, armor=armor)
    return sealer.update(plaintext) + sealer.finish()


def decrypt(
    ciphertext: bytes,
    identities: Sequence[AnyIdentity] = (),
    *,
    file_key: bytes | None = None,
    armored: bool | None = None,
) -> bytes:
    """The whole plaintext, or an :class:`AgeError`: never a part of it."""
    opener = Opener(identities, file_key=file_key, armored=armored)
    return opener.update(ciphertext) + opener.finish()


def read_header(start: bytes, *, armored: bool | None = None) -> Header:
    """The header of a file from its first bytes, without any key: which stanzas it holds.

    Raises :class:`HeaderError` if ``start`` does not hold a whole, well-formed header.
    """
    if armored or (armored is None and looks_armored(start[:1])):
        start = Dearmorer().update(start)
    length = header_length(start)
    if length is None:
        raise HeaderError("the data ends inside the header")
    return parse_header(start[:length])


# --- File objects and async iterators -------------------------------------------------------------------------


def encrypt_file(
    source: BinaryIO, target: BinaryIO, recipients: Sequence[AnyRecipient], *, armor: bool = False
) -> None:
    sealer = Sealer(recipients, armor=armor)
    while chunk := source.read(READ_SIZE):
        target.write(sealer.update(chunk))
    target.write(sealer.finish())


def decrypt_file(
    source: BinaryIO,
    target: BinaryIO,
    identities: Sequence[AnyIdentity] = (),
    *,
    file_key: bytes | None = None,
    armored: bool | None = None,
) -> None:
    """Decrypt ``source`` into ``target`` as it goes; on an error, what ``target`` received must be discarded."""
    opener = Opener(identities, file_key=file_key, armored=armored)
    while chunk := source.read(READ_SIZE):
        target.write(opener.update(chunk))
    target.write(opener.finish())


async def encrypt_iter(
    chunks: AsyncIterable[bytes], recipients: Sequence[AnyRecipient], *, armor: bool = False
) -> AsyncIterator[bytes]:
    sealer = Sealer(recipients, armor=armor)
    async for chunk in chunks:
        if out := sealer.update(chunk):
            yield out
    yield sealer.finish()


async def decrypt_iter(
    chunks: AsyncIterable[bytes],
    identities: Sequence[AnyIdentity] = (),
    *,
    file_key: bytes | None = None,
    armored: bool | None = None,
) -> AsyncIterator[bytes]:
    """Verified plaintext as it comes; the iteration ends only after the final chunk checked out."""
    opener = Opener(identities, file_key=file_key, armored=armored)
    async for chunk in chunks:
        if out := opener.update(chunk):
            yield out
    if out := opener.finish():
        yield out
