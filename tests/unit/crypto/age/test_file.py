import io
import os
from collections.abc import AsyncIterator

import pytest

from crypto.age import (
    HeaderError,
    HeaderMacError,
    HybridIdentity,
    Opener,
    PayloadError,
    Sealer,
    X25519Identity,
    decrypt,
    decrypt_file,
    decrypt_iter,
    encrypt,
    encrypt_file,
    encrypt_iter,
    read_header,
    unwrap_file_key,
)
from crypto.age.header import Stanza
from crypto.age.stream import CHUNK_SIZE

FILE_KEY = bytes(range(16))
NONCE = bytes(16)


def test_files_stream_through_file_objects() -> None:
    identity = HybridIdentity.generate()
    plaintext = os.urandom(3 * CHUNK_SIZE + 11)
    sealed, opened = io.BytesIO(), io.BytesIO()
    encrypt_file(io.BytesIO(plaintext), sealed, [identity.recipient])
    decrypt_file(io.BytesIO(sealed.getvalue()), opened, [identity])
    assert opened.getvalue() == plaintext


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_files_stream_through_async_iterators() -> None:
    identity = X25519Identity.generate()
    plaintext = os.urandom(2 * CHUNK_SIZE + 5)
    sealed = b"".join([piece async for piece in encrypt_iter(_pieces(plaintext, 10_000), [identity.recipient])])
    opened = b"".join([piece async for piece in decrypt_iter(_pieces(sealed, 7_000), [identity])])
    assert opened == plaintext


async def test_an_empty_async_file_still_has_its_final_chunk() -> None:
    identity = X25519Identity.generate()
    sealed = b"".join([piece async for piece in encrypt_iter(_pieces(b"", 1), [identity.recipient])])
    assert [piece async for piece in decrypt_iter(_pieces(sealed, 1000), [identity])] == []


def test_a_sealer_is_deterministic_given_its_parts() -> None:
    stanzas = [Stanza(("example.org/test",), b"")]
    first = Sealer.from_parts(stanzas, FILE_KEY, NONCE)
    second = Sealer.from_parts(stanzas, FILE_KEY, NONCE, armor=True)
    sealed = first.update(b"hello") + first.finish()
    assert decrypt(second.update(b"hello") + second.finish(), file_key=FILE_KEY) == b"hello"
    assert decrypt(sealed, file_key=FILE_KEY) == b"hello"


def test_the_header_is_read_without_any_key() -> None:
    identities = [HybridIdentity.generate(), HybridIdentity.generate()]
    sealed = encrypt(b"bid", [identity.recipient for identity in identities], armor=True)
    header = read_header(sealed)
    assert [stanza.type for stanza in header.stanzas] == ["mlkem768x25519", "mlkem768x25519"]
    assert unwrap_file_key(header, identities[1:]) == unwrap_file_key(header, identities[:1])
    with pytest.raises(HeaderError, match="inside the header"):
        read_header(encrypt(b"bid", [identities[0].recipient])[:100], armored=False)


def test_a_wrong_file_key_fails_the_header_mac() -> None:
    sealed = encrypt(b"bid", [X25519Identity.generate().recipient])
    with pytest.raises(HeaderMacError):
        decrypt(sealed, file_key=bytes(16))


@pytest.mark.parametrize(
    ("cut", "error", "message"),
    [
        (0, HeaderError, "empty file"),
        (30, HeaderError, "inside the header"),
        (-20, HeaderError, "before the payload nonce"),
        (-1, PayloadError, "final chunk"),
    ],
)
def test_a_truncated_file_is_refused(cut: int, error: type[Exception], message: str) -> None:
    identity = X25519Identity.generate()
    sealed = encrypt(b"", [identity.recipient])  # header, 16-byte nonce, 16-byte final chunk
    opener = Opener([identity], armored=False)
    with pytest.raises(error, match=message):
        opener.update(sealed[:cut])
        opener.finish()


def test_armor_is_detected_from_the_first_bytes_that_arrive() -> None:
    identity = X25519Identity.generate()
    sealed = encrypt(b"bid", [identity.recipient], armor=True)
    opener = Opener([identity])
    assert opener.update(b"") == b""
    assert opener.update(sealed) + opener.finish() == b"bid"


def test_the_nonce_may_arrive_in_pieces() -> None:
    identity = X25519Identity.generate()
    sealed = encrypt(b"bid", [identity.recipient])
    header_end = len(read_header(sealed).signed_part) + 44  # "--- " + 43 characters + LF follow "---"
    opener = Opener([identity])
    released = opener.update(sealed[: header_end + 5]) + opener.update(sealed[header_end + 5 :])
    assert released + opener.finish() == b"bid"
