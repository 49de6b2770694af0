"""What every benchmark does around its measurement: arguments, the opening line, a folder, Ctrl-C, the verdicts.

A script gives :func:`main` its arguments and its measurement; :func:`main` parses the command line, prints
what the run is on (cores, Python, the load already on the machine), hands the measurement a temporary folder,
and prints how long the whole run took. Ctrl-C or SIGTERM stops it with status 130 after everything the
measurement started in ``with`` blocks has stopped; the folder is always removed. Missed targets never make a
benchmark fail: each figure prints its ratio to its baseline and :func:`verdict` against its target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn


def verdict(passed: bool) -> str:
    """How a figure compares with its target."""
    return "PASS" if passed else "FAIL"


def ratio(figure: float, baseline: float) -> str:
    """A figure as a share of its baseline, as every benchmark prints it."""
    return f"ratio {figure / baseline:.2f}" if baseline else "ratio n/a"


def interrupt(signum: int, frame: object) -> NoReturn:
    """SIGTERM as Ctrl-C: the ``with`` blocks of the measurement stop what they started."""
    raise KeyboardInterrupt


def load_average() -> str:
    return f"1-minute load average {os.getloadavg()[0]:.2f}"


def main(
    description: str | None,
    arguments: Callable[[argparse.ArgumentParser], None],
    measure: Callable[[argparse.Namespace, Path], object],
    *,
    describe: Callable[[argparse.Namespace], str],
    check: Callable[[argparse.ArgumentParser, argparse.Namespace], None] | None = None,
    stopped: str = "everything it started",
) -> int:
    """Run a benchmark as a command; returns its exit status.

    ``arguments`` adds the script's options; ``check`` refuses bad combinations (``parser.error``); ``describe``
    says what this run measures, for the opening line; ``measure`` runs and prints the figures, in a folder that
    is removed after; ``stopped`` names what Ctrl-C stops, for the line that says so.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments(parser)
    args = parser.parse_args()
    if check is not None:
        check(parser, args)
    signal.signal(signal.SIGTERM, interrupt)
    print(f"{describe(args)}; {os.cpu_count()} cores, Python {sys.version.split()[0]}; {load_average()}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="bidding-bench-"))
    started = time.perf_counter()
    try:
        measure(args, folder)
        elapsed = dt.timedelta(seconds=round(time.perf_counter() - started))
        print(f"\nWhole run {elapsed}; {load_average()} at the end", flush=True)
    except KeyboardInterrupt:
        print(f"\ninterrupted; {stopped} stopped", flush=True)
        return 130
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0
