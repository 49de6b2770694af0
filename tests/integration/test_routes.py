"""Every guarded route refuses the roles it does not name: 403 for the wrong role, 401 for nobody."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from bidding.accounts import service
from bidding.app import create_app
from bidding.db import Database
from bidding.identity import Actor, OrganisationKind, Role
from bidding.settings import Settings
from tests.integration.conftest import PASSWORD, MakeOrganisation, MakeUser

#: The organisation kind each role's test user belongs to.
HOME = {
    Role.ADMIN: OrganisationKind.PLATFORM,
    Role.SUPERVISOR: OrganisationKind.PLATFORM,
    Role.AGENCY_STAFF: OrganisationKind.AGENCY,
    Role.BIDDER: OrganisationKind.BIDDER,
    Role.CUSTODIAN: OrganisationKind.PURCHASER,
    Role.EXPERT: None,
}


def _guarded_routes(app: Litestar) -> list[tuple[str, str, frozenset[Role]]]:
    """(method, path template, roles admitted) for every route whose guard names roles (none: anyone signed in)."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = route.path
        for handler in route.route_handlers:
            for guard in handler.resolve_guards():
                # Litestar wraps each guard; the wrapped function carries the roles.
                roles = getattr(getattr(guard, "func", guard), "roles", None)
                if roles is not None:
                    found.extend((method, path, roles) for method in sorted(handler.http_methods))
    return found


@pytest.fixture
async def app(db: Database, database_url: str) -> Litestar:
    return create_app(Settings(database_url=database_url, secret_key="t" * 64), database=db)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    # In the test's own event loop, which owns the database connection.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


@dataclass(frozen=True)
class Caller:
    token: str
    organisation_id: int | None

    def path(self, template: str) -> str:
        """A concrete path: the caller's own organisation where the route names one, 1 or "x" elsewhere.

        Organisation checks happen in services, after the guard; using the caller's own organisation keeps
        them from answering for the guard.
        """
        path = template.replace("{organisation_id:int}", str(self.organisation_id or 1))
        return re.sub(r"\{\w+:str\}", "x", re.sub(r"\{\w+:int\}", "1", path))


@pytest.fixture
async def callers(db: Database, make_organisation: MakeOrganisation, make_user: MakeUser) -> dict[Role, Caller]:
    """An API token for a user holding each single role, with that user's organisation."""
    organisations = {kind: await make_organisation(kind) for kind in OrganisationKind}
    callers = {}
    for role, kind in HOME.items():
        user = await make_user(f"only.{role.value}", role, organisation=organisations[kind] if kind else None)
        signed = await service.sign_in(
            db, user.login, PASSWORD, client_ip=None, user_agent=None, lifetime=timedelta(hours=1)
        )
        token = (await service.create_api_token(db, Actor(signed.principal), "tests")).secret
        callers[role] = Caller(token, user.organisation_id)
    return callers


async def test_every_guarded_route_refuses_the_roles_it_does_not_admit(
    app: Litestar, client: httpx.AsyncClient, callers: dict[Role, Caller]
) -> None:
    routes = _guarded_routes(app)
    assert len(routes) >= 15, "the route list should find every guarded route"
    checked = 0
    for method, template, admitted in routes:
        for role, caller in callers.items():
            if admitted and role not in admitted:
                path = caller.path(template)
                response = await client.request(method, path, headers={"authorization": f"Bearer {caller.token}"})
                assert response.status_code == 403, (method, path, role, response.text)
                if method != "HEAD":  # a HEAD response has no body, by definition
                    assert response.json()["type"].endswith("/problems/forbidden")
                checked += 1
    assert checked >= 50


async def test_every_guarded_route_admits_the_roles_it_names(
    app: Litestar, client: httpx.AsyncClient, callers: dict[Role, Caller]
) -> None:
    for method, template, admitted in _guarded_routes(app):
        for role in admitted or callers:
            caller = callers[role]
            if "{organisation_id" in template and caller.organisation_id is None:
                continue  # an expert has no organisation of its own to read
            path = caller.path(template)
            response = await client.request(method, path, headers={"authorization": f"Bearer {caller.token}"})
            assert response.status_code not in (401, 403), (method, path, role, response.text)
            assert response.status_code < 500, (method, path, role, response.text)


async def test_every_guarded_route_asks_nobody_to_sign_in(app: Litestar, client: httpx.AsyncClient) -> None:
    for method, template, _ in _guarded_routes(app):
        path = Caller("", None).path(template)
        response = await client.request(method, path, headers={"accept": "application/json"})
        # Unsafe requests without a session fail CSRF first; either way nothing is reached.
        assert response.status_code in ((401,) if method == "GET" else (401, 403)), (method, path)
        if method == "GET":
            assert response.json()["type"].endswith("/problems/not-signed-in")
