import pytest

from crypto.age.errors import HeaderError, HeaderMacError
from crypto.age.header import (
    MAX_HEADER_SIZE,
    Stanza,
    b64decode,
    b64encode,
    encode_header,
    header_length,
    parse_header,
)

FILE_KEY = bytes(range(16))


def test_a_header_round_trips_with_its_mac() -> None:
    stanzas = [Stanza(("X25519", "abc"), bytes(32)), Stanza(("grease", "x", "y"), bytes(48)), Stanza(("empty",), b"")]
    encoded = encode_header(stanzas, FILE_KEY)
    assert header_length(encoded + b"payload") == len(encoded)
    header = parse_header(encoded)
    assert header.stanzas == tuple(stanzas)
    header.verify_mac(FILE_KEY)
    with pytest.raises(HeaderMacError):
        header.verify_mac(bytes(16))


def test_a_body_of_whole_lines_ends_with_an_empty_line() -> None:
    # 48 bytes encode to exactly 64 columns: the stanza must still end with a short (empty) line.
    assert Stanza(("t",), bytes(48)).encode().endswith(b"A" * 64 + b"\n\n")


@pytest.mark.parametrize(
    ("buffer", "length"),
    [
        (b"age-encryption.org/v1\n-> t\n\n", None),
        (b"age-encryption.org/v1\n-> t\n\n--- ab", None),
        (b"age-encryption.org/v1\n-> t\n\n--- ab\nrest", 35),
    ],
)
def test_the_header_end_is_found_or_more_is_needed(buffer: bytes, length: int | None) -> None:
    assert header_length(buffer) == length


def test_an_oversized_header_is_refused() -> None:
    with pytest.raises(HeaderError, match="no header end"):
        header_length(b"age-encryption.org/v1\n-> " + b"a" * MAX_HEADER_SIZE)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"age-encryption.org/v1\n-> t\n\n--- " + b"A" * 43, "does not end with a line feed"),
        (b"hello\n", "not an age file"),
        (b"age-encryption.org/v2\n", "unsupported version"),
        (b"age-encryption.org/v1\n-> t\n" + b"A" * 64 + b"\n", "stanza without a final body line"),
        (b"age-encryption.org/v1\n-> t\n\n", "missing MAC line"),
        (b"age-encryption.org/v1\n--- " + b"A" * 43 + b"\n", "no recipient stanza"),
        (b"age-encryption.org/v1\n-> t\n\n--- " + b"A" * 43 + b"\n-> u\n\n", "data after the MAC line"),
        (b"age-encryption.org/v1\n-> t\n\n---" + b"A" * 43 + b"\n", "malformed MAC line"),
        (b"age-encryption.org/v1\n-> t\n\n--- AAAA\n", "wrong length"),
        (b"age-encryption.org/v1\n-> t\xff\n\n--- " + b"A" * 43 + b"\n", "invalid stanza argument"),
    ],
)
def test_malformed_headers_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(HeaderError, match=message):
        parse_header(data)


@pytest.mark.parametrize("text", [b"AB=", b"A", b"AB?C", b"AB"])
def test_base64_must_be_canonical_and_unpadded(text: bytes) -> None:
    with pytest.raises(HeaderError):
        b64decode(text)


def test_base64_round_trips() -> None:
    assert b64decode(b64encode(b"\x00\xff\x10")) == b"\x00\xff\x10"
