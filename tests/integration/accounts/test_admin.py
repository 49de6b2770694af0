"""Administrators edit, disable and enable organisations and people and reset passwords, on a real PostgreSQL:
each change an audit event, every refusal changing nothing, a disabled person stopped at their next request."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from bidding.accounts import admin, repo, service
from bidding.accounts.model import NewOrganisation, NewUser, OrganisationChanges, PasswordReset, UserChanges
from bidding.accounts.repo import User
from bidding.db import Database, migrate_database
from bidding.errors import AccountDisabled, Conflict, Forbidden, InvalidInput, NotFound, WrongCredentials
from bidding.identity import PLATFORM, Actor, OrganisationKind, Role
from bidding.log.model import SEALED_ACTIONS
from bidding.tenders import drafting as tenders_drafting
from tests.conftest import PostgresServer
from tests.integration.conftest import PASSWORD, MakeOrganisation, MakeUser
from tests.integration.tenders.conftest import Cast, cast  # noqa: F401  # the people of a tender, as a fixture

LIFETIME = timedelta(hours=12)
IDLE = timedelta(hours=2)


async def _sign_in(db: Database, login: str, password: str = PASSWORD, ip: str = "192.0.2.1") -> service.SignedIn:
    return await service.sign_in(db, login, password, client_ip=ip, user_agent="tests", lifetime=LIFETIME)


async def _events(connection: asyncpg.Connection, subject: str) -> list[asyncpg.Record]:
    return await connection.fetch(
        "SELECT action, actor_role, details FROM audit_events WHERE subject = $1 ORDER BY id", subject
    )


async def _count(connection: asyncpg.Connection, table: str) -> int:
    return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608  # fixed table names


@pytest.fixture
async def administrator(db: Database, make_organisation: MakeOrganisation, make_user: MakeUser) -> Actor:
    centre = await make_organisation(OrganisationKind.PLATFORM, "交易中心")
    await make_user("chief", Role.ADMIN, organisation=centre)
    return Actor((await _sign_in(db, "chief")).principal)


# --- Organisations ------------------------------------------------------------------------------------------


async def test_an_organisation_is_edited_field_by_field_with_an_audit_event_of_what_changed(
    db: Database, connection: asyncpg.Connection, make_organisation: MakeOrganisation, administrator: Actor
) -> None:
    organisation = await make_organisation(OrganisationKind.AGENCY, "旧名称")
    changes = OrganisationChanges(name=" 新名称 ", name_en="New Name Ltd.", region="示范市滨江区")
    edited = await admin.update_organisation(db, administrator, organisation.id, changes)
    assert (edited.name, edited.name_en, edited.region, edited.kind) == (
        "新名称",
        "New Name Ltd.",
        "示范市滨江区",
        OrganisationKind.AGENCY,
    )
    events = await _events(connection, f"organisation:{organisation.id}")
    assert [e["action"] for e in events] == ["organisation.created", "organisation.updated"]
    assert events[-1]["actor_role"] == "admin"
    assert events[-1]["details"] == {
        "changed": {
            "name": ["旧名称", "新名称"],
            "name_en": [None, "New Name Ltd."],
            "region": ["示范市", "示范市滨江区"],
        }
    }
    # A field left out stays as it is; null clears the English name; no change, no event.
    cleared = await admin.update_organisation(db, administrator, organisation.id, OrganisationChanges(name_en=None))
    assert (cleared.name, cleared.name_en) == ("新名称", None)
    await admin.update_organisation(db, administrator, organisation.id, OrganisationChanges(name="新名称"))
    assert len(await _events(connection, f"organisation:{organisation.id}")) == 3


async def test_a_wrong_credit_code_and_an_empty_name_are_both_named_and_change_nothing(
    db: Database, connection: asyncpg.Connection, make_organisation: MakeOrganisation, administrator: Actor
) -> None:
    organisation = await make_organisation(OrganisationKind.BIDDER, "华建")
    events = await _count(connection, "audit_events")
    with pytest.raises(InvalidInput) as raised:
        await admin.update_organisation(
            db, administrator, organisation.id, OrganisationChanges(name=" ", credit_code="91110000802100433A")
        )
    assert set(raised.value.errors) == {"name", "credit_code"}
    with pytest.raises(InvalidInput) as raised:
        await admin.update_organisation(db, administrator, organisation.id, OrganisationChanges(credit_code=None))
    assert set(raised.value.errors) == {"credit_code"}, "a bidder keeps a credit code"
    assert (await service.get_organisation(db, PLATFORM, organisation.id)).name == "华建"
    assert await _count(connection, "audit_events") == events


async def test_a_credit_code_of_another_organisation_is_a_conflict(
    db: Database, make_organisation: MakeOrganisation, administrator: Actor
) -> None:
    first, second = await make_organisation(), await make_organisation()
    with pytest.raises(Conflict) as raised:
        await admin.update_organisation(
            db, administrator, second.id, OrganisationChanges(credit_code=first.credit_code)
        )
    assert set(raised.value.errors) == {"credit_code"}


async def test_the_kind_changes_only_where_no_members_roles_forbid_it(
    db: Database, make_organisation: MakeOrganisation, make_user: MakeUser, administrator: Actor
) -> None:
    organisation = await make_organisation(OrganisationKind.PURCHASER, "医院")
    await make_user("keeper", Role.CUSTODIAN, organisation=organisation)
    # A custodian may sit in an agency as well as with a purchaser...
    became = await admin.update_organisation(
        db, administrator, organisation.id, OrganisationChanges(kind=OrganisationKind.AGENCY)
    )
    assert became.kind is OrganisationKind.AGENCY
    # ...but never with a bidder.
    with pytest.raises(InvalidInput) as raised:
        await admin.update_organisation(
            db, administrator, organisation.id, OrganisationChanges(kind=OrganisationKind.BIDDER, credit_code=None)
        )
    assert set(raised.value.errors) >= {"kind"}
    assert "keeper" in raised.value.errors["kind"].params["login"]  # type: ignore[operator]  # the params of this error hold a list of logins


async def test_the_kind_and_credit_code_of_an_organisation_in_a_tender_are_fixed(
    db: Database,
    cast: Cast,  # noqa: F811  # the fixture imported above
) -> None:
    await tenders_drafting.create_draft(db, cast.settings, cast.agent, cast.tender())
    with pytest.raises(InvalidInput) as raised:
        await admin.update_organisation(
            db, cast.admin, cast.purchaser_id, OrganisationChanges(kind=OrganisationKind.AGENCY)
        )
    assert set(raised.value.errors) == {"kind"}
    renamed = await admin.update_organisation(db, cast.admin, cast.purchaser_id, OrganisationChanges(name="改名医院"))
    assert renamed.name == "改名医院", "its name may still change"


async def test_a_disabled_organisations_people_are_stopped_at_once_and_let_in_again_when_enabled(
    db: Database,
    connection: asyncpg.Connection,
    make_organisation: MakeOrganisation,
    make_user: MakeUser,
    administrator: Actor,
) -> None:
    company = await make_organisation(OrganisationKind.BIDDER, "启明")
    await make_user("worker", Role.BIDDER, organisation=company)
    signed = await _sign_in(db, "worker")
    token = await service.create_api_token(db, Actor(signed.principal), "tool")
    disabled = await admin.update_organisation(db, administrator, company.id, OrganisationChanges(disabled=True))
    assert disabled.disabled_at is not None
    assert await service.authenticate_session(db, signed.session_token, IDLE) is None
    assert await service.authenticate_token(db, token.secret) is None
    with pytest.raises(AccountDisabled):
        await _sign_in(db, "worker")
    events = await _events(connection, f"organisation:{company.id}")
    assert (events[-1]["action"], events[-1]["details"]) == ("organisation.disabled", {"sessions_ended": 1})
    await admin.update_organisation(db, administrator, company.id, OrganisationChanges(disabled=False))
    assert (await _events(connection, f"organisation:{company.id}"))[-1]["action"] == "organisation.enabled"
    assert await service.authenticate_token(db, token.secret) is not None, "tokens come back with the organisation"
    await _sign_in(db, "worker")


async def test_only_administrators_edit_and_a_missing_organisation_is_not_found(
    db: Database, make_organisation: MakeOrganisation, make_user: MakeUser, administrator: Actor
) -> None:
    organisation = await make_organisation(OrganisationKind.BIDDER)
    await make_user("outsider", Role.BIDDER, organisation=organisation)
    outsider = Actor((await _sign_in(db, "outsider")).principal)
    with pytest.raises(Forbidden):
        await admin.update_organisation(db, outsider, organisation.id, OrganisationChanges(name="我的"))
    with pytest.raises(Forbidden):
        await admin.update_user(db, outsider, 1, UserChanges(disabled=True))
    with pytest.raises(Forbidden):
        await admin.reset_password(db, outsider, 1, PasswordReset())
    with pytest.raises(NotFound):
        await admin.update_organisation(db, administrator, 10**12, OrganisationChanges(name="x"))
    with pytest.raises(NotFound):
        await admin.update_user(db, administrator, 10**12, UserChanges(display_name="x"))
    with pytest.raises(NotFound):
        await admin.reset_password(db, administrator, 10**12, PasswordReset())


# --- People -------------------------------------------------------------------------------------------------


async def test_a_person_is_edited_and_the_sealed_event_records_what_changed(
    db: Database,
    connection: asyncpg.Connection,
    make_organisation: MakeOrganisation,
    make_user: MakeUser,
    administrator: Actor,
) -> None:
    agency = await make_organisation(OrganisationKind.AGENCY)
    person = await make_user("li.na", Role.AGENCY_STAFF, organisation=agency)
    changes = UserChanges(
        display_name="李娜", display_name_en="Li Na", language="en", roles=[Role.AGENCY_STAFF, Role.CUSTODIAN]
    )
    edited = await admin.update_user(db, administrator, person.id, changes)
    assert (edited.display_name, edited.display_name_en, edited.language, edited.roles) == (
        "李娜",
        "Li Na",
        "en",
        (Role.AGENCY_STAFF, Role.CUSTODIAN),
    )
    events = await _events(connection, f"user:{person.id}")
    assert events[-1]["action"] == "user.updated" and "user.updated" in SEALED_ACTIONS
    assert events[-1]["details"]["changed"]["roles"] == [["agency_staff"], ["agency_staff", "custodian"]]
    principal = (await _sign_in(db, "li.na")).principal
    assert (principal.display_name_en, principal.roles) == ("Li Na", frozenset({Role.AGENCY_STAFF, Role.CUSTODIAN}))


async def test_roles_follow_the_rules_of_creation(
    db: Database,
    connection: asyncpg.Connection,
    make_organisation: MakeOrganisation,
    make_user: MakeUser,
    administrator: Actor,
) -> None:
    centre = await make_organisation(OrganisationKind.PLATFORM)
    watcher = await make_user("watcher", Role.SUPERVISOR, organisation=centre)
    events = await _count(connection, "audit_events")
    for roles in ([Role.SUPERVISOR, Role.ADMIN], [Role.BIDDER], []):
        with pytest.raises(InvalidInput) as raised:
            await admin.update_user(db, administrator, watcher.id, UserChanges(roles=roles, display_name=""))
        assert set(raised.value.errors) == {"roles", "display_name"}
    assert await _count(connection, "audit_events") == events
    assert (await service.get_user(db, PLATFORM, watcher.id)).roles == (Role.SUPERVISOR,)


async def test_a_disabled_persons_sessions_and_tokens_stop_at_the_next_request(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser, administrator: Actor
) -> None:
    person = await make_user("leaver", Role.EXPERT)
    signed = await _sign_in(db, "leaver")
    token = await service.create_api_token(db, Actor(signed.principal), "tool")
    disabled = await admin.update_user(db, administrator, person.id, UserChanges(disabled=True))
    assert not disabled.active
    assert await service.authenticate_session(db, signed.session_token, IDLE) is None
    assert await service.authenticate_token(db, token.secret) is None
    with pytest.raises(AccountDisabled):
        await _sign_in(db, "leaver")
    with pytest.raises(WrongCredentials):  # a wrong password says nothing of the account
        await _sign_in(db, "leaver", "not the password")
    events = await _events(connection, f"user:{person.id}")
    assert (events[-1]["action"], events[-1]["details"]) == ("user.disabled", {"sessions_ended": 1})
    await admin.update_user(db, administrator, person.id, UserChanges(disabled=False))
    assert (await _events(connection, f"user:{person.id}"))[-1]["action"] == "user.enabled"
    assert await service.authenticate_token(db, token.secret) is not None
    assert await service.authenticate_session(db, signed.session_token, IDLE) is None, "ended sessions stay ended"


async def test_the_last_active_administrator_cannot_be_disabled_or_demoted(
    db: Database,
    connection: asyncpg.Connection,
    make_organisation: MakeOrganisation,
    make_user: MakeUser,
    administrator: Actor,
) -> None:
    assert administrator.principal is not None
    me = administrator.principal.user_id
    centre = administrator.principal.organisation_id
    assert centre is not None
    events = await _count(connection, "audit_events")
    for changes in (UserChanges(disabled=True), UserChanges(roles=[Role.CUSTODIAN])):
        with pytest.raises(Conflict):
            await admin.update_user(db, administrator, me, changes)
    with pytest.raises(Conflict):
        await admin.update_organisation(db, administrator, centre, OrganisationChanges(disabled=True))
    assert await _count(connection, "audit_events") == events
    assert (await service.get_user(db, PLATFORM, me)).active
    # With another administrator, the first may step down.
    other_centre = await make_organisation(OrganisationKind.PLATFORM, "分中心")
    await make_user("deputy", Role.ADMIN, organisation=other_centre)
    stepped_down = await admin.update_user(db, administrator, me, UserChanges(roles=[Role.SUPERVISOR]))
    assert stepped_down.roles == (Role.SUPERVISOR,)


async def test_two_last_administrators_disabling_each_other_at_once_leave_one(postgres: PostgresServer) -> None:
    """The administration lock orders the two changes: the second sees one administrator left and is refused."""
    # A database of its own: the race needs two transactions that really run side by side.
    url = await asyncio.to_thread(postgres.create_database, "bidding_administrators_race")
    await migrate_database(url)
    db = await Database.connect(url, max_size=4)
    try:
        centre = await service.create_organisation(
            db, PLATFORM, NewOrganisation(OrganisationKind.PLATFORM, "交易中心", "示范市")
        )
        first, second = [
            await service.create_user(db, PLATFORM, NewUser(login, login, PASSWORD, [Role.ADMIN], centre.id))
            for login in ("first.admin", "second.admin")
        ]
        async with db.connection() as connection:
            actors = [Actor(await repo.select_principal(connection, user.login)) for user in (first, second)]
        # Both changes are held at the lock until both wait there, then let go together.
        async with db.transaction() as blocker:
            await repo.lock_administration(blocker)
            changes = [
                asyncio.create_task(admin.update_user(db, actor, other.id, UserChanges(disabled=True)))
                for actor, other in zip(actors, (second, first), strict=True)
            ]
            waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            async with asyncio.timeout(10):
                while await blocker.fetchval(waiting) < 2:
                    await asyncio.sleep(0.02)
        outcomes = await asyncio.gather(*changes, return_exceptions=True)
        assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "User"]
        async with db.connection() as connection:
            assert await repo.count_active_administrators(connection) == 1
            disabled = await connection.fetchval("SELECT count(*) FROM audit_events WHERE action = 'user.disabled'")
        assert disabled == 1, "the refused change left no event"
    finally:
        await db.close()


async def test_a_reset_password_is_temporary_ends_sessions_and_keeps_tokens(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser, administrator: Actor
) -> None:
    person = await make_user("forgetful", Role.EXPERT)
    signed = await _sign_in(db, "forgetful")
    token = await service.create_api_token(db, Actor(signed.principal), "tool")
    with pytest.raises(InvalidInput) as raised:
        await admin.reset_password(db, administrator, person.id, PasswordReset("short"))
    assert set(raised.value.errors) == {"password"}
    done = await admin.reset_password(db, administrator, person.id, PasswordReset("a temporary secret"))
    assert done.generated is None and done.user.must_change_password
    assert await service.authenticate_session(db, signed.session_token, IDLE) is None
    assert await service.authenticate_token(db, token.secret) is not None
    with pytest.raises(WrongCredentials):
        await _sign_in(db, "forgetful")
    fresh = await _sign_in(db, "forgetful", "a temporary secret")
    assert fresh.principal.must_change_password
    actor = Actor(fresh.principal)
    with pytest.raises(InvalidInput) as raised:
        await service.change_password(
            db, actor, "a temporary secret", "a temporary secret", lifetime=LIFETIME, user_agent=None
        )
    assert set(raised.value.errors) == {"new_password"}
    changed = await service.change_password(
        db, actor, "a temporary secret", "my very own password", lifetime=LIFETIME, user_agent=None
    )
    assert not changed.principal.must_change_password
    events = await _events(connection, f"user:{person.id}")
    reset = next(e for e in events if e["action"] == "user.password_reset")
    assert reset["details"] == {"generated": False, "sessions_ended": 1} and "user.password_reset" in SEALED_ACTIONS
    assert "a temporary secret" not in str([dict(e) for e in events])


async def test_a_generated_password_is_returned_once_and_signs_in(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser, administrator: Actor
) -> None:
    person: User = await make_user("newcomer", Role.EXPERT)
    done = await admin.reset_password(db, administrator, person.id, PasswordReset())
    assert done.generated is not None and len(done.generated) == 19
    signed = await _sign_in(db, "newcomer", done.generated)
    assert signed.principal.must_change_password
    stored = await connection.fetchval("SELECT password_hash FROM users WHERE id = $1", person.id)
    assert done.generated not in stored and stored.startswith("$argon2id$")
