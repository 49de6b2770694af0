"""Use cases of accounts: each opens its own transaction and records its audit event in it."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import secrets
from datetime import timedelta

from bidding.accounts import model, passwords, repo
from bidding.accounts.model import NewOrganisation, NewUser
from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Connection, Database
from bidding.errors import AccountDisabled, Forbidden, InvalidInput, NotFound, TooManyAttempts, WrongCredentials
from bidding.i18n import N_
from bidding.identity import Actor, Principal, Role
from bidding.inputs import parse_id
from bidding.settings import LANGUAGES


def require_admin(actor: Actor) -> None:
    if not (actor.is_platform or actor.has(Role.ADMIN)):
        raise Forbidden(N_("Only an administrator can do this."))


# --- Organisations and users --------------------------------------------------------------------------------


async def create_organisation(db: Database, actor: Actor, unverified: NewOrganisation) -> repo.Organisation:
    """Register an organisation; raises InvalidInput, Conflict (credit code taken) or Forbidden."""
    require_admin(actor)
    organisation = model.validate_new_organisation(unverified)
    async with db.transaction() as connection:
        created = await repo.insert_organisation(connection, organisation)
        details = {"kind": created.kind, "name": created.name, "credit_code": created.credit_code}
        await audit_repo.insert_event(
            connection,
            event(actor, Role.ADMIN, "organisation.created", f"organisation:{created.id}", details),
        )
    return created


async def create_user(db: Database, actor: Actor, unverified: NewUser) -> repo.User:
    """Create a person with a password and roles; raises InvalidInput, Conflict (login taken) or Forbidden."""
    require_admin(actor)
    async with db.connection() as connection:
        organisation = (
            await repo.select_organisation(connection, unverified.organisation_id)
            if unverified.organisation_id is not None
            else None
        )
    if unverified.organisation_id is not None and organisation is None:
        raise InvalidInput(errors={"organisation_id": N_("There is no such organisation.")})
    user = model.validate_new_user(unverified, organisation.kind if organisation else None)
    password_hash = await asyncio.to_thread(passwords.hash_password, user.password)
    async with db.transaction() as connection:
        user_id = await repo.insert_user(connection, user, password_hash)
        details = {"login": user.login, "roles": list(user.roles), "organisation_id": user.organisation_id}
        if user.display_name_en is not None:
            details["display_name_en"] = user.display_name_en
        await audit_repo.insert_event(connection, event(actor, Role.ADMIN, "user.created", f"user:{user_id}", details))
        created = await repo.select_user(connection, user_id)
    assert created is not None
    return created


async def list_organisations(db: Database, actor: Actor) -> list[repo.Organisation]:
    """Every organisation; for administrators and supervisors."""
    if not (actor.is_platform or actor.has(Role.ADMIN, Role.SUPERVISOR)):
        raise Forbidden()
    async with db.connection() as connection:
        return await repo.select_organisations(connection)


async def list_users(db: Database, actor: Actor) -> list[repo.User]:
    require_admin(actor)
    async with db.connection() as connection:
        return await repo.select_users(connection)


async def get_user(db: Database, actor: Actor, user_id: int) -> repo.User:
    """One person; for administrators, and supervisors, who audit what each person did."""
    if not (actor.is_platform or actor.has(Role.ADMIN, Role.SUPERVISOR)):
        raise Forbidden()
    async with db.connection() as connection:
        user = await repo.select_user(connection, user_id)
    if user is None:
        raise NotFound(N_("There is no such user."))
    return user


async def count_users_by_role(db: Database, actor: Actor) -> dict[Role, int]:
    require_admin(actor)
    async with db.connection() as connection:
        return await repo.count_users_by_role(connection)


async def get_organisation(db: Database, actor: Actor, organisation_id: int) -> repo.Organisation:
    """One organisation, if the actor may see it; raises Forbidden, then NotFound.

    Permission is checked first, so that someone who may not look cannot learn which numbers exist either.
    """
    if not model.may_read_organisation(actor, organisation_id):
        raise Forbidden(N_("You can only see your own organisation."))
    async with db.connection() as connection:
        organisation = await repo.select_organisation(connection, organisation_id)
    if organisation is None:
        raise NotFound(N_("There is no such organisation."))
    return organisation


async def find_organisation(db: Database, reference: str) -> repo.Organisation | None:
    """The organisation with this id or unified social credit code (for the command line)."""
    async with db.connection() as connection:
        # A credit code has 18 characters and may be all digits; an id here is never that long.
        if len(reference) < 18 and (organisation_id := parse_id(reference)) is not None:
            return await repo.select_organisation(connection, organisation_id)
        return await repo.select_organisation_by_credit_code(connection, model.normalise_credit_code(reference))


async def list_organisation_members(db: Database, actor: Actor, organisation_id: int) -> list[repo.User]:
    await get_organisation(db, actor, organisation_id)
    async with db.connection() as connection:
        return await repo.select_users(connection, organisation_id=organisation_id)


async def act_as(db: Database, login: str) -> Actor:
    """An actor for a user without signing in: for the operator's own commands (demo data, scripts), never
    for requests. Raises NotFound for an unknown login."""
    async with db.connection() as connection:
        principal = await repo.select_principal(connection, model.normalise_login(login))
    if principal is None:
        raise NotFound(N_("There is no such user."))
    return Actor(principal)


# --- Sign-in, sessions and passwords ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class SignedIn:
    principal: Principal
    #: The session cookie's value; shown to the browser once and never stored.
    session_token: str


async def sign_in(
    db: Database,
    login: str,
    password: str,
    *,
    client_ip: str | None,
    user_agent: str | None,
    lifetime: timedelta,
) -> SignedIn:
    """Check a login and password and open a session.

    Raises :class:`TooManyAttempts` while the login is paused at this address, the address is paused or the
    login is backing off (see :mod:`bidding.accounts.model`), without checking the password (so that a paused
    login cannot be probed); :class:`WrongCredentials` for any wrong login or password, taking the same time
    whether the login exists or not; and :class:`AccountDisabled` for the right password of a disabled person
    or a member of a disabled organisation (only once the password proved who is asking).
    """
    login = model.normalise_login(login)[:200]
    password = model.normalise_password(password)[: model.MAX_PASSWORD_LENGTH]
    async with db.connection() as connection:
        failures = await repo.select_recent_failures(connection, login, client_ip)
        credentials = await repo.select_credentials(connection, login)
    paused = model.sign_in_paused_until(failures)
    if paused is not None:
        seconds = math.ceil((paused - failures.now).total_seconds())
        raise TooManyAttempts(
            N_("Too many failed sign-ins. Try again in %(minutes)d minutes.", minutes=math.ceil(seconds / 60)),
            retry_after=seconds,
        )
    # The password check runs with no connection held: it takes tens of milliseconds of CPU.
    if credentials is None:
        valid = await asyncio.to_thread(passwords.verify_unknown_user, password)
    else:
        valid = await asyncio.to_thread(passwords.verify_password, credentials.password_hash, password)
    disabled = valid and credentials is not None and credentials.disabled
    signed_in = None
    async with db.transaction() as connection:
        # A disabled account's right password opens nothing, so it counts as a failure like any other.
        await repo.insert_sign_in_attempt(connection, login, client_ip, succeeded=valid and not disabled)
        if valid and not disabled and credentials is not None:
            if passwords.needs_rehash(credentials.password_hash):
                rehashed = await asyncio.to_thread(passwords.hash_password, password)
                await repo.rehash_password(connection, credentials.user_id, rehashed)
            signed_in = await _open_session(connection, credentials.user_id, lifetime, client_ip, user_agent)
            actor = Actor(signed_in.principal, client_ip=client_ip)
            await audit_repo.insert_event(
                connection, event(actor, "self", "user.signed_in", f"user:{credentials.user_id}", {})
            )
    # Raised after the commit, so that the failed attempt is kept for throttling.
    if disabled:
        raise AccountDisabled(N_("This account is disabled. The trading centre can enable it again."))
    if signed_in is None:
        raise WrongCredentials(N_("Wrong login or password."))
    return signed_in


async def _open_session(
    connection: Connection, user_id: int, lifetime: timedelta, client_ip: str | None, user_agent: str | None
) -> SignedIn:
    token = model.encode_credential(secrets.token_bytes(model.CREDENTIAL_BYTES))
    token_hash = model.credential_hash(token)
    await repo.insert_session(connection, token_hash, user_id, lifetime, client_ip, user_agent)
    found = await repo.select_session_principal(connection, token_hash, lifetime)
    assert found is not None, "a session just opened is open"
    return SignedIn(found[0], token)


async def authenticate_session(db: Database, token: str, idle_timeout: timedelta) -> Principal | None:
    """The principal of a session cookie, or ``None`` if the session is unknown, ended, expired or idle."""
    token_hash = model.credential_hash(token)
    async with db.connection() as connection:
        found = await repo.select_session_principal(connection, token_hash, idle_timeout)
        if found is None:
            return None
        principal, stale = found
        if stale:
            await repo.touch_session(connection, token_hash)
    return principal


async def authenticate_token(db: Database, token: str) -> Principal | None:
    """The principal of an API token, or ``None`` if it is unknown or revoked."""
    token_hash = model.credential_hash(token)
    async with db.connection() as connection:
        found = await repo.select_token_principal(connection, token_hash)
        if found is None:
            return None
        principal, stale = found
        if stale:
            await repo.touch_api_token(connection, token_hash)
    return principal


async def sign_out(db: Database, actor: Actor) -> None:
    """End the actor's browser session (an API token is revoked instead, on its own)."""
    principal = actor.principal
    if principal is not None and principal.via == "session":
        async with db.transaction() as connection:
            await repo.end_session(connection, principal.credential_hash)
            await audit_repo.insert_event(
                connection, event(actor, "self", "user.signed_out", f"user:{principal.user_id}", {})
            )


