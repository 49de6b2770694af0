import pytest

from crypto import bech32
from tests.vectors.load import load

VECTORS = load("bip173")


@pytest.mark.parametrize("text", VECTORS["valid"])
def test_bip173_valid_strings_decode_and_encode_back(text: str) -> None:
    hrp, data = bech32.decode(text)
    assert bech32.encode(hrp, data) == text.lower()


@pytest.mark.parametrize("text", VECTORS["invalid"])
def test_bip173_invalid_strings_are_refused(text: str) -> None:
    with pytest.raises(bech32.Bech32Error):
        bech32.decode(text)


def test_there_is_no_length_limit() -> None:
    data = bytes(range(256)) * 8
    assert bech32.decode(bech32.encode("age1pq", data)) == ("age1pq", data)


def test_mixed_case_is_refused() -> None:
    with pytest.raises(bech32.Bech32Error, match="mixed case"):
        bech32.decode("A12uEL5L")


@pytest.mark.parametrize("word", ["l", "q9"])  # a fifth-bit remainder, or non-zero padding bits
def test_bad_padding_is_refused(word: str) -> None:
    # Build strings with a valid checksum whose data bits cannot be whole bytes.
    words = [bech32.CHARSET.index(c) for c in word]
    checksum = bech32._polymod(bech32._expand_hrp("x") + words + [0] * 6) ^ 1
    words += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    with pytest.raises(bech32.Bech32Error, match="padding"):
        bech32.decode("x1" + "".join(bech32.CHARSET[w] for w in words))
