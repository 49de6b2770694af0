"""Wiring: the Litestar application, its middleware, and the one place errors become responses."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Litestar, Request, Response, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from bidding import dashboard, health, workers
from bidding.accounts import http as accounts_http
from bidding.accounts import passwords
from bidding.accounts.guards import AuthenticationMiddleware
from bidding.bids import http as bids_http
from bidding.bids import pages as bids_pages
from bidding.blobs import blob_store
from bidding.bulletin import Bulletin, PollingBulletin
from bidding.db import Database
from bidding.errors import PROBLEM_TYPES, BiddingError
from bidding.experts import http as experts_http
from bidding.experts import pages as experts_pages
from bidding.experts import service as experts_service
from bidding.i18n import N_, Message, load_translators
from bidding.inputs import field_error
from bidding.keys import http as keys_http
from bidding.keys import pages as keys_pages
from bidding.log import http as log_http
from bidding.log import repo as log_repo
from bidding.log import sequencer
from bidding.log.tree import load_log_key
from bidding.notifications import http as notifications_http
from bidding.openapi import CompletedJsonRenderPlugin
from bidding.opendata import http as opendata_http
from bidding.opendata import pages as opendata_pages
from bidding.opening import custody_pages
from bidding.opening import http as opening_http
from bidding.opening import pages as opening_pages
from bidding.opening import reading as opening_reading
from bidding.opening import ws as opening_ws
from bidding.rooms import repo as rooms_repo
from bidding.settings import Settings
from bidding.supervision import pages as supervision_pages
from bidding.tenders import http as tenders_http
from bidding.tenders import pages as tenders_pages
from bidding.web import (
    BiddingRequest,
    close_after_unread_body,
    csrf_middleware,
    make_security_headers_hook,
    page,
    refuse_nul_in_url,
    request_id,
    see_other,
    template_engine,
    translator_of,
    watch_body,
)

logger = logging.getLogger(__name__)

#: How often a waiter looks again when the application has no listening bulletin (a test's single connection).
POLL_INTERVAL = 0.05
#: Seconds a stopping process gives the sequencer to finish its batch (it is one transaction: cut short, it is
#: simply rolled back and done again by the next holder of the lock).
SEQUENCER_STOP_TIMEOUT = 5.0
#: How often the experts' clock looks for draws and invitations past their time, and for messages to send.
EXPERTS_SWEEP_INTERVAL = 5.0

#: The API document's introduction, for the author of a client.
API_DESCRIPTION = """The API of bidders, agencies and custodians, and the public open data and transparency log.

