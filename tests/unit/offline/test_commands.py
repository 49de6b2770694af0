"""``bidding age`` and ``bidding age-keygen``: age(1)'s flags and behaviour, with files and standard streams."""

from __future__ import annotations

import base64
import io
import stat
import sys
from pathlib import Path

import pytest

from bidding import cli
from bidding.offline import commands as offline
from crypto import age, note


def run(*argv: str) -> int:
    return cli.main(list(argv))


@pytest.fixture
def passphrases(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answers given to passphrase prompts, in order."""
    answers: list[str] = []
    monkeypatch.setattr(offline, "read_passphrase", lambda prompt: answers.pop(0))
    return answers


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.mark.parametrize("pq", [True, False])
def test_a_generated_key_encrypts_and_decrypts_files(tmp_path: Path, pq: bool) -> None:
    key = tmp_path / "key.txt"
    assert run("age-keygen", *(["--pq"] if pq else []), "-o", str(key)) == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    identity = age.parse_identity(key.read_text().splitlines()[-1])
    assert isinstance(identity, age.HybridIdentity if pq else age.X25519Identity)
    (tmp_path / "bid.txt").write_bytes(b"my sealed bid")
    recipient = identity.recipient.encode()
    assert run("age", "-r", recipient, "-o", str(tmp_path / "bid.age"), str(tmp_path / "bid.txt")) == 0
    assert run("age", "-d", "-i", str(key), "-o", str(tmp_path / "out.txt"), str(tmp_path / "bid.age")) == 0
    assert (tmp_path / "out.txt").read_bytes() == b"my sealed bid"


def test_keygen_refuses_to_overwrite_a_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "key.txt"
    key.write_text("precious")
    assert run("age-keygen", "-o", str(key)) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert key.read_text() == "precious"


def test_recipients_come_from_files_and_identities(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    first, second = age.HybridIdentity.generate(), age.HybridIdentity.generate()
    (tmp_path / "recipients").write_text(f"# the tender\n\n{first.recipient.encode()}\n")
    (tmp_path / "mine").write_text(f"# my key\n{second.encode()}\n")
    (tmp_path / "in").write_bytes(b"x" * 100_000)
    assert run("age", "-R", str(tmp_path / "recipients"), "-i", str(tmp_path / "mine"), "-a", str(tmp_path / "in")) == 0
    sealed = capsysbinary.readouterr().out
    assert sealed.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    assert age.decrypt(sealed, [first]) == age.decrypt(sealed, [second]) == b"x" * 100_000
    assert run("age-keygen", "-y", str(tmp_path / "mine")) == 0
    assert capsysbinary.readouterr().out.decode().strip() == second.recipient.encode()


def test_a_passphrase_encrypts_and_decrypts(
    tmp_path: Path, passphrases: list[str], monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    passphrases += ["correct horse", "correct horse"]
    _stdin(monkeypatch, b"by passphrase")
    assert run("age", "-p", "-o", str(tmp_path / "file.age")) == 0
    passphrases += ["correct horse"]
    assert run("age", "-d", str(tmp_path / "file.age")) == 0
    assert capsysbinary.readouterr().out == b"by passphrase"


def test_a_passphrase_protected_identity_file_is_decrypted_first(
    tmp_path: Path, passphrases: list[str], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    identity = age.HybridIdentity.generate()
    key_file = age.encrypt(f"{identity.encode()}\n".encode(), [age.ScryptRecipient(b"key pass", work_factor=10)])
    (tmp_path / "key.age").write_bytes(key_file)
    (tmp_path / "bid.age").write_bytes(age.encrypt(b"bid", [identity.recipient]))
    passphrases += ["key pass"]
    assert run("age", "-d", "-i", str(tmp_path / "key.age"), str(tmp_path / "bid.age")) == 0
    assert capsysbinary.readouterr().out == b"bid"
    passphrases += ["wrong pass"]
    assert run("age", "-d", "-i", str(tmp_path / "key.age"), str(tmp_path / "bid.age")) == 1
    assert b"cannot decrypt the identity file" in capsysbinary.readouterr().err


def test_a_failed_decryption_leaves_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine, theirs = age.X25519Identity.generate(), age.X25519Identity.generate()
    (tmp_path / "key").write_text(mine.encode())
    (tmp_path / "bid.age").write_bytes(age.encrypt(b"secret", [theirs.recipient]))
    assert run("age", "-d", "-i", str(tmp_path / "key"), "-o", str(tmp_path / "out"), str(tmp_path / "bid.age")) == 1
    assert "no identity matches" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bid.age", "key"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["age"], "missing recipients"),
        (["age", "-r", "age1nonsense"], "invalid recipient"),
        (["age", "-d", "-r", "age1x"], "for encryption only"),
        (["age", "-p", "-r", "age1x"], "cannot be combined"),
        (["age", "-i", "/no/such/file"], "cannot read /no/such/file"),
        (["age", "-r", "age1x", "/no/such/input"], "invalid recipient"),
    ],
)
def test_misuse_is_refused_with_a_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*argv) == 1
    assert message in capsys.readouterr().err


def test_pq_and_classical_recipients_are_not_mixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pq, classic = age.HybridIdentity.generate().recipient.encode(), age.X25519Identity.generate().recipient.encode()
    (tmp_path / "in").write_bytes(b"x")
    assert run("age", "-r", pq, "-r", classic, "-o", str(tmp_path / "out"), str(tmp_path / "in")) == 1
    assert "cannot be mixed" in capsys.readouterr().err


def test_binary_output_is_not_written_to_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, b"x")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert run("age", "-r", age.X25519Identity.generate().recipient.encode()) == 1
    assert "refusing to write binary output to a terminal" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no identities"),
        (b"# only a comment\n", "no identities"),
        (b"\xff\xfe", "not an identity file"),
        (b"AGE-SECRET-KEY-1NOPE\n", ":1: not an age identity"),
    ],
)
def test_bad_identity_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "id").write_bytes(content)
    with pytest.raises(offline.OfflineError, match=message):
        offline.read_identity_file(str(tmp_path / "id"))


@pytest.mark.parametrize(
    ("content", "message"), [(b"", "no recipients"), (b"\xff", "not a text file"), (b"# x\nage1bad\n", ":2: ")]
)
def test_bad_recipients_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "r").write_bytes(content)
    with pytest.raises(offline.OfflineError, match=message):
        offline.read_recipients_file(str(tmp_path / "r"))


def test_a_missing_input_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipient = age.X25519Identity.generate().recipient.encode()
    assert run("age", "-r", recipient, "-o", str(tmp_path / "out"), str(tmp_path / "missing")) == 1
    assert "cannot open" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- bidding keygen and bidding seal ---------------------------------------------------------------------------

from crypto import envelope, keyfile  # noqa: E402
from crypto.statement import open_statement  # noqa: E402

KEY_PASSPHRASE = "a long key passphrase"


@pytest.fixture
def fast_key_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key files sealed with a small scrypt work factor, so tests do not spend a second on each."""
    seal = keyfile.seal_key_file
    monkeypatch.setattr(keyfile, "seal_key_file", lambda keys, passphrase: seal(keys, passphrase, work_factor=10))


@pytest.fixture
def bidder_key(tmp_path: Path, passphrases: list[str], fast_key_files: None) -> Path:
    passphrases += [KEY_PASSPHRASE, KEY_PASSPHRASE]
    path = tmp_path / "bidder.key"
    assert run("keygen", "--name", "bidder-91320505MA1MXK7U5E", "-o", str(path)) == 0
    return path


def test_keygen_writes_a_private_key_file_and_prints_the_public_halves(
    tmp_path: Path, passphrases: list[str], fast_key_files: None, capsys: pytest.CaptureFixture[str]
) -> None:
    passphrases += [KEY_PASSPHRASE, KEY_PASSPHRASE]
    path = tmp_path / "custodian.key"
    assert run("keygen", "--name", "custodian1", "-o", str(path)) == 0
    out = capsys.readouterr().out
    keys = keyfile.open_key_file(path.read_bytes(), KEY_PASSPHRASE.encode())
    assert f"Recipient:    {keys.recipient.encode()}" in out and f"Verifier key: {keys.verifier_key}" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keygen_refuses_to_overwrite_or_a_mistyped_passphrase(
    bidder_key: Path, passphrases: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("keygen", "--name", "x", "-o", str(bidder_key)) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    passphrases += [KEY_PASSPHRASE, "something else"]
    assert run("keygen", "--name", "x", "-o", str(bidder_key.parent / "other.key")) == 1
    assert "passphrases differ" in capsys.readouterr().err
    passphrases += ["short", "short"]
    assert run("keygen", "--name", "x", "-o", str(bidder_key.parent / "other.key")) == 1
    assert "10 characters" in capsys.readouterr().err
    assert not (bidder_key.parent / "other.key").exists()


def test_a_bid_sealed_offline_opens_for_the_tender_and_the_bidder(
    tmp_path: Path, bidder_key: Path, passphrases: list[str], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    tender = age.HybridIdentity.generate()
    (tmp_path / "prices.json").write_text('{"currency": "CNY", "total": "1234567.50", "duration_days": 180}')
    (tmp_path / "technical.pdf").write_bytes(b"%PDF" + bytes(200_000))
    (tmp_path / "prices.xlsx").write_bytes(b"sheet")
    passphrases += [KEY_PASSPHRASE]
    assert run(
        "seal", "--tender", "T-2026-001", "--lot", "1", "--bidder", "91320505MA1MXK7U5E", "--slot", "commercial",
        "--recipient", tender.recipient.encode(), "--key", str(bidder_key),
        "--price-sheet", str(tmp_path / "prices.json"), "--out-dir", str(tmp_path),
        str(tmp_path / "technical.pdf"), str(tmp_path / "prices.xlsx"),
    ) == 0  # fmt: skip
    capsysbinary.readouterr()
    keys = keyfile.open_key_file(bidder_key.read_bytes(), KEY_PASSPHRASE.encode())
    statement = open_statement((tmp_path / "bid.statement").read_bytes(), keys.signer.verifier())
    assert (statement.tender, statement.slot) == ("T-2026-001", "commercial")
    with (
        (tmp_path / "bid.age").open("rb") as sealed,
        envelope.open_envelope(sealed, statement, keys.signer.verifier(), [tender]) as bid,
    ):
        assert bid.manifest.price_sheet.total == "1234567.50"
        assert bid.open_document("prices.xlsx").read() == b"sheet"
    # The bidder opens their own copy with the key file alone, as with age -d -i.
    passphrases += [KEY_PASSPHRASE]
    assert run("age", "-d", "-i", str(bidder_key), str(tmp_path / "bid.age")) == 0
    assert capsysbinary.readouterr().out.startswith(b"PK")


@pytest.mark.parametrize(
    ("recipient", "prices", "answer", "message"),
    [
        ("x25519", '{"currency": "CNY", "total": "1"}', KEY_PASSPHRASE, "must be a post-quantum"),
        ("nonsense", '{"currency": "CNY", "total": "1"}', KEY_PASSPHRASE, "the tender recipient"),
        ("pq", '{"currency": "CNY", "total": 1.5}', KEY_PASSPHRASE, "not a valid price sheet"),
        ("pq", '{"currency": "CNY"}', KEY_PASSPHRASE, "not a valid price sheet"),
        ("pq", '{"currency": "CNY", "total": "1"}', "wrong passphrase!!", "wrong passphrase"),
    ],
)
def test_seal_refuses_what_it_cannot_use(
    tmp_path: Path,
    bidder_key: Path,
    passphrases: list[str],
    capsys: pytest.CaptureFixture[str],
    recipient: str,
    prices: str,
    answer: str,
    message: str,
) -> None:
    recipients = {
        "x25519": age.X25519Identity.generate().recipient.encode(),
        "pq": age.HybridIdentity.generate().recipient.encode(),
        "nonsense": "age1pq1nonsense",
    }
    (tmp_path / "prices.json").write_text(prices)
    (tmp_path / "doc.pdf").write_bytes(b"doc")
    passphrases += [answer]
    assert run(
        "seal", "--tender", "T", "--lot", "1", "--bidder", "B", "--recipient", recipients[recipient],
        "--key", str(bidder_key), "--price-sheet", str(tmp_path / "prices.json"), "--out-dir", str(tmp_path),
        str(tmp_path / "doc.pdf"),
    ) == 1  # fmt: skip
    assert message in capsys.readouterr().err
    assert not (tmp_path / "bid.age").exists() and not (tmp_path / "bid.statement").exists()


def test_seal_leaves_nothing_when_a_document_is_missing(
    tmp_path: Path, bidder_key: Path, passphrases: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "prices.json").write_text('{"currency": "CNY", "total": "1"}')
    passphrases += [KEY_PASSPHRASE]
    assert run(
        "seal", "--tender", "T", "--lot", "1", "--bidder", "B",
        "--recipient", age.HybridIdentity.generate().recipient.encode(), "--key", str(bidder_key),
        "--price-sheet", str(tmp_path / "prices.json"), "--out-dir", str(tmp_path), str(tmp_path / "missing.pdf"),
    ) == 1  # fmt: skip
    assert "cannot open" in capsys.readouterr().err
    assert not (tmp_path / "bid.age").exists()


# --- bidding file-key -------------------------------------------------------------------------------------------

from crypto.age.header import header_length  # noqa: E402

SEALED = b"PK a sealed bid" * 1000


def _envelope_for(folder: Path, recipient: age.HybridRecipient) -> Path:
    """``folder``/bid.age sealed to a tender and ``recipient``, and bid.header beside it: its header alone, as
    ``GET /api/v1/bids/ID/header`` serves it."""
    folder.mkdir(exist_ok=True)
    sealed = age.encrypt(SEALED, [age.HybridIdentity.generate().recipient, recipient])
    (folder / "bid.age").write_bytes(sealed)
    (folder / "bid.header").write_bytes(sealed[: header_length(sealed)])
    return folder / "bid.age"


@pytest.mark.parametrize("source", ["bid.age", "bid.header"])
def test_file_key_prints_the_key_that_opens_ones_own_envelope(
    tmp_path: Path, bidder_key: Path, passphrases: list[str], capsys: pytest.CaptureFixture[str], source: str
) -> None:
    """From the whole envelope or its header alone, the key file unwraps the 16 bytes that open the envelope."""
    keys = keyfile.open_key_file(bidder_key.read_bytes(), KEY_PASSPHRASE.encode())
    envelope_path = _envelope_for(tmp_path, keys.recipient)
    passphrases += [KEY_PASSPHRASE]
    assert run("file-key", str(tmp_path / source), "--key", str(bidder_key)) == 0
    printed = capsys.readouterr().out
    assert printed.endswith("\n") and printed.count("\n") == 1  # one line, as the hand-in takes it
    file_key = base64.b64decode(printed.strip(), validate=True)
    assert len(file_key) == 16
    assert age.decrypt(envelope_path.read_bytes(), file_key=file_key) == SEALED


@pytest.mark.parametrize(
    ("target", "answers", "message"),
    [
        ("other/bid.age", [KEY_PASSPHRASE], "was sealed to another key file"),
        ("other/bid.header", [KEY_PASSPHRASE], "was sealed to another key file"),
        ("bid.pdf", [], "not an age file"),
        ("empty", [], "not an age file"),
        ("truncated", [], "damaged or cut short"),
        ("bid.age", ["wrong passphrase!!"], "wrong passphrase"),
        ("missing", [], "cannot open"),
    ],
)
def test_file_key_says_why_it_cannot_unwrap(
    tmp_path: Path,
    bidder_key: Path,
    passphrases: list[str],
    capsys: pytest.CaptureFixture[str],
    target: str,
    answers: list[str],
    message: str,
) -> None:
    """Another bidder's envelope, a file that is not age (or its header cut short), a wrong passphrase."""
    keys = keyfile.open_key_file(bidder_key.read_bytes(), KEY_PASSPHRASE.encode())
    mine = _envelope_for(tmp_path, keys.recipient)
    _envelope_for(tmp_path / "other", age.HybridIdentity.generate().recipient)
    (tmp_path / "bid.pdf").write_bytes(b"%PDF-1.7 not sealed")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "truncated").write_bytes(mine.read_bytes()[:500])
    passphrases += answers
    assert run("file-key", str(tmp_path / target), "--key", str(bidder_key)) == 1
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    assert passphrases == []  # the passphrase is asked for only once the file is known to be age


# --- Passphrases from a file or standard input (scripted runs: tests/e2e/test_cli_passphrases.py) ---------------


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(KEY_PASSPHRASE + "\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["age", "-d"],
        ["age", "-p"],
        ["age", "-d", "-i", "-", "data.age"],
        ["age-keygen", "-y"],
        ["file-key", "-", "--key", "bidder.key"],
        [
            "seal",
            "--tender",
            "T",
            "--lot",
            "1",
            "--bidder",
            "B",
            "--recipient",
            "age1pq1x",
            "--key",
            "bidder.key",
            "--price-sheet",
            "prices.json",
            "-",
        ],
    ],  # fmt: skip
)
def test_standard_input_is_not_both_the_passphrase_and_the_data(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    _stdin(monkeypatch, b"some data\n")
    assert run(*command, "--passphrase-file", "-") == 1
    captured = capsys.readouterr()
    assert "standard input is already the data read" in captured.err and captured.out == ""
    assert sys.stdin.read() == "some data\n"  # nothing of it was read


def test_a_passphrase_file_others_can_read_is_used_with_a_warning(
    tmp_path: Path, bidder_key: Path, passphrase_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = keyfile.open_key_file(bidder_key.read_bytes(), KEY_PASSPHRASE.encode())
    envelope_path = _envelope_for(tmp_path, keys.recipient)
    args = ["file-key", str(envelope_path), "--key", str(bidder_key), "--passphrase-file", str(passphrase_file)]
    assert run(*args) == 0
    private = capsys.readouterr()
    assert "warning" not in private.err
    passphrase_file.chmod(0o640)
    assert run(*args) == 0
    shared = capsys.readouterr()
    assert shared.out == private.out
    assert f"warning: {passphrase_file} can be read by others (mode 0640)" in shared.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\nsecond line\n", "no passphrase on the first line"),
        (b"", "no passphrase on the first line"),
        (b"wrong passphrase, not the key's\n", "bidder.key: "),
        (b"\xff\xfe\n", "not UTF-8"),
        (b"x" * 5000, "longer than 4096 bytes"),
    ],
)
def test_an_unusable_passphrase_file_is_refused(
    tmp_path: Path,
    bidder_key: Path,
    passphrase_file: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    keys = keyfile.open_key_file(bidder_key.read_bytes(), KEY_PASSPHRASE.encode())
    passphrase_file.write_bytes(content)
    args = ["--key", str(bidder_key), "--passphrase-file", str(passphrase_file)]
    assert run("file-key", str(_envelope_for(tmp_path, keys.recipient)), *args) == 1
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_a_missing_passphrase_file_is_named_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "new.key"
    assert run("keygen", "--name", "x", "-o", str(target), "--passphrase-file", str(tmp_path / "nowhere")) == 1
    assert f"cannot read the passphrase file {tmp_path / 'nowhere'}" in capsys.readouterr().err
    assert not target.exists()


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\nanother line\n", ""])
def test_the_first_line_is_the_passphrase_without_its_line_ending(
    tmp_path: Path, bidder_key: Path, passphrase_file: Path, ending: str
) -> None:
    """Written with or without a newline, on Windows (CRLF), or with more lines after it."""
    keys = keyfile.open_key_file(bidder_key.read_bytes(), KEY_PASSPHRASE.encode())
    passphrase_file.write_bytes(f"{KEY_PASSPHRASE}{ending}".encode())
    args = ["--key", str(bidder_key), "--passphrase-file", str(passphrase_file)]
    assert run("file-key", str(_envelope_for(tmp_path, keys.recipient)), *args) == 0


def test_one_passphrase_from_standard_input_serves_every_identity_file(
    tmp_path: Path, bidder_key: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """Standard input is read once: the same passphrase opens each encrypted identity file given with -i."""
    keys = keyfile.open_key_file(bidder_key.read_bytes(), KEY_PASSPHRASE.encode())
    envelope_path = _envelope_for(tmp_path, keys.recipient)
    _stdin(monkeypatch, f"{KEY_PASSPHRASE}\n".encode())
    identities = ["-i", str(bidder_key), "-i", str(bidder_key)]
    assert run("age", "-d", *identities, "--passphrase-file", "-", str(envelope_path)) == 0
    assert capsysbinary.readouterr().out == SEALED


@pytest.mark.parametrize("command", [["keygen"], ["seal"], ["file-key"], ["custody", "open"], ["age"], ["age-keygen"]])
def test_every_command_asking_for_a_passphrase_offers_the_file(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        run(*command, "--help")
    out = " ".join(capsys.readouterr().out.split())
    assert "--passphrase-file PATH" in out and "- for standard input" in out


# --- Verifier keys: bidding log verify, log proof and witness serve --log ---------------------------------------


def test_a_verifier_key_is_taken_as_it_is_or_from_a_file_holding_it(tmp_path: Path) -> None:
    vkey = note.parse_signer_key(note.generate_signer_key("bids.example.org/log")).verifier().verifier_key()
    (tmp_path / "log.vkey").write_text(vkey + "\n")  # as curl saves /log/key
    assert offline.read_verifier_key(vkey) == offline.read_verifier_key(str(tmp_path / "log.vkey")) == vkey


@pytest.mark.parametrize(
    "command",
    [
        ["log", "proof", "receipt", "--key"],
        ["log", "verify", "http://127.0.0.1:9", "--key"],
        ["log", "proof", "receipt", "--key", "bids.example.org/log+01234567+AQ", "--witness"],
        ["witness", "serve", "--key", "witness.key", "--state", "state.json", "--log"],
    ],
)
@pytest.mark.parametrize("given", ["file", "inline"])
def test_a_signing_key_is_refused_where_a_verifier_key_is_meant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str], given: str
) -> None:
    """The platform's log.key (or a witness's key) in place of the verifier key /log/key serves: named as a
    secret, and nothing is fetched, checked or served."""
    monkeypatch.chdir(tmp_path)
    signer_key = note.generate_signer_key("bids.example.org/log")
    Path("log.key").write_text(signer_key + "\n")
    Path("receipt").write_text("not looked at\n")
    assert run(*command, "log.key" if given == "file" else signer_key) == 1
    err = capsys.readouterr().err
    assert "is a signing key, a secret" in err and "give the verifier key" in err
    assert signer_key not in err  # not even echoed back


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "log.vkey: neither a file nor a verifier key"), ("a+b+c\nd+e+f\n", "a verifier key is one line, not 2")],
)
def test_a_verifier_key_file_that_is_missing_or_of_several_lines_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if content is not None:
        Path("log.vkey").write_text(content)
    Path("receipt").write_text("not looked at\n")
    assert run("log", "proof", "receipt", "--key", "log.vkey") == 1
    assert message in capsys.readouterr().err
