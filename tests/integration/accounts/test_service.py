from datetime import timedelta

import asyncpg
import pytest

from bidding.accounts import passwords, repo, service
from bidding.accounts.model import NewOrganisation, NewUser
from bidding.audit import repo as audit_repo
from bidding.audit.model import EventTooLarge, event
from bidding.db import Database
from bidding.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts, WrongCredentials
from bidding.identity import PLATFORM, Actor, OrganisationKind, Role
from tests.integration.conftest import PASSWORD, MakeOrganisation, MakeUser

LIFETIME = timedelta(hours=12)
IDLE = timedelta(hours=2)


async def _count(connection: asyncpg.Connection, table: str) -> int:
    return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608  # fixed table names


async def _sign_in(db: Database, login: str, password: str = PASSWORD, ip: str = "192.0.2.1") -> service.SignedIn:
    return await service.sign_in(db, login, password, client_ip=ip, user_agent="tests", lifetime=LIFETIME)


async def test_registering_an_organisation_records_an_audit_event(db: Database, connection: asyncpg.Connection) -> None:
    created = await service.create_organisation(
        db, PLATFORM, NewOrganisation(OrganisationKind.BIDDER, "华建", "示范市", "9144 0300 7152 6726 xg")
    )
    assert created.credit_code == "9144030071526726XG"
    event = await connection.fetchrow("SELECT * FROM audit_events ORDER BY id DESC LIMIT 1")
    assert (event["action"], event["subject"], event["actor_role"]) == (
        "organisation.created",
        f"organisation:{created.id}",
        "platform",
    )
    assert event["details"]["credit_code"] == "9144030071526726XG"


async def test_a_duplicate_credit_code_is_refused_and_changes_nothing(
    db: Database, connection: asyncpg.Connection, make_organisation: MakeOrganisation
) -> None:
    first = await make_organisation()
    organisations, events = (
        await _count(connection, "organisations"),
        await _count(connection, "audit_events"),
    )
    with pytest.raises(Conflict) as raised:
        await service.create_organisation(
            db, PLATFORM, NewOrganisation(OrganisationKind.BIDDER, "另一家", "示范市", first.credit_code)
        )
    assert set(raised.value.errors) == {"credit_code"}
    assert await _count(connection, "organisations") == organisations
    assert await _count(connection, "audit_events") == events


async def test_only_administrators_register_organisations_and_users(
    db: Database, make_organisation: MakeOrganisation, make_user: MakeUser
) -> None:
    centre = await make_organisation(OrganisationKind.PLATFORM)
    supervisor = await make_user("watcher", Role.SUPERVISOR, organisation=centre)
    signed = await _sign_in(db, supervisor.login)
    actor = Actor(signed.principal)
    with pytest.raises(Forbidden):
        await service.create_organisation(db, actor, NewOrganisation(OrganisationKind.AGENCY, "x", "y"))
    with pytest.raises(Forbidden):
        await service.create_user(db, actor, NewUser("someone", "S", PASSWORD, [Role.EXPERT]))


