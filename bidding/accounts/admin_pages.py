"""The administrators' pages: organisations and people registered, edited, disabled and enabled, passwords reset.

A form that cannot be saved comes back with what was typed and each problem next to its field (422), or with
the reason at the top (409: the credit code is another's, no administrator would be left). Nothing else of the
page's data is kept when it fails: the service changes all of it or none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from bidding.accounts import admin, service
from bidding.accounts.guards import requires
from bidding.accounts.model import (
    KIND_NAMES,
    ROLE_NAMES,
    NewOrganisation,
    NewUser,
    OrganisationChanges,
    PasswordReset,
    UserChanges,
)
from bidding.errors import BiddingError, Conflict, InvalidInput
from bidding.i18n import N_
from bidding.identity import OrganisationKind, Role
from bidding.web import DB, PathId, actor_of, page, see_other

admin_only = requires(Role.ADMIN)


async def _form(request: Request[Any, Any, Any]) -> tuple[dict[str, str], list[Role]]:
    """A form's text fields, and the roles ticked in it."""
    form = await request.form()
    fields = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    roles = [Role(role) for role in form.getall("roles", []) if role in Role.__members__.values()]
    return fields, roles


def _shown(error: BiddingError) -> dict[str, Any]:
    """What a page shows of a refusal it comes back with; anything but a form's problem is the error page's."""
    if not error.errors and not isinstance(error, Conflict):
        raise error
    return {"errors": error.errors, "failure": None if error.errors else error.detail}


def _kind(form: Mapping[str, str]) -> OrganisationKind:
    kind = form.get("kind", "")
    if kind not in OrganisationKind.__members__.values():
        raise InvalidInput(errors={"kind": N_("Choose the kind of organisation.")})
    return OrganisationKind(kind)


def _disabled(form: Mapping[str, str]) -> bool:
    """The status form's choice: its buttons send ``disabled=true`` or ``disabled=false``."""
    if form.get("disabled") not in ("true", "false"):
        raise InvalidInput(errors={"disabled": N_("Choose to disable or to enable.")})
    return form["disabled"] == "true"


# --- Organisations ------------------------------------------------------------------------------------------


async def _organisations_page(
    request: Request[Any, Any, Any], db: DB, *, status_code: int = 200, **context: Any
) -> Template:
    organisations = await service.list_organisations(db, actor_of(request))
    return page(
        request,
        "admin/organisations.html",
        status_code=status_code,
        organisations=organisations,
        kind_names=KIND_NAMES,
        **context,
    )


@get("/admin/organisations", include_in_schema=False, guards=[admin_only])
async def organisations_page(request: Request[Any, Any, Any], db: DB) -> Template:
    return await _organisations_page(request, db)


@post("/admin/organisations", include_in_schema=False, guards=[admin_only])
async def create_organisation_page(request: Request[Any, Any, Any], db: DB) -> Any:
    form, _ = await _form(request)
    try:
        new_organisation = NewOrganisation(
            kind=_kind(form),
            name=form.get("name", ""),
            region=form.get("region", ""),
            credit_code=form.get("credit_code") or None,
            name_en=form.get("name_en") or None,
        )
        created = await service.create_organisation(db, actor_of(request), new_organisation)
    except BiddingError as error:
        return await _organisations_page(request, db, status_code=error.status_code, form=form, **_shown(error))
    return see_other(f"/admin/organisations/{created.id}")


async def _organisation_page(
    request: Request[Any, Any, Any], db: DB, organisation_id: int, *, status_code: int = 200, **context: Any
) -> Template:
    actor = actor_of(request)
    organisation = await service.get_organisation(db, actor, organisation_id)
    members = await service.list_organisation_members(db, actor, organisation_id)
    return page(
        request,
        "admin/organisation.html",
        status_code=status_code,
        organisation=organisation,
        members=members,
        kind_names=KIND_NAMES,
        role_names=ROLE_NAMES,
        **context,
    )


@get("/admin/organisations/{organisation_id:int}", include_in_schema=False, guards=[admin_only])
async def organisation_page(request: Request[Any, Any, Any], db: DB, organisation_id: PathId) -> Template:
    return await _organisation_page(request, db, organisation_id)


@post("/admin/organisations/{organisation_id:int}", include_in_schema=False, guards=[admin_only])
async def edit_organisation_page(request: Request[Any, Any, Any], db: DB, organisation_id: PathId) -> Any:
    form, _ = await _form(request)
    try:
        changes = OrganisationChanges(
            name=form.get("name", ""),
            name_en=form.get("name_en") or None,
            region=form.get("region", ""),
            credit_code=form.get("credit_code") or None,
            kind=_kind(form),
        )
        await admin.update_organisation(db, actor_of(request), organisation_id, changes)
    except BiddingError as error:
        shown = _shown(error)
        return await _organisation_page(request, db, organisation_id, status_code=error.status_code, form=form, **shown)
    return see_other(f"/admin/organisations/{organisation_id}?saved=details")


