"""Health checks for load balancers and orchestrators."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec
from litestar import get

from bidding.db import select_status
from bidding.errors import DatabaseUnavailable
from bidding.i18n import N_
from bidding.openapi import documented
from bidding.web import DB


class Liveness(msgspec.Struct, frozen=True):
    status: str


class Readiness(msgspec.Struct, frozen=True):
    status: str
    database_time: datetime
    schema_version: int


@get("/health/live", sync_to_thread=False, tags=["health"])
def live() -> Liveness:
    """The process is up and answering; says nothing of the database."""
    return Liveness("ok")


@get("/health", tags=["health"], opt=documented(DatabaseUnavailable))
async def ready(db: DB) -> Readiness:
    """The process reaches PostgreSQL: its clock and schema version; 503 when it cannot."""
    try:
        async with db.connection() as connection:
            time, version = await select_status(connection)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise DatabaseUnavailable(N_("PostgreSQL did not answer.")) from error
    return Readiness("ok", time, version)


routes = [live, ready]
