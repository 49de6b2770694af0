"""Every C2SP CCTV age vector: success and each failure classified as the vector says."""

from __future__ import annotations

import pytest

from crypto.age import (
    AgeError,
    ArmorError,
    HeaderError,
    HeaderMacError,
    NoIdentityMatch,
    Opener,
    PayloadError,
    ScryptIdentity,
    parse_identity,
)
from crypto.age.armor import Dearmorer
from crypto.age.header import VERSION_LINE, header_length, parse_header
from crypto.age.stream import NONCE_SIZE, Encryptor
from tests.unit.crypto.age.cctv import Vector, load_vectors

VECTORS = load_vectors()
EXPECTED: dict[str, type[AgeError] | None] = {
    "success": None,
    "header failure": HeaderError,
    "no match": NoIdentityMatch,
    "HMAC failure": HeaderMacError,
    "payload failure": PayloadError,
    "armor failure": ArmorError,
}
#: Fed in pieces smaller than a chunk, so that each update releases at most one chunk and nothing released
#: before a failure is lost to the test.
PIECE = 1024


def _identities(vector: Vector) -> list[object]:
    return [parse_identity(i) for i in vector.identities] + [ScryptIdentity(p.encode()) for p in vector.passphrases]


def _open(opener: Opener, data: bytes, released: bytearray) -> None:
    for start in range(0, len(data), PIECE):
        released += opener.update(data[start : start + PIECE])
    released += opener.finish()


def test_the_whole_suite_is_there() -> None:
    assert len(VECTORS) >= 140
    assert {v.expect for v in VECTORS} == set(EXPECTED)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_vector(vector: Vector) -> None:
    expected = EXPECTED[vector.expect]
    released = bytearray()
    opener = Opener(_identities(vector), armored=vector.armored)  # type: ignore[arg-type]  # the vector's identities, of every kind the opener takes
    if expected is None:
        _open(opener, vector.body, released)
    else:
        with pytest.raises(AgeError) as raised:
            _open(opener, vector.body, released)
        assert type(raised.value) is expected, f"{vector.name}: {raised.value!r}"
    if vector.expect in ("success", "payload failure"):
        vector.check_payload(bytes(released))
    else:
        assert not released


@pytest.mark.parametrize("vector", [v for v in VECTORS if v.expect == "success"], ids=lambda v: v.name)
def test_vector_opens_with_only_its_file_key(vector: Vector) -> None:
    """The bidder's fallback at an opening: the 16-byte file key alone opens the file."""
    assert vector.file_key is not None
    released = bytearray()
    _open(Opener(file_key=bytes.fromhex(vector.file_key), armored=vector.armored), vector.body, released)
    vector.check_payload(bytes(released))


def _binary(vector: Vector) -> bytes:
    return Dearmorer().update(vector.body) if vector.armored else vector.body


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if v.expect not in ("header failure", "armor failure")], ids=lambda v: v.name
)
def test_header_round_trips(vector: Vector) -> None:
    data = _binary(vector)
    length = header_length(data)
    assert length is not None
    header = parse_header(data[:length])
    rebuilt = VERSION_LINE + b"\n" + b"".join(stanza.encode() for stanza in header.stanzas) + b"---"
    assert rebuilt == header.signed_part


@pytest.mark.parametrize("vector", [v for v in VECTORS if v.expect == "success"], ids=lambda v: v.name)
def test_payload_round_trips(vector: Vector) -> None:
    assert vector.file_key is not None
    data = _binary(vector)
    length = header_length(data)
    assert length is not None
    nonce, payload = data[length : length + NONCE_SIZE], data[length + NONCE_SIZE :]
    released = bytearray()
    _open(Opener(file_key=bytes.fromhex(vector.file_key)), data, released)
    encryptor = Encryptor(bytes.fromhex(vector.file_key), nonce)
    assert encryptor.update(bytes(released)) + encryptor.finish() == payload