@post("/admin/organisations/{organisation_id:int}/status", include_in_schema=False, guards=[admin_only])
async def organisation_status_page(request: Request[Any, Any, Any], db: DB, organisation_id: PathId) -> Any:
    form, _ = await _form(request)
    try:
        disabled = _disabled(form)
        await admin.update_organisation(db, actor_of(request), organisation_id, OrganisationChanges(disabled=disabled))
    except BiddingError as error:
        return await _organisation_page(request, db, organisation_id, status_code=error.status_code, **_shown(error))
    return see_other(f"/admin/organisations/{organisation_id}?saved={'disabled' if disabled else 'enabled'}")


# --- People -------------------------------------------------------------------------------------------------


async def _users_page(request: Request[Any, Any, Any], db: DB, *, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    users = await service.list_users(db, actor)
    organisations = await service.list_organisations(db, actor)
    return page(
        request,
        "admin/users.html",
        status_code=status_code,
        users=users,
        organisations=organisations,
        roles=list(Role),
        role_names=ROLE_NAMES,
        kind_names=KIND_NAMES,
        **context,
    )


@get("/admin/users", include_in_schema=False, guards=[admin_only])
async def users_page(request: Request[Any, Any, Any], db: DB) -> Template:
    return await _users_page(request, db)


@post("/admin/users", include_in_schema=False, guards=[admin_only])
async def create_user_page(request: Request[Any, Any, Any], db: DB) -> Any:
    form, roles = await _form(request)
    organisation = form.get("organisation_id", "")
    try:
        new_user = NewUser(
            login=form.get("login", ""),
            display_name=form.get("display_name", ""),
            display_name_en=form.get("display_name_en") or None,
            password=form.get("password", ""),
            roles=roles,
            organisation_id=int(organisation) if organisation.isdigit() and len(organisation) < 19 else None,
            language="en" if form.get("language") == "en" else "zh-CN",
        )
        created = await service.create_user(db, actor_of(request), new_user)
    except BiddingError as error:
        form.pop("password", None)
        shown = _shown(error)
        return await _users_page(request, db, status_code=error.status_code, form=form, chosen_roles=roles, **shown)
    return see_other(f"/admin/users?created={created.login}")


async def _user_page(
    request: Request[Any, Any, Any], db: DB, user_id: int, *, status_code: int = 200, **context: Any
) -> Template:
    user = await service.get_user(db, actor_of(request), user_id)
    return page(
        request,
        "admin/user.html",
        status_code=status_code,
        user=user,
        roles=list(Role),
        role_names=ROLE_NAMES,
        **context,
    )


@get("/admin/users/{user_id:int}", include_in_schema=False, guards=[admin_only])
async def user_page(request: Request[Any, Any, Any], db: DB, user_id: PathId) -> Template:
    return await _user_page(request, db, user_id)


@post("/admin/users/{user_id:int}", include_in_schema=False, guards=[admin_only])
async def edit_user_page(request: Request[Any, Any, Any], db: DB, user_id: PathId) -> Any:
    form, roles = await _form(request)
    changes = UserChanges(
        display_name=form.get("display_name", ""),
        display_name_en=form.get("display_name_en") or None,
        language="en" if form.get("language") == "en" else "zh-CN",
        roles=roles,
    )
    try:
        await admin.update_user(db, actor_of(request), user_id, changes)
    except BiddingError as error:
        shown = _shown(error)
        return await _user_page(
            request, db, user_id, status_code=error.status_code, form=form, chosen_roles=roles, **shown
        )
    return see_other(f"/admin/users/{user_id}?saved=details")


@post("/admin/users/{user_id:int}/status", include_in_schema=False, guards=[admin_only])
async def user_status_page(request: Request[Any, Any, Any], db: DB, user_id: PathId) -> Any:
    form, _ = await _form(request)
    try:
        disabled = _disabled(form)
        await admin.update_user(db, actor_of(request), user_id, UserChanges(disabled=disabled))
    except BiddingError as error:
        return await _user_page(request, db, user_id, status_code=error.status_code, **_shown(error))
    return see_other(f"/admin/users/{user_id}?saved={'disabled' if disabled else 'enabled'}")


@post("/admin/users/{user_id:int}/password-reset", include_in_schema=False, guards=[admin_only])
async def reset_password_page(request: Request[Any, Any, Any], db: DB, user_id: PathId) -> Template | Redirect:
    """A temporary password: the one typed, or one made up and shown on the answer this once (not cached)."""
    form, _ = await _form(request)
    try:
        done = await admin.reset_password(db, actor_of(request), user_id, PasswordReset(form.get("password") or None))
    except BiddingError as error:
        return await _user_page(request, db, user_id, status_code=error.status_code, **_shown(error))
    if done.generated is None:
        return see_other(f"/admin/users/{user_id}?saved=password")
    return await _user_page(request, db, user_id, generated_password=done.generated)


routes = [
    organisations_page,
    create_organisation_page,
    organisation_page,
    edit_organisation_page,
    organisation_status_page,
    users_page,
    create_user_page,
    user_page,
    edit_user_page,
    user_status_page,
    reset_password_page,
]
