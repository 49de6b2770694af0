"""The age v1 header (C2SP age, "Header"): recipient stanzas, strict parsing, encoding and the header MAC."""

from __future__ import annotations

import binascii
import dataclasses
import hmac
from hashlib import sha256

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.age.errors import HeaderError, HeaderMacError

VERSION_LINE = b"age-encryption.org/v1"
#: The largest header read, about 170 post-quantum stanzas: enough for any envelope, small enough to bound
#: the memory and the unwrapping work a hostile file can cause.
MAX_HEADER_SIZE = 256 * 1024
#: Base64 characters per full body line.
COLUMNS = 64
FILE_KEY_SIZE = 16
MAC_SIZE = 32

_BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def b64encode(data: bytes) -> bytes:
    """Standard base64 without padding, as age writes it."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=")


def b64decode(text: bytes, error: type[Exception] = HeaderError) -> bytes:
    """Decode unpadded base64, refusing padding, foreign characters and non-canonical encodings (RFC 4648 §3.5)."""
    if not _BASE64.issuperset(text) or len(text) % 4 == 1:
        raise error("invalid base64")
    data = binascii.a2b_base64(text + b"=" * (-len(text) % 4), strict_mode=True)
    if b64encode(data) != text:
        raise error("non-canonical base64")
    return data


@dataclasses.dataclass(frozen=True, slots=True)
class Stanza:
    """A recipient stanza: its arguments (the first names its type) and its body."""

    args: tuple[str, ...]
    body: bytes

    @property
    def type(self) -> str:
        return self.args[0]

    def encode(self) -> bytes:
        lines = [b"-> " + " ".join(self.args).encode("ascii")]
        encoded = b64encode(self.body)
        lines += [encoded[i : i + COLUMNS] for i in range(0, len(encoded), COLUMNS)]
        if len(encoded) % COLUMNS == 0:
            lines.append(b"")  # the body always ends with a line shorter than 64 columns
        return b"\n".join(lines) + b"\n"


@dataclasses.dataclass(frozen=True, slots=True)
class Header:
    stanzas: tuple[Stanza, ...]
    mac: bytes
    #: The header up to and including ``---``: what the MAC covers.
    signed_part: bytes

    def verify_mac(self, file_key: bytes) -> None:
        """Raise :class:`HeaderMacError` unless the MAC matches ``file_key``."""
        if not hmac.compare_digest(header_mac(file_key, self.signed_part), self.mac):
            raise HeaderMacError("the header MAC does not match")


def header_mac(file_key: bytes, signed_part: bytes) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"header").derive(file_key)
    return hmac.new(key, signed_part, sha256).digest()


def encode_header(stanzas: list[Stanza], file_key: bytes) -> bytes:
    """The full header for ``stanzas``, with the MAC under ``file_key``."""
    signed_part = VERSION_LINE + b"\n" + b"".join(stanza.encode() for stanza in stanzas) + b"---"
    return signed_part + b" " + b64encode(header_mac(file_key, signed_part)) + b"\n"


def header_length(buffer: bytes | bytearray) -> int | None:
    """The length of the header at the start of ``buffer``, or ``None`` if more bytes are needed.

    The header ends at the line feed after the first line starting with ``---``: no stanza line can start so.
    Raises :class:`HeaderError` once the header would exceed :data:`MAX_HEADER_SIZE`.
    """
    mac_line = buffer.find(b"\n---", 0, MAX_HEADER_SIZE)
    if mac_line >= 0:
        end = buffer.find(b"\n", mac_line + 1, MAX_HEADER_SIZE)
        if end >= 0:
            return end + 1
    if len(buffer) >= MAX_HEADER_SIZE:
        raise HeaderError(f"no header end within {MAX_HEADER_SIZE} bytes")
    return None


def parse_header(data: bytes) -> Header:
    """Parse a whole header (as delimited by :func:`header_length`); raise :class:`HeaderError` if malformed."""
    if not data.endswith(b"\n"):
        raise HeaderError("the header does not end with a line feed")
    lines = data[:-1].split(b"\n")
    if lines[0] != VERSION_LINE:
        if lines[0].startswith(b"age-encryption.org/"):
            raise HeaderError("unsupported version")
        raise HeaderError("not an age file")
    stanzas: list[Stanza] = []
    index = 1
    while index < len(lines):
        line = lines[index]
        if line.startswith(b"---"):
            if index != len(lines) - 1:
                raise HeaderError("data after the MAC line")
            if not stanzas:
                raise HeaderError("no recipient stanza")
            if not line.startswith(b"--- "):
                raise HeaderError("malformed MAC line")
            mac = b64decode(line[4:])
            if len(mac) != MAC_SIZE:
                raise HeaderError("the MAC has the wrong length")
            signed_part = data[: len(data) - len(line) - 1 + 3]
            return Header(tuple(stanzas), mac, signed_part)
        if not line.startswith(b"-> "):
            raise HeaderError("expected a recipient stanza")
        args = line[3:].split(b" ")
        if any(not arg or any(b < 0x21 or b > 0x7E for b in arg) for arg in args):
            raise HeaderError("invalid stanza argument")
        body_lines = []
        while True:
            index += 1
            if index >= len(lines):
                raise HeaderError("stanza without a final body line")
            body_line = lines[index]
            if len(body_line) > COLUMNS:
                raise HeaderError("stanza body line longer than 64 columns")
            body_lines.append(body_line)
            if len(body_line) < COLUMNS:
                break
        stanzas.append(Stanza(tuple(arg.decode("ascii") for arg in args), b64decode(b"".join(body_lines))))
        index += 1
    raise HeaderError("missing MAC line")