Programs authenticate with an API token (`Authorization: Bearer bid_…`): make one on the account page, or with
`POST /api/v1/tokens` from a login and password. JSON everywhere, amounts as decimal strings, times in RFC 3339.
Errors are RFC 9457 problem details (`application/problem+json`), in the language of `Accept-Language`.
Envelopes are uploaded with tus 1.0 (core, creation, termination, checksum) and then submitted with their signed
statement; the README says how to seal them."""

#: Titles for errors raised by the framework rather than by our code, by status.
_HTTP_TITLES: dict[int, Message] = {
    400: N_("The request is not valid"),
    403: N_("You are not allowed to do this"),
    404: N_("This page does not exist"),
    405: N_("This address does not accept this kind of request"),
    413: N_("The request is too large"),
    429: N_("Too many requests"),
    500: N_("Something went wrong on our side"),
    503: N_("The service is unavailable for a moment"),
}


def _frontend() -> Path:
    return Path(str(resources.files("frontend")))


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    """People get pages, programs get problem JSON (RFC 9457): by path, then by what the client accepts."""
    if request.url.path.startswith(("/api/", "/health")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _problem(
    request: Request[Any, Any, Any],
    *,
    status_code: int,
    code: str | None,
    title: Message,
    detail: Message | None,
    errors: dict[str, Message],
    headers: dict[str, str],
) -> Response[Any]:
    translator = translator_of(request)
    if _wants_page(request):
        if status_code == 401 and request.method == "GET":
            return see_other("/sign-in?" + urlencode({"next": request.url.path}))
        return page(
            request,
            "error.html",
            status_code=status_code,
            headers=headers,
            title=title,
            detail=detail,
            errors=errors,
        )
    settings: Settings = request.app.state.settings
    body: dict[str, Any] = {
        # Our own problem types are documented at their URI; the framework's are plain HTTP statuses.
        "type": f"{settings.base_url}/problems/{code}" if code else "about:blank",
        "title": translator.render(title),
        "status": status_code,
    }
    if detail is not None:
        body["detail"] = translator.render(detail)
    if errors:
        body["errors"] = [
            {**_error_location(request, field), "detail": translator.render(message)}
            for field, message in errors.items()
        ]
    body["request_id"] = request_id(request.scope)
    return Response(body, status_code=status_code, media_type="application/problem+json", headers=headers)


#: A field named as a request header names it (``Upload-Length``, ``Repr-Digest``): capitalised words and hyphens.
_HEADER_NAME = re.compile(r"[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+")


def _error_location(request: Request[Any, Any, Any], field: str) -> dict[str, str]:
    """Where in the request a field error is, as the problem's ``errors`` entries say it.

    RFC 9457 §3's example form for the body: ``pointer``, a JSON Pointer (RFC 6901) in its URI fragment form into
    the request body. The platform's field names are dotted paths (``lots.0.bid_security``, as the pages' form
    fields are named), which become ``#/lots/0/bid_security``. A query or path parameter is named by
    ``parameter``, a request header by ``header``, since no pointer into the body reaches them.
    """
    if field in request.query_params or field in request.path_params:
        return {"parameter": field}
    if _HEADER_NAME.fullmatch(field):
        return {"header": field}
    pointer = (
        "".join("/" + segment.replace("~", "~0").replace("/", "~1") for segment in field.split(".")) if field else ""
    )
    return {"pointer": "#" + quote(pointer, safe="/~!$&'()*+,;=:@")}


def handle_bidding_error(request: Request[Any, Any, Any], error: BiddingError) -> Response[Any]:
    return _problem(
        request,
        status_code=error.status_code,
        code=error.code,
        title=error.title,
        detail=error.detail,
        errors=error.errors,
        headers=error.headers,
    )


def handle_http_exception(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status_code = error.status_code
    detail: Message | None = None
    errors: dict[str, Message] = {}
    if isinstance(error, RequestEntityTooLarge):
        # The limit of the route asked for (uploads set their own), else the platform's.
        settings: Settings = request.app.state.settings
        route = request.scope.get("route_handler")
        limit = route.resolve_request_max_body_size() if isinstance(route, HTTPRouteHandler) else None
        detail = N_("Requests here may carry at most %(size)d bytes.", size=limit or settings.max_body_size)
    elif isinstance(error, ValidationException) and isinstance(error.extra, list):
        # Litestar's check of parameters and bodies against the handler's types; msgspec wrote the messages.
        for item in error.extra:
            if isinstance(item, dict) and "message" in item:
                field, reason = field_error(str(item.get("key", "")), str(item["message"]))
                errors[field] = reason
        if not errors:
            detail = N_("The body could not be read: %(reason)s", reason=error.detail)
    elif isinstance(error, PermissionDeniedException):
        detail = N_("You are not allowed to do this.")
    headers = dict(error.headers or {})
    title = _HTTP_TITLES.get(status_code, _HTTP_TITLES[400 if status_code < 500 else 500])
    return _problem(
        request,
        status_code=status_code,
        code=None,
        title=title,
        detail=detail,
        errors=errors,
        headers=headers,
    )


def handle_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    logger.exception("request %s failed: %s %s", request_id(request.scope), request.method, request.url.path)
    return _problem(
        request,
        status_code=500,
        code=None,
        title=_HTTP_TITLES[500],
        detail=N_(
            "The error was recorded. If it persists, quote the request number %(id)s.",
            id=request_id(request.scope),
        ),
        errors={},
        headers={},
    )


@get("/problems/{code:str}", include_in_schema=False, sync_to_thread=False)
def problem_type(request: Request[Any, Any, Any], code: FromPath[str]) -> Any:
    """The documentation of one problem type: what ``type`` in a problem response points to."""
    error = PROBLEM_TYPES.get(code)
    if error is None:
        raise NotFoundException()
    return page(request, "problem_type.html", code=code, status=error.status_code, title=error.title)


def create_app(settings: Settings, *, database: Database | None = None) -> Litestar:
    """The platform as an ASGI application.

    With ``database`` given (tests hold one connection inside a transaction) that database is used as is;
    otherwise a pool to ``settings.database_url`` is opened at start-up and closed at shutdown.
    """
    assert settings.database_url is not None or database is not None, "start the embedded PostgreSQL first"
    passwords.use_profile(settings.password_hashing)
    frontend = _frontend()

    @asynccontextmanager
    async def open_database(app: Litestar) -> AsyncIterator[None]:
        if database is not None:
            yield
            return
        assert settings.database_url is not None
        app.state.database = await Database.connect(settings.database_url, max_size=settings.database_pool_size)
        try:
            yield
        finally:
            await app.state.database.close()

    @asynccontextmanager
    async def run_sequencer(app: Litestar) -> AsyncIterator[None]:
        """Every process competes for the sequencer's lock; one at a time appends to the log (see log/sequencer.py)."""
        if database is not None or not settings.sequencer:
            yield
            return
        app.state.log_key = load_log_key(settings)
        stopping = asyncio.Event()
        task = asyncio.create_task(sequencer.run(settings, app.state.log_key, stopping))
        try:
            yield
        finally:
            stopping.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, SEQUENCER_STOP_TIMEOUT)

    @asynccontextmanager
    async def listen(app: Litestar) -> AsyncIterator[None]:
        """One connection per process LISTENs for the live rooms' and the log's notifications (see bulletin.py),
        held as ``state.bulletin`` for whoever waits; without it (a test's single connection) a polling bulletin
        makes them look on a timer instead."""
        if database is not None:
            yield
            return
        url = settings.database_url
        assert url is not None
        bulletin = Bulletin(
            functools.partial(Database.connect_one, url), (rooms_repo.ROOMS_CHANNEL, log_repo.CHECKPOINT_CHANNEL)
        )
        await bulletin.start()
        app.state.bulletin = bulletin
        try:
            yield
        finally:
            await bulletin.stop()

    @asynccontextmanager
    async def run_workers(_app: Litestar) -> AsyncIterator[None]:
        """The process's pools (bid openers, upload writers: see workers.py) live as long as the application."""
        workers.start()
        try:
            yield
        finally:
            workers.stop()

    @asynccontextmanager
    async def resume_openings(app: Litestar) -> AsyncIterator[None]:
        """An opening a crash cut short carries on when a process starts again (see opening.reading)."""
        if database is not None:
            yield
            return
        task = asyncio.create_task(opening_reading.resume_openings(app.state.database, settings))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await opening_reading.stop_background_openings()

    @asynccontextmanager
    async def run_experts_clock(app: Litestar) -> AsyncIterator[None]:
        """Draws and invitations past their time, and the outbox, handled in the background (experts/service.py)."""
        if database is not None:
            yield
            return
        stopping = asyncio.Event()
        task = asyncio.create_task(
            experts_service.run_background(app.state.database, settings, stopping, EXPERTS_SWEEP_INTERVAL)
        )
        try:
            yield
        finally:
            stopping.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, SEQUENCER_STOP_TIMEOUT)

    def provide_database(state: State) -> Database:
        database: Database = state.database
        return database

    # Pages and the API learn who is asking and check CSRF tokens; health checks, static files, open data and the
    # problem documentation need neither, so a load balancer's probe or a stylesheet costs no session lookup.
    people = Router(
        path="/",
        route_handlers=[
            *accounts_http.routes,
            *dashboard.routes,
            *log_http.routes,
            *supervision_pages.routes,
            *bids_http.routes,
            *bids_pages.routes,
            *keys_http.routes,
            *keys_pages.routes,
            *opening_http.routes,
            *opening_ws.routes,
            *opening_pages.routes,
            *custody_pages.routes,
            *tenders_http.routes,
            *notifications_http.routes,
            *experts_http.routes,
            *experts_pages.routes,
            *tenders_pages.routes(settings),
            *opendata_pages.routes,
        ],
        middleware=[
            DefineMiddleware(AuthenticationMiddleware, settings=settings),
            DefineMiddleware(csrf_middleware, settings=settings),
        ],
    )
    return Litestar(
        route_handlers=[
            people,
            *health.routes,
            *opendata_http.routes,
            *log_http.public_routes,
            *experts_http.public_routes,
            problem_type,
            create_static_files_router(path="/static", directories=[frontend / "static"], include_in_schema=False),
        ],
        state=State(
            {
                "settings": settings,
                "blobs": blob_store(settings),
                "translators": load_translators(frontend / "translations"),
                **({"database": database, "bulletin": PollingBulletin(POLL_INTERVAL)} if database is not None else {}),
            }
        ),
        lifespan=[open_database, listen, run_workers, run_sequencer, resume_openings, run_experts_clock],
        dependencies={"db": Provide(provide_database, sync_to_thread=False)},
        middleware=[refuse_nul_in_url, watch_body],
        request_class=BiddingRequest,
        before_send=[make_security_headers_hook(settings), bids_http.add_tus_headers, close_after_unread_body],
        exception_handlers={
            BiddingError: handle_bidding_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        template_config=TemplateConfig(instance=template_engine(frontend / "templates", settings)),
        openapi_config=OpenAPIConfig(
            title="Public-resource electronic bidding platform",
            version="1",
            path="/api",
            description=API_DESCRIPTION,
            use_handler_docstrings=True,
            render_plugins=[CompletedJsonRenderPlugin(AuthenticationMiddleware, path="/openapi.json")],
        ),
        request_max_body_size=settings.max_body_size,
        debug=False,
    )
