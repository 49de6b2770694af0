"""The ASCII armor of age files (C2SP age, "ASCII armor"): strict PEM (RFC 7468 §3), without I/O.

Only whitespace around the block and CRLF line ends are tolerated: anything else that would let two texts
carry the same file is refused, since an armored file must not be malleable.
"""

from __future__ import annotations

import binascii

from crypto.age.errors import ArmorError

BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
END = b"-----END AGE ENCRYPTED FILE-----"
#: Base64 characters per line, and the bytes they carry.
COLUMNS = 64
_BYTES_PER_LINE = 48
_WHITESPACE = b" \t\r\n"
_BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
#: A line longer than this (a body line, its CRLF, some slack) cannot be valid: stop buffering it.
_MAX_LINE = 128


def looks_armored(start: bytes) -> bool:
    """Whether a file starting with ``start`` (at least one byte) is armored rather than binary."""
    return start[:1] in (b"-", b" ", b"\t", b"\r", b"\n")


class Armorer:
    """Encodes bytes fed in pieces into the armor; :meth:`finish` writes the last line and the end marker."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._started = False

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        out = b"" if self._started else BEGIN + b"\n"
        self._started = True
        self._buffer += data
        whole = len(self._buffer) - len(self._buffer) % _BYTES_PER_LINE
        if whole:
            encoded = binascii.b2a_base64(self._buffer[:whole], newline=False)
            out += b"".join(encoded[i : i + COLUMNS] + b"\n" for i in range(0, len(encoded), COLUMNS))
            del self._buffer[:whole]
        return out

    def finish(self) -> bytes:
        out = self.update(b"")
        if self._buffer:
            out += binascii.b2a_base64(self._buffer, newline=False) + b"\n"
        return out + END + b"\n"


class Dearmorer:
    """Decodes an armored file fed in pieces; raises :class:`ArmorError` at the first departure from the form."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._state = "leading"  # leading → body → last (after a short line) → after (the end marker seen)

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        self._pending += data
        out = []
        while True:
            if self._state in ("leading", "after"):
                kept = self._pending.lstrip(_WHITESPACE)
                if self._state == "after" and kept:
                    raise ArmorError("data after the armor")
                del self._pending[: len(self._pending) - len(kept)]
                if not self._pending:
                    break
            end = self._pending.find(b"\n")
            if end < 0:
                if len(self._pending) > _MAX_LINE:
                    raise ArmorError("armor line too long")
                break
            line = bytes(self._pending[:end])
            del self._pending[: end + 1]
            out.append(self._line(line[:-1] if line.endswith(b"\r") else line))
        return b"".join(out)

    def finish(self) -> bytes:
        """The last bytes; raises :class:`ArmorError` unless the armor was complete."""
        out = b""
        if self._pending and self._state != "after":
            # The end marker may close the file without a line feed.
            out = self._line(bytes(self._pending))
            self._pending.clear()
        if self._state != "after":
            raise ArmorError("the armor has no end line" if self._state != "leading" else "empty armor")
        return out

    def _line(self, line: bytes) -> bytes:
        if self._state == "leading":
            if line != BEGIN:
                raise ArmorError("the armor does not begin with the age marker")
            self._state = "body"
            return b""
        if line == END:
            self._state = "after"
            return b""
        if self._state == "last":
            raise ArmorError("a short line before the end of the armor")
        if not line or len(line) > COLUMNS or not _BASE64.issuperset(line):
            raise ArmorError("invalid armor line")
        if len(line) < COLUMNS or line.endswith(b"="):
            self._state = "last"
        try:
            data = binascii.a2b_base64(line, strict_mode=True)
        except binascii.Error:
            raise ArmorError("invalid base64 in the armor") from None
        if binascii.b2a_base64(data, newline=False) != line:
            raise ArmorError("non-canonical base64 in the armor")
        return data
