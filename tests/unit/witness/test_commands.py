"""``bidding witness keygen`` and the checks ``bidding witness serve`` makes before it starts a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bidding.cli import main
from bidding.witness.commands import WitnessConfig, WitnessSetupError, create_application, load_witness
from crypto import note
from tests.witnessing import SampleLog

LOG = SampleLog("log.example/commands")


def test_keygen_writes_a_private_cosignature_key_and_prints_its_verifier_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "witness.key"
    assert main(["witness", "keygen", "--name", "witness.example/w1", "-o", str(key)]) == 0
    printed = capsys.readouterr().out.strip()
    assert key.stat().st_mode & 0o777 == 0o600
    signer = note.parse_signer_key(key.read_text().strip())
    assert isinstance(signer, note.CosignatureSigner) and signer.name == "witness.example/w1"
    assert printed == signer.verifier().verifier_key()
    assert isinstance(note.parse_verifier_key(printed), note.CosignatureVerifier)


def test_keygen_never_overwrites_a_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "witness.key"
    key.write_text("kept")
    assert main(["witness", "keygen", "--name", "witness.example/w1", "-o", str(key)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert key.read_text() == "kept"


def test_keygen_refuses_a_name_a_key_cannot_have(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["witness", "keygen", "--name", "two words", "-o", str(tmp_path / "k")]) == 1
    assert "cannot be a key name" in capsys.readouterr().err
    assert not (tmp_path / "k").exists()
    assert main(["witness", "keygen", "--name", "w", "-o", str(tmp_path / "missing" / "k")]) == 1


def _witness_key(tmp_path: Path) -> Path:
    path = tmp_path / "witness.key"
    path.write_text(note.generate_signer_key("witness.example/w1", note.COSIGNATURE_V1) + "\n")
    return path


def test_a_witness_loads_from_its_key_state_and_log_keys(tmp_path: Path) -> None:
    config = WitnessConfig(_witness_key(tmp_path), tmp_path / "state.json", (LOG.verifier_key,))
    witness = load_witness(config)
    assert list(witness.logs) == [LOG.origin]
    assert (tmp_path / "state.json").read_text() == "{}\n"
    assert create_application(config).witness.verifier_key == witness.verifier_key


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing key", "cannot read the witness key"),
        ("log key as witness key", "not a witness's cosignature key"),
        ("garbage key", "not a signed-note signer key"),
        ("no log", "at least one log"),
        ("garbage log key", "not a verifier key"),
        ("witness key as log key", "not a log's Ed25519 key"),
        ("state in a missing folder", "state file"),
    ],
)
def test_a_witness_that_cannot_work_does_not_start(tmp_path: Path, change: str, message: str) -> None:
    key = _witness_key(tmp_path)
    state = tmp_path / "state.json"
    logs: tuple[str, ...] = (LOG.verifier_key,)
    if change == "missing key":
        key = tmp_path / "missing.key"
    elif change == "log key as witness key":
        key.write_text(note.generate_signer_key("log.example/commands"))
    elif change == "garbage key":
        key.write_text("PRIVATE+KEY+garbage")
    elif change == "no log":
        logs = ()
    elif change == "garbage log key":
        logs = ("log.example+00000000+AAAA",)
    elif change == "witness key as log key":
        cosigner = note.parse_signer_key(key.read_text().strip())
        logs = (cosigner.verifier().verifier_key(),)
    else:
        state = tmp_path / "missing" / "state.json"
    with pytest.raises(WitnessSetupError, match=message):
        load_witness(WitnessConfig(key, state, logs))


def test_serve_reports_a_bad_setup_before_starting_a_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log_key = tmp_path / "log.vkey"
    log_key.write_text(LOG.verifier_key + "\n")
    arguments = ["witness", "serve", "--key", str(tmp_path / "none"), "--state", str(tmp_path / "s.json")]
    assert main([*arguments, "--log", str(log_key)]) == 1
    assert "cannot read the witness key" in capsys.readouterr().err