async def change_password(
    db: Database,
    actor: Actor,
    current_password: str,
    new_password: str,
    *,
    lifetime: timedelta,
    user_agent: str | None,
) -> SignedIn:
    """Change the actor's own password, end all their sessions, and open a fresh one for this browser.

    Raises :class:`InvalidInput` if the current password is wrong or the new one breaks the rules (a temporary
    password an administrator set cannot be kept either). API tokens stay valid: they are separate credentials,
    revoked on their own.
    """
    principal = actor.principal
    if principal is None:
        raise Forbidden()
    new_password = model.normalise_password(new_password)
    if problem := model.password_problem(new_password, principal.login):
        raise InvalidInput(errors={"new_password": problem})
    async with db.connection() as connection:
        current_hash = await repo.select_password_hash_by_id(connection, principal.user_id)
    current_ok = current_hash is not None and await asyncio.to_thread(
        passwords.verify_password, current_hash, model.normalise_password(current_password)
    )
    if not current_ok:
        raise InvalidInput(errors={"current_password": N_("This is not your current password.")})
    if principal.must_change_password and model.normalise_password(current_password) == new_password:
        raise InvalidInput(errors={"new_password": N_("Choose a password other than the temporary one.")})
    new_hash = await asyncio.to_thread(passwords.hash_password, new_password)
    async with db.transaction() as connection:
        await repo.update_password_hash(connection, principal.user_id, new_hash)
        ended = await repo.end_user_sessions(connection, principal.user_id)
        await audit_repo.insert_event(
            connection,
            event(actor, "self", "user.password_changed", f"user:{principal.user_id}", {"sessions_ended": ended}),
        )
        return await _open_session(connection, principal.user_id, lifetime, actor.client_ip, user_agent)


