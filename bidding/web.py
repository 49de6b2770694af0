"""What every page and API route shares: request identity, client address, security headers, CSRF, rendering.

The rules of a domain do not live here; this is the thin shell between HTTP and the services.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import itertools
import secrets
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_name
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from litestar import MediaType, Request
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.types import Message as ASGIMessage
from markupsafe import Markup, escape

from bidding import names
from bidding.blobs import BlobStore
from bidding.db import Database
from bidding.errors import CSRFFailed
from bidding.i18n import Message, Translator, choose_language
from bidding.identity import Actor, Principal
from bidding.settings import Settings

#: The database, as route handlers declare it: ``db: DB`` is injected from the app's state.
DB = NamedDependency[Database]

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


# --- CSRF ---------------------------------------------------------------------------------------------------

#: Paths whose GET responses need no CSRF cookie: nothing there renders a form.
_NO_CSRF_COOKIE_PREFIXES = ("/api/",)


class BiddingCSRFMiddleware(CSRFMiddleware):
    """Litestar's signed double-submit CSRF check, skipped where no browser session can be abused.

    A request carrying an ``Authorization`` header is authenticated by that header alone (the session cookie is
    ignored, see :mod:`bidding.accounts.guards`), and a forged cross-site request cannot set that header, so it
    needs no CSRF token. Safe requests to the API get no CSRF cookie, which they never use.
    A failed check becomes :class:`CSRFFailed`, which tells the person what to do.

    The API takes JSON and files, never forms, so a browser session calling it must send its token in the
    header. An unsafe API request without one is refused before its body is read: the stock check would read
    a form body to look for the token, and would do so without limit on routes that take large bodies (the
    document upload), letting anyone fill the disk with a request that is refused in the end anyway.
    """

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        super().__init__(self._checked, config)
        self._next = app
        self._header = config.header_name.lower().encode("latin-1")

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["csrf_checked"] = True
        await self._next(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and (
            any(name == b"authorization" for name, _ in scope["headers"])
            or (scope["method"] in self.config.safe_methods and scope["path"].startswith(_NO_CSRF_COOKIE_PREFIXES))
        ):
            await self._next(scope, receive, send)
            return
        if (
            scope["type"] == ScopeType.HTTP
            and scope["path"].startswith(_NO_CSRF_COOKIE_PREFIXES)
            and scope["method"] not in self.config.safe_methods
            and not any(name == self._header for name, _ in scope["headers"])
        ):
            raise CSRFFailed()
        try:
            await super().__call__(scope, receive, send)
        except PermissionDeniedException:
            # Raised before the request went on: the CSRF check itself failed.
            if not scope.get("state", {}).get("csrf_checked"):
                raise CSRFFailed() from None
            raise


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
    def format_time(context: Any, moment: dt.datetime | None, format: str = "medium") -> str:  # noqa: A002
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

    environment.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
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
