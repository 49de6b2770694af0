"""The real PostgreSQL every database test runs on, started once per test session.

With ``DATABASE_URL`` set, its server is used (the tests create and drop their own databases there);
otherwise an embedded PostgreSQL from the pgserver wheel is started in a temporary folder and deleted after.
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
import pytest

from bidding import workers
from bidding.postgres import EmbeddedPostgres
from tests import s3
from tests.s3 import S3Server

T = TypeVar("T")


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

    def url(self, database: str) -> str:
        """The URL of ``database`` on this server (same host, socket and credentials)."""
        parts = urlsplit(self.maintenance_url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def create_database(self, name: str) -> str:
        """Create an empty database ``name``, dropping any left by an earlier run; return its URL."""

        async def create() -> None:
            connection = await asyncpg.connect(self.maintenance_url)
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        run_sync(create)
        return self.url(name)


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
