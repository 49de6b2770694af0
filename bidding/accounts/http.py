"""Pages and API routes of accounts: sign-in, dashboards, the account page, administration."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template

from bidding.accounts import repo, service
from bidding.accounts.guards import requires, session_cookie_name, signed_in
from bidding.accounts.model import KIND_NAMES, ROLE_NAMES, NewOrganisation, NewUser
from bidding.audit import service as audit_service
from bidding.audit.pages import ACTOR_ROLE_NAMES
from bidding.errors import BiddingError, InvalidInput, TooManyAttempts, WrongCredentials
from bidding.i18n import N_
from bidding.identity import OrganisationKind, Principal, Role
from bidding.opening import ceremony
from bidding.settings import LANGUAGES, Settings
from bidding.tenders import pages as tender_pages
from bidding.tenders import service as tenders
from bidding.tenders.model import STATUS_NAMES
from bidding.web import DB, LANGUAGE_COOKIE, actor_of, page, principal_of, safe_next_path, see_other, settings_of

admin_only = requires(Role.ADMIN)


def _session_cookie(settings: Settings, value: str, *, expire: bool = False) -> Cookie:
    """The session cookie: HttpOnly so scripts cannot read it, SameSite=Lax so other sites cannot send it."""
    return Cookie(
        key=session_cookie_name(settings),
        value=value,
        path="/",
        httponly=True,
        secure=settings.https,
        samesite="lax",
        max_age=0 if expire else None,
    )


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


# --- Public pages -------------------------------------------------------------------------------------------


@get("/", include_in_schema=False)
async def index(request: Request[Any, Any, Any]) -> Template:
    return page(request, "index.html")


@get("/sign-in", include_in_schema=False)
async def sign_in_page(request: Request[Any, Any, Any]) -> Any:
    target = safe_next_path(request.query_params.get("next"))
    if principal_of(request) is not None:
        return see_other(target)
    return page(request, "accounts/sign_in.html", next=target, failure=None)


@post("/sign-in", include_in_schema=False)
async def sign_in(request: Request[Any, Any, Any], db: DB) -> Any:
    form = await _form(request)
    settings = settings_of(request)
    target = safe_next_path(form.get("next"))
    actor = actor_of(request)
    try:
        signed = await service.sign_in(
            db,
            form.get("login", ""),
            form.get("password", ""),
            client_ip=actor.client_ip,
            user_agent=request.headers.get("user-agent"),
            lifetime=settings.session_lifetime,
        )
    except (WrongCredentials, TooManyAttempts) as error:
        return page(
            request,
            "accounts/sign_in.html",
            status_code=error.status_code,
            headers=error.headers,
            next=target,
            failure=error.detail,
            form={"login": form.get("login", "")},
        )
    # Someone signing in over an open session (another person at a shared computer) ends that session first.
    if principal_of(request) is not None:
        await service.sign_out(db, actor)
    return see_other(target, cookies=[_session_cookie(settings, signed.session_token)])


@post("/sign-out", include_in_schema=False, guards=[signed_in])
async def sign_out(request: Request[Any, Any, Any], db: DB) -> Redirect:
    await service.sign_out(db, actor_of(request))
    return see_other("/", cookies=[_session_cookie(settings_of(request), "", expire=True)])


@post("/language", include_in_schema=False)
async def choose_language(request: Request[Any, Any, Any], db: DB) -> Redirect:
    """Switch the language: remembered on the account when signed in, in a cookie otherwise."""
    form = await _form(request)
    language = form.get("language", "")
    if language not in LANGUAGES:
        raise InvalidInput(errors={"language": N_("Choose Chinese or English.")})
    principal = principal_of(request)
    if principal is not None:
        await service.set_language(db, actor_of(request), language)
    cookie = Cookie(
        key=LANGUAGE_COOKIE,
        value=language,
        path="/",
        samesite="lax",
        secure=settings_of(request).https,
        max_age=365 * 24 * 3600,
    )
    return see_other(safe_next_path(form.get("next"), default="/"), cookies=[cookie])


# --- Signed-in pages ----------------------------------------------------------------------------------------


@get("/dashboard", include_in_schema=False, guards=[signed_in])
async def dashboard(request: Request[Any, Any, Any], db: DB) -> Template:
    """One page, with a section for each role the person holds."""
    principal = principal_of(request)
    assert principal is not None
    actor = actor_of(request)
    context: dict[str, Any] = {}
    if principal.has(Role.ADMIN):
        organisations = await service.list_organisations(db, actor)
        context["organisation_counts"] = {
            kind: sum(1 for o in organisations if o.kind is kind) for kind in OrganisationKind
        }
        context["role_counts"] = await service.count_users_by_role(db, actor)
    if principal.has(Role.SUPERVISOR):
        context["recent_events"] = await audit_service.recent_events(db, actor, limit=10)
        context["actor_role_names"] = ACTOR_ROLE_NAMES
    if principal.has(Role.CUSTODIAN):
        context["held_shares"] = await ceremony.held_shares(db, actor)
    if principal.organisation_id is not None:
        context["organisation"] = await service.get_organisation(db, actor, principal.organisation_id)
        context["members"] = await service.list_organisation_members(db, actor, principal.organisation_id)
        if principal.has(Role.AGENCY_STAFF):
            context["own_tenders"] = await tenders.list_own(db, actor)
        if principal.has(Role.BIDDER):
            context["registered_tenders"] = await tenders.list_registered(db, actor)
            # Shown once as new: reading them here marks them read.
            context["notifications"] = [
                (notification, tender_pages.notification_text(notification))
                for notification in await tenders.notifications(db, actor, mark_read=True)
            ]
    return page(
        request,
        "accounts/dashboard.html",
        kind_names=KIND_NAMES,
        role_names=ROLE_NAMES,
        status_names=STATUS_NAMES,
        **context,
    )


async def _account_page(request: Request[Any, Any, Any], db: DB, *, status_code: int = 200, **context: Any) -> Template:
    principal = principal_of(request)
    assert principal is not None
    tokens = await service.list_api_tokens(db, principal)
    return page(
        request,
        "accounts/account.html",
        status_code=status_code,
        tokens=tokens,
        role_names=ROLE_NAMES,
        **context,
    )


@get("/account", include_in_schema=False, guards=[signed_in])
async def account(request: Request[Any, Any, Any], db: DB) -> Template:
    return await _account_page(request, db)


@post("/account/password", include_in_schema=False, guards=[signed_in])
async def change_password(request: Request[Any, Any, Any], db: DB) -> Any:
    form = await _form(request)
    if form.get("new_password", "") != form.get("repeat_password", ""):
        return await _account_page(
            request, db, status_code=422, errors={"repeat_password": N_("The two new passwords differ.")}
        )
    settings = settings_of(request)
    try:
        signed = await service.change_password(
            db,
            actor_of(request),
            form.get("current_password", ""),
            form.get("new_password", ""),
            lifetime=settings.session_lifetime,
            user_agent=request.headers.get("user-agent"),
        )
    except InvalidInput as error:
        return await _account_page(request, db, status_code=error.status_code, errors=error.errors)
    return see_other("/account?changed=password", cookies=[_session_cookie(settings, signed.session_token)])


@post("/account/tokens", include_in_schema=False, guards=[signed_in])
async def create_token(request: Request[Any, Any, Any], db: DB) -> Template:
    form = await _form(request)
    try:
        created = await service.create_api_token(db, actor_of(request), form.get("name", ""))
    except InvalidInput as error:
        return await _account_page(request, db, status_code=error.status_code, errors=error.errors)
    # Shown this once, on a page that is not cached (see page()): only its hash is kept.
    return await _account_page(request, db, new_token=created)


@post("/account/tokens/{token_id:int}/revoke", include_in_schema=False, guards=[signed_in])
async def revoke_token(request: Request[Any, Any, Any], db: DB, token_id: FromPath[int]) -> Redirect:
    await service.revoke_api_token(db, actor_of(request), token_id)
    return see_other("/account")


# --- Administration pages -----------------------------------------------------------------------------------


def _organisation_form(form: dict[str, str]) -> NewOrganisation:
    kind = form.get("kind", "")
    if kind not in OrganisationKind.__members__.values():
        raise InvalidInput(errors={"kind": N_("Choose the kind of organisation.")})
    return NewOrganisation(
        kind=OrganisationKind(kind),
        name=form.get("name", ""),
        region=form.get("region", ""),
        credit_code=form.get("credit_code") or None,
        name_en=form.get("name_en") or None,
    )


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
    form = await _form(request)
    try:
        created = await service.create_organisation(db, actor_of(request), _organisation_form(form))
    except BiddingError as error:
        if not error.errors:
            raise
        return await _organisations_page(request, db, status_code=error.status_code, errors=error.errors, form=form)
    return see_other(f"/admin/organisations/{created.id}")


@get("/admin/organisations/{organisation_id:int}", include_in_schema=False, guards=[admin_only])
async def organisation_page(request: Request[Any, Any, Any], db: DB, organisation_id: FromPath[int]) -> Template:
    actor = actor_of(request)
    organisation = await service.get_organisation(db, actor, organisation_id)
    members = await service.list_organisation_members(db, actor, organisation_id)
    return page(
        request,
        "admin/organisation.html",
        organisation=organisation,
        members=members,
        kind_names=KIND_NAMES,
        role_names=ROLE_NAMES,
    )


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
    form_data = await request.form()
    form = {key: str(value) for key, value in form_data.items() if isinstance(value, str)}
    roles = [Role(role) for role in form_data.getall("roles", []) if role in Role.__members__.values()]
    organisation = form.get("organisation_id", "")
    try:
        new_user = NewUser(
            login=form.get("login", ""),
            display_name=form.get("display_name", ""),
            password=form.get("password", ""),
            roles=roles,
            organisation_id=int(organisation) if organisation.isdigit() else None,
            language="en" if form.get("language") == "en" else "zh-CN",
        )
        created = await service.create_user(db, actor_of(request), new_user)
    except BiddingError as error:
        if not error.errors:
            raise
        form.pop("password", None)
        return await _users_page(
            request, db, status_code=error.status_code, errors=error.errors, form=form, chosen_roles=roles
        )
    return see_other(f"/admin/users?created={created.login}")


# --- API ----------------------------------------------------------------------------------------------------


class Me(msgspec.Struct, frozen=True):
    id: int
    login: str
    display_name: str
    language: str
    roles: list[Role]
    organisation_id: int | None
    organisation_name: str | None


@get("/api/v1/me", guards=[signed_in], tags=["accounts"], sync_to_thread=False)
def me(request: Request[Any, Any, Any]) -> Me:
    """Who the API token (or session) belongs to."""
    principal: Principal | None = principal_of(request)
    assert principal is not None
    return Me(
        principal.user_id,
        principal.login,
        principal.display_name,
        principal.language,
        sorted(principal.roles),
        principal.organisation_id,
        principal.organisation_name,
    )


@get("/api/v1/organisations", guards=[requires(Role.ADMIN, Role.SUPERVISOR)], tags=["accounts"])
async def list_organisations(request: Request[Any, Any, Any], db: DB) -> list[repo.Organisation]:
    """Every registered organisation (administrators and supervisors)."""
    return await service.list_organisations(db, actor_of(request))


@post("/api/v1/organisations", guards=[admin_only], tags=["accounts"], status_code=201)
async def create_organisation(request: Request[Any, Any, Any], db: DB, data: JSONBody[NewOrganisation]) -> Any:
    """Register an organisation. Bidders need a valid unified social credit code."""
    created = await service.create_organisation(db, actor_of(request), data)
    return Response(created, status_code=201, headers={"location": f"/api/v1/organisations/{created.id}"})


@get("/api/v1/organisations/{organisation_id:int}", guards=[signed_in], tags=["accounts"])
async def read_organisation(
    request: Request[Any, Any, Any], db: DB, organisation_id: FromPath[int]
) -> repo.Organisation:
    """One organisation: your own, or any for administrators and supervisors."""
    return await service.get_organisation(db, actor_of(request), organisation_id)


@get("/api/v1/organisations/{organisation_id:int}/members", guards=[signed_in], tags=["accounts"])
async def read_members(request: Request[Any, Any, Any], db: DB, organisation_id: FromPath[int]) -> list[repo.User]:
    """The people of one organisation: your own, or any for administrators and supervisors."""
    return await service.list_organisation_members(db, actor_of(request), organisation_id)


@get("/api/v1/users", guards=[admin_only], tags=["accounts"])
async def list_users(request: Request[Any, Any, Any], db: DB) -> list[repo.User]:
    """Every user (administrators)."""
    return await service.list_users(db, actor_of(request))


@get("/api/v1/users/{user_id:int}", guards=[admin_only], tags=["accounts"])
async def read_user(request: Request[Any, Any, Any], db: DB, user_id: FromPath[int]) -> repo.User:
    """One user (administrators)."""
    return await service.get_user(db, actor_of(request), user_id)


@post("/api/v1/users", guards=[admin_only], tags=["accounts"], status_code=201)
async def create_user(request: Request[Any, Any, Any], db: DB, data: JSONBody[NewUser]) -> Any:
    """Create a user with a password, roles and an organisation that suits the roles."""
    created = await service.create_user(db, actor_of(request), data)
    return Response(created, status_code=201, headers={"location": f"/api/v1/users/{created.id}"})


routes = [
    index,
    sign_in_page,
    sign_in,
    sign_out,
    choose_language,
    dashboard,
    account,
    change_password,
    create_token,
    revoke_token,
    organisations_page,
    create_organisation_page,
    organisation_page,
    users_page,
    create_user_page,
    me,
    list_organisations,
    create_organisation,
    read_organisation,
    read_members,
    list_users,
    read_user,
    create_user,
]
