"""Crash points: a process dies at the point named in BIDDING_CRASH_AT, once, however late the setting was made."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

PROGRAM = """
import os, sys
from bidding.faults import crash_point
os.environ["BIDDING_CRASH_AT"] = "here@" + sys.argv[1]  # after the import: read when first needed
crash_point("elsewhere")
print("passed elsewhere", flush=True)
crash_point("here")
print("passed here", flush=True)
"""


def _run(marker: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROGRAM, str(marker)], capture_output=True, text=True, timeout=60)


def test_a_process_is_killed_at_the_named_point_the_first_time_and_runs_through_after(tmp_path: Path) -> None:
    marker = tmp_path / "crashed"
    first = _run(marker)
    assert first.returncode == -signal.SIGKILL and first.stdout == "passed elsewhere\n" and marker.exists()
    again = _run(marker)
    assert again.returncode == 0 and again.stdout == "passed elsewhere\npassed here\n"
