"""Use cases of administrators on existing organisations and people: editing, disabling and enabling, and
password resets. Each opens its own transaction and records its audit events in it.

Two rules hold across all of them. A change that would leave the platform with no active administrator (one who
can sign in) is refused, whoever makes it: every such change takes one advisory lock, so that two administrators
disabling each other at the same moment cannot both succeed. And disabling stops a person at once: their open
sessions are ended, and sessions and tokens are refused from the next request while they (or their organisation)
stay disabled; tokens are not revoked, so that enabling the person again gives them back their programs' access.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from msgspec import UNSET

from bidding.accounts import model, passwords, repo
from bidding.accounts.model import OrganisationChanges, PasswordReset, UserChanges
from bidding.accounts.service import require_admin
from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Connection, Database
from bidding.errors import Conflict, InvalidInput, NotFound
from bidding.i18n import N_, Message
from bidding.identity import Actor, Role

_NO_ADMINISTRATOR_LEFT = N_(
    "This would leave the platform without an active administrator. Make someone else an administrator first."
)
_FIXED_IN_TENDERS = N_(
    "This organisation takes part in tenders: its notices, keys and bids carry its kind and credit code, "
    "which therefore cannot change."
)


async def _record(connection: Connection, actor: Actor, action: str, subject: str, details: dict[str, Any]) -> None:
    await audit_repo.insert_event(connection, event(actor, Role.ADMIN, action, subject, details))


async def _keep_an_administrator(connection: Connection, before: int) -> None:
    """Refuse (Conflict, rolling the transaction back) a change that took the last active administrators away."""
    if before > 0 and await repo.count_active_administrators(connection) == 0:
        raise Conflict(_NO_ADMINISTRATOR_LEFT)


# --- Organisations ------------------------------------------------------------------------------------------


async def update_organisation(
    db: Database, actor: Actor, organisation_id: int, changes: OrganisationChanges
) -> repo.Organisation:
    """Change an organisation's details and disable or enable it, as ``changes`` says.

    Raises Forbidden, NotFound, InvalidInput (every field that is wrong: the rules of registration, a kind that a
    member's roles do not allow, a kind or credit code that its tenders fix) or Conflict (the credit code is
    another's, or no active administrator would be left). Changes nothing unless all of it can be done.
    """
    require_admin(actor)
    subject = f"organisation:{organisation_id}"
    async with db.transaction() as connection:
        await repo.lock_administration(connection)
        current = await repo.lock_organisation(connection, organisation_id)
        if current is None:
            raise NotFound(N_("There is no such organisation."))
        administrators = await repo.count_active_administrators(connection)
        merged = model.changed_organisation(current.as_new(), changes)
        errors: dict[str, Message] = {}
        try:
            wanted = model.validate_new_organisation(merged)
        except InvalidInput as invalid:
            errors |= invalid.errors
            wanted = None
        code = model.normalise_credit_code(merged.credit_code or "") or None
        identity_changes = merged.kind is not current.kind or code != current.credit_code
        if identity_changes and await repo.organisation_takes_part_in_tenders(connection, organisation_id):
            errors.setdefault("kind" if merged.kind is not current.kind else "credit_code", _FIXED_IN_TENDERS)
        if merged.kind is not current.kind and "kind" not in errors:
            members = await repo.select_users(connection, organisation_id=organisation_id)
            if problem := model.kind_change_problem([(m.login, m.roles) for m in members], merged.kind):
                errors["kind"] = problem
        if errors:
            raise InvalidInput(errors=errors)
        assert wanted is not None
        changed = model.differences(_organisation_fields(current.as_new()), _organisation_fields(wanted))
        if changed:
            await repo.update_organisation(connection, organisation_id, wanted)
            await _record(connection, actor, "organisation.updated", subject, {"changed": changed})
        if changes.disabled is not UNSET and changes.disabled != (current.disabled_at is not None):
            await repo.set_organisation_disabled(connection, organisation_id, disabled=changes.disabled)
            if changes.disabled:
                await _keep_an_administrator(connection, administrators)
                ended = await repo.end_organisation_sessions(connection, organisation_id)
                await _record(connection, actor, "organisation.disabled", subject, {"sessions_ended": ended})
            else:
                await _record(connection, actor, "organisation.enabled", subject, {})
        updated = await repo.select_organisation(connection, organisation_id)
    assert updated is not None
    return updated


def _organisation_fields(organisation: model.NewOrganisation) -> dict[str, object]:
    return {
        "kind": str(organisation.kind),
        "name": organisation.name,
        "name_en": organisation.name_en,
        "region": organisation.region,
        "credit_code": organisation.credit_code,
    }


# --- People -------------------------------------------------------------------------------------------------


async def update_user(db: Database, actor: Actor, user_id: int, changes: UserChanges) -> repo.User:
    """Change a person's names, language and roles, and disable or enable them, as ``changes`` says.

    Roles follow the rules of creation (their organisation's kind; no one both administrator and supervisor).
    Raises Forbidden, NotFound, InvalidInput (every field that is wrong) or Conflict (no active administrator
    would be left: an administrator cannot disable or demote the last of them, themselves included).
    """
    require_admin(actor)
    subject = f"user:{user_id}"
    async with db.transaction() as connection:
        await repo.lock_administration(connection)
        current = await repo.lock_user(connection, user_id)
        if current is None:
            raise NotFound(N_("There is no such user."))
        administrators = await repo.count_active_administrators(connection)
        organisation = (
            await repo.select_organisation(connection, current.organisation_id)
            if current.organisation_id is not None
            else None
        )
        profile = model.validate_profile(
            model.changed_profile(current.profile, changes), organisation.kind if organisation else None
        )
        changed = model.differences(dataclasses.asdict(current.profile), dataclasses.asdict(profile))
        if changed:
            await repo.update_profile(connection, user_id, profile)
            await _record(connection, actor, "user.updated", subject, {"changed": changed})
        if changes.disabled is not UNSET and changes.disabled != (current.disabled_at is not None):
            await repo.set_user_disabled(connection, user_id, disabled=changes.disabled)
            if changes.disabled:
                ended = await repo.end_user_sessions(connection, user_id)
                await _record(connection, actor, "user.disabled", subject, {"sessions_ended": ended})
            else:
                await _record(connection, actor, "user.enabled", subject, {})
        await _keep_an_administrator(connection, administrators)
        updated = await repo.select_user(connection, user_id)
    assert updated is not None
    return updated


@dataclasses.dataclass(frozen=True, slots=True)
class ResetPassword:
    user: repo.User
    #: The password the platform made up, to be shown to the administrator this once; ``None`` when they chose it.
    generated: str | None


async def reset_password(db: Database, actor: Actor, user_id: int, reset: PasswordReset) -> ResetPassword:
    """Give a person a temporary password (the administrator's, or one made up) that they must replace when they
    next sign in; their open sessions end. API tokens stay valid, as when people change their own password.

    Raises Forbidden, NotFound, or InvalidInput for a password that breaks the rules.
    """
    require_admin(actor)
    async with db.connection() as connection:
        user = await repo.select_user(connection, user_id)
    if user is None:
        raise NotFound(N_("There is no such user."))
    if reset.password is None:
        password = model.temporary_password()
        # Drawn again in the rare case it holds the login (or only two characters): it must pass the rules.
        while model.password_problem(password, user.login):
            password = model.temporary_password()
    else:
        password = model.normalise_password(reset.password)
        if problem := model.password_problem(password, user.login):
            raise InvalidInput(errors={"password": problem})
    password_hash = await asyncio.to_thread(passwords.hash_password, password)
    async with db.transaction() as connection:
        await repo.update_password_hash(connection, user_id, password_hash, temporary=True)
        ended = await repo.end_user_sessions(connection, user_id)
        details = {"generated": reset.password is None, "sessions_ended": ended}
        await _record(connection, actor, "user.password_reset", f"user:{user_id}", details)
        updated = await repo.select_user(connection, user_id)
    assert updated is not None
    return ResetPassword(updated, password if reset.password is None else None)
