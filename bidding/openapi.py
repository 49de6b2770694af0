"""The API's description (OpenAPI 3.1), made to say exactly what the server answers.

Litestar writes the document from the handlers' signatures. What it cannot see is added here, from the handlers
themselves and from what each declares with :func:`documented`:

- every status an operation can answer besides its success, each as RFC 9457 problem JSON (the one shape
  :mod:`bidding.app` gives every error): 400 for any request it cannot read, 401 and 403 where the platform asks
  who is calling, 404 where a path names a resource, 413 where a body is read, and the statuses of the domain
  errors the operation's use case raises (declared next to the route, where a change to the use case is seen);
- bodies and headers Litestar does not know of: raw request bodies (a document, a ceremony file, tus bytes), the
  tus and digest request headers, and the JSON documents routes pass through as bytes (OCDS packages, the opening
  record);
- the security schemes (an API token as a bearer token; a browser session's cookie with its CSRF header), and
  integer bounds written as integers (Litestar writes them as floats, and 2^63 − 1 does not survive that).

The fuzz suite (``tests/e2e/test_fuzz.py``) holds the server to this document: any answer whose status, type or
body it does not describe fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from bidding.errors import BiddingError
from bidding.inputs import BIGINT_MAX

#: The media type of every error the API answers (RFC 9457 §3).
PROBLEM_MEDIA_TYPE = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error (RFC 9457 problem details). Branch on `type` (or `status`); `title` and `detail` are "
    "for people, in the language the request asked for (`Accept-Language`).",
    "required": ["type", "title", "status", "request_id"],
    "properties": {
        "type": {
            "type": "string",
            "description": "`about:blank` for plain HTTP errors, else the URI of the problem type's documentation "
            "(`…/problems/not-found`), whose last part is a stable code.",
        },
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "request_id": {"type": "string", "description": "Quote it when reporting a problem."},
        "errors": {
            "type": "array",
            "description": "What is wrong with each field: where it is (one of `pointer`, a JSON Pointer (RFC 6901) "
            "into the request body in its URI fragment form; `parameter`, a query or path parameter; `header`, a "
            "request header) and why.",
            "items": {
                "type": "object",
                "required": ["detail"],
                "properties": {
                    "pointer": {"type": "string"},
                    "parameter": {"type": "string"},
                    "header": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}

#: What each status means wherever it is answered; an operation's own cases are in its description.
STATUS_DESCRIPTIONS: Mapping[int, str] = {
    400: "The request cannot be read: a parameter or the body does not have the form this operation takes, "
    "the body is not valid JSON, or the address holds a NUL character.",
    401: "Nobody is signed in, or the API token sent is missing, malformed or revoked.",
    403: "The person signed in may not do this, or (a browser session) the CSRF token is missing or wrong, or the "
    "session's temporary password must be changed first.",
    404: "There is no such resource, or none that you may see.",
    409: "This cannot be done in the resource's current state (the detail says why).",
    412: "The tus version sent (`Tus-Resumable`) is not 1.0.0.",
    413: "The body is larger than this operation takes.",
    415: "The body is not of the media type this operation takes.",
    422: "The request was read, but some of what it says is not valid: `errors` names each field.",
    429: "Too many attempts: wait for `Retry-After` seconds.",
    460: "The bytes sent do not match their `Upload-Checksum` (tus checksum extension).",
    503: "The service cannot answer for a moment (its database does not).",
}

#: Headers some error answers carry.
_ERROR_HEADERS: Mapping[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Sent when a token was refused."}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}},
}

SECURITY_SCHEMES: dict[str, Any] = {
    "token": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`bid_…`), made on the account page or with `POST /api/v1/tokens`. A request "
        "with a token needs no CSRF token.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "A browser's session after signing in (`__Host-session` over HTTPS). Unsafe requests also "
        "send the CSRF cookie's token in `X-CSRF-Token`.",
    },
}


@dataclasses.dataclass(frozen=True)
class Header:
    """A request header an operation reads, for its description."""

    name: str
    description: str
    required: bool = False
    schema: Mapping[str, Any] = dataclasses.field(default_factory=lambda: {"type": "string"})


@dataclasses.dataclass(frozen=True)
class Documentation:
    """What a route declares about itself beyond its signature (see :func:`documented`)."""

    problems: tuple[type[BiddingError], ...] = ()
    headers: tuple[Header, ...] = ()
    #: A raw request body: its media type and schema.
    body: tuple[str, Mapping[str, Any]] | None = None
    #: The success answer's content, by media type, when the handler returns bytes Litestar cannot describe.
    content: Mapping[str, Mapping[str, Any]] | None = None


def documented(
    *problems: type[BiddingError],
    headers: Sequence[Header] = (),
    body: tuple[str, Mapping[str, Any]] | None = None,
    content: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """A handler's ``opt``: the domain errors its use case raises (each documented at its status), and the headers,
    raw body or success content its signature does not show."""
    return {"openapi": Documentation(tuple(problems), tuple(headers), body, content)}


def _documentation(handler: HTTPRouteHandler) -> Documentation:
    found = handler.opt.get("openapi")
    return found if isinstance(found, Documentation) else Documentation()


def statuses(handler: HTTPRouteHandler, path: str, method: str, *, signed: bool) -> set[int]:
    """Every error status an operation can answer.

    ``signed`` says whether the route is behind the platform's authentication and CSRF checks (the API and the
    pages), which answer 401 for a bad token and 403 for a session held to changing its password, on any route.
    """
    documentation = _documentation(handler)
    found = {400} | {error.status_code for error in documentation.problems}
    if signed:
        # 401 for a token refused; 403 for a browser session that must change its password before anything else,
        # and, as the case may be, for the wrong role or a missing CSRF token.
        found |= {401, 403}
    if "{" in path:
        found.add(404)
    if documentation.body is not None or "data" in handler.parsed_fn_signature.parameters:
        found.add(413)
    return found


def complete(schema: dict[str, Any], app: Litestar, authentication: type) -> None:
    """Add to Litestar's ``schema`` (in place) what :mod:`this module <bidding.openapi>` says it lacks.

    ``authentication`` is the middleware class that asks who is calling: routes behind it are the signed ones.
    """
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in schema["paths"]:
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            is_signed = any(
                getattr(middleware, "middleware", middleware) is authentication
                for middleware in handler.resolve_middleware()
            )
            for method in handler.http_methods:
                operation = schema["paths"][route.path_format].get(method.lower())
                if operation is not None:
                    _complete_operation(operation, handler, route.path_format, method, signed=is_signed)
    _integer_bounds(schema)


def _complete_operation(
    operation: dict[str, Any], handler: HTTPRouteHandler, path: str, method: str, *, signed: bool
) -> None:
    documentation = _documentation(handler)
    responses = operation.setdefault("responses", {})
    for status in [status for status in responses if not status.startswith(("2", "3"))]:
        del responses[status]
    if documentation.content is not None:
        success = next(status for status in responses if status.startswith("2"))
        responses[success]["content"] = {media: {"schema": dict(s)} for media, s in documentation.content.items()}
    for status in sorted(statuses(handler, path, method, signed=signed)):
        answer: dict[str, Any] = {"description": STATUS_DESCRIPTIONS[status]}
        if method != "HEAD":
            answer["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        if status in _ERROR_HEADERS:
            answer["headers"] = _ERROR_HEADERS[status]
        responses[str(status)] = answer
    for answer in responses.values():
        # Litestar writes documentation-only headers without a schema, which OpenAPI requires (§4.8.21).
        for header in answer.get("headers", {}).values():
            if "schema" not in header and "content" not in header:
                header["schema"] = {"type": "string"}
    for status, answer in responses.items():
        # A HEAD answer has no body, nor has a 204 (Litestar describes a ``null`` one).
        if status.startswith("2") and (method == "HEAD" or status == "204"):
            answer.pop("content", None)
    parameters = operation.setdefault("parameters", [])
    parameters.extend(
        {"name": h.name, "in": "header", "required": h.required, "description": h.description, "schema": dict(h.schema)}
        for h in documentation.headers
    )
    if not parameters:
        del operation["parameters"]
    if documentation.body is not None:
        media, body_schema = documentation.body
        operation["requestBody"] = {"required": True, "content": {media: {"schema": dict(body_schema)}}}
    if signed:
        guarded = bool(handler.resolve_guards())
        operation["security"] = [{"token": []}, {"session": []}, *([] if guarded else [{}])]


def _integer_bounds(node: Any) -> None:
    """Integer schemas' bounds as integers: Litestar writes ``le=2**63 - 1`` as the float 9.223372036854776e18,
    which is 2^63 and would admit the one value a bigint cannot hold."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in ("minimum", "maximum"):
                if isinstance(node.get(key), float):
                    node[key] = BIGINT_MAX if node[key] >= float(BIGINT_MAX) else int(node[key])
        for value in node.values():
            _integer_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _integer_bounds(value)


class CompletedJsonRenderPlugin(JsonRenderPlugin):
    """Serves ``/api/openapi.json``: Litestar's document, completed once (:func:`complete`) on first request."""

    def __init__(self, authentication: type, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._authentication = authentication
        self._completed: set[int] = set()

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        # The schema dict is built once and cached by Litestar; completing it in place keeps that one copy.
        if id(openapi_schema) not in self._completed:
            complete(openapi_schema, request.app, self._authentication)
            self._completed.add(id(openapi_schema))
        return super().render(request, openapi_schema)
