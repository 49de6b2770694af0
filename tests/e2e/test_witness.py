"""``bidding witness serve`` as an outside party runs it: a real process, its state on disk, talking to a real
platform process whose log it cosigns.

The platform runs on a database and data folder of its own (the shared e2e server has no witness configured), with
``BIDDING_WITNESSES`` pointing at the witness process and a quorum of one: its checkpoint is published only once
the witness has cosigned it, and ``bidding log verify`` and ``bidding log proof`` require that cosignature.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crypto import note
from tests.conftest import PostgresServer
from tests.e2e.conftest import DEMO_PASSWORD, Clients, Server, free_port, stop, wait_until_live
from tests.witnessing import SampleLog

#: How long a test waits for the platform to sequence and the witness to cosign. The platform rests a witness
#: for 10 s after a failed request, so a witness that comes back is asked again within that.
PUBLICATION_TIMEOUT = 60.0


def _bidding(*args: str, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bidding", *args], env=environment, capture_output=True, text=True, timeout=120
    )


def _wait_for(what: str, check: Callable[[], Any], timeout: float = PUBLICATION_TIMEOUT) -> Any:
    """``check()``'s first true result, asked again every tenth of a second for up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"still waiting, after {timeout} s, for {what}")


class WitnessProcess:
    """``bidding witness serve`` with a key made by ``bidding witness keygen``, on one port across restarts."""

    def __init__(self, folder: Path, log_keys: list[str], name: str = "witness.test/w1") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.key_file = folder / "witness.key"
        self.state_file = folder / "state.json"
        self.output = folder / "witness.log"
        made = _bidding("witness", "keygen", "--name", name, "-o", str(self.key_file))
        assert made.returncode == 0, made.stderr
        #: The verifier key keygen printed, which the log and its clients configure.
        self.verifier_key = made.stdout.strip()
        verifier = note.parse_verifier_key(self.verifier_key)
        assert isinstance(verifier, note.CosignatureVerifier)
        self.verifier = verifier
        self.log_keys = log_keys
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None, "one process at a time"
        arguments = ["--key", str(self.key_file), "--state", str(self.state_file), "--port", str(self.port)]
        for key in self.log_keys:
            arguments += ["--log", key]
        with self.output.open("a") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bidding", "witness", "serve", *arguments],
                stdout=output,
                stderr=subprocess.STDOUT,
            )

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the witness exited with {self.process.returncode}:\n{self.output.read_text()}")
            try:
                # An empty body: refused as malformed, which shows the witness is listening.
                return httpx.post(f"{self.url}/add-checkpoint", content=b"", timeout=1).status_code == 400
            except httpx.TransportError:
                return False

        _wait_for("the witness to listen", answers, timeout=30)

    def stop(self) -> None:
        """Stop the witness as Ctrl-C does; it must exit cleanly."""
        assert self.process is not None
        status = stop(self.process)
        self.process = None
        assert status == 0, self.output.read_text()

    def post(self, body: bytes) -> httpx.Response:
        return httpx.post(f"{self.url}/add-checkpoint", content=body, timeout=10)


@pytest.fixture
def witnesses() -> Iterator[list[WitnessProcess]]:
    """Witness processes a test starts; any still running when it ends is stopped."""
    started: list[WitnessProcess] = []
    yield started
    for witness in started:
        if witness.process is not None:
            witness.stop()


def test_a_restarted_witness_keeps_its_state_and_refuses_a_rollback(
    tmp_path: Path, witnesses: list[WitnessProcess]
) -> None:
    log = SampleLog("log.example/e2e")
    witness = WitnessProcess(tmp_path, [log.verifier_key])
    witnesses.append(witness)
    witness.start()
    signed = log.checkpoint(10)
    first = witness.post(log.body(0, 10, signed=signed))
    assert first.status_code == 200, first.text
    note.open_note(signed + first.content, [witness.verifier])
    assert witness.post(log.body(10, 25)).status_code == 200

    witness.stop()
    witness.start()
    rollback = witness.post(log.body(10, 20))
    assert rollback.status_code == 409
    assert rollback.headers["content-type"] == "text/x.tlog.size" and rollback.content == b"25\n"
    assert witness.post(log.body(25, 20, proof=[])).status_code == 400
    fork = SampleLog(log.origin, salt="fork")
    fork.signer = log.signer
    assert witness.post(fork.body(25, 25)).status_code == 409
    assert witness.post(fork.body(25, 40, proof=log.proof(25, 40))).status_code == 422
    assert witness.post(log.body(25, 30)).status_code == 200
    witness.stop()

    assert json.loads(witness.state_file.read_text()) == {
        log.origin: {"size": 30, "root": base64.b64encode(log.root(30)).decode()}
    }
    assert witness.key_file.stat().st_mode & 0o777 == 0o600
    again = _bidding("witness", "keygen", "--name", "witness.test/w1", "-o", str(witness.key_file))
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr


