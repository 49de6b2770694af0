"""The API answers every input as its own description says: schemathesis generates requests from the server's
``/api/openapi.json`` (valid ones, and ones that break the document on purpose) for every operation, as nobody,
as a bidder and as an agency, and each answer must be documented (status, media type, body, headers) and never a
5xx. The server runs on a database of its own, seeded with the demo, so what the fuzzer creates or changes
touches no other test; afterwards its log must hold no unexpected exception.

The budget is bounded (``BIDDING_FUZZ_EXAMPLES`` examples per operation and mode, each sent by every caller; 8 by
default), so ``make test`` stays quick; raise it to search harder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import PostgresServer
from tests.e2e.conftest import DEMO_PASSWORD, Server, csrf_token, running_server

EXAMPLES = int(os.environ.get("BIDDING_FUZZ_EXAMPLES", "8"))
#: Who calls: nobody, and an API token of each of these demo logins.
CALLERS = [None, "bidder1", "agent", "expert1", "supervisor1"]
#: Operations a caller with a token does not fuzz: revoking tokens would revoke the fuzzer's own.
SELF_ENDING = {("DELETE", "/api/v1/tokens/{token_id}")}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# tus bytes are bytes: sent as the generic binary serializer sends application/octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


@pytest.fixture(scope="module")
def fuzz_server(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(postgres, tmp_path_factory, "bidding_fuzz") as started:
        yield started


@pytest.fixture(scope="module")
def tokens(fuzz_server: Server) -> dict[str, str]:
    """A token for each caller, from ``POST /api/v1/tokens`` as a third-party client gets one."""
    found = {}
    for login in CALLERS:
        if login is not None:
            answer = httpx.post(
                f"{fuzz_server.url}/api/v1/tokens",
                json={"login": login, "password": DEMO_PASSWORD, "name": "fuzz"},
                timeout=30,
            )
            assert answer.status_code == 201, answer.text
            found[login] = answer.json()["token"]
    return found


#: How the API refuses a request that breaks its description: a 4xx it documents. Beyond schemathesis's defaults:
#: 412 (a tus version other than 1.0.0), 413 (a body over the limit) and 460 (a tus checksum that does not match).
REFUSALS = [400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 422, 428, 429, 460]


@pytest.fixture(scope="module")
def sessions(fuzz_server: Server) -> Iterator[dict[str | None, tuple[httpx.Client, str]]]:
    """A browser-like client for each page caller, signed in (with the CSRF token of its session) before any
    fuzzing: the fuzzer's failed sign-ins would otherwise pause signing in from this address."""
    opened: dict[str | None, tuple[httpx.Client, str]] = {}
    for login in PAGE_CALLERS:
        client = httpx.Client(base_url=fuzz_server.url, headers={"accept": "text/html"}, timeout=30)
        token = csrf_token(client.get("/sign-in").text)
        if login is not None:
            signed = client.post("/sign-in", data={"_csrf_token": token, "login": login, "password": DEMO_PASSWORD})
            assert signed.status_code == 303, signed.text
        opened[login] = (client, token)
    yield opened
    for client, _ in opened.values():
        client.close()


@pytest.fixture(scope="module")
def api(fuzz_server: Server, sessions: dict[str | None, tuple[httpx.Client, str]]) -> Any:
    config = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}}})
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/api/openapi.json", config=config)


#: Where to find ids that name something, for each path parameter: random ids almost never do, and an operation
#: that only ever answers 404 is not tested past its first line.
KNOWN_IDS = {
    "tender_id": "SELECT array_agg(id ORDER BY id) FROM tenders",
    "bid_id": "SELECT array_agg(id ORDER BY id) FROM bids",
    "document_id": "SELECT array_agg(id ORDER BY id) FROM tender_documents",
    "question_id": "SELECT array_agg(id ORDER BY id) FROM tender_questions",
    "event_id": "SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM audit_events ORDER BY id LIMIT 20) AS e",
    "organisation_id": "SELECT array_agg(id ORDER BY id) FROM organisations",
    "user_id": "SELECT array_agg(id ORDER BY id) FROM users",
}


@pytest.fixture(scope="module")
def known_ids(fuzz_server: Server) -> dict[str, list[Any]]:
    return {name: list(fuzz_server.sql(query) or []) for name, query in KNOWN_IDS.items()}


def _strategy(operation: Any, mode: GenerationMode, known: dict[str, list[Any]]) -> Any:
    """Cases with every path parameter free, and cases with one of them naming a row that exists (the others
    left to the generator, as ``path_parameters`` allows)."""
    free = operation.as_strategy(generation_mode=mode)
    pinned = [
        operation.as_strategy(generation_mode=mode, path_parameters={name: value})
        for name in re.findall(r"\{(\w+)\}", operation.path)
        for value in known.get(name, [])[:6]
    ]
    return st.one_of(free, *pinned) if pinned else free


def _fuzz(
    operation: Any, mode: GenerationMode, callers: dict[str | None, dict[str, str]], known: dict[str, list[Any]]
) -> None:
    """Each case generated is sent by every caller: the same request as nobody, as a bidder and as an agency."""
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS

    @given(case=_strategy(operation, mode, known))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for caller, headers in callers.items():
            try:
                case.call_and_validate(headers=headers, checks=checks)
            except (Exception, BaseExceptionGroup) as error:
                error.add_note(f"sent as {caller or 'nobody'}")
                raise

    run()


