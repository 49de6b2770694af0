"""Files sealed here open in typage (npm age-encryption), and files sealed by typage open here."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from crypto.age import (
    HybridIdentity,
    X25519Identity,
    decrypt,
    encrypt,
    parse_identity,
    parse_recipient,
)
from crypto.age.stream import CHUNK_SIZE

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = ROOT / "tests" / "interop" / "typage.mjs"
#: Payload sizes on both sides of every chunk boundary, and a few chunks long.
SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 7]


def _typage(*args: str, stdin: bytes = b"") -> bytes:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "age-encryption").exists():
        message = "node and the npm package age-encryption are needed (`make test` installs the package)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    done = subprocess.run([node, str(SCRIPT), *args], input=stdin, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.mark.parametrize("kind", ["pq", "x25519"])
@pytest.mark.parametrize("size", SIZES)
def test_our_files_open_in_typage(kind: str, size: int) -> None:
    identity = HybridIdentity.generate() if kind == "pq" else X25519Identity.generate()
    plaintext = os.urandom(size)
    sealed = encrypt(plaintext, [identity.recipient])
    assert _typage("decrypt", identity.encode(), stdin=sealed) == plaintext


@pytest.mark.parametrize("kind", ["pq", "x25519"])
@pytest.mark.parametrize("size", SIZES)
def test_typage_files_open_here(kind: str, size: int) -> None:
    identity_text, recipient_text = _typage("keygen", kind).decode().split()
    plaintext = os.urandom(size)
    sealed = _typage("encrypt", recipient_text, stdin=plaintext)
    identity = parse_identity(identity_text)
    assert identity.recipient == parse_recipient(recipient_text)
    assert decrypt(sealed, [identity]) == plaintext


def test_a_file_for_two_pq_recipients_opens_in_typage_for_each() -> None:
    tender, bidder = HybridIdentity.generate(), HybridIdentity.generate()
    sealed = encrypt(b"sealed bid", [tender.recipient, bidder.recipient])
    assert _typage("decrypt", tender.encode(), stdin=sealed) == b"sealed bid"
    assert _typage("decrypt", bidder.encode(), stdin=sealed) == b"sealed bid"
