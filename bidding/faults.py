"""Crash points, for the tests that prove the platform recovers from a crash at any step.

With ``BIDDING_CRASH_AT=<point>@<marker file>`` in its environment, a process kills itself (SIGKILL: no clean-up,
no flush, as a power cut or the kernel's OOM killer would) the first time it reaches ``<point>``, after creating
the marker file, so that the process restarted in its place runs through. Unset, a crash point costs one
comparison. Never set it in production.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

_SETTING = os.environ.get("BIDDING_CRASH_AT", "")
_POINT, _, _MARKER = _SETTING.partition("@")


def crash_point(name: str) -> None:
    """Die here if this is the point named in ``BIDDING_CRASH_AT`` and it has not been died at yet."""
    if name != _POINT or not _MARKER:
        return
    marker = Path(_MARKER)
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)
