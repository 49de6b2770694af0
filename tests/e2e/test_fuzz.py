"""The API answers every input as its own description says: schemathesis generates requests from the server's
``/api/openapi.json`` (valid ones, and ones that break the document on purpose) for every operation, as nobody,
as a bidder and as an agency, and each answer must be documented (status, media type, body, headers) and never a
5xx. The server runs on a database of its own, seeded with the demo, so what the fuzzer creates or changes
touches no other test; afterwards its log must hold no unexpected exception.

The budget is bounded (``BIDDING_FUZZ_EXAMPLES`` examples per operation, caller and mode; 8 by default), so
``make test`` stays quick; raise it to search harder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

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
from tests.e2e.conftest import DEMO_PASSWORD, Server, running_server

EXAMPLES = int(os.environ.get("BIDDING_FUZZ_EXAMPLES", "8"))
#: Who calls: nobody, and an API token of each of these demo logins.
CALLERS = [None, "bidder1", "agent"]
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
def api(fuzz_server: Server) -> Any:
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


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], known: dict[str, list[Any]]) -> None:
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
        case.call_and_validate(headers=headers, checks=checks)

    run()


@pytest.mark.parametrize("caller", CALLERS, ids=lambda caller: caller or "anonymous")
def test_every_operation_answers_as_its_description_says(
    api: Any, tokens: dict[str, str], known_ids: dict[str, list[Any]], fuzz_server: Server, caller: str | None
) -> None:
    headers = {"Authorization": f"Bearer {tokens[caller]}"} if caller else {}
    failures = []
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 50, "the document lists every operation"
    for operation in operations:
        if caller and (operation.method.upper(), operation.path) in SELF_ENDING:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, headers, known_ids)
            except Unsatisfiable:
                # Nothing of the operation can be made invalid (no parameters, or only free text): no negative case.
                assert mode is GenerationMode.NEGATIVE, operation.path
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001  # every failure is reported at the end
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}):\n{error}")
    assert not failures, "\n\n".join(failures)
    assert fuzz_server.log is not None
    logged = fuzz_server.log.read_text()
    assert " failed: " not in logged and "Traceback" not in logged, logged[-5000:]
