"""Who is asking (the authentication middleware) and who may reach a route (guards).

A request proves who it is in one of two ways, never both:

- ``Authorization: Bearer bid_…``: an API token, for programs. The session cookie is then ignored, which is
  what lets such requests skip the CSRF check (a forged cross-site request cannot set this header).
- the session cookie set at sign-in, for browsers, with CSRF tokens on every unsafe request.

Guards run before a handler. :func:`requires` refuses a request with 401 when nobody is signed in and 403 when
the person holds none of the roles; organisation checks happen in services, which know the resource.

A session opened with a temporary password (one an administrator set) reaches only what it takes to replace it:
every other page leads to the account page's password form, and the API refuses it (403). Its holder is not yet
known to be the person: the administrator, or whoever saw the password handed over, knows it too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from bidding.accounts import service
from bidding.accounts.model import bearer_token
from bidding.errors import Forbidden, NotSignedIn, PasswordChangeRequired
from bidding.i18n import N_
from bidding.identity import Principal, Role
from bidding.settings import Settings

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


#: Where a session with a temporary password may go: the account page with its password form, signing out or in
#: (someone else, at a shared computer), and the language switch.
PASSWORD_CHANGE_PATHS = frozenset({"/account", "/account/password", "/sign-out", "/sign-in", "/language"})
#: Where the others are sent.
PASSWORD_CHANGE_PAGE = "/account?must=password#password"  # noqa: S105  # a path, not a password


def session_cookie_name(settings: Settings) -> str:
    # __Host-: the browser keeps it only if Secure, host-only and for "/", so no subdomain can set or read it.
    return "__Host-session" if settings.https else "session"


class AuthenticationMiddleware:
    """Sets ``scope["user"]`` to the :class:`Principal` of the request, or ``None`` for someone not signed in.

    An invalid API token is refused at once (401): a program that sends one expects to act as someone, and
    carrying on anonymously would turn its mistake into confusing 403s. An invalid session cookie (ended,
    expired) is treated as no cookie: the person simply has to sign in again.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.cookie_name = session_cookie_name(settings)
        self.idle_timeout = settings.session_idle_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            # Read straight from the raw headers: most requests (assets, health checks, anonymous pages) carry
            # neither credential, and should cost next to nothing here.
            authorization: str | None = None
            cookies: list[str] = []
            for name, value in scope["headers"]:
                if name == b"authorization":
                    authorization = value.decode("latin-1")
                elif name == b"cookie":
                    cookies.append(value.decode("latin-1"))
            principal = (
                await self.authenticate(scope, authorization, "; ".join(cookies))
                if authorization is not None or cookies
                else None
            )
            scope["user"] = principal
            if (
                principal is not None
                and principal.must_change_password
                and principal.via == "session"
                and scope["path"] not in PASSWORD_CHANGE_PATHS
            ):
                if scope["type"] == ScopeType.WEBSOCKET or scope["path"].startswith("/api/"):
                    raise PasswordChangeRequired()
                await _see_other(send, PASSWORD_CHANGE_PAGE)
                return
        await self.app(scope, receive, send)

    async def authenticate(self, scope: Scope, authorization: str | None, cookies: str) -> Principal | None:
        database = scope["litestar_app"].state.database
        if authorization is not None:
            token = bearer_token(authorization)
            principal = await service.authenticate_token(database, token) if token else None
            if principal is None:
                raise NotSignedIn(
                    N_("The API token is missing, malformed or revoked."),
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            return principal
        cookie = cookie_value(cookies, self.cookie_name)
        if not cookie or len(cookie) > 100:
            return None
        return await service.authenticate_session(database, cookie, self.idle_timeout)


async def _see_other(send: Send, location: str) -> None:
    """Answer with a bare redirect (303), before any route is reached."""
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 303,
        "headers": [(b"location", location.encode()), (b"cache-control", b"no-store"), (b"content-length", b"0")],
    }
    body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
    await send(start)
    await send(body)


def cookie_value(header: str, name: str) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header (RFC 6265 §5.4), or ``None``."""
    for pair in header.split(";"):
        key, found, value = pair.strip().partition("=")
        if found and key == name:
            return value.strip().strip('"')
    return None


def requires(*roles: Role) -> Guard:
    """A guard admitting anyone signed in who holds one of ``roles`` (any role at all if none are given).

    The guard carries its roles as ``guard.roles`` so that tests can list every guarded route and check that
    each other role is refused.
    """

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal | None = connection.scope.get("user")
        if principal is None:
            raise NotSignedIn()
        if roles and not principal.has(*roles):
            raise Forbidden()

    guard.roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the route-permission tests
    return guard


#: Admits anyone signed in, whatever their roles.
signed_in = requires()
