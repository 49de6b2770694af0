"""Crash points, for the tests that prove the platform recovers from a crash at any step.

With ``BIDDING_CRASH_AT=<point>@<marker file>`` in its environment, a process kills itself (SIGKILL: no clean-up,
no flush, as a power cut or the kernel's OOM killer would) the first time it reaches ``<point>``, after creating
the marker file, so that the process restarted in its place runs through. Unset, a crash point costs one
comparison. Never set it in production.

The setting is read when the first crash point is reached, not when this module is imported, so that whoever
sets the environment before that (a test in the same process, a command's start-up) is heard.
"""

from __future__ import annotations

import functools
import os
import signal
from pathlib import Path


@functools.cache
def _setting() -> tuple[str, str]:
    """The point and the marker file named in ``BIDDING_CRASH_AT`` (empty strings when it is unset)."""
    point, _, marker = os.environ.get("BIDDING_CRASH_AT", "").partition("@")
    return point, marker


def crash_point(name: str) -> None:
    """Die here if this is the point named in ``BIDDING_CRASH_AT`` and it has not been died at yet."""
    point, marker_path = _setting()
    if name != point or not marker_path:
        return
    marker = Path(marker_path)
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)
