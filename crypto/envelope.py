"""The sealed bid envelope: documents, manifest and signature in a ZIP, sealed with age, in one streaming pass.

The ZIP is written as it is sealed and the age file as it is written, so a 1 GB bid needs no more memory than
a chunk: documents are copied in, hashed on the way; ``manifest.json`` and ``manifest.sig`` come last, once every
hash is known; the envelope's own SHA-256 and size, for the statement, are counted as it leaves. Entries are
stored uncompressed: bids are mostly PDFs and archives, and a stored ZIP cannot be a decompression bomb.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import BinaryIO

from crypto import age
from crypto.note import Signer, Verifier
from crypto.statement import (
    Document,
    Manifest,
    PriceSheet,
    Statement,
    StatementError,
    check_document_name,
    check_manifest,
    open_manifest,
    sign_manifest,
    sign_statement,
)

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
#: Bytes copied at a time.
COPY_SIZE = 256 * 1024
#: Envelope plaintext kept in memory when opening; beyond it, a temporary file (ZIP reading needs to seek).
SPOOL_SIZE = 8 * 1024 * 1024
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # no clock in the ZIP: the manifest says when


class EnvelopeError(ValueError):
    """An envelope cannot be sealed or does not open into a well-formed, signed bid."""


class _SealingWriter(io.RawIOBase):
    """A write-only stream that seals what is written and passes the sealed bytes on, counting and hashing them."""

    def __init__(self, sealer: age.Sealer, target: BinaryIO) -> None:
        self._sealer = sealer
        self._target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]  # RawIOBase declares a wider buffer type than the sealer takes
        self._emit(self._sealer.update(data))
        return len(data)

    def finish(self) -> None:
        self._emit(self._sealer.finish())

    def _emit(self, sealed: bytes) -> None:
        if sealed:
            self._target.write(sealed)
            self.sha256.update(sealed)
            self.size += len(sealed)


@dataclasses.dataclass(frozen=True, slots=True)
class SealedBid:
    statement: Statement
    #: The statement as the signed note the bidder submits.
    signed_statement: bytes
    manifest: Manifest


def seal_envelope(
    target: BinaryIO,
    documents: Sequence[tuple[str, BinaryIO]],
    *,
    tender: str,
    lot: str,
    bidder: str,
    slot: str,
    price_sheet: PriceSheet,
    recipients: Sequence[age.AnyRecipient],
    signer: Signer,
    created: str,
) -> SealedBid:
    """Write the sealed envelope to ``target`` and return the signed statement that announces it.

    ``recipients`` are the tender's opening recipient and the bidder's own. Raises :class:`EnvelopeError` for
    bad document names, or :class:`crypto.statement.StatementError` for bad statement fields.
    """
    names = [name for name, _ in documents]
    for name in names:
        try:
            check_document_name(name)
        except StatementError as error:
            raise EnvelopeError(str(error)) from None
    if len(set(names)) != len(names) or {MANIFEST_NAME, SIGNATURE_NAME} & set(names):
        raise EnvelopeError(f"document names must be distinct and not {MANIFEST_NAME} or {SIGNATURE_NAME}")
    writer = _SealingWriter(age.Sealer(recipients), target)
    listed = []
    with zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, source in documents:
            digest, size = hashlib.sha256(), 0
            with archive.open(zipfile.ZipInfo(name, _FIXED_TIME), "w", force_zip64=True) as entry:
                while chunk := source.read(COPY_SIZE):
                    entry.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            listed.append(Document(name, size, digest.digest()))
        manifest = Manifest(tender, lot, bidder, slot, price_sheet, tuple(listed), created)
        manifest_bytes = manifest.encode()
        archive.writestr(zipfile.ZipInfo(MANIFEST_NAME, _FIXED_TIME), manifest_bytes)
        archive.writestr(zipfile.ZipInfo(SIGNATURE_NAME, _FIXED_TIME), sign_manifest(manifest_bytes, signer))
    writer.finish()
    statement = Statement(tender, lot, bidder, slot, writer.sha256.digest(), writer.size)
    return SealedBid(statement, sign_statement(statement, signer), manifest)


@dataclasses.dataclass(frozen=True)
class OpenedBid:
    """A verified bid: its manifest, and access to each document it lists (streamed from the envelope)."""

    manifest: Manifest
    open_document: Callable[[str], BinaryIO]


@contextmanager
def open_envelope(
    source: BinaryIO,
    statement: Statement,
    verifier: Verifier,
    identities: Sequence[age.AnyIdentity] = (),
    *,
    file_key: bytes | None = None,
) -> Iterator[OpenedBid]:
    """Decrypt an envelope and check it against its statement; yield the bid while the block lasts.

    Checks, in order: the age file opens and is whole; the ZIP holds only stored, plainly named entries; the
    manifest is canonical and signed by ``verifier``; it names the statement's tender, lot, bidder and slot;
    every document's size and SHA-256 match the manifest. Raises :class:`EnvelopeError` or
    :class:`crypto.age.AgeError`; no document is readable unless all of that held.
    """
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_SIZE) as plaintext:
        age.decrypt_file(source, plaintext, identities, file_key=file_key)  # type: ignore[arg-type]  # a SpooledTemporaryFile is a binary file in all but its type
        plaintext.seek(0)
        try:
            archive = zipfile.ZipFile(plaintext)
        except (zipfile.BadZipFile, OSError):
            raise EnvelopeError("the envelope does not hold a ZIP archive") from None
        with archive:
            entries = {info.filename: info for info in archive.infolist()}
            if len(entries) != len(archive.infolist()):
                raise EnvelopeError("the envelope holds two entries with one name")
            for info in entries.values():
                if info.compress_type != zipfile.ZIP_STORED or info.is_dir():
                    raise EnvelopeError(f"entry {info.filename!r} is not a plain stored file")
            if MANIFEST_NAME not in entries or SIGNATURE_NAME not in entries:
                raise EnvelopeError("the envelope has no signed manifest")
            try:
                manifest = open_manifest(archive.read(MANIFEST_NAME), archive.read(SIGNATURE_NAME), verifier)
                found = []
                for name in sorted(set(entries) - {MANIFEST_NAME, SIGNATURE_NAME}):
                    check_document_name(name)
                    found.append(_hash_entry(archive, name))
                check_manifest(manifest, statement, found)
            except (StatementError, zipfile.BadZipFile) as error:
                raise EnvelopeError(str(error)) from None
            yield OpenedBid(manifest, lambda name: archive.open(name))  # type: ignore[arg-type, return-value]  # ZipExtFile is a binary file in all but its type


def _hash_entry(archive: zipfile.ZipFile, name: str) -> Document:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as entry:
        while chunk := entry.read(COPY_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return Document(name, size, digest.digest())
