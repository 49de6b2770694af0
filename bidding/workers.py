"""The process's pools of workers: the processes that open bids and the threads that write uploads.

Started with the application (:func:`start`, from its lifespan) and stopped with it (:func:`stop`), so that a
stopping server waits for no idle worker and leaves none behind. A command or a test that runs a use case without
the application gets them started at first use (:func:`current`) and stops them when it is done.

Each server process has pools of its own: a process forked from one that had started them (``make run`` seeds the
demo, opening its bids and writing its uploads, before the server forks its workers) has none of its parent's
threads or pipes, so it forgets the parent's pools and starts its own when needed.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os

#: Processes opening bids, per server process: one per core, up to 4 (each about 45 MB when idle; started at the
#: first opening and kept).
OPENING_PROCESSES = min(os.cpu_count() or 1, 4)
#: Threads hashing and writing uploads, shared by every upload of the process.
UPLOAD_WRITERS = 8


class Workers:
    """The pools of one process."""

    def __init__(self) -> None:
        #: The processes that open bids: decrypting, reading the ZIP and hashing hold Python's lock much of the
        #: time, so on threads they would use one core and slow the server's event loop. They are started fresh
        #: (``spawn``): this process runs threads, which a forked copy would not have. The executor starts its
        #: processes at its first task, not here.
        self.openers = concurrent.futures.ProcessPoolExecutor(
            max_workers=OPENING_PROCESSES, mp_context=multiprocessing.get_context("spawn")
        )
        #: The threads that hash and write uploads (see :mod:`bidding.blobs`).
        self.writers = concurrent.futures.ThreadPoolExecutor(
            max_workers=UPLOAD_WRITERS, thread_name_prefix="upload-writer"
        )

    def shutdown(self) -> None:
        """Stop both pools without waiting: work still queued is cancelled (an opening resumes at the next start;
        an upload's request has ended with its connection)."""
        self.openers.shutdown(wait=False, cancel_futures=True)
        self.writers.shutdown(wait=False, cancel_futures=True)


_CURRENT: Workers | None = None


def start() -> Workers:
    """Start this process's pools (if they are not running) and return them."""
    global _CURRENT  # one set of pools per process
    if _CURRENT is None:
        _CURRENT = Workers()
    return _CURRENT


def current() -> Workers:
    """This process's pools: those the application started, else started now (a command, a test)."""
    return start()


def stop() -> None:
    """Stop this process's pools, if they were started (they are started again when next needed)."""
    global _CURRENT  # see start
    if _CURRENT is not None:
        _CURRENT.shutdown()
    _CURRENT = None


def _forget() -> None:
    global _CURRENT  # see start
    _CURRENT = None


os.register_at_fork(after_in_child=_forget)
