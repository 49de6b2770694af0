"""The real PostgreSQL every database test runs on, started once per test session.

With ``DATABASE_URL`` set, its server is used (the tests create and drop their own databases there);
otherwise an embedded PostgreSQL from the pgserver wheel is started in a temporary folder and deleted after.

Under pytest-xdist every worker is a session of its own: it starts its own embedded PostgreSQL (and S3 server,
and e2e servers), and the databases it creates carry its name (``bidding_e2e_gw1``), so that workers sharing a
``DATABASE_URL`` server never meet.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import hypothesis
import pytest

from bidding import workers
from bidding.postgres import EmbeddedPostgres
from tests import s3
from tests.s3 import S3Server

T = TypeVar("T")

# No time limit per generated example: under coverage, on a machine shared with other test processes, a slow
# example says nothing about the code, and the limit made property tests fail by the load alone.
hypothesis.settings.register_profile("bidding", deadline=None)
hypothesis.settings.load_profile("bidding")


def run_sync(make_coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous test code.

    It runs on a thread of its own, because the synchronous Playwright API keeps an event loop running on the
    test's thread, where ``asyncio.run`` would refuse to start.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


class PostgresServer:
    """A PostgreSQL server the tests may create databases on."""

    def __init__(self, maintenance_url: str) -> None:
        self.maintenance_url = maintenance_url
        #: Appended to every database name: the pytest-xdist worker's name, when there are workers.
        self.suffix = f"_{worker}" if (worker := os.environ.get("PYTEST_XDIST_WORKER")) else ""

    def url(self, database: str) -> str:
        """The URL of ``database`` on this server (same host, socket and credentials)."""
        parts = urlsplit(self.maintenance_url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (with this worker's suffix), dropping any left by an earlier run;
        return its URL."""
        name += self.suffix

        async def create() -> None:
            connection = await asyncpg.connect(self.maintenance_url)
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        run_sync(create)
        return self.url(name)


#: Under pytest-xdist, the slowest kinds of test first: each worker takes a whole file at a time, and the quick
#: files coming last fill in while the other worker finishes its long one.
_SLOWEST_FIRST = ("tests/e2e/", "tests/integration/", "tests/unit/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    root = config.rootpath

    def rank(item: pytest.Item) -> int:
        path = item.path.relative_to(root).as_posix()
        return next((index for index, prefix in enumerate(_SLOWEST_FIRST) if path.startswith(prefix)), 0)

    items.sort(key=rank)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    if url := os.environ.get("DATABASE_URL"):
        yield PostgresServer(url)
        return
    folder = Path(tempfile.mkdtemp(prefix="bidding-tests-"))
    embedded = EmbeddedPostgres(folder / "postgres")
    embedded.start()
    try:
        yield PostgresServer(embedded.maintenance_url)
    finally:
        embedded.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3-compatible object store (SeaweedFS) for the session; each test makes its own bucket."""
    folder = Path(tempfile.mkdtemp(prefix="bidding-s3-"))
    try:
        yield from s3.serve(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def worker_pools() -> Iterator[None]:
    """Use cases run here without the application, which would start and stop the process's pools: they start at
    first use, and are stopped when the session ends, as the application stops them."""
    yield
    workers.stop()
