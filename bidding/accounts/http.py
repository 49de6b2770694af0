"""Pages and API routes of accounts: sign-in, dashboards, the account page, and the administration API (the
administrators' pages are in :mod:`bidding.accounts.admin_pages`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie, ResponseHeader
from litestar.params import JSONBody
from litestar.response import Redirect, Template

from bidding.accounts import admin, admin_pages, repo, service
from bidding.accounts.guards import PASSWORD_CHANGE_PAGE, requires, session_cookie_name, signed_in
from bidding.accounts.model import (
    KIND_NAMES,
    MAX_PASSWORD_LENGTH,
    MAX_TOKEN_NAME_LENGTH,
    ROLE_NAMES,
    NewOrganisation,
    NewUser,
    OrganisationChanges,
    PasswordReset,
    UserChanges,
)
from bidding.audit import service as audit_service
from bidding.audit.pages import console_names
from bidding.errors import (
    AccountDisabled,
    Conflict,
    Forbidden,
    InvalidInput,
    TooManyAttempts,
    WrongCredentials,
)
from bidding.i18n import N_
from bidding.identity import OrganisationKind, Principal, Role
from bidding.notifications import service as notifications
from bidding.notifications.model import notification_text
from bidding.openapi import documented
from bidding.opening import ceremony
from bidding.settings import LANGUAGES, Settings
from bidding.tenders import reading as tenders_reading
from bidding.tenders.model import STATUS_NAMES
from bidding.web import (
    DB,
    LANGUAGE_COOKIE,
    PathId,
    actor_of,
    page,
    principal_of,
    safe_next_path,
    see_other,
    settings_of,
)

admin_only = requires(Role.ADMIN)
_LOCATION = ResponseHeader(name="Location", description="The address of what was made.", documentation_only=True)


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
    except (WrongCredentials, TooManyAttempts, AccountDisabled) as error:
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
    if signed.principal.must_change_password:
        target = PASSWORD_CHANGE_PAGE
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
        recent = await audit_service.recent_events(db, actor, limit=10)
        context["recent_events"] = recent.items
        context |= console_names(recent.names)
    if principal.has(Role.CUSTODIAN):
        context["held_shares"] = await ceremony.held_shares(db, actor)
    if principal.organisation_id is not None:
        context["organisation"] = await service.get_organisation(db, actor, principal.organisation_id)
        context["members"] = await service.list_organisation_members(db, actor, principal.organisation_id)
        if principal.has(Role.AGENCY_STAFF):
            context["own_tenders"] = await tenders_reading.list_own(db, actor)
        if principal.has(Role.BIDDER):
            context["registered_tenders"] = await tenders_reading.list_registered(db, actor)
            # Shown once as new: reading them here marks them read.
            context["notifications"] = [
                (notification, notification_text(notification))
                for notification in await notifications.inbox(db, actor, mark_read=True)
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
async def revoke_token(request: Request[Any, Any, Any], db: DB, token_id: PathId) -> Redirect:
    await service.revoke_api_token(db, actor_of(request), token_id)
    return see_other("/account")


# --- API ----------------------------------------------------------------------------------------------------


class Me(msgspec.Struct, frozen=True):
    id: int
    login: str
    display_name: str
    language: str
    roles: list[Role]
    organisation_id: int | None
    organisation_name: str | None
    display_name_en: str | None
    organisation_name_en: str | None


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
        principal.display_name_en,
        principal.organisation_name_en,
    )


class TokenRequestIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(max_length=200)]
    password: Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD_LENGTH)]
    #: What the token is for, as the account page lists it.
    name: Annotated[str, msgspec.Meta(max_length=MAX_TOKEN_NAME_LENGTH)] = "API"


class TokenOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewTokenOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    created_at: dt.datetime
    #: The token: send it as ``Authorization: Bearer …``. It is shown this once; only its hash is kept.
    token: str


def _token(token: repo.ApiToken) -> TokenOut:
    return TokenOut(token.id, token.name, token.created_at, token.last_used_at, token.revoked_at)


@post(
    "/api/v1/tokens",
    tags=["accounts"],
    status_code=201,
    # Nothing here rides on a browser's cookies: the login and password are the credential, and the token comes
    # back only to whoever sent them (a page elsewhere cannot read the answer).
    exclude_from_csrf=True,
    response_headers=[
        ResponseHeader(name="Location", description="The token's address, to revoke it.", documentation_only=True)
    ],
    opt=documented(WrongCredentials, TooManyAttempts, InvalidInput),
)
async def issue_token(request: Request[Any, Any, Any], db: DB, data: JSONBody[TokenRequestIn]) -> Response[NewTokenOut]:
    """An API token for a login and password, for programs: the same checks as signing in on the page, and the
    same pause after repeated failures (429 with ``Retry-After``). Each call makes a new token; revoke those you
    no longer use."""
    actor = actor_of(request)
    issued = await service.issue_api_token(
        db,
        data.login,
        data.password,
        data.name,
        client_ip=actor.client_ip,
        user_agent=request.headers.get("user-agent"),
    )
    token = issued.token
    return Response(
        NewTokenOut(token.id, token.name, token.created_at, issued.secret),
        status_code=201,
        headers={"location": f"/api/v1/tokens/{token.id}", "cache-control": "no-store"},
    )


@get("/api/v1/tokens", guards=[signed_in], tags=["accounts"])
async def list_tokens(request: Request[Any, Any, Any], db: DB) -> list[TokenOut]:
    """Your API tokens, revoked ones included (never the tokens themselves)."""
    principal = principal_of(request)
    assert principal is not None
    return [_token(token) for token in await service.list_api_tokens(db, principal)]


@delete("/api/v1/tokens/{token_id:int}", guards=[signed_in], tags=["accounts"], status_code=204)
async def revoke_token_api(request: Request[Any, Any, Any], db: DB, token_id: PathId) -> None:
    """Revoke one of your API tokens; it stops working at once (the one making this request too)."""
    await service.revoke_api_token(db, actor_of(request), token_id)


@get("/api/v1/organisations", guards=[requires(Role.ADMIN, Role.SUPERVISOR)], tags=["accounts"])
async def list_organisations(request: Request[Any, Any, Any], db: DB) -> list[repo.Organisation]:
    """Every registered organisation (administrators and supervisors)."""
    return await service.list_organisations(db, actor_of(request))


@post(
    "/api/v1/organisations",
    guards=[admin_only],
    tags=["accounts"],
    status_code=201,
    response_headers=[_LOCATION],
    opt=documented(Conflict, InvalidInput),
)
async def create_organisation(request: Request[Any, Any, Any], db: DB, data: JSONBody[NewOrganisation]) -> Any:
    """Register an organisation. Bidders need a valid unified social credit code."""
    created = await service.create_organisation(db, actor_of(request), data)
    return Response(created, status_code=201, headers={"location": f"/api/v1/organisations/{created.id}"})


@get("/api/v1/organisations/{organisation_id:int}", guards=[signed_in], tags=["accounts"], opt=documented(Forbidden))
async def read_organisation(request: Request[Any, Any, Any], db: DB, organisation_id: PathId) -> repo.Organisation:
    """One organisation: your own, or any for administrators and supervisors."""
    return await service.get_organisation(db, actor_of(request), organisation_id)


@patch(
    "/api/v1/organisations/{organisation_id:int}",
    guards=[admin_only],
    tags=["accounts"],
    opt=documented(Conflict, InvalidInput),
)
async def update_organisation(
    request: Request[Any, Any, Any], db: DB, organisation_id: PathId, data: JSONBody[OrganisationChanges]
) -> repo.Organisation:
    """Change an organisation's details, or disable or enable it (administrators); fields left out stay as they
    are. Its kind must suit its members' roles; its kind and credit code are fixed once it takes part in tenders.
    Disabling it stops its people's sessions and tokens at once."""
    return await admin.update_organisation(db, actor_of(request), organisation_id, data)


