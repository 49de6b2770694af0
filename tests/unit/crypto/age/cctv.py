"""The C2SP CCTV age test vectors, read from the npm package ``cctv-age`` that ``make test`` installs.

The package embeds each vector file as base64 in ``index.js``; this loader reads them without running node.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
import zlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[4] / "node_modules" / "cctv-age" / "index.js"
_VECTOR = re.compile(r'// \.\./testdata/(\w+)\nvar \w+ = __toBinary\("([A-Za-z0-9+/=]*)"\);')


@dataclasses.dataclass(frozen=True)
class Vector:
    name: str
    expect: str
    payload_sha256: str | None
    identities: list[str]
    passphrases: list[str]
    armored: bool
    file_key: str | None
    body: bytes

    def check_payload(self, plaintext: bytes) -> None:
        assert self.payload_sha256 is not None
        assert hashlib.sha256(plaintext).hexdigest() == self.payload_sha256, self.name


def _parse(name: str, raw: bytes) -> Vector:
    head, _, body = raw.partition(b"\n\n")
    fields: dict[str, list[str]] = {}
    for line in head.decode().split("\n"):
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)
    if fields.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    return Vector(
        name=name,
        expect=fields["expect"][0],
        payload_sha256=fields.get("payload", [None])[0],
        identities=fields.get("identity", []),
        passphrases=fields.get("passphrase", []),
        armored=fields.get("armored") == ["yes"],
        file_key=fields.get("file key", [None])[0],
        body=body,
    )


def load_vectors() -> list[Vector]:
    """Every vector, or a failure under CI (a skip elsewhere) when the package is not installed."""
    if not PACKAGE.exists():
        message = f"the CCTV age vectors are missing ({PACKAGE}); `make test` installs them with npm"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message, allow_module_level=True)
    found = _VECTOR.findall(PACKAGE.read_text())
    return [_parse(name, base64.b64decode(data)) for name, data in found]
