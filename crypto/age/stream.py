"""The age payload (C2SP age, "Payload"): STREAM over ChaCha20-Poly1305 in 64 KiB chunks, without I/O.

:class:`Encryptor` and :class:`Decryptor` take bytes as they come and return what can be released, holding
at most one chunk: memory does not depend on the size of the file. Callers feed them from files, sockets or
async iterators.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.age.errors import PayloadError

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
#: The random nonce written before the first chunk, from which with the file key the payload key derives.
NONCE_SIZE = 16
_LAST = b"\x01"
_NOT_LAST = b"\x00"


def payload_key(file_key: bytes, nonce: bytes) -> ChaCha20Poly1305:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=b"payload").derive(file_key)
    return ChaCha20Poly1305(key)


def _chunk_nonce(counter: int, last: bool) -> bytes:
    # An 11-byte big-endian counter: 2^88 chunks of 64 KiB, beyond any file that can exist.
    return counter.to_bytes(11, "big") + (_LAST if last else _NOT_LAST)


class Encryptor:
    """Encrypts a payload fed in pieces: :meth:`update` returns whole chunks, :meth:`finish` the final one."""

    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._aead = payload_key(file_key, nonce)
        self._buffer = bytearray()
        self._counter = 0

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        self._buffer += data
        if len(self._buffer) <= CHUNK_SIZE:
            return b""
        out = []
        # A full chunk is kept back until more data shows it is not the last one.
        start = 0
        with memoryview(self._buffer) as view:
            while len(view) - start > CHUNK_SIZE:
                with view[start : start + CHUNK_SIZE] as chunk:
                    out.append(self._aead.encrypt(_chunk_nonce(self._counter, False), chunk, None))
                self._counter += 1
                start += CHUNK_SIZE
        del self._buffer[:start]
        return b"".join(out)

    def finish(self) -> bytes:
        """The final chunk. It is empty only when the whole payload is."""
        last = self._aead.encrypt(_chunk_nonce(self._counter, True), bytes(self._buffer), None)
        self._buffer.clear()
        return last


class Decryptor:
    """Decrypts a payload fed in pieces, releasing only chunks whose tag verified.

    :meth:`update` may raise :class:`PayloadError`; :meth:`finish` checks that the payload ended with a valid
    final chunk and nothing after it. Until :meth:`finish` has returned, released plaintext may be a prefix.
    """

    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._aead = payload_key(file_key, nonce)
        self._buffer = bytearray()
        self._counter = 0
        self._ended = False

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        if self._ended:
            raise PayloadError("data after the final chunk")
        self._buffer += data
        size = CHUNK_SIZE + TAG_SIZE
        if len(self._buffer) < size:
            return b""
        out = []
        start = 0
        with memoryview(self._buffer) as view:
            while len(view) - start >= size:
                more = len(view) - start > size
                with view[start : start + size] as chunk:
                    # A full chunk is tried as a middle chunk first, as the reference implementation does, so
                    # that an authentic chunk is released even if the file then ends too early.
                    try:
                        out.append(self._open(chunk, last=False))
                    except PayloadError:
                        if not more:
                            break  # perhaps a full final chunk: known at finish() or when more data comes
                        # It opens as the final chunk, or nothing: release it, and fail on what follows.
                        out.append(self._open(chunk, last=True))
                        self._ended = True
                        break
                start += size
        if self._ended:
            self._buffer.clear()
        else:
            del self._buffer[:start]
        return b"".join(out)

    def finish(self) -> bytes:
        if self._ended:
            raise PayloadError("data after the final chunk")
        if len(self._buffer) < TAG_SIZE:
            raise PayloadError("the payload ends without a final chunk")
        plaintext = self._open(bytes(self._buffer), last=True)
        if not plaintext and self._counter > 1:
            raise PayloadError("the final chunk is empty")
        self._buffer.clear()
        return plaintext

    def _open(self, chunk: bytes | memoryview, *, last: bool) -> bytes:
        try:
            plaintext = self._aead.decrypt(_chunk_nonce(self._counter, last), chunk, None)
        except InvalidTag:
            raise PayloadError(f"chunk {self._counter} does not decrypt") from None
        self._counter += 1
        return plaintext
