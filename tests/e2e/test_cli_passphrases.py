"""The offline commands scripted: each key file's passphrase read from ``--passphrase-file`` or from standard
input, by the real ``bidding`` command in a session of its own, with no terminal to ask on."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from crypto import age, custody, keyfile

PASSPHRASE = "correct horse battery staple"
BIDDER = "91320505MA1MXK7U5E"
#: Where each command's passphrase comes from: a file, or standard input (``-``).
SOURCES = ["file", "stdin"]


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    """``bidding ARGS`` in a session of its own, so with no terminal: a prompt could only read standard input,
    which is ``stdin`` (else empty). Its exit status, standard output and standard error."""
    done = subprocess.run(
        [sys.executable, "-m", "bidding", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=120,
        start_new_session=True,
        check=False,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    # Nothing fell back to a prompt on standard input.
    assert "Warning" not in err and "Passphrase of" not in err, err
    return done.returncode, out, err


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n")
    path.chmod(0o600)
    return path


def given(source: str, passphrase_file: Path) -> tuple[list[str], bytes | None]:
    """The flag and the standard input that give the passphrase from ``source``."""
    if source == "file":
        return ["--passphrase-file", str(passphrase_file)], None
    return ["--passphrase-file", "-"], f"{PASSPHRASE}\n".encode()


@pytest.fixture
def keys() -> keyfile.KeyFile:
    return keyfile.generate_key_file(f"bidder-{BIDDER}")


@pytest.fixture
def key_file(tmp_path: Path, keys: keyfile.KeyFile) -> Path:
    """A key file under :data:`PASSPHRASE`, sealed with a small scrypt work factor to keep the tests quick."""
    path = tmp_path / "bidder.key"
    path.write_bytes(keyfile.seal_key_file(keys, PASSPHRASE.encode(), work_factor=10))
    return path


@pytest.mark.parametrize("source", SOURCES)
def test_keygen_takes_the_new_passphrase_once_from_a_file_or_standard_input(
    tmp_path: Path, passphrase_file: Path, source: str
) -> None:
    flag, stdin = given(source, passphrase_file)
    target = tmp_path / "new.key"
    code, out, err = run("keygen", "--name", "custodian1", "-o", str(target), *flag, stdin=stdin)
    assert code == 0, err
    made = keyfile.open_key_file(target.read_bytes(), PASSPHRASE.encode())
    assert f"Recipient:    {made.recipient.encode()}" in out


@pytest.mark.parametrize("source", SOURCES)
def test_seal_and_file_key_open_the_key_file_with_the_passphrase_given(
    tmp_path: Path, passphrase_file: Path, key_file: Path, keys: keyfile.KeyFile, source: str
) -> None:
    flag, stdin = given(source, passphrase_file)
    tender = age.HybridIdentity.generate()
    (tmp_path / "prices.json").write_text('{"currency": "CNY", "total": "1000.00"}')
    (tmp_path / "offer.pdf").write_bytes(b"%PDF-1.7 offer")
    code, _, err = run(
        "seal", "--tender", "T-2026-001", "--lot", "1", "--bidder", BIDDER, "--recipient",
        tender.recipient.encode(), "--key", str(key_file), "--price-sheet", str(tmp_path / "prices.json"),
        "--out-dir", str(tmp_path), *flag, str(tmp_path / "offer.pdf"), stdin=stdin,
    )  # fmt: skip
    assert code == 0, err
    sealed = (tmp_path / "bid.age").read_bytes()
    code, out, err = run("file-key", str(tmp_path / "bid.age"), "--key", str(key_file), *flag, stdin=stdin)
    assert code == 0, err
    header = age.read_header(sealed[: 256 * 1024])
    assert base64.b64decode(out.strip()) == age.unwrap_file_key(header, [keys.identity])


@pytest.mark.parametrize("source", SOURCES)
def test_custody_open_opens_the_share_with_the_passphrase_given(
    tmp_path: Path, passphrase_file: Path, key_file: Path, keys: keyfile.KeyFile, source: str
) -> None:
    flag, stdin = given(source, passphrase_file)
    other = age.HybridIdentity.generate()
    ceremony, _ = custody.split_opening_key("T-2026-001", [("c1", keys.recipient), ("c2", other.recipient)], 2)
    (tmp_path / "share.age").write_bytes(ceremony.shares[0].sealed)
    code, out, err = run(
        "custody", "open", str(tmp_path / "share.age"), "--key", str(key_file), "--tender", "T-2026-001",
        "--digest", ceremony.shares[0].share_digest.hex(), *flag, stdin=stdin,
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == custody.open_sealed_share(ceremony.shares[0].sealed, keys.identity, "T-2026-001")


@pytest.mark.parametrize("source", SOURCES)
def test_age_encrypts_with_a_passphrase_given_once(tmp_path: Path, passphrase_file: Path, source: str) -> None:
    flag, stdin = given(source, passphrase_file)
    (tmp_path / "plain.txt").write_bytes(b"the bid, in plain")
    sealed = tmp_path / "plain.txt.age"
    code, _, err = run("age", "-p", *flag, "-o", str(sealed), str(tmp_path / "plain.txt"), stdin=stdin)
    assert code == 0, err
    assert age.decrypt(sealed.read_bytes(), [age.ScryptIdentity(PASSPHRASE.encode())]) == b"the bid, in plain"


@pytest.mark.parametrize("source", SOURCES)
def test_age_decrypts_with_a_passphrase_given(tmp_path: Path, passphrase_file: Path, source: str) -> None:
    flag, stdin = given(source, passphrase_file)
    sealed, opened = tmp_path / "plain.txt.age", tmp_path / "opened.txt"
    sealed.write_bytes(age.encrypt(b"the bid, in plain", [age.ScryptRecipient(PASSPHRASE.encode(), 10)]))
    code, _, err = run("age", "-d", *flag, "-o", str(opened), str(sealed), stdin=stdin)
    assert code == 0, err
    assert opened.read_bytes() == b"the bid, in plain"


@pytest.mark.parametrize("source", SOURCES)
def test_age_uses_a_passphrase_protected_identity_file_with_the_passphrase_given(
    tmp_path: Path, passphrase_file: Path, key_file: Path, keys: keyfile.KeyFile, source: str
) -> None:
    flag, stdin = given(source, passphrase_file)
    (tmp_path / "plain.txt").write_bytes(b"for my own key")
    sealed, opened = tmp_path / "mine.age", tmp_path / "opened.txt"
    code, _, err = run(
        "age", "-e", "-i", str(key_file), *flag, "-o", str(sealed), str(tmp_path / "plain.txt"), stdin=stdin
    )
    assert code == 0, err
    code, _, err = run("age", "-d", "-i", str(key_file), *flag, "-o", str(opened), str(sealed), stdin=stdin)
    assert code == 0, err
    assert opened.read_bytes() == b"for my own key"
    code, out, err = run("age-keygen", "-y", str(key_file), *flag, stdin=stdin)
    assert code == 0, err
    assert keys.recipient.encode() in out
