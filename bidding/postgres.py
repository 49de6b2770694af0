"""The embedded PostgreSQL that serves one machine when ``DATABASE_URL`` is not set.

It runs the PostgreSQL binaries of the ``pgserver`` wheel on a data folder (``DATA_DIR/postgres``), listening
only on a Unix socket inside that folder, and stops when the last process using it exits. Several ``bidding``
commands may share it at once: pgserver counts the processes using a folder and stops the server after the last.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import asyncpg
import psutil

#: The database the platform keeps its data in, inside the embedded server.
DATABASE_NAME = "bidding"

logger = logging.getLogger(__name__)


def _import_pgserver() -> Any:
    # pgserver picks its lock folder when imported; without XDG_RUNTIME_DIR, platformdirs falls back to
    # /tmp/runtime-UID and warns about it. The fallback is fine for a lock file, so the warning is noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver


def clear_crashed_run(pgdata: Path) -> None:
    """Remove what a killed run left behind that would stop the next start or the next clean stop.

    - ``postmaster.pid`` naming a live process that is not this folder's PostgreSQL (its PID was reused after
      a crash): PostgreSQL would refuse to start, and pgserver would take that process for a running server.
    - Dead processes in pgserver's list of processes using the server: pgserver stops the server only when the
      list is empty, so a killed process left in it would keep the server running after everyone has left.

    A PostgreSQL left running by a killed run is kept: the next start adopts it.
    """
    lock = pgdata / "postmaster.pid"
    with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
        pid = int(lock.read_text().split("\n", 1)[0])
        if psutil.pid_exists(pid) and not _is_postgres_of(pid, pgdata):
            logger.warning("removing stale %s naming process %d, which is not its PostgreSQL", lock, pid)
            lock.unlink()
    users = pgdata / ".handle_pids.json"
    with contextlib.suppress(FileNotFoundError, ValueError):
        pids = json.loads(users.read_text())
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            users.write_text(json.dumps(alive))


def _is_postgres_of(pid: int, pgdata: Path) -> bool:
    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and str(pgdata) in " ".join(process.cmdline())
    except psutil.Error:
        return False


class EmbeddedPostgres:
    """A PostgreSQL server in ``pgdata``, started by :meth:`start` and stopped by :meth:`stop`."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or adopt) the server, creating the folder on first use; return the platform database's URL.

        The database itself may not exist yet: :func:`create_database` makes it.
        """
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        clear_crashed_run(self.pgdata)
        self._server = _import_pgserver().get_server(self.pgdata, cleanup_mode="stop")
        return str(self._server.get_uri(DATABASE_NAME))

    @property
    def maintenance_url(self) -> str:
        return str(self._server.get_uri("postgres"))

    def stop(self) -> None:
        """Stop the server unless another process still uses it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


async def create_database(maintenance_url: str, name: str = DATABASE_NAME) -> None:
    """Create database ``name`` unless it exists, through a connection to the server's maintenance database."""
    connection = await asyncpg.connect(maintenance_url)
    try:
        if not await connection.fetchval("SELECT true FROM pg_database WHERE datname = $1", name):
            # A database name cannot be a query parameter; it is quoted as an identifier instead.
            quoted = await connection.fetchval("SELECT quote_ident($1)", name)
            await connection.execute(f"CREATE DATABASE {quoted}")
    finally:
        await connection.close()