@get(
    "/api/v1/organisations/{organisation_id:int}/members",
    guards=[signed_in],
    tags=["accounts"],
    opt=documented(Forbidden),
)
async def read_members(request: Request[Any, Any, Any], db: DB, organisation_id: PathId) -> list[repo.User]:
    """The people of one organisation: your own, or any for administrators and supervisors."""
    return await service.list_organisation_members(db, actor_of(request), organisation_id)


@get("/api/v1/users", guards=[admin_only], tags=["accounts"])
async def list_users(request: Request[Any, Any, Any], db: DB) -> list[repo.User]:
    """Every user (administrators)."""
    return await service.list_users(db, actor_of(request))


@get("/api/v1/users/{user_id:int}", guards=[admin_only], tags=["accounts"])
async def read_user(request: Request[Any, Any, Any], db: DB, user_id: PathId) -> repo.User:
    """One user (administrators)."""
    return await service.get_user(db, actor_of(request), user_id)


@post(
    "/api/v1/users",
    guards=[admin_only],
    tags=["accounts"],
    status_code=201,
    response_headers=[_LOCATION],
    opt=documented(Conflict, InvalidInput),
)
async def create_user(request: Request[Any, Any, Any], db: DB, data: JSONBody[NewUser]) -> Any:
    """Create a user with a password, roles and an organisation that suits the roles."""
    created = await service.create_user(db, actor_of(request), data)
    return Response(created, status_code=201, headers={"location": f"/api/v1/users/{created.id}"})


@patch("/api/v1/users/{user_id:int}", guards=[admin_only], tags=["accounts"], opt=documented(Conflict, InvalidInput))
async def update_user(
    request: Request[Any, Any, Any], db: DB, user_id: PathId, data: JSONBody[UserChanges]
) -> repo.User:
    """Change a user's names, language and roles (the rules of creation apply), or disable or enable the user
    (administrators); fields left out stay as they are. Disabling stops the user's sessions and tokens at once.
    The last active administrator cannot be disabled or lose the role."""
    return await admin.update_user(db, actor_of(request), user_id, data)


class PasswordResetDone(msgspec.Struct, frozen=True):
    user: repo.User
    #: The password the platform made up, shown this once; ``null`` when the administrator gave one.
    temporary_password: str | None


@post(
    "/api/v1/users/{user_id:int}/password-reset",
    guards=[admin_only],
    tags=["accounts"],
    status_code=200,
    opt=documented(Conflict, InvalidInput),
)
async def reset_password(
    request: Request[Any, Any, Any], db: DB, user_id: PathId, data: JSONBody[PasswordReset]
) -> PasswordResetDone:
    """Give a user a temporary password, to be replaced at the next sign-in (administrators): the one in the body,
    or with ``{}`` one the platform makes up and returns this once. The user's sessions end; tokens stay valid."""
    done = await admin.reset_password(db, actor_of(request), user_id, data)
    return PasswordResetDone(done.user, done.generated)


routes = [
    issue_token,
    list_tokens,
    revoke_token_api,
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
    *admin_pages.routes,
    me,
    list_organisations,
    create_organisation,
    read_organisation,
    update_organisation,
    read_members,
    list_users,
    read_user,
    create_user,
    update_user,
    reset_password,
]
