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

    - ``postmaster.pid`` (and the socket's lock file it names) when its PID is not this folder's PostgreSQL: the
      process is gone, is a zombie nobody reaped (common in containers without an init), or the PID was
      reused. PostgreSQL checks only that the PID exists, so it would refuse to start; pgserver would take the
      stranger for a running server.
    - Dead processes in pgserver's list of processes using the server: pgserver stops the server only when the
      list is empty, so a killed process left in it would keep the server running after everyone has left.

    A PostgreSQL left running by a killed run is kept: the next start adopts it.
    """
    lock = pgdata / "postmaster.pid"
    with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
        # postmaster.pid lines: PID, data folder, start time, port, socket folder, ...
        lines = lock.read_text().split("\n")
        pid = int(lines[0])
        if not (_alive(pid) and _is_postgres_of(pid, pgdata)):
            logger.warning("removing %s left by a crash: process %d is not its PostgreSQL", lock, pid)
            lock.unlink(missing_ok=True)
            port, socket_dir = lines[3].strip(), lines[4].strip()
            if port and socket_dir:
                (Path(socket_dir) / f".s.PGSQL.{port}.lock").unlink(missing_ok=True)
    users = pgdata / ".handle_pids.json"
    with contextlib.suppress(FileNotFoundError, ValueError):
        pids = json.loads(users.read_text())
        alive = [pid for pid in pids if _alive(pid)]
        if alive != pids:
            users.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    """Whether a process runs: a zombie has exited, whatever ``kill(pid, 0)`` says."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _is_postgres_of(pid: int, pgdata: Path) -> bool:
    try:
        process = psutil.Process(pid)
        return bool(process.name() == "postgres" and str(pgdata) in " ".join(process.cmdline()))
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
