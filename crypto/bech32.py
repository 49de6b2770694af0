"""Bech32 (BIP 173) without the 90-character limit, as the age format uses it for keys.

Post-quantum age recipients are about 1,960 characters long, so the length limit of BIP 173 is not applied;
everything else is: one case throughout, the checksum computed over the lower-case string, and padding bits
that must be zero.
"""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {character: value for value, character in enumerate(CHARSET)}
#: The BCH code generator of BIP 173's checksum.
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class Bech32Error(ValueError):
    """A string is not valid Bech32; the message says why."""


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(_GENERATOR):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _expand_hrp(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def encode(hrp: str, data: bytes) -> str:
    """The lower-case Bech32 string of ``data`` under the human-readable part ``hrp``."""
    hrp = hrp.lower()
    accumulator, bits, words = 0, 0, []
    for byte in data:
        accumulator = (accumulator << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            words.append((accumulator >> bits) & 31)
    if bits:
        words.append((accumulator << (5 - bits)) & 31)
    checksum = _polymod(_expand_hrp(hrp) + words + [0] * 6) ^ 1
    words += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[word] for word in words)


def decode(text: str) -> tuple[str, bytes]:
    """The lower-case human-readable part and the data of a Bech32 string; raises :class:`Bech32Error`."""
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("mixed case")
    lowered = text.lower()
    separator = lowered.rfind("1")
    if separator < 1 or separator + 7 > len(lowered):
        raise Bech32Error("missing separator, human-readable part or checksum")
    hrp, rest = lowered[:separator], lowered[separator + 1 :]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise Bech32Error("invalid character in the human-readable part")
    try:
        words = [_VALUES[c] for c in rest]
    except KeyError:
        raise Bech32Error("invalid character in the data part") from None
    if _polymod(_expand_hrp(hrp) + words) != 1:
        raise Bech32Error("wrong checksum")
    accumulator, bits, data = 0, 0, bytearray()
    for word in words[:-6]:
        accumulator = (accumulator << 5) | word
        bits += 5
        if bits >= 8:
            bits -= 8
            data.append((accumulator >> bits) & 0xFF)
    if bits >= 5 or accumulator & ((1 << bits) - 1):
        raise Bech32Error("non-zero or excess padding")
    return hrp, bytes(data)
