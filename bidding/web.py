"""What every page and API route shares: request identity, client address, security headers, CSRF, rendering.

The rules of a domain do not live here; this is the thin shell between HTTP and the services.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import ipaddress
import itertools
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Protocol, cast
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_name
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from litestar import MediaType, Request
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, FormMultiDict
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers import HTTPRouteHandler
from litestar.middleware.csrf import CSRFMiddleware
from litestar.params import Parameter
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Empty, Receive, ReceiveMessage, Scope, Send
from litestar.types import Message as ASGIMessage
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup, escape
from multipart import MultipartSegment, ParserError, PushMultipartParser  # type: ignore[import-untyped]  # no stubs

from bidding import names
from bidding.blobs import BlobStore
from bidding.bulletin import Wakeups
from bidding.db import Database
from bidding.errors import CSRFFailed, InvalidInput, TooLarge
from bidding.i18n import N_, Message, Translator, choose_language
from bidding.identity import Actor, Principal
from bidding.inputs import BIGINT_MAX, NUL, MalformedRequest, decode_json
from bidding.settings import Settings

#: The database, as route handlers declare it: ``db: DB`` is injected from the app's state.
DB = NamedDependency[Database]

#: A row's id in a path (``/tenders/{tender_id:int}``): a positive ``bigint``, as every id column is. Anything
#: larger names no row and is refused with 400 before it reaches a query.
PathId = Annotated[int, Parameter(ge=1, le=BIGINT_MAX)]


def id_parameter(description: str) -> Any:
    """The ``Annotated`` metadata of a row's id in a query string, bounded as :data:`PathId` is."""
    return Parameter(ge=1, le=BIGINT_MAX, description=description)


#: The cookie that remembers the language of someone not signed in.
LANGUAGE_COOKIE = "lang"

#: Every response forbids framing, inline script and foreign origins; pages load only their own files.
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
#: Sent as well when the platform is reached over HTTPS: two years, as the HSTS preload list asks.
HSTS_HEADER = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


@functools.cache
def _request_ids() -> Iterator[str]:
    # A random prefix per process and a counter: unique across replicas in practice, and far cheaper than
    # drawing 64 random bits from the kernel for every request. A request id is a label, not a secret.
    prefix = secrets.token_hex(3)
    return (f"{prefix}{number:010x}" for number in itertools.count())


def request_id(scope: Scope) -> str:
    """An identifier for this request, sent as X-Request-Id, shown on error pages and logged, to trace a report."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = next(_request_ids())
    return cast(str, state["request_id"])


def client_ip(scope: Scope, trusted_proxies: tuple[str, ...]) -> str | None:
    """The address of the person's machine.

    ``X-Forwarded-For`` is believed only when the connection comes from a trusted proxy, and then only as far
    back as the chain of trusted proxies goes: anyone can send the header, so the nearest untrusted hop is the
    client (the header is appended to by each proxy).
    """
    client = scope.get("client")
    peer = client[0] if client else None
    if not trusted_proxies or peer is None:
        return peer
    networks = [ipaddress.ip_network(proxy) for proxy in trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    if not trusted(peer):
        return peer
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"x-forwarded-for"]
    hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


def settings_of(request: ASGIConnection[Any, Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def bulletin_of(request: ASGIConnection[Any, Any, Any, Any]) -> Wakeups:
    """What wakes a waiter of this process at another's notification (see :mod:`bidding.bulletin`)."""
    bulletin: Wakeups = request.app.state.bulletin
    return bulletin