class WitnessedPlatform:
    """``bidding serve`` on a database of its own, asking one witness to cosign, with a quorum of one."""

    def __init__(self, database_url: str, data_dir: Path, witness_url: str, witness_key: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = data_dir / "server.log"
        self.environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "BIDDING_DATA_DIR": str(data_dir),
            "BIDDING_SECRET_KEY": "e2e-witness-secret-" + "k" * 40,
            "BIDDING_LOG_ORIGIN": "bids.e2e.test/log",
            "BIDDING_WITNESSES": json.dumps([{"url": witness_url, "key": witness_key}]),
            "BIDDING_WITNESS_QUORUM": "1",
        }
        self.server = Server(self.url, database_url, self.environment)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.output.open("a") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bidding", "serve", "--port", str(self.port)],
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_until_live(self.url, self.process, self.output)

    def published(self) -> note.Checkpoint | None:
        """The checkpoint served at /log/checkpoint, or None while there is none."""
        response = httpx.get(f"{self.url}/log/checkpoint", timeout=10)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return note.parse_checkpoint(note.parse_unverified_note(response.content).text)

    def newest_signed_size(self) -> int:
        """The size of the newest checkpoint the log has signed, published or not."""
        size: int = self.server.sql("SELECT coalesce(max(size), -1) FROM log_checkpoints")
        return size

    def register(self, name: str, kind: str = "agency") -> int:
        """Register an organisation (an event of the log) with the command line; its id."""
        made = self.server.bidding("create-organisation", "--kind", kind, "--name", name, "--region", "示范市")
        assert made.returncode == 0, made.stderr
        found = re.search(r"\(id (\d+),", made.stdout)
        assert found, made.stdout
        return int(found.group(1))


@pytest.fixture
def platform_and_witness(
    postgres: PostgresServer, tmp_path: Path, witnesses: list[WitnessProcess]
) -> Iterator[tuple[WitnessedPlatform, WitnessProcess]]:
    """A platform that knows the witness's key and address, and the witness, not started yet: the witness needs
    the log's key, which the platform makes on its first start."""
    # The port and the key are the witness's own, made before either process starts.
    witness_folder = tmp_path / "witness"
    witness = WitnessProcess(witness_folder, [])
    witnesses.append(witness)
    platform = WitnessedPlatform(
        postgres.create_database("bidding_e2e_witness"),
        tmp_path / "platform",
        witness.url,
        witness.verifier_key,
    )
    (tmp_path / "platform").mkdir()
    try:
        yield platform, witness
    finally:
        if platform.process is not None:
            assert stop(platform.process) == 0, platform.output.read_text()


def test_the_platform_publishes_what_the_witness_cosigned_and_a_witness_down_only_delays_it(
    platform_and_witness: tuple[WitnessedPlatform, WitnessProcess], tmp_path: Path
) -> None:
    platform, witness = platform_and_witness
    platform.start()
    log_key = httpx.get(f"{platform.url}/log/key", timeout=10).text.strip()
    assert log_key.startswith("bids.e2e.test/log+")

    # The witness is not running yet: the log is sequenced, but nothing is published, and the platform serves on.
    platform.register("见证前的代理机构")
    _wait_for("the log to be sequenced", lambda: platform.newest_signed_size() > 0)
    assert platform.published() is None
    assert httpx.get(f"{platform.url}/health/live", timeout=10).status_code == 200

    witness.log_keys = [log_key]
    witness.start()
    first = _wait_for("the first cosigned checkpoint", platform.published)
    assert first.size == platform.newest_signed_size()

    # Each new event: a new checkpoint, cosigned from the last one with a consistency proof, then published.
    supervisor_organisation = platform.register("见证测试交易中心", kind="platform")
    made = platform.server.create_user(
        "witness-supervisor", DEMO_PASSWORD, role="supervisor", organisation=str(supervisor_organisation)
    )
    assert made.returncode == 0, made.stderr
    event_id: int = platform.server.sql("SELECT max(id) FROM audit_events")
    second = _wait_for(
        "the new checkpoint to be cosigned",
        lambda: (published := platform.published()) is not None and published.size > first.size and published,
    )
    assert json.loads(witness.state_file.read_text())["bids.e2e.test/log"]["size"] >= second.size

    verified = platform.server.bidding(
        "log", "verify", platform.url, "--key", log_key, "--witness", witness.verifier_key, "--quorum", "1"
    )
    assert verified.returncode == 0, verified.stderr
    assert "cosigned by witness.test/w1" in verified.stdout

    clients = Clients(platform.server)
    try:
        supervisor = clients.api("witness-supervisor")
        response = supervisor.get(f"/api/v1/events/{event_id}/receipt", params={"wait": 10})
        assert response.status_code == 200, response.text
    finally:
        clients.close()
    receipt = tmp_path / "event.tlog-proof"
    receipt.write_bytes(response.content)
    proven = platform.server.bidding(
        "log", "proof", str(receipt), "--key", log_key, "--witness", witness.verifier_key, "--quorum", "1"
    )
    assert proven.returncode == 0, proven.stderr
    assert "1 event(s) proven in the log" in proven.stdout
    stranger = WitnessProcess(tmp_path / "stranger", [], name="witness.test/stranger")
    refused = platform.server.bidding(
        "log", "proof", str(receipt), "--key", log_key, "--witness", stranger.verifier_key, "--quorum", "1"
    )
    assert refused.returncode != 0 and "too few witnesses" in refused.stderr

    # The witness goes down: the log goes on, publication waits, the platform keeps serving.
    settled = _wait_for(
        "every checkpoint so far to be published",
        lambda: (
            (published := platform.published()) is not None
            and published.size == platform.newest_signed_size()
            and published
        ),
    )
    witness.stop()
    platform.register("见证中断时的代理机构")
    down = _wait_for(
        "the log to sign past what was published",
        lambda: (size := platform.newest_signed_size()) > settled.size and size,
    )
    time.sleep(1)
    assert platform.published() == settled
    assert httpx.get(f"{platform.url}/health/live", timeout=10).status_code == 200

    # Back up: the checkpoint it missed is cosigned and published.
    witness.start()
    _wait_for(
        "the checkpoint to be published once the witness is back",
        lambda: (published := platform.published()) is not None and published.size >= down,
    )
    verified = platform.server.bidding(
        "log", "verify", platform.url, "--key", log_key, "--witness", witness.verifier_key, "--quorum", "1"
    )
    assert verified.returncode == 0, verified.stderr