async def set_language(db: Database, actor: Actor, language: str) -> None:
    """Remember a person's language; raises InvalidInput for a language the platform does not speak."""
    if language not in LANGUAGES:
        raise InvalidInput(errors={"language": N_("Choose Chinese or English.")})
    principal = actor.principal
    if principal is None:
        raise Forbidden()
    async with db.transaction() as connection:
        await repo.update_language(connection, principal.user_id, language)
        details = {"language": language}
        await audit_repo.insert_event(
            connection, event(actor, "self", "user.language_changed", f"user:{principal.user_id}", details)
        )


# --- API tokens ---------------------------------------------------------------------------------------------


#: How long the session a program signs in with for :func:`issue_api_token` may last; it is ended at once.
TOKEN_SIGN_IN = timedelta(minutes=1)


@dataclasses.dataclass(frozen=True, slots=True)
class NewApiToken:
    token: repo.ApiToken
    #: The token itself, shown once; only its hash is kept.
    secret: str


async def create_api_token(db: Database, actor: Actor, name: str) -> NewApiToken:
    principal = actor.principal
    if principal is None:
        raise Forbidden()
    name = model.validate_token_name(name)
    secret = model.encode_credential(secrets.token_bytes(model.CREDENTIAL_BYTES), prefix=model.API_TOKEN_PREFIX)
    async with db.transaction() as connection:
        token = await repo.insert_api_token(connection, principal.user_id, name, model.credential_hash(secret))
        await audit_repo.insert_event(
            connection, event(actor, "self", "api_token.created", f"api_token:{token.id}", {"name": name})
        )
    return NewApiToken(token, secret)


async def issue_api_token(
    db: Database, login: str, password: str, name: str, *, client_ip: str | None, user_agent: str | None
) -> NewApiToken:
    """An API token for a program that holds a login and password: it signs in as a person does (the same
    pauses after failures, the same audit events), takes a token instead of a session, and the session ends at
    once. Raises what :func:`sign_in` raises, and :class:`InvalidInput` for a token name that is not valid."""
    name = model.validate_token_name(name)
    signed = await sign_in(db, login, password, client_ip=client_ip, user_agent=user_agent, lifetime=TOKEN_SIGN_IN)
    actor = Actor(signed.principal, client_ip=client_ip)
    try:
        return await create_api_token(db, actor, name)
    finally:
        await sign_out(db, actor)


async def revoke_api_token(db: Database, actor: Actor, token_id: int) -> None:
    """Revoke one of the actor's own tokens; raises NotFound for a token that is not theirs or already revoked."""
    principal = actor.principal
    if principal is None:
        raise Forbidden()
    async with db.transaction() as connection:
        if not await repo.revoke_api_token(connection, principal.user_id, token_id):
            raise NotFound(N_("You have no open token with this number."))
        await audit_repo.insert_event(
            connection, event(actor, "self", "api_token.revoked", f"api_token:{token_id}", {})
        )


async def list_api_tokens(db: Database, principal: Principal) -> list[repo.ApiToken]:
    async with db.connection() as connection:
        return await repo.select_api_tokens(connection, principal.user_id)