def test_every_operation_answers_as_its_description_says(
    api: Any, tokens: dict[str, str], known_ids: dict[str, list[Any]], fuzz_server: Server
) -> None:
    every_caller = {caller: {"Authorization": f"Bearer {tokens[caller]}"} if caller else {} for caller in CALLERS}
    failures = []
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 50, "the document lists every operation"
    for operation in operations:
        ending = (operation.method.upper(), operation.path) in SELF_ENDING
        callers = {caller: headers for caller, headers in every_caller.items() if not (caller and ending)}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, callers, known_ids)
            except Unsatisfiable:
                # Nothing of the operation can be made invalid (no parameters, or only free text): no negative case.
                assert mode is GenerationMode.NEGATIVE, operation.path
            except (Exception, BaseExceptionGroup) as error:  # every failure is reported at the end
                notes = "\n".join(getattr(error, "__notes__", []))
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}):\n{error}\n{notes}")
    assert not failures, "\n\n".join(failures)
    assert fuzz_server.log is not None
    logged = fuzz_server.log.read_text()
    assert " failed: " not in logged and "Traceback" not in logged, logged[-5000:]


# --- Pages ----------------------------------------------------------------------------------------------------
# Pages are not in the API document, so they are fuzzed from the application's own routes: every path with its
# parameters drawn (ids that exist, ids that cannot, text), query strings and form fields drawn from the names
# the pages read and from nowhere, as nobody and as people of each role, signed in as a browser is (session and
# CSRF token). Any answer is fine but a 5xx; the log must stay free of failures.

#: Query and form fields the pages read, to be drawn beside arbitrary ones.
PAGE_FIELDS = [
    "q", "category", "region", "status", "budget_min", "budget_max", "deadline_from", "deadline_to", "cursor",
    "limit", "since", "until", "actor", "role", "action", "subject", "organisation", "next", "done", "language",
    "login", "password", "name", "kind", "credit_code", "name_en", "display_name", "roles", "organisation_id",
    "question", "answer", "reason", "summary", "substantive", "purpose", "verifier_key", "recipient",
    "current_password", "new_password", "repeat_password", "title.zh", "lots.0.budget", "lots.x.title.zh",
    "purchaser_id", "deadline", "custodian_ids", "invited_ids", "lots.0.criteria.0.points",
]  # fmt: skip
#: Page routes not fuzzed while signed in: they would end the fuzzer's own session.
PAGE_SELF_ENDING = {("POST", "/sign-out")}
PAGE_CALLERS = [None, "bidder1", "agent", "supervisor1", "admin", "custodian1"]

_TEXT = st.text(max_size=30) | st.sampled_from(["", "0", "-1", "²", str(2**63), "9" * 5000, "\x00", "%00", "é"])


def _page_routes() -> list[tuple[str, str]]:
    from litestar.routes import HTTPRoute

    from bidding.app import create_app
    from bidding.settings import Settings

    app = create_app(Settings(database_url="postgresql://unused/unused", secret_key="k" * 40))
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/static", "/api", "/problems")):
            continue
        for handler in route.route_handlers:
            if handler.resolve_include_in_schema():
                continue
            found.extend((method, route.path) for method in sorted(handler.http_methods) if method in ("GET", "POST"))
    return found


def _path_values(template: str, known: dict[str, list[Any]]) -> Any:
    names = re.findall(r"\{(\w+):(\w+)\}", template)
    parts = {}
    for name, kind in names:
        ids = [str(value) for value in known.get(name, [])[:6]]
        parts[name] = (st.sampled_from(ids) if ids else st.nothing()) | (
            st.integers(min_value=-5, max_value=2**64).map(str) if kind == "int" else _TEXT
        )
    return st.fixed_dictionaries(parts)


def _fuzz_page(client: httpx.Client, method: str, template: str, token: str, known: dict[str, list[Any]]) -> None:
    fields = st.dictionaries(st.sampled_from(PAGE_FIELDS) | st.text(max_size=8), _TEXT, max_size=6)

    @given(path=_path_values(template, known), fields=fields)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(path: dict[str, str], fields: dict[str, str]) -> None:
        url = re.sub(r"\{(\w+):\w+\}", lambda found: quote(path[found.group(1)], safe=""), template)
        if method == "GET":
            answer = client.get(url, params=fields)
        else:
            answer = client.post(url, data={"_csrf_token": token, **fields})
        assert answer.status_code < 500, f"{method} {url} {fields!r}: {answer.status_code}"

    run()


@pytest.mark.parametrize("caller", PAGE_CALLERS, ids=lambda caller: caller or "anonymous")
def test_no_page_answers_a_server_error(
    fuzz_server: Server,
    sessions: dict[str | None, tuple[httpx.Client, str]],
    known_ids: dict[str, list[Any]],
    caller: str | None,
) -> None:
    client, token = sessions[caller]
    failures = []
    routes = _page_routes()
    assert len(routes) > 30, "every page route is found"
    for method, template in routes:
        if caller and (method, template) in PAGE_SELF_ENDING:
            continue
        try:
            _fuzz_page(client, method, template, token, known_ids)
        except (Exception, BaseExceptionGroup) as error:  # every failure is reported at the end
            failures.append(f"{method} {template}:\n{error}")
    assert not failures, "\n\n".join(failures)
    assert fuzz_server.log is not None
    logged = fuzz_server.log.read_text()
    assert " failed: " not in logged and "Traceback" not in logged, logged[-5000:]