def blobs_of(request: ASGIConnection[Any, Any, Any, Any]) -> BlobStore:
    """The blob store of the platform's settings, made once with the application."""
    blobs: BlobStore = request.app.state.blobs
    return blobs


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` saving the response as ``filename`` (RFC 6266; RFC 8187 for other than ASCII)."""
    quoted = quote(filename)
    return f'attachment; filename="{filename}"' if quoted == filename else f"attachment; filename*=utf-8''{quoted}"


def actor_of(request: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The person behind a request, with what the audit log records of the request."""
    settings: Settings = request.app.state.settings
    return Actor(
        principal=principal_of(request),
        request_id=request_id(request.scope),
        client_ip=client_ip(request.scope, settings.trusted_proxies),
    )


def principal_of(request: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    return cast("Principal | None", request.scope.get("user"))


def make_security_headers_hook(settings: Settings) -> Any:
    """A ``before_send`` hook adding the security headers and the request id to every response.

    It runs for every response, on the hot path, so it only appends: no route sets these headers itself.
    """
    headers = (*SECURITY_HEADERS, *([HSTS_HEADER] if settings.https else []))

    async def add_security_headers(message: ASGIMessage, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                *message.get("headers", ()),
                *headers,
                (b"x-request-id", request_id(scope).encode()),
            ]

    return add_security_headers


# --- What every request is checked for before anything reads it -----------------------------------------------


class BiddingRequest(Request[Any, Any, Any]):
    """Litestar's request, with the platform's reading of bodies: malformed JSON (invalid UTF-8, a syntax error,
    nesting deeper than the decoder goes) is :class:`MalformedRequest` (400), and a form field holding NUL, which
    no text column can store, is :class:`InvalidInput` naming the field, wherever a handler reads them."""

    async def json(self) -> Any:
        if self._json is Empty:
            self._json = decode_json(await self.body() or b"null")
        return self._json

    async def form(self) -> FormMultiDict:
        form = await super().form()
        _refuse_nul({key: value for key, value in form.multi_items() if isinstance(value, str)})
        return form


def refuse_nul_in_url(app: ASGIApp) -> ASGIApp:
    """Middleware refusing a path or query string that decodes to text holding NUL (``%00``), for every route.

    Path and query parameters go to queries as text, and PostgreSQL's text types cannot hold U+0000: refusing it
    here, once, keeps every route from answering it with a 500. A ``%2500`` is a literal ``%00``, and passes.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in (ScopeType.HTTP, ScopeType.WEBSOCKET) and (
            NUL in scope["path"] or b"%00" in scope.get("query_string", b"").replace(b"%2500", b"")
        ):
            raise MalformedRequest(N_("Addresses cannot contain the NUL character."))
        await app(scope, receive, send)

    return middleware


#: Set in a request's scope state once its body has been read to the end (:func:`watch_body`).
_BODY_READ = "bidding.body_read"


def watch_body(app: ASGIApp) -> ASGIApp:
    """Middleware noting when a request's body has been read to its end, for :func:`close_after_unread_body`; it
    wraps every reader of the body (the CSRF check reads a form's first part)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        async def watched_receive() -> ReceiveMessage:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                scope["state"][_BODY_READ] = True
            return message

        await app(scope, watched_receive, send)

    return middleware


async def close_after_unread_body(message: ASGIMessage, scope: Scope) -> None:
    """A ``before_send`` hook for requests answered before their body was read to its end (a document announced
    over the limit, a form refused for its CSRF token, a refused upload past :data:`bidding.blobs.DRAIN_LIMIT`):
    the answer says ``Connection: close`` (RFC 9112, section 9.6). The server closes such a connection after
    answering, since the rest of the body stands in the way of the next request; a client not told so sent its
    next request on it and now and then met a connection closed without an answer.
    """
    if (
        message["type"] == "http.response.start"
        and not scope.get("state", {}).get(_BODY_READ)
        and any(
            (name == b"content-length" and value.strip() not in (b"", b"0")) or name == b"transfer-encoding"
            for name, value in scope["headers"]
        )
    ):
        message["headers"] = [*message.get("headers", ()), (b"connection", b"close")]


# --- CSRF ---------------------------------------------------------------------------------------------------

#: Paths whose GET responses need no CSRF cookie: nothing there renders a form.
_NO_CSRF_COOKIE_PREFIXES = ("/api/",)
#: How far into a multipart form the CSRF token may be: our forms send it as their first field (``csrf_input``
#: comes first in every form), so it is in the first few hundred bytes.
CSRF_PART_LIMIT = 4096


class BiddingCSRFMiddleware(CSRFMiddleware):
    """Litestar's signed double-submit CSRF check, skipped where no browser session can be abused, and made before
    any of the body is read.

    A request carrying an ``Authorization`` header is authenticated by that header alone (the session cookie is
    ignored, see :mod:`bidding.accounts.guards`), and a forged cross-site request cannot set that header, so it
    needs no CSRF token. Safe requests to the API get no CSRF cookie, which they never use.
    A failed check becomes :class:`CSRFFailed`, which tells the person what to do.

    The stock check reads a whole form body to look for the token, before the route's guards have run: anyone,
    signed in or not, could make the server read (and hold in memory, or spool to disk) up to the route's body
    limit, hundreds of MiB on the document upload, only to be refused in the end. So an unsafe request is
    checked in this order, each step reading nothing of the body unless the one before it passed:

    1. the route's guards (401 for nobody signed in, 403 for the wrong role);
    2. the body's announced size against the route's limit (413);
    3. the CSRF cookie: a request without a valid one is refused at once;
    4. the token: from the ``X-CSRF-Token`` header (the only place the API takes it), or from the form, where a
       multipart form must send it as its first part, read up to :data:`CSRF_PART_LIMIT` bytes and then handed on
       to the route, which streams the rest; a URL-encoded form is read whole, within the route's body limit.
    """

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        super().__init__(self._checked, config)
        self._next = app
        self._header = config.header_name.lower().encode("latin-1")

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["csrf_checked"] = True
        await self._next(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or any(name == b"authorization" for name, _ in scope["headers"]):
            await self._next(scope, receive, send)
            return
        if scope["method"] in self.config.safe_methods:
            if scope["path"].startswith(_NO_CSRF_COOKIE_PREFIXES):
                await self._next(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
            return
        route = scope.get("route_handler")
        if isinstance(route, HTTPRouteHandler):
            if route.opt.get(self.config.exclude_from_csrf_key):
                # A route whose credential is in its body (the token for a login and password), not a cookie.
                await self._next(scope, receive, send)
                return
            await route.authorize_connection(ASGIConnection(scope))
        request: Request[Any, Any, Any] = BiddingRequest(scope, receive)
        limit = route.resolve_request_max_body_size() if isinstance(route, HTTPRouteHandler) else None
        if limit is not None and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()
        cookie = request.cookies.get(self.config.cookie_name)
        if cookie is None or self._decode_csrf_token(cookie) is None:
            raise CSRFFailed()
        token = request.headers.get(self.config.header_name)
        if token is None and scope["path"].startswith(_NO_CSRF_COOKIE_PREFIXES):
            raise CSRFFailed()
        content_type, options = request.content_type
        if token is None and content_type == "multipart/form-data":
            token, receive = await _first_part_token(receive, options.get("boundary", ""))
            if token is None:
                raise CSRFFailed()
        if token is not None:
            if not self._csrf_tokens_match(token, cookie):
                raise CSRFFailed()
            # As the stock check does: a page rendered in answer (a form shown again with its errors) carries it.
            ScopeState.from_scope(scope).csrf_token = token
            await self._checked(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        except PermissionDeniedException:
            # Raised before the request went on: the CSRF check itself failed.
            if not scope.get("state", {}).get("csrf_checked"):
                raise CSRFFailed() from None
            raise


async def _first_part_token(receive: Receive, boundary: str) -> tuple[str | None, Receive]:
    """The value of a multipart body's first part if it is ``_csrf_token``, read from the first
    :data:`CSRF_PART_LIMIT` bytes at most, and a ``receive`` that hands the route the body from its start.

    ``None`` when the first part is anything else, or the body is malformed or ends first: the check then fails.
    """
    read: list[ReceiveMessage] = []
    value = bytearray()
    seen = 0
    found: str | None = None
    try:
        parser = PushMultipartParser(boundary.encode("latin-1", "replace"), max_header_size=1024)
        while found is None and seen <= CSRF_PART_LIMIT:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break
            chunk: bytes = message.get("body", b"")
            seen += len(chunk)
            for event in parser.parse(chunk[: max(0, CSRF_PART_LIMIT + 1 - (seen - len(chunk)))]):
                if isinstance(event, MultipartSegment):
                    if event.name != "_csrf_token" or event.filename is not None:
                        raise ParserError("the first part is not the CSRF token")
                elif event is None:
                    found = value.decode("ascii")
                    break
                else:
                    value.extend(event)
            if not message.get("more_body", False):
                break
    except (ParserError, UnicodeDecodeError):
        found = None

    async def replay() -> ReceiveMessage:
        return read.pop(0) if read else await receive()

    return found, replay


# --- Multipart uploads from pages ----------------------------------------------------------------------------

#: The largest text field of a multipart form: an amendment's summary is 2,000 characters, a reason 1,000.
FORM_FIELD_LIMIT = 64 * 1024


@dataclasses.dataclass(frozen=True)
class UploadedFile:
    """The file part of a multipart form, as its bytes arrive: read ``chunks`` once, to the end."""

    filename: str
    chunks: AsyncIterator[bytes]


async def read_upload_form(
    request: Request[Any, Any, Any], file_field: str
) -> tuple[dict[str, str], UploadedFile | None]:
    """The text fields of a multipart form up to its part ``file_field``, and that file, streamed.

    Nothing is spooled: each text field is held (at most :data:`FORM_FIELD_LIMIT` bytes, else 413) and the file is
    handed on as it arrives, so the fields a form needs must come before its file (``csrf_input`` first, the file
    last). Parts after the file are read and dropped. Raises :class:`MalformedRequest` for a body that is not
    multipart, and :class:`InvalidInput` for a field holding NUL; a file that is not there gives ``None``.
    """
    content_type, options = request.content_type
    boundary = options.get("boundary", "")
    if content_type != "multipart/form-data":
        # A form posted without its file (no browser does that) is answered as a form with no file, unread.
        return {}, None
    if not boundary:
        raise MalformedRequest(N_("This form is sent as multipart/form-data."))
    events = _multipart_events(request.stream(), boundary)
    fields: dict[str, str] = {}
    name, value = "", bytearray()
    async for event in events:
        if isinstance(event, MultipartSegment):
            if event.name == file_field and event.filename:
                _refuse_nul(fields)
                return fields, UploadedFile(event.filename, _file_chunks(events))
            name, value = event.name, bytearray()
        elif event is None:
            try:
                fields[name] = value.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedRequest(N_("The form is not valid UTF-8.")) from None
        elif len(value) + len(event) > FORM_FIELD_LIMIT:
            raise TooLarge(N_("A form field can have at most %(size)d bytes.", size=FORM_FIELD_LIMIT))
        else:
            value.extend(event)
    _refuse_nul(fields)
    return fields, None


async def _multipart_events(stream: AsyncIterator[bytes], boundary: str) -> AsyncIterator[Any]:
    """The events of :class:`PushMultipartParser` over a body: a segment (a part's headers), bytes of its body,
    ``None`` at its end."""
    try:
        parser = PushMultipartParser(boundary.encode("latin-1", "replace"))
        async for chunk in stream:
            for event in parser.parse(chunk):
                yield event
            if parser.closed:
                return
    except ParserError:
        raise MalformedRequest(N_("The form is not valid multipart/form-data.")) from None


async def _file_chunks(events: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    async for event in events:
        if event is None:
            break
        if not isinstance(event, MultipartSegment) and event:
            yield bytes(event)
    async for _ in events:  # the rest of the body, read so the connection can carry on
        pass


def _refuse_nul(fields: Mapping[str, str]) -> None:
    with_nul = sorted(key for key, value in fields.items() if NUL in key or NUL in value)
    if with_nul:
        raise InvalidInput(errors={key: N_("Text cannot contain the NUL character.") for key in with_nul})


def csrf_config(settings: Settings) -> CSRFConfig:
    assert settings.secret_key is not None, "ensure_secret_key() runs before the app is made"
    return CSRFConfig(
        secret=settings.secret_key,
        # The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and for "/", so a
        # neighbouring subdomain cannot plant a token of its choosing.
        cookie_name="__Host-csrf" if settings.https else "csrf",
        cookie_secure=settings.https,
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name="x-csrf-token",
    )


def csrf_middleware(app: ASGIApp, settings: Settings) -> BiddingCSRFMiddleware:
    return BiddingCSRFMiddleware(app, csrf_config(settings))


# --- Pages --------------------------------------------------------------------------------------------------


class Bilingual(Protocol):
    """A text kept in Chinese and English, either of which may be empty (``LocalText`` of the tenders)."""

    @property
    def zh(self) -> str: ...

    @property
    def en(self) -> str: ...


#: The ``lang`` attribute of each half of a bilingual text.
_TEXT_LANGUAGES = {"zh": "zh-CN", "en": "en"}
#: File sizes are shown in the largest of these units that keeps the number at 1 or more.
_SIZE_UNITS = ("B", "KiB", "MiB", "GiB")


def pick_language(text: Bilingual | Mapping[str, str], language: str) -> tuple[str, str]:
    """The half of a bilingual text to show a reader of ``language``, and which half it is (``zh`` or ``en``).

    The reader's own language comes first; when it is empty the other is shown rather than nothing.
    """
    if isinstance(text, Mapping):
        halves = {"zh": text.get("zh") or "", "en": text.get("en") or ""}
    else:
        halves = {"zh": text.zh, "en": text.en}
    first, second = ("en", "zh") if language == "en" else ("zh", "en")
    return (halves[first], first) if halves[first] or not halves[second] else (halves[second], second)


def money_text(amount: Decimal | int | str, locale: Any) -> str:
    """An amount in yuan as the reader writes money: ``¥12,500,000.00`` or ``CN¥12,500,000.00``.

    Amounts are exact decimals from end to end; a float has already lost fen by the time it gets here, so it is
    refused rather than shown.
    """
    if isinstance(amount, float):
        raise TypeError("amounts are Decimal, never float")
    return format_currency(Decimal(amount), "CNY", locale=locale)


def size_text(size: int, locale: Any) -> str:
    """A file size for people (``1.4 MiB``), with the exact byte count left to the SHA-256 and the download."""
    value = Decimal(size)
    unit = _SIZE_UNITS[0]
    for unit in _SIZE_UNITS:
        if value < 1024 or unit == _SIZE_UNITS[-1]:
            break
        value /= 1024
    pattern = "#,##0" if unit == "B" else "#,##0.#"
    return f"{format_decimal(value, format=pattern, locale=locale)} {unit}"


def template_engine(directory: Path, settings: Settings) -> JinjaTemplateEngine:
    """Jinja with autoescaping, strict undefined names, and gettext that reads the page's translator.

    Raises SettingsError when the regions file cannot be read.
    """
    timezone = ZoneInfo(settings.timezone)
    regions = names.load_regions(settings.regions_file)
    environment = Environment(
        loader=FileSystemLoader(directory),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )

    @pass_context
    def gettext(context: Any, text: str) -> str:
        return cast(Translator, context["translator"]).gettext(text)

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, count: int) -> str:
        return cast(Translator, context["translator"]).ngettext(singular, plural, count)

    @pass_context
    def render_message(context: Any, message: Message | str) -> str:
        return cast(Translator, context["translator"]).render(message)

    @pass_context
    def format_time(context: Any, moment: dt.datetime | None, format: str = "medium") -> str:
        if moment is None:
            return "—"
        translator = cast(Translator, context["translator"])
        return format_datetime(moment, format, tzinfo=timezone, locale=translator.locale)

    def exact_time(moment: dt.datetime | None) -> str:
        """A moment to the second as people in the platform's time zone write it (``2026-12-07 11:20:09``), for
        records read side by side (the audit trail); the page says once which zone (``time_zone``)."""
        if moment is None:
            return "—"
        return moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M:%S")

    @pass_context
    def time_zone(context: Any) -> str:
        """The platform's time zone as the reader names it, with its offset now: ``China Time (UTC+08:00)``."""
        offset = dt.datetime.now(timezone).strftime("%z")
        zone = get_timezone_name(timezone, locale=cast(Translator, context["translator"]).locale)
        return f"{zone} (UTC{offset[:3]}:{offset[3:]})"

    def iso_time(moment: dt.datetime) -> str:
        """A moment as RFC 3339 in UTC, for ``<time datetime>`` and the scripts that read it."""
        return moment.astimezone(dt.UTC).isoformat(timespec="seconds")

    @pass_context
    def money(context: Any, amount: Decimal | int | str) -> str:
        return money_text(amount, cast(Translator, context["translator"]).locale)

    @pass_context
    def filesize(context: Any, size: int) -> str:
        return size_text(size, cast(Translator, context["translator"]).locale)

    @pass_context
    def local(context: Any, text: Bilingual | Mapping[str, str], plain: bool = False) -> Markup | str:
        """A bilingual text in the reader's language, or in the other one marked with its ``lang``.

        ``plain`` gives the bare text, for places where markup cannot go (the page title, attributes).
        """
        language = cast(Translator, context["translator"]).language
        shown, half = pick_language(text, language)
        if plain or half == ("en" if language == "en" else "zh"):
            return shown
        return Markup('<span lang="%s">%s</span>') % (_TEXT_LANGUAGES[half], escape(shown))

    def marked(text: str, lang: str | None, plain: bool) -> Markup | str:
        if plain or lang is None:
            return text
        return Markup('<span lang="%s">%s</span>') % (lang, escape(text))

    @pass_context
    def name(context: Any, thing: Any, field: str | None = None, plain: bool = False) -> Markup | str:
        """An organisation's or a person's name in the reader's language (see :func:`names.pick_name`):
        ``{{ organisation | name }}``, ``{{ user | name }}``, ``{{ summary | name("agency_name") }}``."""
        language = cast(Translator, context["translator"]).language
        return marked(*names.pick_name(*names.name_fields(thing, field), language), plain)

    @pass_context
    def region(context: Any, text: str | None, plain: bool = False) -> Markup | str:
        """A region in the reader's language when it is one of the platform's, else as typed."""
        return marked(*regions.name(text, cast(Translator, context["translator"]).language), plain)

    environment.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension, unknown to jinja2's types
    environment.globals.update(message=render_message, local=local, time_zone=time_zone, regions=regions)
    environment.filters.update(
        datetime=format_time,
        exact_time=exact_time,
        iso=iso_time,
        money=money,
        filesize=filesize,
        local=local,
        name=name,
        region=region,
    )
    return JinjaTemplateEngine.from_environment(environment)


def translator_of(request: ASGIConnection[Any, Any, Any, Any]) -> Translator:
    """The reader's language.

    On pages, the choice a person made (kept on their account, or in a cookie before signing in) comes before
    their browser's ``Accept-Language``. An API client's ``Accept-Language`` is an explicit request by the
    program, so there it comes first, and the account's language is only the fallback.
    """
    settings: Settings = request.app.state.settings
    translators: Mapping[str, Translator] = request.app.state.translators
    principal = principal_of(request)
    accept_language = request.headers.get("accept-language")
    if request.url.path.startswith("/api/"):
        default = principal.language if principal else settings.language
        language = choose_language(chosen=None, accept_language=accept_language, default=default)
    else:
        chosen = principal.language if principal else request.cookies.get(LANGUAGE_COOKIE)
        language = choose_language(chosen=chosen, accept_language=accept_language, default=settings.language)
    return translators[language]


def page(
    request: Request[Any, Any, Any],
    template_name: str,
    *,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> Template:
    """Render a page in the reader's language, with what the base layout needs."""
    translator = translator_of(request)
    return Template(
        template_name=template_name,
        media_type=MediaType.HTML,
        status_code=status_code,
        cookies=cookies or [],
        headers={"cache-control": "no-store", **(headers or {})},
        context={
            "translator": translator,
            "language": translator.language,
            "principal": principal_of(request),
            "path": request.url.path,
            "request_id": request_id(request.scope),
            "errors": {},
            "form": {},
            **context,
        },
    )


def safe_next_path(target: str | None, default: str = "/dashboard") -> str:
    """A path on this site to go to after a form, refusing anything that would lead elsewhere.

    ``//evil.example`` and ``/\\evil.example`` are read by browsers as other hosts, so only plain absolute paths
    without a scheme or host are kept.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target


def see_other(path: str, *, cookies: list[Cookie] | None = None) -> Redirect:
    """The answer to a successful form: go to ``path`` with a GET (303), so reloading does not resubmit."""
    return Redirect(path, status_code=303, cookies=cookies or [])
