import json
import os
import subprocess
import sys
from pathlib import Path

from bidding.postgres import clear_crashed_run


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_lock_naming_a_live_stranger_is_removed_with_its_socket_lock(tmp_path: Path) -> None:
    # After a crash and a reboot, the PID in postmaster.pid may belong to any process: here, this test.
    (tmp_path / "postmaster.pid").write_text(f"{os.getpid()}\n{tmp_path}\n0\n5432\n{tmp_path}\n\n0 0\nready\n")
    (tmp_path / ".s.PGSQL.5432.lock").write_text(f"{os.getpid()}\n")
    clear_crashed_run(tmp_path)
    assert not (tmp_path / "postmaster.pid").exists()
    assert not (tmp_path / ".s.PGSQL.5432.lock").exists()


def test_dead_processes_leave_the_list_of_users(tmp_path: Path) -> None:
    users = tmp_path / ".handle_pids.json"
    users.write_text(json.dumps([_dead_pid(), os.getpid()]))
    clear_crashed_run(tmp_path)
    assert json.loads(users.read_text()) == [os.getpid()]


def test_a_fresh_folder_is_left_alone(tmp_path: Path) -> None:
    clear_crashed_run(tmp_path)
    assert list(tmp_path.iterdir()) == []
