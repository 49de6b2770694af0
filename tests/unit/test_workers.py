"""The process's pools: started once, stopped and started again, forgotten by a forked child."""

from __future__ import annotations

import os

from bidding import workers


def test_the_pools_are_started_once_and_again_after_a_stop() -> None:
    started = workers.start()
    try:
        assert workers.current() is started and workers.start() is started
        assert started.writers.submit(sum, [1, 2]).result(timeout=5) == 3
    finally:
        workers.stop()
    again = workers.current()
    try:
        assert again is not started
    finally:
        workers.stop()


def test_a_forked_child_forgets_its_parents_pools() -> None:
    parent = workers.start()
    try:
        child = os.fork()
        if child == 0:  # pragma: no cover  # the child reports by its exit status only
            os._exit(0 if workers._CURRENT is None else 1)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert workers.current() is parent
    finally:
        workers.stop()
