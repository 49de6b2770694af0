"""The ``bidding`` command: its subcommands, and the embedded PostgreSQL surviving crashes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.conftest import Clients, Server, free_port, stop, wait_until_live


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        ((), ["serve", "migrate", "seed-demo", "create-user", "DATABASE_URL", "BIDDING_SECRET_KEY"]),
        (("serve",), ["--host", "--port", "--workers", "--seed-demo", "--data-dir", "--database-url"]),
        (("migrate",), ["--data-dir", "--database-url"]),
        (("seed-demo",), ["--data-dir", "--database-url"]),
        (("create-user",), ["--login", "--name", "--role", "--organisation", "--password-stdin"]),
        (("create-organisation",), ["--kind", "--name", "--region", "--credit-code", "--name-en"]),
    ],
)
def test_every_command_explains_itself(server: Server, command: tuple[str, ...], flags: list[str]) -> None:
    result = server.bidding(*command, "--help")
    assert result.returncode == 0
    for flag in flags:
        assert flag in result.stdout


def test_create_user_makes_someone_who_can_sign_in(server: Server, clients: Clients) -> None:
    result = server.create_user(
        "e2e.cli.bidder", "a good long password", role="bidder", organisation="91320505MA1MXK7U5E"
    )
    assert result.returncode == 0, result.stderr
    assert "Created user e2e.cli.bidder" in result.stdout
    dashboard = clients.sign_in("e2e.cli.bidder", "a good long password").get("/dashboard")
    assert "华建工程集团有限公司" in dashboard.text


def test_a_fresh_install_registers_its_centre_and_first_administrator(server: Server, clients: Clients) -> None:
    result = server.bidding(
        "create-organisation", "--kind", "platform", "--name", "另一交易中心", "--region", "另一市",
        "--name-en", "Another Trading Centre",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = re.search(r"\(id (\d+), platform\)", result.stdout)
    assert found, result.stdout
    result = server.create_user("e2e.first.admin", "a good long password", role="admin", organisation=found.group(1))
    assert result.returncode == 0, result.stderr
    dashboard = clients.sign_in("e2e.first.admin", "a good long password").get("/dashboard")
    assert "另一交易中心" in dashboard.text and "<h2>系统管理</h2>" in dashboard.text


def test_create_organisation_refuses_a_bad_credit_code(server: Server) -> None:
    before = server.sql("SELECT count(*) FROM organisations")
    result = server.bidding(
        "create-organisation", "--kind", "bidder", "--name", "X", "--region", "Y", "--credit-code", "91350100M000100Y44"
    )
    assert result.returncode == 1
    assert "credit_code: The check character (the last one) should be 3" in result.stderr
    assert server.sql("SELECT count(*) FROM organisations") == before


@pytest.mark.parametrize(
    ("arguments", "stdin", "message"),
    [
        (["--login", "e2e.nobody", "--role", "bidder"], "a good long password", "needs an organisation"),
        (
            ["--login", "e2e.nowhere", "--role", "expert", "--organisation", "999999"],
            "a good long password",
            "no organisation has the id or credit code",
        ),
        (["--login", "admin", "--role", "expert"], "a good long password", "The login admin is taken."),
        (["--login", "e2e.short", "--role", "expert"], "short", "at least 10 characters"),
    ],
)
def test_create_user_refuses_bad_input_and_says_why(
    server: Server, arguments: list[str], stdin: str, message: str
) -> None:
    users = server.sql("SELECT count(*) FROM users")
    result = server.bidding("create-user", "--name", "X", *arguments, "--password-stdin", stdin=stdin + "\n")
    assert result.returncode == 1
    assert message in result.stderr
    assert server.sql("SELECT count(*) FROM users") == users


def test_demo_data_is_seeded_once(server: Server) -> None:
    users = server.sql("SELECT count(*) FROM users")
    result = server.bidding("seed-demo")
    assert result.returncode == 0, result.stderr
    assert "admin" in result.stdout and "demo-password" in result.stdout
    assert server.sql("SELECT count(*) FROM users") == users


def test_migrate_reports_an_up_to_date_schema(server: Server) -> None:
    result = server.bidding("migrate")
    assert result.returncode == 0
    assert "up to date" in result.stdout


def test_an_unusable_setting_stops_the_command_with_its_name(server: Server) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bidding", "migrate"],
        env={**server.environment, "BIDDING_PORT": "eighty"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "BIDDING_PORT must be a whole number" in result.stderr


# --- The embedded PostgreSQL -----------------------------------------------------------------------------------


def _postgres_of(pgdata: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(pgdata) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


class EmbeddedServer:
    """``bidding serve`` with no DATABASE_URL, in its own process group so that a crash can take it all."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = (data_dir / "postgres").resolve()
        self.environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.environment["BIDDING_DATA_DIR"] = str(data_dir)
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> None:
        port = free_port()
        log = self.data_dir.parent / f"serve-{port}.log"
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bidding", "serve", "--port", str(port)],
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}"
        wait_until_live(self.url, self.process, log)

    def healthy(self) -> bool:
        return httpx.get(f"{self.url}/health", timeout=5).json()["status"] == "ok"

    def crash(self) -> None:
        """Kill the server and its workers at once, as a power cut or the OOM killer would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, stop_signal: signal.Signals = signal.SIGINT) -> int:
        assert self.process is not None
        return stop(self.process, stop_signal)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(tmp_path / "data")
    yield server
    if server.process is not None and server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGKILL)
    for process in _postgres_of(server.pgdata):
        process.kill()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_the_embedded_postgres_stops_with_the_server(embedded: EmbeddedServer, stop_signal: signal.Signals) -> None:
    embedded.start()
    assert embedded.healthy()
    assert _postgres_of(embedded.pgdata)
    assert embedded.stop(stop_signal) == 0
    assert _postgres_of(embedded.pgdata) == []


def test_a_crashed_server_does_not_block_the_next_start(embedded: EmbeddedServer) -> None:
    embedded.start()
    embedded.crash()
    # PostgreSQL outlives the crash (pg_ctl detaches it); the next start adopts it...
    assert _postgres_of(embedded.pgdata)
    embedded.start()
    assert embedded.healthy()
    # ...and the next clean stop stops it, though the crashed process never said goodbye.
    assert embedded.stop() == 0
    assert _postgres_of(embedded.pgdata) == []


def test_a_crash_that_took_postgres_too_recovers(embedded: EmbeddedServer) -> None:
    embedded.start()
    for process in _postgres_of(embedded.pgdata):
        process.kill()
    embedded.crash()
    assert (embedded.pgdata / "postmaster.pid").exists()
    embedded.start()
    assert embedded.healthy()
    assert embedded.stop() == 0


def test_a_lock_file_naming_a_reused_pid_does_not_block_the_start(embedded: EmbeddedServer) -> None:
    embedded.start()
    assert embedded.stop() == 0
    # After a crash the PID in postmaster.pid may belong to some unrelated live process: here, this test.
    lock = embedded.pgdata / "postmaster.pid"
    lock.write_text(f"{os.getpid()}\n{embedded.pgdata}\n0\n5432\n{embedded.pgdata}\n\n0 0\nready\n")
    embedded.start()
    assert embedded.healthy()
    assert embedded.stop() == 0