async def test_a_duplicate_login_is_refused_and_changes_nothing(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    await make_user("expert.one", Role.EXPERT)
    users = await _count(connection, "users")
    with pytest.raises(Conflict) as raised:
        await service.create_user(db, PLATFORM, NewUser("Expert.One", "Other", PASSWORD, [Role.EXPERT]))
    assert set(raised.value.errors) == {"login"}
    assert await _count(connection, "users") == users


async def test_roles_are_checked_against_the_organisation(db: Database, make_organisation: MakeOrganisation) -> None:
    agency = await make_organisation(OrganisationKind.AGENCY)
    with pytest.raises(InvalidInput) as raised:
        await service.create_user(db, PLATFORM, NewUser("bidder.x", "B", PASSWORD, [Role.BIDDER], agency.id))
    assert set(raised.value.errors) == {"roles"}
    with pytest.raises(InvalidInput) as raised:
        await service.create_user(db, PLATFORM, NewUser("bidder.y", "B", PASSWORD, [Role.BIDDER], 999_999))
    assert set(raised.value.errors) == {"organisation_id"}


async def test_a_user_is_created_with_an_argon2_hash_and_an_audit_event(
    db: Database, connection: asyncpg.Connection, make_organisation: MakeOrganisation
) -> None:
    agency = await make_organisation(OrganisationKind.AGENCY)
    user = await service.create_user(
        db, PLATFORM, NewUser("Li.Na", "李娜", PASSWORD, [Role.CUSTODIAN, Role.AGENCY_STAFF], agency.id)
    )
    assert (user.login, user.roles, user.organisation_id) == (
        "li.na",
        (Role.AGENCY_STAFF, Role.CUSTODIAN),
        agency.id,
    )
    stored = await connection.fetchval("SELECT password_hash FROM users WHERE id = $1", user.id)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    event = await connection.fetchrow("SELECT * FROM audit_events WHERE subject = $1", f"user:{user.id}")
    assert event["details"]["roles"] == ["agency_staff", "custodian"]
    assert "password" not in str(dict(event))


async def test_sign_in_opens_a_session_that_authenticates(
    db: Database, make_organisation: MakeOrganisation, make_user: MakeUser
) -> None:
    bidder_org = await make_organisation(OrganisationKind.BIDDER)
    await make_user("bidder.one", Role.BIDDER, organisation=bidder_org)
    signed = await _sign_in(db, " Bidder.One ")
    assert signed.principal.login == "bidder.one"
    assert signed.principal.roles == {Role.BIDDER}
    assert signed.principal.organisation_kind is OrganisationKind.BIDDER
    principal = await service.authenticate_session(db, signed.session_token, IDLE)
    assert principal == signed.principal
    assert await service.authenticate_session(db, signed.session_token + "x", IDLE) is None


async def test_the_session_table_holds_only_token_hashes(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    await make_user("hashed", Role.EXPERT)
    signed = await _sign_in(db, "hashed")
    stored = await connection.fetchval("SELECT token_hash FROM sessions")
    assert bytes(stored) != signed.session_token.encode()
    assert len(stored) == 32


async def test_wrong_passwords_and_unknown_logins_fail_alike_and_are_recorded(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    await make_user("someone", Role.EXPERT)
    for login, password in (("someone", "wrong password!"), ("nobody", PASSWORD)):
        with pytest.raises(WrongCredentials) as raised:
            await _sign_in(db, login, password)
        assert raised.value.detail is not None
        assert raised.value.detail.text == "Wrong login or password."
    rows = await connection.fetch("SELECT login, succeeded FROM sign_in_attempts ORDER BY id")
    assert [(r["login"], r["succeeded"]) for r in rows] == [("someone", False), ("nobody", False)]
    assert await _count(connection, "sessions") == 0


async def test_a_login_is_paused_at_an_address_after_five_failures_there_even_for_the_right_password(
    db: Database, make_user: MakeUser
) -> None:
    await make_user("target", Role.EXPERT)
    for _ in range(5):
        with pytest.raises(WrongCredentials):
            await _sign_in(db, "target", "wrong password!")
    with pytest.raises(TooManyAttempts) as raised:
        await _sign_in(db, "target")
    assert 0 < raised.value.retry_after <= 15 * 60
    assert raised.value.headers == {"Retry-After": str(raised.value.retry_after)}
    # Another address is not locked by someone else's failures on its own account.
    await make_user("neighbour", Role.EXPERT)
    await _sign_in(db, "neighbour")


async def test_a_success_clears_the_failures_before_it(db: Database, make_user: MakeUser) -> None:
    await make_user("forgetful", Role.EXPERT)
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            await _sign_in(db, "forgetful", "wrong password!")
    await _sign_in(db, "forgetful")
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            await _sign_in(db, "forgetful", "wrong password!")
    await _sign_in(db, "forgetful")


async def test_an_address_is_locked_after_thirty_failures_across_logins(db: Database, make_user: MakeUser) -> None:
    await make_user("innocent", Role.EXPERT)
    for number in range(30):
        with pytest.raises(WrongCredentials):
            await _sign_in(db, f"guess{number}", "wrong password!", ip="198.51.100.7")
    with pytest.raises(TooManyAttempts):
        await _sign_in(db, "innocent", ip="198.51.100.7")
    await _sign_in(db, "innocent", ip="198.51.100.8")


async def test_the_owner_signs_in_from_another_address_while_a_guessers_address_is_paused(
    db: Database, make_user: MakeUser
) -> None:
    await make_user("owner", Role.EXPERT)
    for _ in range(5):
        with pytest.raises(WrongCredentials):
            await _sign_in(db, "owner", "a guess at it!", ip="203.0.113.66")
    with pytest.raises(TooManyAttempts):
        await _sign_in(db, "owner", ip="203.0.113.66")
    signed = await _sign_in(db, "owner", ip="192.0.2.10")
    assert signed.principal.login == "owner"
    # The owner's success elsewhere does not lift the guesser's pause.
    with pytest.raises(TooManyAttempts):
        await _sign_in(db, "owner", "another guess!", ip="203.0.113.66")


async def test_guessing_from_many_addresses_backs_off_except_where_the_owner_signed_in_before(
    db: Database, make_user: MakeUser
) -> None:
    await make_user("popular", Role.EXPERT)
    await _sign_in(db, "popular", ip="192.0.2.20")  # the owner's office
    for number in range(10):
        with pytest.raises(WrongCredentials):
            await _sign_in(db, "popular", "a guess at it!", ip=f"198.51.100.{number}")
    with pytest.raises(TooManyAttempts) as raised:
        await _sign_in(db, "popular", ip="198.51.100.200")
    assert 0 < raised.value.retry_after <= 60, "one minute after the tenth failure"
    # The owner at an address they signed in from is not slowed down, nor are other logins from that address.
    await _sign_in(db, "popular", ip="192.0.2.20")
    await make_user("bystander", Role.EXPERT)
    await _sign_in(db, "bystander", ip="198.51.100.200")


async def test_the_back_off_doubles_with_each_further_failure_up_to_fifteen_minutes(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    await make_user("besieged", Role.EXPERT)

    async def failures(count: int) -> None:
        await connection.execute("DELETE FROM sign_in_attempts WHERE login = 'besieged'")
        await connection.execute(
            """INSERT INTO sign_in_attempts (login, client_ip, succeeded, at)
               SELECT 'besieged', ('198.51.100.' || n)::inet, false, now() - n * interval '1 second'
               FROM generate_series(1, $1) AS n""",
            count,
        )

    for count, longest in ((12, 4 * 60), (13, 8 * 60), (40, 15 * 60)):
        await failures(count)
        with pytest.raises(TooManyAttempts) as raised:
            await _sign_in(db, "besieged", ip="203.0.113.1")
        assert longest - 60 < raised.value.retry_after <= longest, count
    # Failures more than a day old no longer count.
    await connection.execute("UPDATE sign_in_attempts SET at = at - interval '25 hours' WHERE login = 'besieged'")
    await _sign_in(db, "besieged", ip="203.0.113.1")


async def test_expired_idle_and_ended_sessions_do_not_authenticate(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    await make_user("sessions", Role.EXPERT)
    expired, idle, ended = [await _sign_in(db, "sessions") for _ in range(3)]
    await connection.execute(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
        expired.principal.credential_hash,
    )
    await connection.execute(
        "UPDATE sessions SET last_seen_at = now() - interval '3 hours' WHERE token_hash = $1",
        idle.principal.credential_hash,
    )
    await service.sign_out(db, Actor(ended.principal))
    for signed in (expired, idle, ended):
        assert await service.authenticate_session(db, signed.session_token, IDLE) is None


async def test_an_active_session_is_kept_alive(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    await make_user("active", Role.EXPERT)
    signed = await _sign_in(db, "active")
    await connection.execute("UPDATE sessions SET last_seen_at = now() - interval '90 minutes'")
    assert await service.authenticate_session(db, signed.session_token, IDLE) is not None
    assert await connection.fetchval("SELECT last_seen_at > now() - interval '1 minute' FROM sessions")


async def test_changing_the_password_ends_every_session_and_opens_a_new_one(db: Database, make_user: MakeUser) -> None:
    await make_user("changer", Role.EXPERT)
    elsewhere = await _sign_in(db, "changer")
    here = await _sign_in(db, "changer")
    actor = Actor(here.principal)
    with pytest.raises(InvalidInput) as raised:
        await service.change_password(db, actor, "not it", "a brand new password", lifetime=LIFETIME, user_agent=None)
    assert set(raised.value.errors) == {"current_password"}
    with pytest.raises(InvalidInput) as raised:
        await service.change_password(db, actor, PASSWORD, "short", lifetime=LIFETIME, user_agent=None)
    assert set(raised.value.errors) == {"new_password"}
    fresh = await service.change_password(
        db, actor, PASSWORD, "a brand new password", lifetime=LIFETIME, user_agent=None
    )
    assert await service.authenticate_session(db, elsewhere.session_token, IDLE) is None
    assert await service.authenticate_session(db, here.session_token, IDLE) is None
    assert await service.authenticate_session(db, fresh.session_token, IDLE) is not None
    with pytest.raises(WrongCredentials):
        await _sign_in(db, "changer")
    await _sign_in(db, "changer", "a brand new password")


async def test_a_hash_with_old_parameters_is_upgraded_at_sign_in(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    from argon2 import PasswordHasher

    user = await make_user("legacy", Role.EXPERT)
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    await connection.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user.id, weak)
    await _sign_in(db, "legacy")
    upgraded = await connection.fetchval("SELECT password_hash FROM users WHERE id = $1", user.id)
    assert upgraded != weak and not passwords.needs_rehash(upgraded)


async def test_api_tokens_authenticate_until_revoked(
    db: Database, connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    await make_user("program", Role.EXPERT)
    await make_user("other", Role.EXPERT)
    actor = Actor((await _sign_in(db, "program")).principal)
    other = Actor((await _sign_in(db, "other")).principal)
    created = await service.create_api_token(db, actor, "  offline tool ")
    assert created.secret.startswith("bid_") and created.token.name == "offline tool"
    assert (
        await connection.fetchval("SELECT count(*) FROM api_tokens WHERE token_hash = $1", created.secret.encode()) == 0
    )
    principal = await service.authenticate_token(db, created.secret)
    assert principal is not None and principal.via == "token" and principal.login == "program"
    with pytest.raises(NotFound):
        await service.revoke_api_token(db, other, created.token.id)
    await service.revoke_api_token(db, actor, created.token.id)
    assert await service.authenticate_token(db, created.secret) is None
    with pytest.raises(NotFound):
        await service.revoke_api_token(db, actor, created.token.id)
    with pytest.raises(InvalidInput):
        await service.create_api_token(db, actor, "   ")


async def test_people_read_only_their_own_organisation(
    db: Database, make_organisation: MakeOrganisation, make_user: MakeUser
) -> None:
    mine, theirs = await make_organisation(), await make_organisation()
    await make_user("reader", Role.BIDDER, organisation=mine)
    actor = Actor((await _sign_in(db, "reader")).principal)
    assert (await service.get_organisation(db, actor, mine.id)).id == mine.id
    assert [u.login for u in await service.list_organisation_members(db, actor, mine.id)] == ["reader"]
    with pytest.raises(Forbidden):
        await service.get_organisation(db, actor, theirs.id)
    with pytest.raises(Forbidden):
        await service.list_organisation_members(db, actor, theirs.id)
    with pytest.raises(Forbidden):  # not NotFound: a bidder cannot probe which numbers exist
        await service.get_organisation(db, actor, 999_999)
    with pytest.raises(NotFound):
        await service.get_organisation(db, PLATFORM, 999_999)


async def test_a_change_whose_audit_event_cannot_be_recorded_is_not_made(
    db: Database, connection: asyncpg.Connection
) -> None:
    before = await _count(connection, "organisations")
    with pytest.raises(EventTooLarge):
        async with db.transaction() as conn:
            created = await repo.insert_organisation(conn, NewOrganisation(OrganisationKind.AGENCY, "大", "示范市"))
            too_large = {"document": "x" * 70_000}  # events carry hashes, never documents
            await audit_repo.insert_event(
                conn, event(PLATFORM, "admin", "organisation.created", f"organisation:{created.id}", too_large)
            )
    assert await _count(connection, "organisations") == before
