"""Integration tests: real migrations on a real PostgreSQL, each test inside a transaction rolled back after.

Services open their own transactions; on the test's connection those become savepoints, so whatever a service
commits is still undone when the test ends.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import pytest

from bidding.accounts import service
from bidding.accounts.model import NewOrganisation, NewUser, credit_code_check_character
from bidding.accounts.repo import Organisation, User
from bidding.db import Database, migrate_database
from bidding.identity import PLATFORM, OrganisationKind, Role
from tests.conftest import PostgresServer, run_sync

PASSWORD = "correct horse battery"


def credit_codes() -> Iterator[str]:
    """Valid unified social credit codes (check characters by GB 32100-2015) for test organisations."""
    for serial in itertools.count(1):
        first17 = f"91320500MA{serial:07d}"
        yield first17 + credit_code_check_character(first17)


@pytest.fixture(scope="session")
def database_url(postgres: PostgresServer) -> str:
    url = postgres.create_database("bidding_integration")
    run_sync(lambda: migrate_database(url))
    return url


@pytest.fixture
async def connection(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


@pytest.fixture
async def db(connection: asyncpg.Connection) -> Database:
    return await Database.bound(connection)


MakeOrganisation = Callable[..., Awaitable[Organisation]]
MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
def make_organisation(db: Database) -> MakeOrganisation:
    codes = credit_codes()

    async def make(kind: OrganisationKind = OrganisationKind.BIDDER, name: str = "测试单位") -> Organisation:
        credit_code = next(codes) if kind is not OrganisationKind.PLATFORM else None
        return await service.create_organisation(db, PLATFORM, NewOrganisation(kind, name, "示范市", credit_code))

    return make


@pytest.fixture
def make_user(db: Database) -> MakeUser:
    async def make(login: str, *roles: Role, organisation: Organisation | None = None) -> User:
        new_user = NewUser(login, login.title(), PASSWORD, list(roles), organisation.id if organisation else None)
        return await service.create_user(db, PLATFORM, new_user)

    return make
